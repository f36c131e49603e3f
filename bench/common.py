"""Shared by the benchmarks: paths, medians of interleaved repetitions, CPU accounting, reports.

The machine is shared and small (2 cores), so every benchmark measures ratios side by side in
one run, interleaving repetitions (A, B, A, B, ...) and reporting medians. Benchmarks print
figures; they never assert timings."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
for _path in (ROOT, ROOT / "tests"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def median(values: list[float]) -> float:
    values = [v for v in values if v == v]  # drop NaN
    return statistics.median(values) if values else float("nan")


def spread(values: list[float]) -> str:
    """min..max of repetitions, to show how noisy a median is."""
    values = [v for v in values if v == v]
    return f"{min(values):.3g}..{max(values):.3g}" if values else "-"


# --- CPU accounting from /proc: who used the cores during a window -------------------------------

def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    return children


def descendants(pid: int) -> list[int]:
    children, found, todo = _children_map(), [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def process_kind(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            cmd = handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "gone"
    if "multiprocessing" in cmd:
        return "server's job processes"  # a fork server and the training jobs forked from it
    if "streamlit" in cmd:
        return "server"
    if "chrom" in cmd:
        return "chromium"
    if "bench.bare" in cmd:
        return "bare loop"
    if "playwright" in cmd or "node" in cmd:
        return "playwright driver"
    return "other"


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return 0.0


def machine_busy_seconds() -> float:
    """CPU seconds all processes on the machine have used (from /proc/stat), idle and iowait excluded."""
    with open("/proc/stat") as handle:
        parts = [int(x) for x in handle.readline().split()[1:]]
    busy = sum(parts[:8]) - parts[3] - parts[4]  # user nice system idle iowait irq softirq steal
    return busy / CLOCK_TICKS


def thread_ids(pid: int) -> list[str]:
    """The process's thread ids ([] when it is gone)."""
    try:
        return os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []


