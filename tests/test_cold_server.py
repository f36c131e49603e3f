"""A cold server starts a run and shows its first steps without importing PyTorch itself.

PyTorch's import takes one to two seconds of the server's interpreter; on a fresh server the first Train
click used to wait for it. The jobs have PyTorch (their fork server imports it); the server needs it only
for a model's weights and the verdict's reference, which comes with the first validation loss. Each check
runs in a fresh interpreter, where nothing else has imported PyTorch yet."""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_fresh(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_train_click_modules_do_not_import_pytorch():
    out = run_fresh("""
        import sys
        import rnnlab.ui.session, rnnlab.ui.live, rnnlab.ui.run_status, rnnlab.ui.stored  # noqa: E401
        import rnnlab.analysis.verdict, rnnlab.jobs.runner, rnnlab.series.data, rnnlab.ui.exports  # noqa: E401
        print("torch" in sys.modules)
    """)
    assert out.strip() == "False"


def test_a_run_starts_streams_steps_and_is_judged_before_the_server_imports_pytorch():
    out = run_fresh("""
        import sys, time
        from rnnlab.analysis import verdict
        from rnnlab.config import RunConfig
        from rnnlab.jobs.runner import LiveRun

        config = RunConfig.from_flat({"preset": "udacity-sine", "steps": "100000", "eval_every": "100000"})
        run = LiveRun(config).start()
        end = time.monotonic() + 60
        while len(run.history) < 20 and time.monotonic() < end:
            time.sleep(0.05)
        steps = len(run.history)
        judged = verdict.judge(run.history, "running")
        index = run.frame.index  # what the window chart reads
        torch_loaded = "torch" in sys.modules
        run.stop(); run.join(10)
        print(steps, judged.kind, len(index), torch_loaded)
    """)
    steps, kind, rows, torch_loaded = out.split()
    assert int(steps) >= 20 and int(rows) > 100
    assert kind == verdict_too_early() and torch_loaded == "False"


def verdict_too_early() -> str:
    from rnnlab.analysis.verdict import TOO_EARLY

    return TOO_EARLY
