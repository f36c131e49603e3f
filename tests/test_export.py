"""Export and import: the exported script reproduces the app's run, and weights come back in safely.

The scripts run in subprocesses, all started at once by one fixture (each pays a torch import)."""

from __future__ import annotations

import ast
import io
import pickle
import runpy
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from rnnlab.config import RunConfig
from rnnlab.errors import ConfigError, DataError
from rnnlab.export.script import (
    config_json,
    export_filename,
    export_script,
    history_csv,
    load_weights,
    weights_bytes,
)
from rnnlab.learn.history import History, lr_changes
from rnnlab.learn.models import build_model
from rnnlab.learn.trainer import Trainer
from rnnlab.series.data import make_series
from rnnlab.series.generators import GENERATORS


def uploaded_series() -> pd.DataFrame:
    """A series as the CSV importer makes it: index time, the target first, then a covariate."""
    rng = np.random.default_rng(7)
    t = np.arange(300)
    frame = pd.DataFrame({"level": np.sin(t / 9) + 0.1 * rng.standard_normal(300), "drive": np.cos(t / 9)},
                         index=pd.RangeIndex(300, name="time"))
    return frame


# name -> (settings, steps, uploaded frame or None)
RUNS = {
    "udacity-sine streaming rnn": ({"preset": "udacity-sine"}, 75, None),
    "windowed gru, 2 layers, dropout, clipping": (
        {"cell": "gru", "layers": 2, "dropout": 0.2, "batch": 16, "seq_len": 20, "clip": 0.5, "eval_every": 20},
        60, None),
    "lstm-load multivariate with early stopping": (
        {"preset": "lstm-load", "length": 600, "hidden": 16, "lr": 0.05, "eval_every": 2, "patience": 1}, 20, None),
    "nile dataset, noise, minmax, bidirectional relu rnn, sgd": (
        {"data": "nile", "seq_len": 5, "val": 0.2, "test": 0.1, "noise": 0.1, "scale": "minmax",
         "cell": "rnn_relu", "bidirectional": True, "head": "last", "optimizer": "sgd", "hidden": 16,
         "eval_every": 10}, 30, None),
    "windowed lstm, forget-gate bias 1": ({"cell": "lstm", "forget_bias": 1.0, "eval_every": 10}, 30, None),
    "uploaded series, streaming lstm, last-step head": (
        {"data": "upload", "regime": "streaming", "cell": "lstm", "head": "last", "horizon": 3, "seq_len": 12,
         "eval_every": 10}, 30, uploaded_series()),
}


def config_of(name: str) -> RunConfig:
    settings, steps, _ = RUNS[name]
    return RunConfig.from_flat({**settings, "steps": steps})


# A run whose learning rate is changed twice while it trains, as the sidebar changes it live:
# (settings, {after this step: the new rate}).
LIVE_LR_RUN = ({"cell": "gru", "length": 400, "seq_len": 16, "eval_every": 10, "steps": 60, "seed": 3},
               {20: 0.002, 45: 0.03})


@pytest.fixture(scope="module")
def live_lr_run() -> tuple[RunConfig, pd.DataFrame]:
    """The run's config (as it started) and its history, the rate changed between steps as the job does."""
    settings, changes = LIVE_LR_RUN
    config = RunConfig.from_flat(settings)
    trainer, history = Trainer(config), History()
    for progress in trainer:
        history.append(progress)
        if progress.step in changes:
            trainer.set_lr(changes[progress.step])
    return config, history.to_frame()


