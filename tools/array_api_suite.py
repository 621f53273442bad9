"""Run a checkout of data-apis/array-api-tests against ``eager`` and print pass rates.

Usage (from the project root; needs ``pip install pytest hypothesis ndindex pytest-json-report``)::

    python tools/array_api_suite.py PATH/TO/array-api-tests [--max-examples 50] [--jobs 2]
        [--files test_linalg.py test_fft.py] [--module eager] [--skip-dtypes complex64,complex128]
        [--show-failures]

Each test file of the suite runs in its own pytest process (``--jobs`` at a time) with
``--derandomize``, so the figures are reproducible. The report lists, per file, the tests
passed, failed (errors included) and skipped, and the pass rate ``passed / (passed + failed)``;
a file that fails to collect counts as an error line of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class FileResult:
    """Outcome counts of one test file of the suite."""

    name: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    collect_error: str = ""
    failures: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Fraction of non-skipped tests that passed (0.0 for an empty file)."""
        ran = self.passed + self.failed
        return self.passed / ran if ran else 0.0


def count_outcomes(name: str, report: dict) -> FileResult:
    """Tally a pytest-json-report ``report`` into a :class:`FileResult`.

    >>> r = count_outcomes("t.py", {"tests": [{"outcome": "passed"},
    ...                                      {"outcome": "failed", "nodeid": "t.py::a"},
    ...                                      {"outcome": "error"}, {"outcome": "skipped"}]})
    >>> (r.passed, r.failed, r.skipped, round(r.rate, 3), r.failures)
    (1, 2, 1, 0.333, ['t.py::a', '?'])
    """
    result = FileResult(name)
    for test in report.get("tests", []):
        outcome = test["outcome"]
        if outcome == "passed":
            result.passed += 1
        elif outcome in ("skipped", "xfailed", "deselected"):
            result.skipped += 1
        else:
            result.failed += 1
            result.failures.append(test.get("nodeid", "?"))
    errors = [c for c in report.get("collectors", []) if c.get("outcome") == "failed"]
    if errors:
        result.collect_error = errors[0].get("longrepr", "collection failed").splitlines()[-1]
    return result


def run_file(suite: Path, test_file: str, args: argparse.Namespace) -> FileResult:
    """Run one test file of the suite in a subprocess and return its counts."""
    env = dict(os.environ)
    env["ARRAY_API_TESTS_MODULE"] = args.module
    env["ARRAY_API_TESTS_VERSION"] = args.version
    env["PYTHONPATH"] = os.pathsep.join([str(PROJECT_ROOT), env.get("PYTHONPATH", "")])
    if args.skip_dtypes:
        env["ARRAY_API_TESTS_SKIP_DTYPES"] = args.skip_dtypes
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "report.json"
        cmd = [sys.executable, "-m", "pytest", str(suite / "array_api_tests" / test_file), "-q",
               "--max-examples", str(args.max_examples), "--derandomize", "--disable-deadline",
               "-p", "no:cacheprovider", "--rootdir", str(suite), "-c", str(suite / "pytest.ini"),
               "--json-report", f"--json-report-file={report_path}", "-W", "ignore"]
        proc = subprocess.run(cmd, check=False, cwd=suite, env=env, capture_output=True,
                              text=True)
        if not report_path.exists():
            tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or ["no report"]
            return FileResult(test_file, collect_error=tail[0])
        return count_outcomes(test_file, json.loads(report_path.read_text()))


def format_table(results: list[FileResult]) -> str:
    """Render per-file results and the overall pass rate as a text table.

    >>> print(format_table([FileResult("a.py", 3, 1, 0), FileResult("b.py", 1, 0, 2)]))
    file                                               passed failed skipped   rate
    a.py                                                    3      1       0  75.0%
    b.py                                                    1      0       2 100.0%
    TOTAL                                                   4      1       2  80.0%
    """
    lines = [f"{'file':<50} {'passed':>6} {'failed':>6} {'skipped':>7} {'rate':>6}"]
    total = FileResult("TOTAL")
    for r in results:
        lines.append(f"{r.name:<50} {r.passed:>6} {r.failed:>6} {r.skipped:>7} {r.rate:>6.1%}")
        if r.collect_error:
            lines.append(f"    collection error: {r.collect_error}")
        total.passed += r.passed
        total.failed += r.failed
        total.skipped += r.skipped
    lines.append(f"{total.name:<50} {total.passed:>6} {total.failed:>6} {total.skipped:>7} "
                 f"{total.rate:>6.1%}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite", type=Path, help="checkout of data-apis/array-api-tests")
    parser.add_argument("--module", default="eager", help="array namespace to test")
    parser.add_argument("--version", default="2024.12", help="standard version to test")
    parser.add_argument("--max-examples", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=2, help="test files run at once")
    parser.add_argument("--files", nargs="*", help="test files to run (default: all)")
    parser.add_argument("--skip-dtypes", default="", help="ARRAY_API_TESTS_SKIP_DTYPES value")
    parser.add_argument("--show-failures", action="store_true",
                        help="list the failing tests after the table")
    args = parser.parse_args(argv)
    suite = args.suite.resolve()
    files = args.files or sorted(p.name for p in (suite / "array_api_tests").glob("test_*.py"))
    results = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        # Each file's line is printed as it finishes, so a long run shows progress.
        for result in pool.map(lambda f: run_file(suite, f, args), files):
            results.append(result)
            print(format_table([result]).splitlines()[1], flush=True)
    print(format_table(results))
    if args.show_failures:
        for result in results:
            for nodeid in result.failures:
                print(f"FAILED {nodeid}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
