"""A long run and many runs: does a redraw cost the same at step 100,000 as at step 1,000, and
does memory stay flat?

Targets:
- server time per redraw and bytes per chart update at step 100,000 within 1.5x of step 1,000;
- resident memory growth over the 100,000-step run < 100 MB;
- 20 consecutive runs in one session (Workspace: start, train a little, start the next) < 50 MB,
  after one warm-up run of each preset (first steps load kernels once per process); a second
  session of 20 runs shows the steady state.

How, in this process (no browser): a LiveRun of udacity-sine with steps=100,000 trains (in a
thread or a job process, as the runner does it) while this thread redraws on the Train page's
clock (rnnlab.ui.feed.PERIOD, LIVE_POINTS points a trace) as the live feed does: view(),
loss_curves(), charts.loss_figure / window_figure, then the frame the feed sends (the charts'
payloads, typed arrays in base64, as JSON). Redraw costs during the run are disturbed by the
training on the same cores, so the 1,000 vs 100,000 comparison is repeated afterwards on idle
histories, interleaved, medians. Memory is VmRSS from /proc/self/status, plus the Pss of any child processes (a runner
that trains in job processes). `--quick` runs 20,000 steps and 0.2 s runs.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import plotly.io  # noqa: E402
import torch  # noqa: E402

from bench.common import Report, check, descendants, median  # noqa: E402
from rnnlab.config import RunConfig  # noqa: E402
from rnnlab.figures import charts  # noqa: E402
from rnnlab.jobs.runner import LiveRun  # noqa: E402
from rnnlab.learn.history import History  # noqa: E402
from rnnlab.learn.trainer import Trainer  # noqa: E402
from rnnlab.ui import feed  # noqa: E402
from rnnlab.ui import live as train_page  # noqa: E402
from rnnlab.ui.live_chart import payload  # noqa: E402

REDRAW_SECONDS = feed.PERIOD
# Points per loss trace, as the Train page asks for them (the runner's default if the page names none).
POINTS = getattr(train_page, "LIVE_POINTS", 2000)
STALL_SECONDS = 20.0  # no new step for this long (while the run says it is running): the run is stuck
PRESETS = ("udacity-sine", "lstm-load", "long-memory", "vanishing-gradients")


def rss_mb() -> float:
    """Resident memory of this process and of any job processes it started (a runner may train in
    child processes): VmRSS of this one plus the proportional share (Pss) of each descendant, so
    pages the children share with each other or with a fork server count once."""
    total = _status_kb(os.getpid(), "VmRSS:")
    for pid in descendants(os.getpid()):
        total += _rollup_kb(pid, "Pss:")
    return total / 1024


def _status_kb(pid: int, key: str) -> float:
    try:
        with open(f"/proc/{pid}/status") as handle:
            return next((int(line.split()[1]) for line in handle if line.startswith(key)), 0)
    except OSError:
        return 0


def _rollup_kb(pid: int, key: str) -> float:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            return next((int(line.split()[1]) for line in handle if line.startswith(key)), 0)
    except OSError:
        return 0


def feed_frame(figure: dict, key: str) -> str:
    """A chart's part of a live feed frame, as the stream writes it (rnnlab/ui/feed.py)."""
    return json.dumps(payload(figure, key, "1"), separators=(",", ":"))


def redraw(train, val, snapshot) -> dict:
    """One frame's chart work; times in ms, sizes in bytes."""
    t0 = time.perf_counter()
    loss_fig = charts.loss_figure(train, val)
    window_fig = charts.window_figure(snapshot) if snapshot is not None else None
    t1 = time.perf_counter()
    plain = len(plotly.io.to_json(loss_fig, validate=False))  # the brief's measure: build + to_json
    t2 = time.perf_counter()
    loss_spec = feed_frame(loss_fig, "loss_chart")
    window_spec = feed_frame(window_fig, "window_chart") if window_fig is not None else ""
    t3 = time.perf_counter()
    return {"build ms": (t1 - t0) * 1e3, "build+to_json ms": (t2 - t0) * 1e3 - 0,
            "as a feed frame ms": (t1 - t0 + t3 - t2) * 1e3,
            "loss bytes": len(loss_spec), "loss bytes unvalidated": plain, "window bytes": len(window_spec)}


def sampled(history: History) -> tuple:
    return history.sample("loss", POINTS), history.sample("val_loss", POINTS)


