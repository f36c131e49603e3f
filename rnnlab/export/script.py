"""Export a run as a standalone PyTorch script, and import weights safely; bytes for download buttons.

The script is assembled from the pieces in rnnlab/export/template.py (the loop, as plain PyTorch) and
from the core's own source (inspect.getsource): the series generators, and the split, scaling, windows,
validation and early-stopping rules of data.py and trainer.py, so each rule is written once.
"""

from __future__ import annotations

import ast
import inspect
import io
import math
import re
import sys
import textwrap
import types
import warnings
import zipfile
from collections.abc import Callable
from importlib import resources
from string import Template

import numpy as np
import pandas as pd
import torch
from torch import nn

from rnnlab.config import FIELD_BY_NAME, FIELDS, UPLOAD_NAME, RunConfig
from rnnlab.errors import ConfigError, DataError
from rnnlab.export import template as tpl
from rnnlab.export.names import export_filename
from rnnlab.learn import trainer as trainer_mod
from rnnlab.learn.models import CELLS, build_model, open_forget_gate
from rnnlab.learn.trainer import LOSSES, OPTIMIZERS
from rnnlab.series import data as data_mod
from rnnlab.series.datasets import DATASETS
from rnnlab.series.generators import GENERATORS

__all__ = ["export_script", "export_filename", "load_weights", "weights_bytes", "history_csv", "config_json"]

# An uploaded series embedded in a script beyond this many characters makes a script nobody opens.
MAX_EMBEDDED_CSV = 5_000_000

# The settings the script names as constants: rnnlab's field -> the script's name.
_CONSTANTS = {
    "seed": "SEED", "length": "LENGTH", "period": "PERIOD", "noise": "NOISE", "val": "VAL_FRACTION",
    "test": "TEST_FRACTION", "scale": "SCALING", "hidden": "HIDDEN_SIZE", "layers": "NUM_LAYERS",
    "bidirectional": "BIDIRECTIONAL", "dropout": "DROPOUT", "head": "HEAD", "horizon": "HORIZON",
    "forget_bias": "FORGET_BIAS", "seq_len": "SEQ_LEN", "batch": "BATCH_SIZE", "lr": "LR",
    "momentum": "MOMENTUM", "clip": "CLIP", "steps": "STEPS", "eval_every": "EVAL_EVERY", "patience": "PATIENCE",
}
# Modules the embedded generator source may use, by the names the script imports them as.
_SCRIPT_MODULES = {"np": np, "pd": pd, "math": math, "torch": torch, "nn": nn}
# The core's rules the script embeds, in the order they are defined.
_DATA_RULES = (data_mod.split_bounds, data_mod.fit_scaling, data_mod.cut_windows)
_TRAINER_RULES = (trainer_mod.spread_windows, trainer_mod.warm_sequence, trainer_mod.validation_loss,
                  trainer_mod.EarlyStopping)


# --- the script ---------------------------------------------------------------------------------

