#!/usr/bin/env python3
"""Compares Autobahn testsuite reports with autobahn/expected-results.json.

    autobahn_compare.py --expected autobahn/expected-results.json \\
        [--include GLOB]... [--exclude GLOB]... NAME=REPORT_DIR...
    autobahn_compare.py --expected autobahn/expected-results.json \\
        --run NAME=REPORT_DIR [--include GLOB]... [--exclude GLOB]... ...

Each NAME=REPORT_DIR is one run: REPORT_DIR holds the `index.json` that
kosoku (or the original testsuite) wrote, `{agent: {case id: {"behavior",
"behaviorClose", ...}}}` with a single agent. NAME is the run's name in the
expected-results file (`server-tokio`, `client-blocking`, ...).

A case matches its expectation when both its `behavior` and its
`behaviorClose` are what the expected-results file says: `OK` and `OK`
unless the case is listed as an exception for that run. Exceptions may only
be NON-STRICT or INFORMATIONAL (places where RFC 6455 leaves a choice), each
with its reason. A case that does better than its exception says also counts
as a mismatch, so the file stays accurate.

The cases a run must report are computed from kosoku's own case index and
the same --include/--exclude globs given to kosoku (default: sections 1-13,
every case), so a case that is missing from a report fails too. In the
first form the globs apply to every run; in the second, each `--run` takes
the globs that follow it (runs may select different cases).

Prints the verdict counts of each run, the cases that do not match, and ends
with `N passed, N failed` (cases matching / not matching, over all runs).
Exits 0 only when every case of every run matches.
"""

from __future__ import annotations

import fnmatch
import json
import sys
from collections import Counter
from pathlib import Path

BEHAVIORS = ("OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED")
CLOSE_BEHAVIORS = (
    "OK",
    "INFORMATIONAL",
    "FAILED",
    "WRONG CODE",
    "UNCLEAN",
    "FAILED BY CLIENT",
)
ALLOWED_EXCEPTIONS = {"NON-STRICT", "INFORMATIONAL"}
# Every section kosoku has: 1-10, and 12-13 (permessage-deflate).
SECTIONS = range(1, 14)


def sort_key(case_id: str) -> list[int]:
    return [int(part) for part in case_id.split(".")]


def load_expected(path: Path) -> dict:
    """Reads the expected-results file and checks its rules."""
    data = json.loads(path.read_text())
    default = data["default"]
    problems = []
    for case_id, entry in data.get("exceptions", {}).items():
        for key in ("behavior", "behaviorClose"):
            verdict = entry.get(key, default[key])
            if verdict != "OK" and verdict not in ALLOWED_EXCEPTIONS:
                problems.append(f"{case_id}: {key} {verdict} cannot be an expected result")
        if not str(entry.get("reason", "")).strip():
            problems.append(f"{case_id}: an exception needs its reason")
        if not entry.get("runs"):
            problems.append(f"{case_id}: an exception names the runs it applies to")
    if problems:
        raise SystemExit(f"{path}: invalid expected results:\n  " + "\n  ".join(problems))
    return data


def expectation(expected: dict, run: str, case_id: str) -> tuple[str, str, bool]:
    """(behavior, behaviorClose, listed as an exception) for a case of a run."""
    default = expected["default"]
    entry = expected.get("exceptions", {}).get(case_id)
    if entry and any(fnmatch.fnmatchcase(run, pattern) for pattern in entry["runs"]):
        return (
            entry.get("behavior", default["behavior"]),
            entry.get("behaviorClose", default["behaviorClose"]),
            True,
        )
    return default["behavior"], default["behaviorClose"], False


def selected_cases(includes: list[str], excludes: list[str]) -> list[str] | None:
    """The case ids kosoku runs for these globs, from its own index; None
    when kosoku cannot be imported (the report alone is then checked)."""
    try:
        from kosoku.cases import CASES  # type: ignore[import-not-found]
    except ImportError:
        return None
    cases = [c for c in CASES if int(c.split(".")[0]) in SECTIONS]
    if includes:
        cases = [c for c in cases if any(fnmatch.fnmatchcase(c, g) for g in includes)]
    cases = [c for c in cases if not any(fnmatch.fnmatchcase(c, g) for g in excludes)]
    return sorted(cases, key=sort_key)


