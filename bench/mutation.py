"""`python -m bench.mutation` (`make mutation`): the standing mutation score of the core rules.

Each mutant of `bench.mutants` is a realistic bug in one invariant (the log, the envelope,
decoders, time parsing, folding, resolution, releasability, coordination thresholds, the
gate, the publish switch). They are applied one at a time to a temporary copy of the tree
(never the working tree), and only the tests that cover each run against it: a mutant is
killed when they fail. Every distinct test selection first runs once unmutated and must
pass, so a kill is the mutant's doing.

A curated list rather than mutmut or cosmic-ray: half the rules are SQL (dbt models and
macros), which neither tool mutates, and a generated set over the Python files would be
hundreds of mutants, many equivalent, far past the half hour this may take on 2 cores.

The copy's `src` comes first on PYTHONPATH, ahead of the virtual environment's editable
install of the working tree. A test whose subprocess sets its own PYTHONPATH would run
the working tree's code, so selections hold in-process tests only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.common import RESULTS
from bench.mutants import MUTANTS, Mutant

REPO = Path(__file__).resolve().parents[1]
TARGET = 0.95


@dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed | survived | timeout
    seconds: float
    log: str

    @property
    def killed(self) -> bool:
        return self.status != "survived"


def copy_tree(dest: Path) -> None:
    """The working tree's files (tracked and new, not ignored) copied under `dest`."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        src = REPO / name
        if src.is_file():  # a tracked file deleted in the working tree is not
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def aim(mutants: list[Mutant]) -> list[str]:
    """What keeps each mutant from applying as written: its text must occur exactly once
    (a rule moved elsewhere must be re-aimed, not silently skipped), its test files exist."""
    problems = []
    for m in mutants:
        text = (REPO / m.path).read_text()
        for original, _ in m.edits:
            if text.count(original) != 1:
                problems.append(f"{m.name}: {m.path} has {text.count(original)} of {original!r}")
        paths = [t for t in m.tests if t.startswith("tests/")]
        problems += [f"{m.name}: no test file {t}" for t in paths if not (REPO / t).is_file()]
    return problems


def check(mutants: list[Mutant]) -> None:
    if problems := aim(mutants):
        sys.exit("mutants to re-aim:\n  " + "\n  ".join(problems))


def run_tests(tree: Path, tests: tuple[str, ...], timeout: float) -> tuple[int | None, str]:
    """pytest on `tests` in `tree`: (exit code or None on timeout, its output)."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tree / "src"), str(tree)]),
        # compiled files of a mutant must never serve the original, or the reverse
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    try:
        done = subprocess.run(
            cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as err:
        out = err.stdout.decode() if isinstance(err.stdout, bytes) else (err.stdout or "")
        return None, out
    return done.returncode, done.stdout + done.stderr


def baseline(tree: Path, mutants: list[Mutant]) -> dict[tuple[str, ...], float]:
    """Run each distinct selection on the unmutated copy; seconds each took."""
    seconds = {}
    for tests in dict.fromkeys(m.tests for m in mutants):
        started = time.perf_counter()
        code, out = run_tests(tree, tests, timeout=1800)
        if code != 0:
            sys.exit(f"the unmutated tree fails {' '.join(tests)}:\n{out[-3000:]}")
        seconds[tests] = time.perf_counter() - started
        say(f"  baseline {seconds[tests]:6.1f}s  {' '.join(tests)}")
    return seconds


def run_mutant(tree: Path, m: Mutant, timeout: float) -> Outcome:
    path = tree / m.path
    original = path.read_text()
    mutated = original
    for before, after in m.edits:
        mutated = mutated.replace(before, after, 1)
    started = time.perf_counter()
    path.write_text(mutated)
    try:
        code, out = run_tests(tree, m.tests, timeout)
    finally:
        path.write_text(original)
    if code == 5:
        sys.exit(f"{m.name}: its selection collects no test: {' '.join(m.tests)}")
    status = "timeout" if code is None else ("survived" if code == 0 else "killed")
    return Outcome(m, status, time.perf_counter() - started, out[-4000:])


def summarise(outcomes: list[Outcome], seconds: float) -> dict:
    """The score overall and per area, each mutant's outcome, and the survivors."""
    areas: dict[str, list[int]] = {}
    for o in outcomes:
        tally = areas.setdefault(o.mutant.area, [0, 0])
        tally[0] += o.killed
        tally[1] += 1
    killed = sum(o.killed for o in outcomes)
    return {
        "killed": killed,
        "total": len(outcomes),
        "share": round(killed / len(outcomes), 4) if outcomes else 1.0,
        # survivors no test can tell from the rule (each with its reason in bench.mutants)
        "equivalent": sum(not o.killed and bool(o.mutant.equivalent) for o in outcomes),
        "target": TARGET,
        "seconds": round(seconds, 1),
        "areas": {area: {"killed": k, "total": n} for area, (k, n) in areas.items()},
        "mutants": [
            {
                "name": o.mutant.name,
                "area": o.mutant.area,
                "status": o.status,
                "seconds": round(o.seconds, 1),
            }
            for o in outcomes
        ],
        "survivors": [
            {"name": o.mutant.name, "bug": o.mutant.bug, "equivalent": o.mutant.equivalent}
            for o in outcomes
            if not o.killed
        ],
    }


