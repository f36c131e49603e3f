"""Forecast cost: teacher-forced one-step predictions over a test part against the bare forward pass.

Target: forecast.one_step over 300 test rows (LSTM, hidden 32, seq_len 24) costs at most 2x one bare
forward pass of the same 300 windows as a single batch (the floor: the same arithmetic, no chunking,
no scaling back to original units). This was a wall-clock limit in tests/test_forecast.py (< 0.5 s),
which says more about the machine than about the code; here it is a ratio, interleaved (A, B, B, A).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

from bench.common import Report, check, median, spread  # noqa: E402
from rnnlab.analysis import forecast  # noqa: E402
from rnnlab.config import RunConfig  # noqa: E402
from rnnlab.learn.models import build_model  # noqa: E402
from rnnlab.series.data import prepare  # noqa: E402

TARGET = 2.0


def main(argv: list[str] | None = None) -> Report:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    report = Report("forecast_cost", "One-step forecast of a test part vs a bare batched forward", args.quick)
    config = RunConfig.from_flat({"cell": "lstm", "hidden": 32, "seq_len": 24, "test": 0.3})
    frame = pd.DataFrame({"y": np.sin(np.arange(1000) / 5.0)}, index=pd.RangeIndex(1000, name="time"))
    prepared = prepare(config, frame)
    torch.manual_seed(0)
    model = build_model(config, prepared.input_size).eval()
    start, end = prepared.rows("test")
    seq_len = config.train.seq_len
    windows = prepared.values[start - seq_len : end - 1].unfold(0, seq_len, 1).transpose(1, 2)  # (300, T, F)

    def timed(fn) -> float:
        began = time.perf_counter()
        fn()
        return time.perf_counter() - began

    def bare() -> None:
        with torch.no_grad():
            model(windows)

    def one_step() -> None:
        forecast.one_step(model, prepared, config)

    ratios, bare_s, one_step_s = [], [], []
    for _ in range(5 if args.quick else 20):
        a1, b1, b2, a2 = timed(one_step), timed(bare), timed(bare), timed(one_step)
        bare_s.append((b1 + b2) / 2)
        one_step_s.append((a1 + a2) / 2)
        ratios.append(one_step_s[-1] / bare_s[-1])
    ratio = median(ratios)
    report.add("one_step / bare forward, 300 rows", f"{ratio:.2f} ({spread(ratios)})", f"<= {TARGET}",
               check(ratio, high=TARGET))
    report.table("medians", [{"one_step ms": f"{median(one_step_s) * 1e3:.1f}",
                              "bare forward ms": f"{median(bare_s) * 1e3:.1f}", "windows": len(windows)}])
    return report.finish()


if __name__ == "__main__":
    main()
