"""A class on one server: 1, 2, 4, 8 browser sessions watching their own run, CPU counted per process.

Targets (issue 9), at every level:
- the server's own CPU <= 0.03 cores per watching session while the tabs redraw ~10 times a second;
- the training jobs' steps per CPU-second >= 0.9 x the bare loop's (the job pays little for being watched);
- no session shows an exception or an error alert, none loses its websocket, and every tab's Step metric
  changes at least once a second.

How: one server (tests/browser_support.streamlit_server), one Chromium with one browser context (its own
session) per student, each on `/?preset=udacity-sine&steps=1000000`. At each level the bare loop runs first in a
new process of its own while the pages sit idle (A), then every page clicks Train within a few milliseconds of
the others and trains for the window (B); then all pause, the bare loop runs again (A) and the contexts close.
Step rates, update gaps and loss-chart redraws (changes of the drawn line) are timed inside each page
(bench/browser.py). CPU is read per process from /proc: the server, its job processes, the browsers and the rest
of the machine separately. In a lecture hall the browsers are on the students' laptops; here they share the two
cores, so the jobs' steps per CPU-second (not steps per second) is what says whether watching costs training.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import browser as rb  # noqa: E402
from bench.bare import BareWorker  # noqa: E402
from bench.common import CpuMeter, Report, check, median  # noqa: E402

SETTINGS = {"preset": "udacity-sine", "steps": 1_000_000}
RAMP_SECONDS = 1.5
JOBS = "server's job processes"


def level(browser, url: str, sessions: int, seconds: float) -> dict:
    from browser_support import wait_for_app, wait_for_warm_up

    query = "&".join(f"{k}={v}" for k, v in SETTINGS.items())
    contexts, pages, sockets = [], [], []
    for _ in range(sessions):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        sockets.append(rb.watch_socket(page))
        page.goto(f"{url}/?{query}")
        contexts.append(context)
        pages.append(page)
    for page in pages:
        wait_for_app(page)
        page.wait_for_selector(".st-key-btn_train button:not([disabled])", timeout=60_000)
        rb.install(page)
    wait_for_warm_up(url)  # the server's one-time imports (its first level only) are not a class's cost
    # A new bare process at each level, as each level's jobs are new: on this host one process runs the same
    # loop up to twice as fast as another, so one bare process for every level measured its own luck.
    with BareWorker(SETTINGS) as bare:
        first = bare.measure(min(seconds, 4.0))  # A: every page open and idle
        clicked = time.monotonic()
        for page in pages:
            rb.click(page, "btn_train")
        click_spread = time.monotonic() - clicked
        time.sleep(RAMP_SECONDS)
        meter = CpuMeter().start()
        starts = [rb.now(page) for page in pages]
        time.sleep(seconds)
        ends = [rb.now(page) for page in pages]
        cores = meter.stop()
        preempted = meter.preempted.get(JOBS, (float("nan"), float("nan")))
        per_session = []
        for page, socket, start, end in zip(pages, sockets, starts, ends, strict=True):
            record = rb.record(page)
            rate, gap, updates = rb.step_rate(record["steps"], start, end)
            per_session.append({"steps/s": rate, "largest gap s": gap, "updates": updates,
                                "redraws/s": rb.count_in(record["loss"], start, end) / seconds,
                                **rb.errors(page), "socket closed": socket.closed})
        for page in pages:
            try:
                rb.click(page, "btn_pause")
            except Exception:  # a page whose Pause is disabled (run over) or missing: nothing to stop
                pass
        time.sleep(0.5)
        # A again, the runs paused: the machine's speed drifts by a tenth or more within seconds here, so the
        # jobs are set against the bare loop on both sides of their window (as in live_browser).
        second = bare.measure(min(seconds, 4.0))
    for context in contexts:
        context.close()
    time.sleep(1.0)  # let the server release the sessions before the next level
    return {"sessions": sessions, "bare": (first.rate + second.rate) / 2,
            "bare steps per CPU-s": (first.per_cpu + second.per_cpu) / 2,
            "click spread s": click_spread, "per session": per_session, "cores": cores,
            "jobs preempted/s": preempted[0], "jobs waiting for a CPU": preempted[1]}


def _finite(values: list[float]) -> list[float]:
    return [v for v in values if v == v]


def main(argv: list[str] | None = None) -> Report:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="windows of 5 s instead of 10 s")
    parser.add_argument("--levels", default=None, help="comma-separated session counts, e.g. 1,2,4,8")
    args = parser.parse_args(argv)
    from browser_support import launch_chromium, streamlit_server
    from playwright.sync_api import sync_playwright

    levels = [int(n) for n in args.levels.split(",")] if args.levels else [1, 2, 4, 8]
    seconds = 5.0 if args.quick else 10.0
    report = Report("class_load", f"A class on one server: {', '.join(map(str, levels))} sessions", args.quick)
    results = []
    with streamlit_server() as url, sync_playwright() as p:
        browser = launch_chromium(p)
        for n in levels:
            result = level(browser, url, n, seconds)
            results.append(result)
            total = sum(s["steps/s"] for s in result["per session"] if s["steps/s"] == s["steps/s"])
            print(f"  {n} sessions: summed {total:,.0f} steps/s, bare {result['bare']:,.0f}/s, "
                  f"worst gap {max(s['largest gap s'] for s in result['per session']):.2f} s", flush=True)
        browser.close()
    table = []
    for r in results:
        n, sessions, used = r["sessions"], r["per session"], r["cores"]
        total = sum(_finite([s["steps/s"] for s in sessions]))
        bare_per_cpu = r["bare steps per CPU-s"]
        jobs = used.get(JOBS, 0.0)
        per_cpu = total / jobs if jobs > 0 else float("nan")
        efficiency = per_cpu / bare_per_cpu
        server = used.get("server", 0.0) / n
        redraws = _finite([s["redraws/s"] for s in sessions])
        gap = max(_finite([s["largest gap s"] for s in sessions]) or [float("inf")])
        problems = sum(s["exceptions"] + s["errors"] + s["socket closed"] + int(s["disconnected"]) for s in sessions)
        table.append({
            "sessions": n,
            "summed steps/s": f"{total:,.0f}",
            "jobs' steps per CPU-s": f"{per_cpu:,.0f}",
            "bare steps per CPU-s": f"{bare_per_cpu:,.0f}",
            "jobs / bare per CPU-s": f"{efficiency:.2f}",
            "server cores per session": f"{server:.3f}",
            "redraws/s per tab min..max": f"{min(redraws):.1f}..{max(redraws):.1f}" if redraws else "-",
            "worst Step gap s": f"{gap:.2f}",
            "preempted/s per job (share waiting for a CPU)":
                f"{r['jobs preempted/s'] / n:.0f} ({r['jobs waiting for a CPU'] / n:.1%})",
            "errors+disconnects": problems,
            "cores: server / jobs / chromium / rest": f"{used.get('server', 0):.2f} / {jobs:.2f} / "
                                                      f"{used.get('chromium', 0):.2f} / "
                                                      f"{used.get('rest of machine', 0):.2f}",
        })
        report.add(f"{n} sessions: server cores per watching session", f"{server:.3f}", "<= 0.03",
                   check(server, high=0.03), f"redraws/s per tab {median(redraws) if redraws else 0:.1f} (median)")
        report.add(f"{n} sessions: jobs' steps per CPU-second / bare's", f"{efficiency:.2f}", ">= 0.9",
                   check(efficiency, 0.9), f"{per_cpu:,.0f} vs {bare_per_cpu:,.0f}; {total:,.0f} steps/s summed")
        report.add(f"{n} sessions: worst gap between Step updates", f"{gap:.2f} s", "<= 1 s", check(gap, high=1.0))
        report.add(f"{n} sessions: errors, exceptions, disconnects", str(problems), "0", problems == 0)
    report.table("scaling", table)
    report.notes.append(f"Train clicks of all sessions within {max(r['click spread s'] for r in results):.2f} s "
                        "of each other.")
    report.data["results"] = results
    report.data["settings"] = json.dumps(SETTINGS)
    return report.finish()


if __name__ == "__main__":
    main()