def export_script(config: RunConfig, frame: pd.DataFrame | None = None) -> str:
    """A standalone script (torch, numpy, pandas) that trains `config` and reproduces the app's loss curve.

    `frame` is the uploaded series, needed (and used) only when config.data.data is "upload".
    """
    d, m, t = config.data, config.model, config.train
    if d.data == UPLOAD_NAME and frame is None:
        raise ConfigError("The exported script needs its series, and this run uses an uploaded CSV that was not "
                          "given to the export; pick a built-in series (a generator or a bundled dataset), or "
                          "export while the upload is loaded.")
    series = data_mod.make_series(d, frame if d.data == UPLOAD_NAME else None)
    data_mod.prepare(config, series)  # a config that cannot train must fail here, not in the student's hands
    cell = CELLS[m.cell]
    lstm = cell.module is nn.LSTM
    opens_forget_gate = lstm and m.forget_bias != 0
    streaming = t.regime == "streaming"
    last = m.head == "last"
    # As the trainer does: a streaming seq2seq model is validated on one warm sequence, others on windows.
    sequence_validation = streaming and not last
    filename = export_filename(config)
    series_defs, load_series, data_blob, uses = _series_parts(config, series)
    inline = {
        "title": _title(config),
        "filename": filename,
        "steps": f"{t.steps:,}",
        "eval_every": str(t.eval_every),
        "preset_note": f' (preset "{config.preset}")' if config.preset else "",
        "query": "&".join(f"{key}={value}" for key, value in config.to_query().items()),
        "cell_name": _cell_name(m.cell),
        "cell_module": cell.module.__name__,
        "nonlinearity": f'\n            nonlinearity="{cell.nonlinearity}",' if cell.nonlinearity else "",
        "head_doc": ("(B, HORIZON), the HORIZON values after the window" if last
                     else "(B, T, 1), the next value predicted after every step"),
        "state_type": "tuple[torch.Tensor, torch.Tensor]" if lstm else "torch.Tensor",
        "state_doc": "an LSTM's state: (h, c), each (D*L, B, H)" if lstm else "the state h: (D*L, B, H)",
        "hidden_doc": "(h_n, c_n), each (D*L, B, H)" if lstm else "h_n (D*L, B, H)",
        "out_features": "HORIZON" if last else "1",
        "optimizer": _optimizer_call(config),
        "loss": _loss_name(config),
        "y_shape": "(B, HORIZON)" if last else "(B, T, 1)",
        "val_args": ", score_from" if sequence_validation else "",
    }
    if streaming:
        inline["y_shape"] = inline["y_shape"].replace("B", "1")
    blocks = {
        "settings_comment": _settings_comment(config),
        "imports": _imports(uses | ({"copy"} if t.patience else set())),
        "constants": _constants(config, uses),
        "series_defs": series_defs,
        "forward_body": tpl.LAST_FORWARD if last else tpl.SEQ2SEQ_FORWARD,
        "forget_gate_def": _embedded_source(open_forget_gate) if opens_forget_gate else "",
        "forget_gate_call": tpl.FORGET_GATE_CALL if opens_forget_gate else "",
        "data_defs": _embedded_source(*_DATA_RULES),
        "trainer_defs": _embedded_source(*_TRAINER_RULES),
        "val_data": tpl.VAL_SEQUENCE if sequence_validation else tpl.VAL_WINDOWS,
        "seeding": tpl.SEEDING[t.regime],
        "load_series": load_series,
        "train_windows": tpl.STREAMING_WINDOWS if streaming else tpl.WINDOWED_WINDOWS,
        "early_stopping_start": tpl.EARLY_STOPPING_START if t.patience else "",
        "loop_start": Template(tpl.STREAMING_LOOP if streaming else tpl.WINDOWED_LOOP).substitute(inline),
        "lr_change": tpl.LR_CHANGE if config.lr_schedule else "",
        "forward_call": tpl.STREAMING_FORWARD if streaming else tpl.WINDOWED_FORWARD,
        "clip": tpl.CLIP if t.clip > 0 else "",
        "detach": tpl.DETACH["tuple" if lstm else "tensor"] if streaming else "",
        "early_stopping_check": tpl.EARLY_STOPPING_CHECK if t.patience else "",
        "data_blob": data_blob,
    }
    text = Template(tpl.SCRIPT).substitute(inline)
    lines: list[str] = []
    for line in text.split("\n"):
        marker = line.strip()
        if marker.startswith("@@"):
            block = blocks[marker[2:]]
            indent = line[: len(line) - len(line.lstrip())]
            lines.extend(indent + row if row else row for row in block.split("\n") if block)
        else:
            lines.append(line)
    return re.sub(r"\n{4,}", "\n\n\n", "\n".join(lines))


def _title(config: RunConfig) -> str:
    m = config.model
    direction = "bidirectional " if m.bidirectional else ""
    shape = f"{m.layers}-layer {direction}{_cell_name(m.cell)}, hidden size {m.hidden},"
    what = f"the {m.horizon} values after each window" if m.head == "last" and m.horizon > 1 else "the next value"
    series = "uploaded" if config.data.data == UPLOAD_NAME else config.data.data
    return f"Train a {shape} to predict {what} of the {series} series."


def _cell_name(name: str) -> str:
    cell = CELLS[name]
    return f"{cell.module.__name__} ({cell.nonlinearity})" if cell.nonlinearity else cell.module.__name__


def _settings_comment(config: RunConfig) -> str:
    lines = []
    for section in ("data", "model", "train"):
        pairs = " ".join(f"{f.name}={config.get(f.name)}" for f in FIELDS if f.section == section)
        lines += textwrap.wrap(pairs, 96, initial_indent=f"#   {section + ':':<7}", subsequent_indent="#" + " " * 10)
    if config.lr_schedule:
        changes = ", ".join(f"step {step}: lr={lr}" for step, lr in config.lr_schedule)
        lines += textwrap.wrap(f"changed while training: {changes}", 96, initial_indent="#   ",
                               subsequent_indent="#" + " " * 10)
    return "\n".join(lines)


def _imports(uses: set[str]) -> str:
    stdlib = sorted({"argparse", "math"} | (uses & {"copy", "io"}))
    return "\n".join([*(f"import {name}" for name in stdlib), "",
                      "import numpy as np", "import pandas as pd", "import torch", "from torch import nn"])


