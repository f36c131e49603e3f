"""The reference: a bare PyTorch loop, no rnnlab, doing the same work as the Trainer.

Same windows (cut by rnnlab.series.data before the clock starts, then handed over as plain tensors),
same model sizes, same optimiser and loss, same batch order (streaming: consecutive windows,
hidden state carried and detached; windowed: a fresh permutation each epoch), same validation
(a streaming seq2seq model scored on its validation part as one warmed-up sequence). Each step reads
the loss with .item(), as any loop that records its loss must.

Run as `python -m bench.bare --worker '{"preset": "udacity-sine"}'` it is a worker process:
it warms up, prints "ready", then answers each stdin line "run SECONDS" with one JSON line
{"steps", "seconds", "rate"}; the browser benchmarks use it so that the reference never
shares a GIL with the server.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

CELLS = {"rnn": nn.RNN, "rnn_relu": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD, "rmsprop": torch.optim.RMSprop}
LOSSES = {"mse": nn.MSELoss, "mae": nn.L1Loss, "huber": nn.HuberLoss}


class BareNet(nn.Module):
    """nn.RNN/LSTM/GRU + nn.Linear, as the seed notebook writes it."""

    def __init__(self, cell: str, input_size: int, hidden: int, layers: int, bidirectional: bool,
                 head: str, out_features: int) -> None:
        super().__init__()
        extra = {"nonlinearity": "relu"} if cell == "rnn_relu" else {}
        self.rnn = CELLS[cell](input_size, hidden, layers, batch_first=True, bidirectional=bidirectional, **extra)
        self.fc = nn.Linear(hidden * (2 if bidirectional else 1), out_features)
        self.last = head == "last"

    def forward(self, x, hidden=None):
        out, hidden = self.rnn(x, hidden)  # (B, T, D*H)
        if self.last:
            return self.fc(out[:, -1]), hidden  # (B, horizon)
        b, t, d = out.shape
        return self.fc(out.contiguous().view(b * t, d)).view(b, t, 1), hidden  # (B, T, 1)


def detach(hidden):
    if hidden is None:
        return None
    return tuple(h.detach() for h in hidden) if isinstance(hidden, tuple) else hidden.detach()


class BareLoop:
    """The bare loop for a config, stepped `n` steps at a time; the data is prepared up front."""

    def __init__(self, config, eval_every: int | None = None) -> None:
        from rnnlab.learn.trainer import spread_windows, warm_sequence
        from rnnlab.series import data as data_mod

        t, m = config.train, config.model
        prepared = data_mod.prepare(config, data_mod.make_series(config.data))
        self.streaming = t.regime == "streaming"
        stride = t.seq_len if self.streaming else 1
        self.x, self.y = data_mod.windows(prepared, "train", t.seq_len, m.head, m.horizon, stride=stride)
        self.x_val, self.y_val = spread_windows(*data_mod.windows(prepared, "val", t.seq_len, m.head, m.horizon))
        self.val_from = 0
        if self.streaming and m.head == "seq2seq":  # as the Trainer: the part as one sequence, warmed up
            start, end = prepared.bounds["val"]
            self.x_val, self.y_val, self.val_from = warm_sequence(prepared.values, start, end, t.seq_len)
        torch.manual_seed(config.data.seed)
        self.rng = np.random.default_rng(config.data.seed)
        self.net = BareNet(m.cell, prepared.input_size, m.hidden, m.layers, m.bidirectional, m.head,
                           m.horizon if m.head == "last" else 1)
        # The same optimizer kernels as the Trainer (fused Adam/SGD, foreach RMSprop): identical work.
        options = {"adam": {"fused": True}, "sgd": {"momentum": t.momentum, "fused": True},
                   "rmsprop": {"momentum": t.momentum, "foreach": True}}[t.optimizer]
        self.optimizer = OPTIMIZERS[t.optimizer](self.net.parameters(), lr=t.lr, **options)
        self.loss_fn = LOSSES[t.loss]()
        self.batch = 1 if self.streaming else t.batch
        self.eval_every = eval_every
        self.order = np.arange(0)
        self.cursor = 0
        self.hidden = None
        self.step_count = 0
        self.last_loss = float("nan")
        self.val_loss = float("nan")

    def steps(self, n: int) -> None:
        net, optimizer, loss_fn, x_all, y_all = self.net, self.optimizer, self.loss_fn, self.x, self.y
        for _ in range(n):
            if self.cursor >= len(self.order):
                self.order = np.arange(len(x_all)) if self.streaming else self.rng.permutation(len(x_all))
                self.cursor = 0
                self.hidden = None
            if self.streaming:
                i = int(self.order[self.cursor])
                self.cursor += 1
                x, y = x_all[i:i + 1], y_all[i:i + 1]
            else:
                idx = self.order[self.cursor:self.cursor + self.batch]
                self.cursor += len(idx)
                index = torch.from_numpy(idx)
                x, y = x_all[index], y_all[index]
            prediction, hidden = net(x, self.hidden)
            loss = loss_fn(prediction, y)
            self.last_loss = loss.item()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if self.streaming:
                self.hidden = detach(hidden)
            self.step_count += 1
            if self.eval_every and self.step_count % self.eval_every == 0:
                net.eval()
                with torch.no_grad():
                    prediction = net(self.x_val)[0]
                    self.val_loss = float(loss_fn(prediction[:, self.val_from:], self.y_val[:, self.val_from:]))
                net.train()

    def run_for(self, seconds: float, chunk: int = 20) -> tuple[int, float]:
        """Steps for about `seconds`; returns (steps, exact seconds)."""
        start = time.perf_counter()
        deadline = start + seconds
        done = 0
        while time.perf_counter() < deadline:
            self.steps(chunk)
            done += chunk
        return done, time.perf_counter() - start


def config_from(flat: dict):
    from rnnlab.config import RunConfig

    return RunConfig.from_flat(flat)


def worker(flat: dict) -> None:
    torch.set_num_threads(1)
    config = config_from(flat)
    # The app's run validates every eval_every steps (udacity-sine: 15); the reference does the same work.
    loop = BareLoop(config, eval_every=config.train.eval_every)
    loop.run_for(1.0)  # warm-up: lazy imports of the first optimizer.step(), allocator
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        steps, seconds = loop.run_for(float(words[1]))
        print(json.dumps({"steps": steps, "seconds": seconds, "rate": steps / seconds}), flush=True)


@dataclass(frozen=True)
class BareWindow:
    rate: float  # steps/s
    used: dict[str, float]  # cores per kind of process (bench.common.CpuMeter)
    preempted: float  # the bare loop's preemptions per second

    @property
    def per_cpu(self) -> float:
        """The bare loop's steps per CPU-second."""
        cores = self.used.get("bare loop", 0.0)
        return self.rate / cores if cores > 0 else float("nan")


