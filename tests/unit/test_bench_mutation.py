"""`make mutation` is a bench, not part of `make test`; these keep its list aimed, so a
rule that moves or a test file renamed shows here, not at the next mutation run."""

from __future__ import annotations

from bench.mutants import AREAS, MUTANTS
from bench.mutation import aim


def test_every_mutant_applies_once_and_names_existing_tests() -> None:
    assert aim(MUTANTS) == []


def test_mutants_have_unique_names_and_an_area_each() -> None:
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)
    assert {m.area for m in MUTANTS} == set(AREAS)
    assert all(m.tests and m.bug for m in MUTANTS)