@pytest.fixture(scope="module")
def script_runs(tmp_path_factory, live_lr_run) -> dict[str, Path]:
    """Every RUNS script exported and run (--steps) in its own folder, all in parallel; and the live-lr run
    exported as a script and as a config that `python -m rnnlab train --config` replays."""
    folders, processes = {}, {}
    for index, (name, (_, steps, frame)) in enumerate(RUNS.items()):
        config = config_of(name)
        folder = tmp_path_factory.mktemp(f"run{index}")
        script = folder / export_filename(config)
        script.write_text(export_script(config, frame), encoding="utf-8")
        processes[name] = subprocess.Popen([sys.executable, str(script), "--steps", str(steps)], cwd=folder,
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        folders[name] = folder
    config, frame = live_lr_run
    exported = config.replace(lr_schedule=lr_changes(frame, config.train.lr))
    folder = folders["live lr"] = tmp_path_factory.mktemp("live_lr")
    (folder / "exported.py").write_text(export_script(exported), encoding="utf-8")
    (folder / "config.json").write_bytes(config_json(exported))
    processes["live lr"] = subprocess.Popen([sys.executable, "exported.py"], cwd=folder, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, text=True)
    processes["live lr, cli"] = subprocess.Popen(
        [sys.executable, "-m", "rnnlab", "train", "--config", str(folder / "config.json"), "--out",
         str(folder / "cli"), "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=Path(__file__).resolve().parent.parent)
    for name, process in processes.items():
        out, err = process.communicate(timeout=600)  # a guard against a hang, not a speed limit
        assert process.returncode == 0, f"{name}: the script failed\n{err}"
        assert "val_loss" in out or name.endswith("cli")
    return folders


@pytest.mark.parametrize("name", list(RUNS))
def test_exported_script_reproduces_the_loss_curve(script_runs, name):
    config, frame = config_of(name), RUNS[name][2]
    trainer = Trainer(config, make_series(config.data, frame) if frame is not None else None)
    progress = list(trainer)
    history = pd.read_csv(script_runs[name] / "history.csv")

    assert len(history) == len(progress) > 0
    np.testing.assert_allclose(history["loss"], [p.loss for p in progress], rtol=1e-5, atol=0)
    assert history["epoch"].tolist() == [p.epoch for p in progress]
    expected_val = [p.val_loss if p.validated else np.nan for p in progress]
    np.testing.assert_allclose(history["val_loss"], expected_val, rtol=1e-5, atol=0)
    # The script's weights.pt loads into the app's model and holds the trainer's final weights.
    weights = load_weights((script_runs[name] / "weights.pt").read_bytes(), config, trainer.prepared.input_size)
    for key, value in trainer.model.state_dict().items():
        torch.testing.assert_close(weights[key], value, rtol=1e-5, atol=1e-7)


def test_live_lr_changes_are_the_history_steps_where_the_rate_changed(live_lr_run):
    config, frame = live_lr_run
    assert lr_changes(frame, config.train.lr) == ((21, 0.002), (46, 0.03))
    assert frame["lr"].iloc[19] == config.train.lr and frame["lr"].iloc[20] == 0.002  # step 21 used the new rate


def test_export_after_live_lr_changes_replays_them(script_runs, live_lr_run):
    config, frame = live_lr_run
    folder = script_runs["live lr"]
    exported = RunConfig.from_json((folder / "config.json").read_bytes())
    assert exported.lr_schedule == ((21, 0.002), (46, 0.03)) and exported.train.lr == config.train.lr
    assert exported.replace(lr_schedule=()) == config  # otherwise the settings the run started with
    script = pd.read_csv(folder / "history.csv")
    cli = pd.read_csv(folder / "cli" / "history.csv")
    for replay in (script, cli):
        assert replay["step"].tolist() == frame["step"].tolist()
        np.testing.assert_allclose(replay["loss"], frame["loss"], rtol=1e-5, atol=0)
        np.testing.assert_allclose(replay["val_loss"], frame["val_loss"], rtol=1e-5, atol=0)
    np.testing.assert_array_equal(cli["lr"], frame["lr"])
    # Without the schedule the curves part after step 21: the replay is what makes them agree.
    unchanged = [p.loss for p in Trainer(config)]
    assert unchanged[:20] == frame["loss"][:20].tolist()
    assert not np.allclose(unchanged[21:], frame["loss"][21:], rtol=1e-3)


def test_early_stopping_run_really_stopped_early(script_runs):
    name = "lstm-load multivariate with early stopping"
    assert len(pd.read_csv(script_runs[name] / "history.csv")) < RUNS[name][1]


VARIANTS = [
    {"preset": "udacity-sine"},
    {"preset": "lstm-load", "patience": 5, "clip": 1.0, "optimizer": "rmsprop", "loss": "huber"},
    {"data": "co2", "scale": "none", "cell": "gru", "head": "last", "horizon": 4, "regime": "streaming"},
    {"data": "sunspots", "seq_len": 10, "cell": "rnn", "covariates": False, "loss": "mae"},
    {"data": "echo", "covariates": False, "bidirectional": True, "head": "last", "layers": 3, "dropout": 0.3},
]


def imported_modules(script: str) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(script)):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            modules.add((node.module or "").split(".")[0])
    return modules


@pytest.mark.parametrize("settings", VARIANTS, ids=lambda s: "-".join(f"{k}={v}" for k, v in s.items()))
def test_script_imports_only_torch_numpy_pandas_and_the_standard_library(settings):
    script = export_script(RunConfig.from_flat(settings))
    compile(script, "exported.py", "exec")
    assert imported_modules(script) <= {"__future__", "argparse", "copy", "io", "math", "numpy", "pandas", "torch"}
    import_lines = [line for line in script.splitlines() if line.lstrip().startswith(("import ", "from "))]
    assert import_lines and not [line for line in import_lines if "rnnlab" in line]


def test_exported_scripts_pass_ruff(tmp_path):
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    for index, settings in enumerate(VARIANTS):
        (tmp_path / f"script{index}.py").write_text(export_script(RunConfig.from_flat(settings)), encoding="utf-8")
    (tmp_path / "upload.py").write_text(export_script(config_of("uploaded series, streaming lstm, last-step head"),
                                                      uploaded_series()), encoding="utf-8")
    result = subprocess.run([ruff, "check", "--isolated", "--line-length", "120", "--select", "E,F,W,I,B,UP",
                             str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout


def script_namespace(tmp_path: Path, config: RunConfig) -> dict:
    """The script's module-level definitions, without running its training (run_name is not __main__)."""
    path = tmp_path / "exported.py"
    path.write_text(export_script(config), encoding="utf-8")
    return runpy.run_path(str(path), run_name="exported")


@pytest.mark.parametrize("settings", [
    {"cell": "rnn", "layers": 2},
    {"cell": "rnn_relu", "bidirectional": True, "head": "last"},
    {"cell": "lstm", "layers": 3, "bidirectional": True, "head": "last", "dropout": 0.5},
    {"cell": "gru", "head": "last", "horizon": 5, "bidirectional": True},
    {"cell": "lstm", "head": "last", "horizon": 2},
])
def test_exported_model_matches_sequence_model(tmp_path, settings):
    config = RunConfig.from_flat({"data": "load", "length": 200, "hidden": 8, **settings})
    namespace = script_namespace(tmp_path, config)
    m = config.model
    torch.manual_seed(3)
    exported = namespace["SequenceModel"](input_size=7, hidden_size=m.hidden, num_layers=m.layers,
                                          bidirectional=m.bidirectional, dropout=m.dropout,
                                          out_features=m.horizon if m.head == "last" else 1)
    torch.manual_seed(3)
    reference = build_model(config, 7)
    # Same names, same shapes, same initial values: the two draw their weights identically.
    exported_state, reference_state = exported.state_dict(), reference.state_dict()
    assert list(exported_state) == list(reference_state)
    for name, value in reference_state.items():
        assert torch.equal(exported_state[name], value), name
    exported.eval()
    reference.eval()
    x = torch.randn(4, 6, 7)  # (B, T, F)
    with torch.no_grad():
        y1, state1 = exported(x)
        y2, state2 = reference(x)
        torch.testing.assert_close(y1, y2, rtol=0, atol=0)
        z1, _ = exported(x, state1)
        z2, _ = reference(x, state2)
        torch.testing.assert_close(z1, z2, rtol=0, atol=0)


@pytest.mark.parametrize("name", list(GENERATORS))
def test_embedded_generator_is_rnnlabs_own(tmp_path, name):
    config = RunConfig.from_flat({"data": name, "length": 300, "period": 24.0, "noise": 0.2, "seed": 5,
                                  "seq_len": 10})
    namespace = script_namespace(tmp_path, config)
    fn = GENERATORS[name].fn
    pd.testing.assert_frame_equal(namespace[fn.__name__](300, 24.0, 0.2, 5), fn(300, 24.0, 0.2, 5))


def test_export_of_an_upload_without_its_series_is_refused_with_a_sentence():
    with pytest.raises(ConfigError, match="pick a built-in series"):
        export_script(RunConfig.from_flat({"data": "upload"}))


def test_export_of_a_config_that_cannot_train_is_refused():
    with pytest.raises(DataError, match="shorter sequence length"):
        export_script(RunConfig.from_flat({"data": "nile", "seq_len": 30}))


def test_filename_names_the_preset_or_the_cell_and_series():
    assert export_filename(RunConfig.from_flat({"preset": "udacity-sine"})) == "rnnlab_udacity_sine.py"
    assert export_filename(RunConfig.from_flat({"cell": "gru", "data": "co2"})) == "rnnlab_gru_co2.py"


# --- weights ---------------------------------------------------------------------------------------

def small(**settings) -> RunConfig:
    return RunConfig.from_flat({"length": 300, "hidden": 8, "seq_len": 10, "steps": 5, **settings})


def test_weights_round_trip_gives_the_same_predictions():
    config = small(cell="lstm", layers=2)
    trainer = Trainer(config)
    list(trainer)
    data = weights_bytes(trainer.model)
    fresh = build_model(config, trainer.prepared.input_size)
    fresh.load_state_dict(load_weights(data, config, trainer.prepared.input_size))
    x = trainer.prepared.values[:40].unsqueeze(0)  # (1, 40, F)
    trainer.model.eval()
    fresh.eval()
    with torch.no_grad():
        assert torch.equal(fresh(x)[0], trainer.model(x)[0])


def test_loading_weights_leaves_the_global_random_generator_alone():
    config = small()
    data = weights_bytes(build_model(config, 1))
    before = torch.random.get_rng_state()
    load_weights(data, config, 1)
    assert torch.equal(torch.random.get_rng_state(), before)


def test_shape_mismatch_names_the_parameter_both_shapes_and_the_setting():
    data = weights_bytes(build_model(small(hidden=16), 1))
    with pytest.raises(DataError) as caught:
        load_weights(data, small(hidden=8), 1)
    message = str(caught.value)
    assert "'rnn.weight_ih_l0'" in message and "(64, 1)" in message and "(32, 1)" in message
    assert "hidden size 16 (this config: 8)" in message


@pytest.mark.parametrize(("saved", "loaded", "expected"), [
    ({"cell": "gru"}, {"cell": "lstm"}, "cell gru (this config: lstm)"),
    ({"layers": 2}, {"layers": 1}, "layers 2 (this config: 1)"),
    ({"bidirectional": True, "head": "last"}, {"head": "last"}, "bidirectional True (this config: False)"),
    ({"head": "last", "horizon": 4}, {}, "change head and horizon"),
])
def test_mismatch_suggests_the_differing_setting(saved, loaded, expected):
    data = weights_bytes(build_model(small(**saved), 1))
    with pytest.raises(DataError, match="do not fit this model") as caught:
        load_weights(data, small(**loaded), 1)
    assert expected in str(caught.value)


def test_input_feature_mismatch_points_at_the_covariates():
    data = weights_bytes(build_model(small(), 7))
    with pytest.raises(DataError, match="input features 7 \\(this config: 1\\).*Use covariates"):
        load_weights(data, small(), 1)


def saved(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def test_a_file_that_is_not_a_dict_is_refused():
    with pytest.raises(DataError, match="not a state_dict"):
        load_weights(saved([torch.zeros(3)]), small(), 1)


def test_a_dict_of_other_things_than_tensors_is_refused():
    state = dict(build_model(small(), 1).state_dict())
    with pytest.raises(DataError, match="not a named tensor"):
        load_weights(saved({"model": state, "step": 5}), small(), 1)


def test_weights_with_nan_are_refused():
    state = build_model(small(), 1).state_dict()
    state["head.bias"] = torch.full_like(state["head.bias"], float("nan"))
    with pytest.raises(DataError, match="NaN"):
        load_weights(saved(state), small(), 1)


def test_a_file_over_the_cap_is_refused_before_reading():
    data = weights_bytes(build_model(small(), 1))
    with pytest.raises(DataError, match="over the"):
        load_weights(data, small(), 1, max_bytes=len(data) - 1)


@pytest.mark.parametrize("data", [b"", b"garbage, not weights", bytes(range(256)) * 10],
                         ids=["empty", "text", "binary"])
def test_garbage_bytes_are_refused(data):
    with pytest.raises(DataError, match="not a weights file"):
        load_weights(data, small(), 1)


def test_a_truncated_weights_file_is_refused():
    data = weights_bytes(build_model(small(), 1))
    with pytest.raises(DataError, match="not a weights file"):
        load_weights(data[: len(data) // 2], small(), 1)


class CreatesAFile:
    """A pickle payload that, when unpickled, creates a file: what a malicious weights file would do."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


@pytest.mark.parametrize(("wrap", "reason"), [(saved, "more than tensors"), (pickle.dumps, "not a weights file")],
                         ids=["torch.save zip", "plain pickle"])
def test_a_pickle_that_would_run_code_is_refused_and_never_runs(tmp_path, wrap, reason):
    control, target = tmp_path / "control", tmp_path / "pwned"
    pickle.loads(pickle.dumps(CreatesAFile(control))).close()  # the payload is live: unpickling creates a file
    assert control.exists()
    with pytest.raises(DataError, match=reason):
        load_weights(wrap(CreatesAFile(target)), small(), 1)
    assert not target.exists()


def test_a_zip_that_unpacks_beyond_the_cap_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("archive/data/0", bytes(2_000_000))  # 2 MB of zeros, a few kB compressed
    data = buffer.getvalue()
    assert len(data) < 100_000
    with pytest.raises(DataError, match="unpacks to 2.0 MB"):
        load_weights(data, small(), 1, max_bytes=1_000_000)


# --- other downloads ---------------------------------------------------------------------------------

def test_config_json_reads_back_as_the_same_config():
    config = RunConfig.from_flat({"preset": "lstm-load", "hidden": 48})
    assert RunConfig.from_json(config_json(config)) == config


def test_history_csv_has_one_row_per_step_and_reads_back():
    history = History()
    for progress in Trainer(small(steps=12, eval_every=5)):
        history.append(progress)
    frame = history.to_frame()
    back = pd.read_csv(io.BytesIO(history_csv(frame)))
    assert list(back.columns) == list(frame.columns)
    pd.testing.assert_frame_equal(back, frame)