def report(outcomes: list[Outcome], summary: dict) -> None:
    print()
    print(f"{'mutant':44} {'area':24} {'status':9} {'seconds':>7}")
    for o in outcomes:
        print(f"{o.mutant.name:44} {o.mutant.area:24} {o.status:9} {o.seconds:7.1f}")
    print()
    for area, tally in summary["areas"].items():
        print(f"  {area:24} {tally['killed']:3}/{tally['total']}")
    print(
        f"\nkilled {summary['killed']}/{summary['total']} ({summary['share']:.0%}; "
        f"target {TARGET:.0%}; {summary['equivalent']} equivalent) in {summary['seconds']:.0f} s"
    )
    for s in summary["survivors"]:
        note = f" (equivalent: {s['equivalent']})" if s["equivalent"] else ""
        print(f"  survivor {s['name']}: {s['bug']}{note}")


EPILOG = """examples:
  make mutation                                   every mutant (about 25 minutes on 2 cores)
  python -m bench.mutation --area releasability   one area's mutants
  python -m bench.mutation as-of-time-exclusive --show
  python -m bench.mutation --json > score.json    the summary as JSON on stdout

Progress goes to stderr; the table (or JSON) to stdout, and a copy of the JSON to
bench/results/. Exit status 1 when a mutant survives that is not marked equivalent."""


def say(text: str) -> None:
    """A progress line: stderr, so `--json` output stays parseable."""
    print(text, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.mutation",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    areas = list(dict.fromkeys(m.area for m in MUTANTS))
    parser.add_argument("names", nargs="*", help="only these mutants (default: all)")
    parser.add_argument("--area", action="append", choices=areas, help="only this area's mutants")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--show", action="store_true", help="print each survivor's test output")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args()
    unknown = set(args.names) - {m.name for m in MUTANTS}
    if unknown:
        parser.error(f"no mutant named {', '.join(sorted(unknown))}")
    mutants = [
        m
        for m in MUTANTS
        if (not args.names or m.name in args.names) and (not args.area or m.area in args.area)
    ]
    if args.list:
        for m in mutants:
            print(f"{m.name:44} {m.area:24} {m.path}\n{'':44} {m.bug}  [{' '.join(m.tests)}]")
        return
    check(mutants)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="peaceops-mutation-") as tmp:
        tree = Path(tmp)
        copy_tree(tree)
        say(f"{len(mutants)} mutants; tree copied to {tree}")
        took = baseline(tree, mutants)
        outcomes = []
        for n, m in enumerate(mutants, 1):
            # a mutant that hangs counts as killed, after three times its selection's time
            outcome = run_mutant(tree, m, timeout=3 * took[m.tests] + 60)
            elapsed = time.perf_counter() - started
            say(
                f"  [{n}/{len(mutants)} {elapsed:5.0f}s] {outcome.status:8} {outcome.seconds:6.1f}s  {m.name}"
            )
            if args.show and not outcome.killed:
                say(outcome.log)
            outcomes.append(outcome)
    summary = summarise(outcomes, time.perf_counter() - started)
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        report(outcomes, summary)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"mutation-{datetime.now(UTC):%Y%m%dT%H%M%S}Z.json"
    out.write_text(json.dumps(summary, indent=1) + "\n")
    say(f"saved {out}")
    if any(not o.killed and not o.mutant.equivalent for o in outcomes):
        sys.exit(1)


if __name__ == "__main__":
    main()
