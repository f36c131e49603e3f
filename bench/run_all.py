"""Run every benchmark in turn and write a summary: `python -m bench [--quick]` or `python bench/run_all.py`.

Each benchmark prints its own table and writes bench/results/<name>[-quick].json and .md;
this writes bench/results/summary[-quick].md with every target in one table. The full run takes
about 10 minutes, --quick about 4. `--only live_browser,cold_start` runs a subset.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, Report, _markdown_table, machine_info  # noqa: E402

BENCHMARKS = ("trainer_overhead", "long_run", "cold_start", "live_browser", "class_load", "forecast_cost",
              "sweep_throughput")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the short version of every benchmark")
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    args = parser.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}; known: {', '.join(BENCHMARKS)}")
    started = time.time()
    machine = machine_info()
    reports: list[Report] = []
    failures: list[str] = []
    for name in names:
        print(f"\n=== {name}{' --quick' if args.quick else ''} ===", flush=True)
        t = time.time()
        try:
            module = importlib.import_module(f"bench.{name}")
            reports.append(module.main(["--quick"] if args.quick else []))
        except Exception:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            failures.append(name)
        print(f"=== {name}: {time.time() - t:.0f} s ===", flush=True)
    rows = [{"benchmark": r.bench, "measure": row.name, "value": row.value, "target": row.target,
             "met": {True: "yes", False: "NO", None: ""}[row.met]}
            for r in reports for row in r.rows if row.target]
    summary = [f"# rnnlab benchmarks{' (quick)' if args.quick else ''}", "",
               f"{machine['cores']} cores; load average {' '.join(f'{x:.2f}' for x in machine['load average'])} "
               f"at start; torch {machine['torch']}, streamlit {machine['streamlit']}, plotly {machine['plotly']}; "
               f"{time.time() - started:.0f} s in all.", "", _markdown_table(rows)]
    if failures:
        summary += ["", f"Failed to run: {', '.join(failures)} (see the console)."]
    text = "\n".join(summary) + "\n"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"summary{'-quick' if args.quick else ''}.md").write_text(text)
    print("\n" + text)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