class BareWorker:
    """A bare-loop worker process: `rate(seconds)` runs it for that long while the caller waits."""

    def __init__(self, flat: dict) -> None:
        import subprocess

        from bench.common import ROOT

        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.bare", "--worker", json.dumps(flat)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        line = self.process.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"bare worker failed to start: {line!r}")

    def rate(self, seconds: float) -> float:
        self.process.stdin.write(f"run {seconds}\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())["rate"]

    def measure(self, seconds: float) -> BareWindow:
        """rate(), with the cores every process used meanwhile and the bare loop's preemptions (an A window)."""
        from bench.common import CpuMeter

        meter = CpuMeter().start()
        rate = self.rate(seconds)
        used = meter.stop()
        return BareWindow(rate, used, meter.preempted.get("bare loop", (0.0, 0.0))[0])

    def close(self) -> None:
        try:
            self.process.stdin.write("quit\n")
            self.process.stdin.flush()
            self.process.wait(5)
        except Exception:
            self.process.kill()

    def __enter__(self) -> BareWorker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--worker", metavar="JSON", help="settings as a flat JSON object")
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    settings = json.loads(args.worker or '{"preset": "udacity-sine"}')
    if args.worker:
        worker(settings)
    else:
        torch.set_num_threads(1)
        bare = BareLoop(config_from(settings))
        bare.run_for(1.0)
        steps, seconds = bare.run_for(args.seconds)
        print(f"bare loop {settings}: {steps / seconds:,.0f} steps/s")