def long_run(steps: int) -> dict:
    config = RunConfig.from_flat({"preset": "udacity-sine", "steps": steps})
    # Warm-up outside the measurement: lazy imports of the first optimizer.step() and of plotly.
    for _ in Trainer(RunConfig.from_flat({"preset": "udacity-sine", "steps": 200})):
        pass
    warm = History()
    trainer = Trainer(RunConfig.from_flat({"preset": "udacity-sine", "steps": 50}))
    trainer.request_snapshot()
    snap = None
    for p in trainer:
        warm.append(p)
        snap = snap or p.snapshot
    redraw(*sampled(warm), snap)
    gc.collect()
    before_run = rss_mb()
    run = LiveRun(config).start()
    # The baseline is taken once the run trains: a runner that trains in a job process (and a fork
    # server) adds that process's memory at the start, once; growth is what the run adds after.
    run.wait_until(lambda v: v.step >= 100 or v.phase not in ("starting", "running", "queued"), timeout=60)
    rss0 = rss_mb()
    frames, memory, lock_ms = [], [(run.view().step, rss0)], []
    started = time.monotonic()
    next_mem = started + 1.0
    last_step, moved_at, stalled = -1, started, False
    while run.alive or run.view().phase in ("starting", "running"):
        view = run.view()
        if view.step != last_step:
            last_step, moved_at = view.step, time.monotonic()
        elif time.monotonic() - moved_at > STALL_SECONDS:
            stalled = True  # the run stopped making progress: report it rather than wait forever
            break
        t = time.perf_counter()
        train, val = run.loss_curves(POINTS)
        lock_ms.append((time.perf_counter() - t) * 1e3)
        if len(train[0]):
            frame = redraw(train, val, view.snapshot)
            frame["step"] = view.step
            frames.append(frame)
        if time.monotonic() >= next_mem:
            memory.append((view.step, rss_mb()))
            next_mem += 1.0
        time.sleep(REDRAW_SECONDS)
        if view.phase in ("finished", "stopped", "error"):
            break
    seconds = time.monotonic() - started
    run.stop()
    memory.append((run.view().step, rss_mb()))
    return {"run": run, "frames": frames, "memory": memory, "seconds": seconds, "rss0": rss0,
            "lock ms": lock_ms, "final": run.view(), "stalled": stalled, "start cost": rss0 - before_run}


def near(frames: list[dict], step: int, key: str, window: int = 5) -> float:
    """Median of `key` over the few redraws nearest to `step`."""
    closest = sorted(frames, key=lambda f: abs(f["step"] - step))[:window]
    return median([f[key] for f in closest])


def idle_comparison(run: LiveRun, reps: int) -> dict:
    """Redraw cost and size at 1,000 steps vs the finished run's full history, interleaved, medians."""
    short = History()
    trainer = Trainer(RunConfig.from_flat({"preset": "udacity-sine", "steps": 1000}))
    snap = None
    for p in trainer:
        if trainer.step == 999:
            trainer.request_snapshot()
        short.append(p)
        snap = p.snapshot or snap
    full_snapshot = run.view().snapshot
    results = {"1,000": [], "full": []}
    for rep in range(reps):
        order = ("1,000", "full") if rep % 2 == 0 else ("full", "1,000")
        for which in order:
            t = time.perf_counter()
            if which == "1,000":
                curves, s = sampled(short), snap
            else:
                curves, s = run.loss_curves(POINTS), full_snapshot
            sample_ms = (time.perf_counter() - t) * 1e3
            frame = redraw(*curves, s)
            frame["sample ms"] = sample_ms
            results[which].append(frame)
    return {which: {k: median([f[k] for f in frames]) for k in frames[0]} for which, frames in results.items()}


def warm_up_presets() -> None:
    """One short run of each preset first: their first steps load kernels and data once per process
    (tens of MB), which is not what 20 runs in a session should be charged with."""
    from rnnlab.ui.session import Workspace

    workspace = Workspace()
    for name in PRESETS:
        workspace.start(RunConfig.from_flat({"preset": name, "steps": 1_000_000}))
        time.sleep(0.3)
    workspace.close()


def many_runs(count: int, seconds: float) -> dict:
    from rnnlab.ui.session import Workspace

    workspace = Workspace()
    gc.collect()
    before = rss_mb()
    after_each = []
    for i in range(count):
        config = RunConfig.from_flat({"preset": PRESETS[i % len(PRESETS)], "steps": 1_000_000})
        run = workspace.start(config)
        time.sleep(seconds)
        after_each.append((i + 1, config.preset, run.view().step, rss_mb()))
    kept = len(workspace.runs())
    workspace.current.stop()
    gc.collect()
    with_runs = rss_mb()
    workspace.close()  # the tab closes: every run forgotten
    del workspace, run
    gc.collect()
    time.sleep(0.2)
    after = rss_mb()
    return {"before": before, "after": after, "with runs kept": with_runs, "after each": after_each,
            "kept runs": kept}