def _constants(config: RunConfig, uses: set[str]) -> str:
    d, t = config.data, config.train
    needed = {"seed", "val", "test", "scale", "hidden", "layers", "bidirectional", "dropout", "head", "horizon",
              "seq_len", "lr", "steps", "eval_every"}
    needed |= {"length", "period", "noise"} if d.data in GENERATORS else set()
    needed |= {"noise"} if "noise" in uses else set()
    needed |= {"batch"} if t.regime == "windowed" else set()
    needed |= {"momentum"} if "MOMENTUM" in _optimizer_call(config) else set()
    needed |= {"clip"} if t.clip > 0 else set()
    needed |= {"patience"} if t.patience else set()
    needed |= {"forget_bias"} if config.model.cell == "lstm" and config.model.forget_bias else set()
    lines = []
    for name, constant in _CONSTANTS.items():
        if name in needed:
            line = f"{constant} = {config.get(name)!r}"
            comment = f"# {name}: {FIELD_BY_NAME[name].help}"
            lines += [line + "  " + comment] if len(line) + len(comment) < 118 else [comment, line]
    if config.lr_schedule:
        lines += ["# The learning rate from these steps on, as it was changed while the rnnlab run trained.",
                  f"LR_SCHEDULE = {dict(config.lr_schedule)!r}"]
    return "\n".join(lines)


def _optimizer_call(config: RunConfig) -> str:
    """torch.optim.X(model.parameters(), ...) with the options rnnlab's registry sets, read from it."""
    probe = [torch.zeros(1, requires_grad=True)]
    optimizer = OPTIMIZERS[config.train.optimizer](probe, config)
    kind = type(optimizer)
    if getattr(torch.optim, kind.__name__, None) is not kind:
        raise ValueError(f"{kind} is not a torch.optim class the script can name")
    plain = kind(probe, lr=config.train.lr).defaults
    names = {"lr": "LR", "momentum": "MOMENTUM"}
    options = [f"{key}={names.get(key, repr(value))}" for key, value in optimizer.defaults.items()
               if key == "lr" or value != plain.get(key)]
    return f"torch.optim.{kind.__name__}(model.parameters(), {', '.join(options)})"


def _loss_name(config: RunConfig) -> str:
    kind = LOSSES[config.train.loss]
    if getattr(nn, kind.__name__, None) is not kind:
        raise ValueError(f"{kind} is not a torch.nn class the script can name")
    return kind.__name__


def _series_parts(config: RunConfig, series: pd.DataFrame) -> tuple[str, str, str, set[str]]:
    """(definitions at module level, the lines in main that load the series, the data at the end, uses)."""
    d = config.data
    select = "" if d.covariates else "\n" + tpl.NO_COVARIATES
    if d.data in GENERATORS:
        fn = GENERATORS[d.data].fn
        intro = Template(tpl.GENERATOR_INTRO).substitute(name=fn.__name__)
        call = Template(tpl.GENERATOR_CALL).substitute(function=fn.__name__)
        return f"{intro}\n\n{_embedded_source(fn)}", call + select, "", set()
    if d.data in DATASETS:
        spec = DATASETS[d.data]
        constant = f"{re.sub(r'[^A-Z0-9]+', '_', d.data.upper())}_CSV"
        text = resources.files("rnnlab.series.datasets").joinpath(spec.filename).read_text(encoding="utf-8")
        source = "\n#   ".join(textwrap.wrap(spec.source, 96))
        intro = Template(tpl.DATASET_INTRO).substitute(title=spec.title, source=source)
        call = Template(tpl.DATASET_CALL).substitute(constant=constant)
        noisy = d.noise > 0
        call += "\n" + tpl.DATASET_NOISE if noisy else ""
        defs = f"{intro}\n\n\n{_embedded_source(data_mod.add_noise)}" if noisy else intro
        blob = f"# {spec.title}, as bundled with rnnlab ({spec.filename}).\n{constant} = {_text_literal(text)}\n"
        return defs, call + select, blob, {"io"} | ({"noise"} if noisy else set())
    text = series.astype("float64").to_csv(lineterminator="\n")  # floats as repr, which float() reads back exactly
    if len(text) > MAX_EMBEDDED_CSV:
        raise DataError(f"The uploaded series is {len(text) / 1e6:.1f} MB as CSV, too large to embed in a script "
                        f"(the limit is {MAX_EMBEDDED_CSV / 1e6:g} MB); upload fewer rows or columns to export it.")
    blob = f"# The uploaded series, as rnnlab trained on it.\nSERIES_CSV = {_text_literal(text)}\n"
    return tpl.UPLOAD_INTRO, tpl.UPLOAD_CALL, blob, {"io"}


