"""The dbt project's macros rendered by plain Jinja as dbt renders them on DuckDB, so a
test can run a macro's SQL without a dbt build: every macro file in one template (dbt
sees them all at once), `adapter.dispatch` picking `duckdb__`, then `default__`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2

MACROS = Path(__file__).resolve().parents[1] / "dbt_project" / "macros"


class DuckDBAdapter:
    """What the macros ask of dbt's `adapter`: dispatch, as dbt-duckdb resolves it."""

    def __init__(self) -> None:
        self.module: jinja2.runtime.TemplateModule | None = None

    def dispatch(self, name: str) -> Callable[..., str]:
        for prefix in ("duckdb__", "default__"):
            if hasattr(self.module, prefix + name):
                return getattr(self.module, prefix + name)
        raise LookupError(f"no duckdb__ or default__ implementation of {name}")


def macros(**context: Any) -> jinja2.runtime.TemplateModule:
    """Every macro of the project; `context` adds dbt's globals a macro needs (var, …)."""
    source = "\n".join(p.read_text() for p in sorted(MACROS.glob("*.sql")))
    adapter = DuckDBAdapter()
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    env.globals.update(adapter=adapter, **{"return": lambda value: value}, **context)
    adapter.module = env.from_string(source).module
    return adapter.module