def main(argv: list[str] | None = None) -> Report:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 steps and 0.2 s runs")
    parser.add_argument("--steps", type=int, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    steps = args.steps or (20_000 if args.quick else 100_000)
    report = Report("long_run", f"A {steps:,}-step run and 20 runs in one session", args.quick)

    print(f"  training {steps:,} steps with redraws every {REDRAW_SECONDS} s ...", flush=True)
    result = long_run(steps)
    frames, final = result["frames"], result["final"]
    report.add("the run reaches its last step", f"{'STALLED at step ' if result['stalled'] else ''}{final.step:,} "
               f"of {steps:,}", f"{steps:,}", final.step >= steps and not result["stalled"],
               f"phase {final.phase}; {final.message}"[:160])
    growth = result["memory"][-1][1] - result["rss0"]
    peak = max(m for _, m in result["memory"]) - result["rss0"]
    print("  comparing redraws at 1,000 steps and at the end, idle ...", flush=True)
    idle = idle_comparison(result["run"], 10 if args.quick else 20)
    small, big = idle["1,000"], idle["full"]
    time_ratio = big["as a feed frame ms"] / small["as a feed frame ms"]
    brief_ratio = big["build+to_json ms"] / small["build+to_json ms"]
    bytes_ratio = big["loss bytes"] / small["loss bytes"]
    report.add(f"server ms per redraw (both charts, as a feed frame), step {final.step:,} / 1,000",
               f"{time_ratio:.2f} ({big['as a feed frame ms']:.1f} / {small['as a feed frame ms']:.1f} ms)",
               "<= 1.5", check(time_ratio, high=1.5),
               f"build + to_json only (no validation): {big['build+to_json ms']:.2f} / "
               f"{small['build+to_json ms']:.2f} ms = {brief_ratio:.2f}")
    report.add(f"bytes per loss-chart update, step {final.step:,} / 1,000",
               f"{bytes_ratio:.2f} ({big['loss bytes'] / 1024:.1f} / {small['loss bytes'] / 1024:.1f} KB)",
               "<= 1.5", check(bytes_ratio, high=1.5),
               f"window chart {big['window bytes'] / 1024:.1f} KB; loss spec before validation "
               f"{big['loss bytes unvalidated'] / 1024:.1f} KB")
    report.add("history sampling under the run's lock, at the end", f"{big['sample ms']:.2f} ms",
               note=f"{small['sample ms']:.2f} ms at 1,000 steps")
    report.add(f"resident memory growth over the {final.step:,}-step run", f"{growth:+.1f} MB", "< 100 MB",
               growth < 100, f"from step 100; starting the run added {result['start cost']:+.0f} MB (job process"
               f" and fork server, if any); peak {peak:+.1f} MB; run took {result['seconds']:.0f} s "
               f"({final.step / result['seconds']:,.0f} steps/s with redraws)")
    count, seconds = 20, (0.2 if args.quick else 0.5)
    print(f"  {count} consecutive runs of {seconds} s in one Workspace ...", flush=True)
    warm_up_presets()
    many = many_runs(count, seconds)
    again = many_runs(count, seconds)
    many_growth = many["after"] - many["before"]
    report.add(f"{count} consecutive runs in one session", f"{many['with runs kept'] - many['before']:+.1f} MB",
               "< 50 MB", many["with runs kept"] - many["before"] < 50,
               f"the Workspace still holding its {many['kept runs']} runs; presets cycled: {', '.join(PRESETS)}")
    report.add("... after the session closes (runs forgotten)", f"{many_growth:+.1f} MB", "< 50 MB", many_growth < 50)
    report.add(f"{count} more runs in a new session (steady state)",
               f"{again['with runs kept'] - again['before']:+.1f} MB",
               note=f"{again['after'] - again['before']:+.1f} MB after it closes; "
                    f"{again['after'] - many['before']:+.1f} MB over the {2 * count} runs")
    during = []
    for target in (1_000, steps // 10, steps // 2, steps):
        during.append({"step": f"~{target:,}",
                       "ms as a feed frame": f"{near(frames, target, 'as a feed frame ms'):.1f}",
                       "ms build+to_json": f"{near(frames, target, 'build+to_json ms'):.2f}",
                       "loss KB": f"{near(frames, target, 'loss bytes') / 1024:.1f}",
                       "window KB": f"{near(frames, target, 'window bytes') / 1024:.1f}"})
    report.table("redraws during the run (medians of the 5 nearest; disturbed by training on the same cores)",
                 during)
    report.table("idle comparison (medians of interleaved repetitions)", [
        {"history": name, **{k: f"{v:.2f}" if "ms" in k else f"{v / 1024:.1f} KB" for k, v in d.items()}}
        for name, d in (("1,000 steps", small), (f"{final.step:,} steps", big))])
    marks = [m for i, m in enumerate(result["memory"]) if i % max(1, len(result["memory"]) // 8) == 0]
    report.table("resident memory during the run", [{"step": f"{s:,}", "VmRSS MB": f"{m:.1f}"}
                                                     for s, m in marks + [result["memory"][-1]]])
    report.table("resident memory over the consecutive runs", [
        {"run": n, "preset": p, "steps reached": s, "VmRSS MB": f"{m:.1f}"}
        for n, p, s, m in many["after each"] if n in (1, 2, 5, 10, 15, 20)])
    report.data.update({"memory": result["memory"], "idle": idle, "many": many, "again": again,
                        "frames": frames[:: max(1, len(frames) // 200)]})
    return report.finish()


if __name__ == "__main__":
    main()