def _text_literal(text: str) -> str:
    """A Python literal for `text`: a plain triple-quoted block when that is safe, else one repr per line."""
    plain = ("\\" not in text and '"""' not in text and not text.endswith('"')
             and all(line.isprintable() for line in text.split("\n")))
    if plain:
        return f'"""\\\n{text}"""'
    rows = "\n".join(f"    {line!r}" for line in text.splitlines(keepends=True))
    return f"(\n{rows}\n)"


def _embedded_source(*objects: Callable) -> str:
    """The source of `objects` (functions or classes of one module) and of the module-level functions,
    classes and constants they use, in their module's order."""
    module = sys.modules[objects[0].__module__]
    module_source = inspect.getsource(module)
    lines = module_source.split("\n")
    defined: dict[str, ast.stmt] = {}
    for node in ast.parse(module_source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined[node.name] = node
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        defined[name.id] = node
    wanted: dict[int, ast.stmt] = {}
    todo = [obj.__name__ for obj in objects]
    while todo:
        node = defined[todo.pop()]
        if node.lineno in wanted:
            continue
        wanted[node.lineno] = node
        what = getattr(node, "name", "a constant")
        for name in sorted(_global_names(node, module)):
            value = module.__dict__.get(name)
            if name in defined:
                todo.append(name)
            elif isinstance(value, types.ModuleType):
                if _SCRIPT_MODULES.get(name) is not value:
                    raise ValueError(f"{what} uses module {name}, which the exported script does not import")
            elif name in module.__dict__:
                raise ValueError(f"{what} uses {name}, which cannot be embedded in the exported script")
    parts = []
    for start, node in sorted(wanted.items()):
        first = start - 1 - len(getattr(node, "decorator_list", []))
        while first > 0 and lines[first - 1].startswith("#"):  # the comment block just above belongs to it
            first -= 1
        parts.append("\n".join(lines[first:node.end_lineno]))
    return "\n\n\n".join(parts)


def _global_names(node: ast.stmt, module: types.ModuleType) -> set[str]:
    """Module-level names a statement reads: names in its text that its code looks up as globals."""
    read = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        code_names: set[str] = set()
        stack = _code_of(module.__dict__[node.name])
        while stack:
            code = stack.pop()
            code_names |= set(code.co_names)
            stack += [c for c in code.co_consts if isinstance(c, types.CodeType)]
        read &= code_names
    return read & set(module.__dict__)


def _code_of(obj: object) -> list[types.CodeType]:
    """The code objects of a function, or of a class's methods and properties."""
    if isinstance(obj, types.FunctionType):
        return [obj.__code__]
    members = [m.fget if isinstance(m, property) else m for m in vars(obj).values()]
    return [m.__code__ for m in members if isinstance(m, types.FunctionType)]


# --- weights in and out ----------------------------------------------------------------------------

def weights_bytes(model: nn.Module) -> bytes:
    """The model's state_dict as torch.save writes it (a weights.pt file)."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getvalue()


def load_weights(data: bytes, config: RunConfig, input_size: int,
                 max_bytes: int = 50_000_000) -> dict[str, torch.Tensor]:
    """A state_dict for build_model(config, input_size) from a weights file; DataError if unsafe or unfit.

    Only tensors and plain containers are unpickled (weights_only=True): a file that would run code is refused.
    """
    if len(data) > max_bytes:
        raise DataError(f"The weights file is {len(data) / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB limit; "
                        "import the weights.pt rnnlab or its exported script saved.")
    try:  # torch.save writes a zip archive; its directory says how much it unpacks to, before anything is read
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise DataError("This file is not a weights file (torch.save writes a zip archive); import a weights.pt "
                        "saved by rnnlab or by its exported script.") from None
    if unpacked > max_bytes:
        raise DataError(f"The weights file unpacks to {unpacked / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB "
                        "limit; import the weights.pt rnnlab or its exported script saved.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            state = torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    except Exception as exc:  # torch.load raises many kinds (UnpicklingError, RuntimeError, EOFError...)
        reason = "it holds more than tensors" if "Weights only load failed" in str(exc) else "it cannot be read"
        raise DataError(f"This file cannot be imported as weights ({reason}); import a weights.pt saved by rnnlab "
                        "or by its exported script (torch.save of a state_dict).") from None
    if not isinstance(state, dict):
        raise DataError(f"The file holds a {type(state).__name__}, not a state_dict (a dict of parameter names to "
                        "tensors); import a weights.pt saved by rnnlab or by its exported script.")
    for name, value in state.items():
        if not isinstance(name, str) or not isinstance(value, torch.Tensor):
            raise DataError(f"The file's entry {str(name)[:40]!r} is a {type(value).__name__}, not a named tensor; "
                            "import a plain state_dict (weights.pt), not a checkpoint of other objects.")
        if value.layout != torch.strided or not value.is_floating_point():
            raise DataError(f"Parameter {name!r} in the file is not a dense floating-point tensor ({value.dtype}); "
                            "import a weights.pt saved by rnnlab.")
    expected = _expected_shapes(config, input_size)
    problem = _first_mismatch({name: tuple(value.shape) for name, value in state.items()}, expected)
    if problem:
        hint = _config_hint({k: tuple(v.shape) for k, v in state.items()}, expected)
        raise DataError(f"These weights do not fit this model: {problem}. {hint}")
    for name, value in state.items():
        if not torch.isfinite(value).all():
            raise DataError(f"Parameter {name!r} in the file holds NaN or infinite values (the run probably "
                            "diverged); import weights from a run that finished.")
    return {name: state[name] for name in expected}


def _expected_shapes(config: RunConfig, input_size: int) -> dict[str, tuple[int, ...]]:
    # On the meta device: no memory, no initialisation, and the global random generator is left alone.
    with torch.device("meta"):
        model = build_model(config, input_size)
    return {name: tuple(value.shape) for name, value in model.state_dict().items()}


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ")"


def _first_mismatch(found: dict[str, tuple[int, ...]], expected: dict[str, tuple[int, ...]]) -> str:
    for name, shape in expected.items():
        if name not in found:
            return f"the file has no parameter {name!r} (shape {_shape(shape)} in this model)"
        if found[name] != shape:
            return f"parameter {name!r} has shape {_shape(found[name])} in the file but {_shape(shape)} in this model"
    for name, shape in found.items():
        if name not in expected:
            return f"the file has a parameter {name!r} (shape {_shape(shape)}) that this model does not have"
    return ""


def _architecture(shapes: dict[str, tuple[int, ...]]) -> dict[str, object]:
    """What a state_dict's shapes say about the model that saved it (torch's nn.RNN/LSTM/GRU naming)."""
    found: dict[str, object] = {}
    hh, ih, head = shapes.get("rnn.weight_hh_l0"), shapes.get("rnn.weight_ih_l0"), shapes.get("head.weight")
    if hh and len(hh) == 2 and hh[1] > 0:
        found["hidden size"] = hh[1]
        gates = hh[0] // hh[1]
        found["cell"] = {1: "rnn or rnn_relu", 3: "gru", 4: "lstm"}.get(gates, f"{gates} gates")
    if ih and len(ih) == 2:
        found["input features"] = ih[1]
    layers = [int(match.group(1)) for name in shapes if (match := re.fullmatch(r"rnn\.weight_ih_l(\d+)", name))]
    if layers:
        found["layers"] = max(layers) + 1
    found["bidirectional"] = any(name.endswith("_reverse") for name in shapes)
    if head and len(head) == 2:
        found["outputs of the head"] = head[0]
    return found


_REMEDY = {
    "cell": "cell", "hidden size": "hidden size", "layers": "layers", "bidirectional": "bidirectional",
    "input features": "the series or Use covariates", "outputs of the head": "head and horizon",
}


def _config_hint(found: dict[str, tuple[int, ...]], expected: dict[str, tuple[int, ...]]) -> str:
    theirs, ours = _architecture(found), _architecture(expected)
    differences = [(key, theirs[key], ours[key]) for key in _REMEDY
                   if key in theirs and key in ours and theirs[key] != ours[key]]
    if not differences:
        return ("Check that cell, hidden size, layers, bidirectional, head, horizon and the input features "
                "match the run that saved them.")
    said = "; ".join(f"{key} {theirs_value} (this config: {ours_value})" for key, theirs_value, ours_value
                     in differences)
    change = ", ".join(dict.fromkeys(_REMEDY[key] for key, _, _ in differences))
    return f"They look like they come from a run with {said}: change {change} to match, or load that run's config."


# --- other downloads --------------------------------------------------------------------------------

def history_csv(frame: pd.DataFrame) -> bytes:
    """A run's history (History.to_frame()) as CSV bytes, one row per step."""
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def config_json(config: RunConfig) -> bytes:
    """The run's settings as JSON bytes, which RunConfig.from_json (and the CLI's --config) read back."""
    return (config.to_json() + "\n").encode("utf-8")
