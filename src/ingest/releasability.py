"""Who may see what: the releasability ladder, the audiences and the columns never
shared below mission level (DESIGN.md, "Need to know"). Declared here once; the
registry, the marts' sharing rules, publishing and the dashboard read it from here."""

from __future__ import annotations

import re
from typing import Literal, get_args

# Who may see a record, least to most strict (DESIGN.md).
Level = Literal["public", "partners", "mission", "restricted"]
RELEASABILITY: tuple[str, ...] = get_args(Level)
# An audience sees the levels up to its own; `restricted` is never published.
AUDIENCES: dict[str, tuple[str, ...]] = {
    level: RELEASABILITY[: i + 1] for i, level in enumerate(RELEASABILITY[:-1])
}


def allowed_audiences(spec: str | None) -> tuple[str, ...]:
    """Audiences the dashboard may offer, from e.g. "public,partners" (default: all).

    Order is kept: the first one is the default selection.
    """
    if not spec or not spec.strip():
        return tuple(AUDIENCES)
    out = []
    for part in spec.split(","):
        name = part.strip().lower()
        if not name:
            continue
        if name not in AUDIENCES:
            raise ValueError(f"unknown audience {name!r}; one of {', '.join(AUDIENCES)}")
        if name not in out:
            out.append(name)
    return tuple(out) or tuple(AUDIENCES)


# Column names that hold free text or people's names. They are never shared below
# mission level, whichever mart they appear in (see ingest.publish.writer for why they are
# dropped rather than scrubbed).
FREE_TEXT = re.compile(
    r"(^|_)(description|notes?|summary|narrative|comments?|remarks?|text|message|raw|value|"
    r"person|persons|contact|reporter|reported_by|focal_point|author|name_of)($|_)"
)
