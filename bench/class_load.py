"""A class on one server: 1, 2, 4, 8 browser sessions pressing Train at the same moment.

Targets, at every level:
- no session shows an exception or an error alert, and none loses its websocket;
- every session's Step metric changes at least once a second;
- summed training rate across sessions >= 0.7 x (cores x the bare loop's one-thread rate).

How: one server (tests/browser_support.streamlit_server), one Chromium with one browser context
(its own session) per student, each on `/?preset=udacity-sine&steps=1000000`. At each level the
bare loop runs first in its own process while the pages sit idle (A), then every page clicks
Train within a few milliseconds of the others and trains for the window (B); then all pause and
the contexts close. Step rates and update gaps are timed inside each page (bench/browser.py).

If training jobs are threads in the server process, small models hold the GIL for much of a step
and the summed rate plateaus near 1 x bare whatever the core count; jobs in their own processes
can use every core, less what the browsers (here on the same machine) take.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import browser as rb  # noqa: E402
from bench.bare import BareWorker  # noqa: E402
from bench.common import CpuMeter, Report, check  # noqa: E402

SETTINGS = {"preset": "udacity-sine", "steps": 1_000_000}
RAMP_SECONDS = 1.5
JOBS = "server's job processes"


def level(browser, url: str, sessions: int, seconds: float, bare: BareWorker) -> dict:
    from browser_support import wait_for_app

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
    bare_rate = bare.rate(min(seconds, 4.0))  # A: every page open and idle
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
    per_session = []
    for page, socket, start, end in zip(pages, sockets, starts, ends, strict=True):
        rate, gap, updates = rb.step_rate(rb.record(page)["steps"], start, end)
        per_session.append({"steps/s": rate, "largest gap s": gap, "updates": updates,
                            **rb.errors(page), "socket closed": socket.closed})
    for page in pages:
        try:
            rb.click(page, "btn_pause")
        except Exception:  # a page whose Pause is disabled (run over) or missing: nothing to stop
            pass
    time.sleep(0.5)
    for context in contexts:
        context.close()
    time.sleep(1.0)  # let the server release the sessions before the next level
    return {"sessions": sessions, "bare": bare_rate, "click spread s": click_spread, "per session": per_session,
            "cores": cores}


def main(argv: list[str] | None = None) -> Report:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1, 2, 4 sessions for 5 s instead of 1..8 for 10 s")
    parser.add_argument("--levels", default=None, help="comma-separated session counts, e.g. 1,2,4,8")
    args = parser.parse_args(argv)
    from browser_support import launch_chromium, streamlit_server
    from playwright.sync_api import sync_playwright

    levels = [int(n) for n in args.levels.split(",")] if args.levels else ([1, 2, 4] if args.quick else [1, 2, 4, 8])
    seconds = 5.0 if args.quick else 10.0
    cores = os.cpu_count() or 1
    report = Report("class_load", f"A class on one server: {', '.join(map(str, levels))} sessions", args.quick)
    results = []
    with BareWorker(SETTINGS) as bare, streamlit_server() as url, sync_playwright() as p:
        browser = launch_chromium(p)
        for n in levels:
            result = level(browser, url, n, seconds, bare)
            results.append(result)
            total = sum(s["steps/s"] for s in result["per session"] if s["steps/s"] == s["steps/s"])
            print(f"  {n} sessions: summed {total:,.0f} steps/s, bare {result['bare']:,.0f}/s, "
                  f"worst gap {max(s['largest gap s'] for s in result['per session']):.2f} s", flush=True)
        browser.close()
    table = []
    for r in results:
        sessions = r["per session"]
        rates = [s["steps/s"] for s in sessions]
        total = sum(s["steps/s"] for s in sessions if s["steps/s"] == s["steps/s"])
        share = total / (cores * r["bare"])
        gap = max(s["largest gap s"] for s in sessions)
        problems = sum(s["exceptions"] + s["errors"] + s["socket closed"] + int(s["disconnected"]) for s in sessions)
        table.append({
            "sessions": r["sessions"],
            "summed steps/s": f"{total:,.0f}",
            "per session min..max": f"{min(rates):,.0f}..{max(rates):,.0f}",
            "bare 1-thread": f"{r['bare']:,.0f}",
            "summed / bare": f"{total / r['bare']:.2f}",
            f"summed / ({cores} x bare)": f"{share:.2f}",
            "worst Step gap s": f"{gap:.2f}",
            "errors+disconnects": problems,
            "cores: server / its jobs / chromium / rest": f"{r['cores'].get('server', 0):.2f} / "
                                                         f"{r['cores'].get(JOBS, 0):.2f} / "
                                                         f"{r['cores'].get('chromium', 0):.2f} / "
                                                         f"{r['cores'].get('rest of machine', 0):.2f}",
        })
        report.add(f"{r['sessions']} sessions: summed / ({cores} x bare)", f"{share:.2f}", ">= 0.7", check(share, 0.7),
                   f"{total:,.0f} steps/s summed; bare {r['bare']:,.0f}/s")
        report.add(f"{r['sessions']} sessions: worst gap between Step updates", f"{gap:.2f} s", "<= 1 s",
                   check(gap, high=1.0))
        report.add(f"{r['sessions']} sessions: errors, exceptions, disconnects", str(problems), "0", problems == 0)
    report.table("scaling", table)
    report.notes.append(f"Train clicks of all sessions within {max(r['click spread s'] for r in results):.2f} s "
                        "of each other.")
    report.data["results"] = results
    report.data["settings"] = json.dumps(SETTINGS)
    return report.finish()


if __name__ == "__main__":
    main()