def read_report(directory: Path) -> tuple[str | None, dict[str, dict], str | None]:
    """(agent, cases, error) from a report directory's index.json."""
    index = directory / "index.json"
    try:
        data = json.loads(index.read_text())
    except FileNotFoundError:
        return None, {}, f"no report: {index} is missing (the run did not finish)"
    except json.JSONDecodeError as error:
        return None, {}, f"{index}: not JSON ({error})"
    if len(data) != 1:
        agents = ", ".join(sorted(data)) or "none"
        return None, {}, f"{index}: expected one agent, found {agents}"
    agent, cases = next(iter(data.items()))
    return agent, cases, None


def compare_run(
    name: str, directory: Path, expected: dict, selection: list[str] | None
) -> tuple[int, int]:
    agent, cases, error = read_report(directory)
    print(f"== {name} ({directory})")
    if error:
        print(f"  ERROR {error}")
        failed = len(selection) if selection else 1
        print(f"  {name}: 0 passed, {failed} failed")
        return 0, failed
    print(f"  agent {agent!r}, {len(cases)} cases reported")

    behaviors = Counter(case["behavior"] for case in cases.values())
    closes = Counter(case["behaviorClose"] for case in cases.values())

    def counts(counter: Counter, known: tuple[str, ...]) -> str:
        parts = [f"{verdict} {counter.get(verdict, 0)}" for verdict in known]
        other = sum(n for verdict, n in counter.items() if verdict not in known)
        return " / ".join(parts + [f"other {other}"])

    print(f"  behavior:      {counts(behaviors, BEHAVIORS)}")
    print(f"  behaviorClose: {counts(closes, CLOSE_BEHAVIORS)}")

    mismatches = []
    for case_id in sorted(cases, key=sort_key):
        case = cases[case_id]
        if int(case_id.split(".")[0]) not in SECTIONS:
            mismatches.append(f"{case_id}: outside sections 1-10 (not expected to run)")
            continue
        want, want_close, listed = expectation(expected, name, case_id)
        got, got_close = case["behavior"], case["behaviorClose"]
        if (got, got_close) == (want, want_close):
            continue
        note = ""
        if listed and (got, got_close) == ("OK", "OK"):
            note = " (better than expected: remove the exception)"
        code = case.get("remoteCloseCode")
        mismatches.append(
            f"{case_id}: behavior {got}, close {got_close} (peer's close code {code}); "
            f"expected {want}, {want_close}{note}"
        )
    if selection is not None:
        missing = [case_id for case_id in selection if case_id not in cases]
        mismatches += [f"{case_id}: missing from the report" for case_id in missing]
        total = len(set(selection) | set(cases))
    else:
        total = len(cases)
    failed = len(mismatches)
    for line in mismatches:
        print(f"  MISMATCH {line}")
    if mismatches:
        ids = " ".join(line.split(":")[0] for line in mismatches)
        print(f"  {name}: cases not matching expectations: {ids}")
    print(f"  {name}: {total - failed} passed, {failed} failed")
    return total - failed, failed


def parse_runs(argv: list[str]) -> tuple[Path, list[tuple[str, list[str], list[str]]]]:
    """The expected-results path and the runs, each with its include and
    exclude globs, from either command-line form (see the module doc)."""
    usage = __doc__.split("\n\n")[1]
    expected = None
    shared: tuple[list[str], list[str]] = ([], [])
    runs: list[tuple[str, list[str], list[str]]] = []
    # Globs after a `--run` belong to it; others to every positional run.
    current = shared
    args = iter(argv)
    for arg in args:
        if arg in ("--expected", "--include", "--exclude", "--run"):
            value = next(args, None)
            if value is None:
                sys.exit(f"{arg} needs a value\n{usage}")
            if arg == "--expected":
                expected = Path(value)
            elif arg == "--run":
                current = ([], [])
                runs.append((value, *current))
            else:
                current[0 if arg == "--include" else 1].append(value)
        elif arg.startswith("-"):
            sys.exit(f"unknown option {arg}\n{usage}")
        else:
            runs.append((arg, shared[0], shared[1]))
    if expected is None or not runs:
        sys.exit(usage)
    return expected, runs


def main() -> int:
    expected_path, runs = parse_runs(sys.argv[1:])
    expected = load_expected(expected_path)
    passed = failed = 0
    for run, includes, excludes in runs:
        name, sep, directory = run.partition("=")
        if not sep:
            sys.exit(f"{run!r}: expected NAME=REPORT_DIR")
        selection = selected_cases(includes, excludes)
        p, f = compare_run(name, Path(directory), expected, selection)
        passed += p
        failed += f
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
