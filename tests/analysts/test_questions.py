"""The analysts' example questions (docs/analysts/questions/*.sql) answer something.

One demo dataset is built for the module (simulate 14 days, ingest, build, gate,
publish); every question must run read-only on the mission database and return at
least one row, and must at least run (maybe with no rows) on the audience its
header says it needs and on every audience above it.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[2]
QUESTIONS_DIR = REPO / "docs" / "analysts" / "questions"
QUESTIONS = sorted(QUESTIONS_DIR.glob("*.sql"))
AUDIENCES = ("public", "partners", "mission")
NAME = re.compile(r"^\d{2}_[a-z0-9_]+\.sql$")


def header(path: Path) -> dict[str, str]:
    """`-- Key: value` lines of the leading comment block (continuation lines appended)."""
    fields: dict[str, str] = {}
    key = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("--"):
            break
        text = line[2:].strip()
        match = re.match(r"^([A-Z][A-Za-z ]+):\s*(.*)$", text)
        if match:
            key = match.group(1)
            fields[key] = match.group(2)
        elif key:
            fields[key] += " " + text
    return fields


def test_there_are_at_least_ten_questions() -> None:
    assert len(QUESTIONS) >= 10
    assert all(NAME.match(p.name) for p in QUESTIONS), [p.name for p in QUESTIONS]


@pytest.mark.parametrize("path", QUESTIONS, ids=lambda p: p.stem)
def test_question_has_header(path: Path) -> None:
    fields = header(path)
    for key in ("Question", "Asked by", "Audience", "Tables"):
        assert fields.get(key, "").strip(), f"{path.name}: no '-- {key}:' line"
    assert fields["Audience"].split()[0] in AUDIENCES, fields["Audience"]


@pytest.fixture(scope="module")
def published(demo_data: Path) -> Path:
    return demo_data / "published" / "current"


def run(database: Path, path: Path) -> list[tuple]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(path.read_text(encoding="utf-8")).fetchall()
    finally:
        con.close()


@pytest.mark.slow
@pytest.mark.parametrize("path", QUESTIONS, ids=lambda p: p.stem)
def test_question_answers_on_mission_data(published: Path, path: Path) -> None:
    rows = run(published / "mission" / "unified.duckdb", path)
    assert rows, f"{path.name} returned no rows on the demo's mission dataset"


@pytest.mark.slow
@pytest.mark.parametrize("path", QUESTIONS, ids=lambda p: p.stem)
def test_question_runs_for_its_audience(published: Path, path: Path) -> None:
    needed = header(path)["Audience"].split()[0]
    for audience in AUDIENCES[AUDIENCES.index(needed) :]:
        run(published / audience / "unified.duckdb", path)  # columns and tables exist
