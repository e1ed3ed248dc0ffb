"""The dbt project's macros rendered by plain Jinja as dbt renders them on DuckDB, so a
test can run a macro's SQL without a dbt build: every macro file in one template (dbt
sees them all at once), `adapter.dispatch` picking `duckdb__`, then `default__`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from types import CodeType, SimpleNamespace
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


class Returned(Exception):
    """dbt's `return(value)`: the macro's value is `value`, of any type, not its text."""

    def __init__(self, value: Any) -> None:
        self.value = value


def _return(value: Any) -> None:
    raise Returned(value)


def _value(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """What a macro call gives: the value it returned, else its text."""
    try:
        return call(*args, **kwargs)
    except Returned as returned:
        return returned.value


class DbtContext(jinja2.runtime.Context):
    """A macro calling a macro gets what the callee returned (dbt's MacroGenerator)."""

    def call(__self, __obj: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not isinstance(__obj, jinja2.runtime.Macro):  # `return` itself, a filter, ...
            return super().call(__obj, *args, **kwargs)
        return _value(super().call, __obj, *args, **kwargs)


class Macros:
    """The macros, called from Python as dbt calls them."""

    def __init__(self, module: jinja2.runtime.TemplateModule) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Callable[..., Any]:
        return functools.partial(_value, getattr(self._module, name))


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    env.context_class = DbtContext
    return env


@functools.cache
def _compiled(source: str) -> CodeType:
    """The macro files compiled once (a property test renders them per example)."""
    return _environment().compile(source)


def macros(**context: Any) -> Macros:
    """Every macro of the project; `context` adds dbt's globals a macro needs (var, …)."""
    source = "\n".join(p.read_text() for p in sorted(MACROS.glob("*.sql")))
    adapter = DuckDBAdapter()
    env = _environment()
    env.globals.update(adapter=adapter, **{"return": _return}, **context)
    template = env.template_class.from_code(env, _compiled(source), env.make_globals(None))
    adapter.module = template.module
    return Macros(adapter.module)


class Answer:
    """What the macros read of run_query's agate table: its rows."""

    def __init__(self, rows: list[tuple]) -> None:
        self.rows = rows


class Model:
    """`this` of an incremental model in schema main."""

    def __init__(self, identifier: str) -> None:
        self.identifier = identifier

    def __str__(self) -> str:
        return f"main.{self.identifier}"


def incremental_macros(con: Any, model: str) -> Macros:
    """The macros as an incremental run of `model` renders them, every relation in schema
    main of the DuckDB connection `con`, which answers run_query."""
    return macros(
        execute=True,
        is_incremental=lambda: True,
        ref=lambda name: f"main.{name}",
        target=SimpleNamespace(schema="main", type="duckdb"),
        this=Model(model),
        run_query=lambda sql: Answer(con.sql(sql).fetchall()),
    )