def thread_seconds(pid: int) -> dict[int, float]:
    """CPU seconds of each thread of a process."""
    found = {}
    for tid in thread_ids(pid):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            found[int(tid)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        except (OSError, IndexError, ValueError):
            continue
    return found


def sched_counts(pid: int) -> tuple[int, float]:
    """Times the process's threads were preempted (involuntary context switches) and seconds they spent
    runnable but waiting for a CPU (/proc/PID/task/TID/status and schedstat)."""
    switches, waited = 0, 0.0
    for tid in thread_ids(pid):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as handle:
                switches += next(int(line.split()[1]) for line in handle
                                 if line.startswith("nonvoluntary_ctxt_switches"))
            with open(f"/proc/{pid}/task/{tid}/schedstat") as handle:
                waited += int(handle.read().split()[1]) / 1e9
        except (OSError, IndexError, ValueError, StopIteration):
            continue
    return switches, waited


def keep_training_apart() -> None:
    """Diagnostic (live_browser --pin): the training processes on CPU 0, every other process under this one
    (server, browser, driver, this script) on the other CPUs, so that no thread of theirs shares the
    training's core. Called at each window: threads started later inherit their creator's CPUs."""
    others = set(range(1, os.cpu_count() or 1)) or {0}
    for pid in [os.getpid(), *descendants(os.getpid())]:
        cpus = {0} if process_kind(pid) in TRAINING else others
        for tid in thread_ids(pid):
            try:
                os.sched_setaffinity(int(tid), cpus)
            except OSError:  # gone meanwhile
                continue


# Kinds whose preemptions CpuMeter counts: the training that the ratios compare.
TRAINING = ("server's job processes", "bare loop")


class CpuMeter:
    """Cores used during a window, per kind of process under this one, and by everyone else; for the
    streamlit server also its busiest threads (a training job's thread is usually the first); for the
    training processes how often other threads preempted them and how long they waited for a CPU
    (`preempted`: kind -> (preemptions per second, share of the window spent waiting))."""

    def __init__(self) -> None:
        self._start: dict[int, float] = {}
        self._sched: dict[int, tuple[int, float]] = {}
        self._threads: dict[int, dict[int, float]] = {}
        self._t0 = self._busy0 = 0.0
        self._own0 = 0.0
        self.server_threads: list[float] = []
        self.preempted: dict[str, tuple[float, float]] = {}

    def start(self) -> CpuMeter:
        pids = descendants(os.getpid())
        self._start = {pid: cpu_seconds(pid) for pid in pids}
        self._sched = {pid: sched_counts(pid) for pid in pids if process_kind(pid) in TRAINING}
        self._threads = {pid: thread_seconds(pid) for pid in pids if process_kind(pid) == "server"}
        self._own0 = _own_cpu()
        self._busy0 = machine_busy_seconds()
        self._t0 = time.monotonic()
        return self

    def stop(self) -> dict[str, float]:
        seconds = time.monotonic() - self._t0
        used: dict[str, float] = {}
        counts: dict[str, tuple[int, float]] = {}
        for pid in descendants(os.getpid()):
            kind = process_kind(pid)
            used[kind] = used.get(kind, 0.0) + cpu_seconds(pid) - self._start.get(pid, 0.0)
            if kind in TRAINING:
                (switches, waited), (was_switches, was_waited) = sched_counts(pid), self._sched.get(pid, (0, 0.0))
                total = counts.get(kind, (0, 0.0))
                counts[kind] = (total[0] + switches - was_switches, total[1] + waited - was_waited)
            if pid in self._threads:
                before = self._threads[pid]
                deltas = [(v - before.get(tid, 0.0)) / seconds for tid, v in thread_seconds(pid).items()]
                self.server_threads = [round(d, 2) for d in sorted(deltas, reverse=True)[:4]]
        self.preempted = {kind: (n / seconds, waited / seconds) for kind, (n, waited) in counts.items()}
        used["bench script"] = _own_cpu() - self._own0
        ours = sum(used.values())
        used["rest of machine"] = max(0.0, machine_busy_seconds() - self._busy0 - ours)
        return {kind: round(value / seconds, 2) for kind, value in sorted(used.items()) if kind != "gone"}


def _own_cpu() -> float:
    t = os.times()
    return t.user + t.system


# --- reports -----------------------------------------------------------------------------------

@dataclass
class Row:
    name: str
    value: str
    target: str = ""
    met: bool | None = None
    note: str = ""


@dataclass
class Report:
    """A benchmark's figures: printed as a table, saved as JSON and markdown in bench/results/."""

    bench: str
    title: str
    quick: bool
    rows: list[Row] = field(default_factory=list)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    machine: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        self.machine = machine_info()

    def add(self, name: str, value: str, target: str = "", met: bool | None = None, note: str = "") -> None:
        self.rows.append(Row(name, value, target, met, note))

    def table(self, name: str, rows: list[dict[str, Any]]) -> None:
        self.tables[name] = rows

    def finish(self) -> Report:
        self.machine["load average at end"] = os.getloadavg()
        self.data["seconds"] = round(time.time() - self.started, 1)
        print(self.markdown())
        self.save()
        return self

    def markdown(self) -> str:
        out = [f"## {self.title}{' (quick)' if self.quick else ''}", ""]
        m = self.machine
        out.append(f"{m['cores']} cores, load average {_load(m['load average'])} at start, "
                   f"{_load(m.get('load average at end', m['load average']))} at end; torch {m['torch']}, "
                   f"streamlit {m['streamlit']}; {self.data.get('seconds', '?')} s.")
        out.append("")
        out.append(_markdown_table([{"measure": r.name, "value": r.value, "target": r.target,
                                     "met": {True: "yes", False: "NO", None: ""}[r.met], "note": r.note}
                                    for r in self.rows]))
        for name, rows in self.tables.items():
            out += ["", f"**{name}**", "", _markdown_table(rows)]
        if self.notes:
            out += [""] + [f"- {note}" for note in self.notes]
        return "\n".join(out) + "\n"

    def save(self) -> None:
        RESULTS.mkdir(parents=True, exist_ok=True)
        suffix = "-quick" if self.quick else ""
        (RESULTS / f"{self.bench}{suffix}.json").write_text(json.dumps(asdict(self), indent=2, default=str))
        (RESULTS / f"{self.bench}{suffix}.md").write_text(self.markdown())


def _load(values: Any) -> str:
    return " ".join(f"{v:.2f}" for v in values)


def _markdown_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(none)"
    columns = list(rows[0])
    for row in rows[1:]:
        columns += [c for c in row if c not in columns]
    cells = [[str(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    line = lambda values: "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + " |"
    return "\n".join([line(columns), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, cells)])


def machine_info() -> dict[str, Any]:
    import importlib.metadata as meta

    def version(name: str) -> str:
        try:
            return meta.version(name)
        except meta.PackageNotFoundError:
            return "-"

    return {
        "cores": os.cpu_count(),
        "load average": os.getloadavg(),
        "python": platform.python_version(),
        "torch": version("torch"),
        "streamlit": version("streamlit"),
        "plotly": version("plotly"),
    }


def fmt_rate(x: float) -> str:
    return f"{x:,.0f}/s"


def check(value: float, low: float | None = None, high: float | None = None) -> bool | None:
    if value != value:
        return None
    return (low is None or value >= low) and (high is None or value <= high)
