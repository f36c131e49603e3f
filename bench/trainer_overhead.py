"""Trainer overhead: rnnlab's Trainer against a bare PyTorch loop doing identical work.

Target: Trainer steps/s >= 0.95 x bare steps/s, for each config, on one PyTorch thread.

Configs: `udacity-sine` (RNN hidden 32, seq 20, batch 1, streaming with the hidden state carried
and detached) and a larger one (LSTM, 2 layers, hidden 64, seq 50, batch 64, windowed).
Validation is EXCLUDED from both in the main rows (eval_every=100,000, never reached); a third
row includes it in both (udacity-sine's own eval_every=15: the Trainer validates and keeps a copy
of the weights, the bare loop validates). The Trainer's other extras (Progress records, the
gradient norm every 10 steps, model.train() each step) are what is being measured.

Both run in this process, one thread, alternating (A, B, B, A, ...) in short repetitions of a
fixed number of steps; figures are medians of the per-pair ratios. That both do the same work is
checked, not assumed: from the same seed their first 30 losses must agree (printed). Next to the
wall-clock ratio (the target) is the ratio per CPU second of the thread, which other processes on
a shared machine disturb much less. A ratio short of the target is profiled with cProfile.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from bench.bare import BareLoop  # noqa: E402
from bench.common import Report, check, fmt_rate, median, spread  # noqa: E402
from rnnlab.config import RunConfig  # noqa: E402
from rnnlab.learn.trainer import Trainer  # noqa: E402

TARGET = 0.95
CONFIGS = {
    "udacity-sine": {"preset": "udacity-sine", "steps": 10_000_000, "eval_every": 100_000},
    "lstm-2x64-seq50-b64": {"cell": "lstm", "layers": 2, "hidden": 64, "seq_len": 50, "batch": 64,
                            "regime": "windowed", "steps": 10_000_000, "eval_every": 100_000},
    "udacity-sine + validation": {"preset": "udacity-sine", "steps": 10_000_000, "eval_every": 15},
}


def measure(name: str, flat: dict, reps: int, seconds: float) -> dict:
    config = RunConfig.from_flat(flat)
    trainer = Trainer(config)
    bare = BareLoop(config, eval_every=config.train.eval_every if config.train.eval_every < 100_000 else None)
    # Warm-up, and a step count per repetition that takes about `seconds`.
    for _ in range(50):
        next(trainer)
    bare.steps(50)
    start = time.perf_counter()
    bare.steps(100)
    n = max(50, int(seconds * 100 / (time.perf_counter() - start)))

    def run_trainer() -> None:
        for _ in range(n):
            next(trainer)

    def timed(fn) -> tuple[float, float]:
        """(steps per wall second, steps per CPU second of this thread)."""
        wall, cpu = time.perf_counter(), time.thread_time()
        fn()
        return n / (time.perf_counter() - wall), n / (time.thread_time() - cpu)

    trainer_rates, bare_rates = [], []
    for rep in range(reps):
        first_trainer = rep % 2 == 0
        for is_trainer in (first_trainer, not first_trainer):
            rates = timed(run_trainer if is_trainer else lambda: bare.steps(n))
            (trainer_rates if is_trainer else bare_rates).append(rates)
    ratios = [t[0] / b[0] for t, b in zip(trainer_rates, bare_rates, strict=True)]
    cpu_ratios = [t[1] / b[1] for t, b in zip(trainer_rates, bare_rates, strict=True)]
    return {"config": name, "steps per rep": n, "trainer": median([r[0] for r in trainer_rates]),
            "bare": median([r[0] for r in bare_rates]), "ratio": median(ratios), "ratio spread": spread(ratios),
            "cpu ratio": median(cpu_ratios), "trainer_obj": trainer, "flat": flat}


def same_work(flat: dict, steps: int = 30) -> float:
    """Largest difference between the Trainer's and the bare loop's losses over the first steps, from the
    same seed: about 0 when both really do the same work (same windows, order, weights, updates)."""
    config = RunConfig.from_flat(flat)
    trainer, bare = Trainer(config), BareLoop(config)
    worst = 0.0
    for _ in range(steps):
        loss = next(trainer).loss
        bare.steps(1)
        worst = max(worst, abs(loss - bare.last_loss) / max(abs(loss), 1e-12))
    return worst


def profile(trainer: Trainer, steps: int, top: int = 14) -> tuple[str, list[dict]]:
    """cProfile of `steps` Trainer steps: the functions with the most own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        next(trainer)
    profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    total = sum(v[2] for v in stats.stats.values())
    # rnnlab's own Python: its modules, plus the __init__ dataclasses generate (file "<string>").
    own = sum(v[2] for (file, _, _), v in stats.stats.items() if "/rnnlab/" in file or file == "<string>")
    own += sum(v[2] for (file, _, fn), v in stats.stats.items() if fn in ("train", "_get_total_norm_wrapper"))
    rows = []
    for (file, line, fn), (_, nc, tt, _, _) in sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:top]:
        where = f"{Path(file).parent.name}/{Path(file).name}:{line}" if file != "~" else "(builtin)"
        rows.append({"function": f"{fn} {where}", "calls/step": f"{nc / steps:.2f}",
                     "own us/step": f"{tt / steps * 1e6:.1f}", "share": f"{tt / total:.1%}"})
    headline = (f"{total / steps * 1e6:.0f} us/step under the profiler, of which rnnlab's own Python "
                f"{own / steps * 1e6:.0f} us ({own / total:.1%})")
    return headline, rows


def main(argv: list[str] | None = None) -> Report:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 repetitions of 0.15 s instead of 16 of 0.3 s")
    parser.add_argument("--profile", action="store_true", help="profile every config, not only the short ones")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    reps, seconds = (6, 0.15) if args.quick else (16, 0.3)
    report = Report("trainer_overhead", "Trainer vs bare PyTorch loop (one thread)", args.quick)
    results = [measure(name, flat, reps, seconds) for name, flat in CONFIGS.items()]
    for r in results:
        r["same losses"] = same_work(r["flat"])
    for r in results:
        report.add(f"{r['config']}: Trainer / bare", f"{r['ratio']:.3f} ({r['ratio spread']})", f">= {TARGET}",
                   check(r["ratio"], TARGET), f"Trainer {fmt_rate(r['trainer'])}, bare {fmt_rate(r['bare'])}; "
                   f"per CPU second {r['cpu ratio']:.3f}")
    report.table("rates (medians of interleaved repetitions)", [
        {"config": r["config"], "steps/rep": r["steps per rep"], "Trainer": fmt_rate(r["trainer"]),
         "bare": fmt_rate(r["bare"]), "ratio": f"{r['ratio']:.3f}", "ratio min..max": r["ratio spread"],
         "ratio per CPU s": f"{r['cpu ratio']:.3f}",
         "max relative loss difference, first 30 steps": f"{r['same losses']:.1e}"}
        for r in results])
    for r in results:
        if args.profile or r["ratio"] < TARGET:
            steps = 300 if args.quick else 1500
            headline, rows = profile(r["trainer_obj"], steps)
            report.table(f"cProfile of the Trainer, {r['config']} ({headline})", rows)
    report.notes.append("Validation excluded from both in the first two rows (eval_every=100,000); included in "
                        "both in the third (every 15 steps; the Trainer also copies the weights each time).")
    report.data["results"] = [{k: v for k, v in r.items() if k != "trainer_obj"} for r in results]
    return report.finish()


if __name__ == "__main__":
    main()
