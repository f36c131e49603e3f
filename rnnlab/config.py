"""Run settings: one table of fields, frozen dataclasses built from it, and the
URL / command-line / JSON round-trips derived from that same table."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rnnlab import presets
from rnnlab.errors import ConfigError
from rnnlab.series.datasets import DATASETS
from rnnlab.series.generators import GENERATORS

__all__ = [
    "ConfigError",
    "Field",
    "FIELDS",
    "DataConfig",
    "ModelConfig",
    "TrainConfig",
    "RunConfig",
    "MAX_ACTIVATIONS_PER_STEP",
]

# One student's step may hold at most this many recurrent activations
# (batch * seq_len * directions * hidden * layers): beyond it a shared server
# slows everyone down long before it runs out of memory.
MAX_ACTIVATIONS_PER_STEP = 4_000_000

# Combinations that would let a forecast see the value it predicts, refused with a reason (issue 15).
BIDIRECTIONAL_SEQ2SEQ = (
    "A bidirectional network with a prediction at every step (head=seq2seq) sees step t+1 while predicting it: "
    "its backward half has already read the rest of the window. Use the last-step head (head=last, "
    "many-to-one), or turn bidirectional off."
)
BIDIRECTIONAL_STREAMING = (
    "A bidirectional network cannot carry its state from one window to the next (regime=streaming): the "
    "backward half ends each window at its first step, so its state says nothing about where the next window "
    "starts. Use regime=windowed, or turn bidirectional off."
)

# "upload" stands for a CSV the user uploaded in this session; a link cannot carry it.
UPLOAD_NAME = "upload"
SERIES_NAMES: tuple[str, ...] = tuple(GENERATORS) + tuple(DATASETS)


@dataclass(frozen=True)
class Field:
    """One setting: its name everywhere (URL key, CLI flag, JSON key), type and range."""

    name: str
    section: str  # "data" | "model" | "train"
    kind: type  # int | float | bool | str
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    label: str = ""

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def parse(self, raw: Any) -> Any:
        """Turn a raw value (string from a URL or CLI, or a JSON value) into a checked value."""
        value = _coerce(self, raw)
        self.check(value)
        return value

    def check(self, value: Any) -> None:
        if self.choices and value not in self.choices:
            raise ConfigError(
                f"{self.name} must be one of {', '.join(self.choices)} (got {value!r})."
            )
        if self.kind in (int, float):
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"{self.name} must be a finite number (got {value}).")
            if self.low is not None and value < self.low or self.high is not None and value > self.high:
                raise ConfigError(
                    f"{self.name} must be between {_fmt(self.low)} and {_fmt(self.high)} (got {_fmt(value)})."
                )


def _fmt(x: Any) -> str:
    if isinstance(x, float) and (abs(x) >= 1e5 or 0 < abs(x) < 1e-3):
        return f"{x:g}"
    if isinstance(x, float) and x.is_integer():
        return str(int(x)) if abs(x) >= 1 else str(x)
    return f"{x:,}" if isinstance(x, int) and not isinstance(x, bool) else str(x)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _coerce(f: Field, raw: Any) -> Any:
    if isinstance(raw, (list, tuple)):
        if not raw:
            raise ConfigError(f"{f.name} was given no value.")
        raw = raw[-1]  # a repeated URL key: the last one wins, as in most web frameworks
    if isinstance(raw, str):
        raw = raw.strip()
        if raw == "":
            raise ConfigError(f"{f.name} was given an empty value.")
        if len(raw) > 100:
            raise ConfigError(f"{f.name} is far too long ({len(raw)} characters).")
    try:
        if f.kind is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError
        if f.kind is int:
            if isinstance(raw, bool):
                raise ValueError
            number = float(raw) if isinstance(raw, str) else raw
            if isinstance(number, float):
                if not number.is_integer():
                    raise ValueError
                number = int(number)
            return int(number)
        if f.kind is float:
            if isinstance(raw, bool):
                raise ValueError
            return float(raw)
        return str(raw).lower()
    except (ValueError, TypeError, OverflowError):
        kind = {bool: "0/1 or true/false", int: "a whole number", float: "a number"}.get(f.kind, "text")
        raise ConfigError(f"{f.name} must be {kind} (got {str(raw)[:40]!r}).") from None


# The one table. Order is the order of the sidebar and of the URL.
FIELDS: tuple[Field, ...] = (
    # data
    Field("data", "data", str, "sine", "The series to learn: a generator or a bundled dataset.",
          choices=SERIES_NAMES + (UPLOAD_NAME,), label="Series"),
    Field("length", "data", int, 1000, "Number of points generated (generators only).", 50, 100_000,
          label="Length (points)"),
    Field("period", "data", float, 40.0, "Samples per cycle: the series' characteristic time scale.", 4, 1000,
          label="Period (samples)"),
    Field("noise", "data", float, 0.0, "Standard deviation of Gaussian noise added to the target.", 0, 2),
    Field("seed", "data", int, 0, "Random seed for data, initial weights and shuffling.", 0, 2**31 - 1),
    Field("covariates", "data", bool, True, "Feed the covariate columns as extra input features.",
          label="Use covariates"),
    Field("scale", "data", str, "standard", "How inputs are scaled; fitted on the training part only.",
          choices=("none", "standard", "minmax"), label="Scaling"),
    Field("val", "data", float, 0.15, "Fraction of the series held out for validation (chronological).", 0.05, 0.45,
          label="Validation fraction"),
    Field("test", "data", float, 0.15, "Fraction held out at the end for testing.", 0.05, 0.45,
          label="Test fraction"),
    # model
    Field("cell", "model", str, "lstm", "Recurrent cell: plain RNN (tanh or ReLU), LSTM or GRU.",
          choices=("rnn", "rnn_relu", "lstm", "gru"), label="Cell"),
    Field("hidden", "model", int, 32, "Hidden units per layer and direction (hidden_size).", 1, 512,
          label="Hidden size"),
    Field("layers", "model", int, 1, "Stacked recurrent layers (num_layers).", 1, 4, label="Layers"),
    Field("bidirectional", "model", bool, False, "Read each window forwards and backwards.",
          label="Bidirectional"),
    Field("dropout", "model", float, 0.0, "Dropout between stacked layers (needs 2+ layers).", 0, 0.9,
          label="Dropout"),
    Field("head", "model", str, "seq2seq", "seq2seq: a prediction at every step; last: only from the last step.",
          choices=("seq2seq", "last"), label="Head"),
    Field("horizon", "model", int, 1, "How many future points the last-step head predicts.", 1, 100,
          label="Horizon"),
    Field("forget_bias", "model", float, 0.0,
          "LSTM only: added to the forget gate's bias at initialisation (the f chunk of bias_ih); 1 opens the "
          "gate so the cell remembers from the start (Jozefowicz et al. 2015), 0 keeps PyTorch's.", -5, 5,
          label="Forget-gate bias"),
    # training
    Field("regime", "train", str, "windowed",
          "streaming: consecutive windows, batch 1, hidden state carried (the classic notebook); "
          "windowed: shuffled mini-batches, fresh state each batch.",
          choices=("streaming", "windowed"), label="Regime"),
    Field("seq_len", "train", int, 20, "Time steps per window.", 2, 1000, label="Sequence length"),
    Field("batch", "train", int, 16, "Windows per batch (windowed regime).", 1, 1024, label="Batch size"),
    Field("optimizer", "train", str, "adam", "The optimiser.", choices=("adam", "sgd", "rmsprop"),
          label="Optimiser"),
    Field("lr", "train", float, 0.01, "Learning rate; can be changed while training.", 1e-6, 10,
          label="Learning rate"),
    Field("momentum", "train", float, 0.9, "Momentum for SGD and RMSprop.", 0, 0.999, label="Momentum"),
    Field("loss", "train", str, "mse", "Loss: mean squared error, mean absolute error or Huber.",
          choices=("mse", "mae", "huber"), label="Loss"),
    Field("clip", "train", float, 0.0, "Clip the gradient norm to this value (0 = off).", 0, 100,
          label="Gradient clipping"),
    Field("steps", "train", int, 2000, "Optimisation steps in the run.", 1, 10_000_000, label="Steps"),
    Field("eval_every", "train", int, 25, "Compute the validation loss every this many steps.", 1, 100_000,
          label="Validate every"),
    Field("patience", "train", int, 0,
          "Stop early after this many validations without improvement (0 = never).", 0, 10_000,
          label="Early-stopping patience"),
)

FIELD_BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
# The settings some series brings with it (rnnlab.series: GeneratorSpec / DatasetSpec.settings), in table order.
SERIES_SETTING_NAMES: tuple[str, ...] = tuple(
    f.name for f in FIELDS if any(f.name in spec.settings for spec in (*GENERATORS.values(), *DATASETS.values()))
)


def _default(name: str) -> Any:
    """A setting's default, read from the table so the dataclasses below cannot drift from it
    (tests/test_config.py checks that their fields are the table's, in order, with its types)."""
    return FIELD_BY_NAME[name].default


@dataclass(frozen=True)
class DataConfig:
    """Which series, how it is generated, scaled and split."""

    data: str = _default("data")
    length: int = _default("length")
    period: float = _default("period")
    noise: float = _default("noise")
    seed: int = _default("seed")
    covariates: bool = _default("covariates")
    scale: str = _default("scale")
    val: float = _default("val")
    test: float = _default("test")


@dataclass(frozen=True)
class ModelConfig:
    """The recurrent network: cell, size and head."""

    cell: str = _default("cell")
    hidden: int = _default("hidden")
    layers: int = _default("layers")
    bidirectional: bool = _default("bidirectional")
    dropout: float = _default("dropout")
    head: str = _default("head")
    horizon: int = _default("horizon")
    forget_bias: float = _default("forget_bias")


@dataclass(frozen=True)
class TrainConfig:
    """How the network is trained."""

    regime: str = _default("regime")
    seq_len: int = _default("seq_len")
    batch: int = _default("batch")
    optimizer: str = _default("optimizer")
    lr: float = _default("lr")
    momentum: float = _default("momentum")
    loss: str = _default("loss")
    clip: float = _default("clip")
    steps: int = _default("steps")
    eval_every: int = _default("eval_every")
    patience: int = _default("patience")

_SECTIONS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}


@dataclass(frozen=True)
class RunConfig:
    """A whole run: data, model and training settings, plus the preset it started from."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    preset: str = ""
    # Learning-rate changes made while the run trained, ((step, lr), ...): from that step on, that rate.
    # The trainer replays them, so an exported config (and script) reproduces a run whose rate was changed live.
    lr_schedule: tuple[tuple[int, float], ...] = ()

    def __post_init__(self) -> None:
        self.validate()

    # --- validation -----------------------------------------------------
    def validate(self) -> None:
        """Check every field and the rules that tie fields together."""
        for f in FIELDS:
            f.check(self.get(f.name))
        m, t = self.model, self.train
        if m.head == "seq2seq" and m.horizon != 1:
            raise ConfigError("horizon above 1 needs head=last: a seq2seq head predicts one step ahead at each step.")
        if m.bidirectional and m.head == "seq2seq":
            raise ConfigError(BIDIRECTIONAL_SEQ2SEQ)
        if m.bidirectional and t.regime == "streaming":
            raise ConfigError(BIDIRECTIONAL_STREAMING)
        directions = 2 if m.bidirectional else 1
        batch = 1 if t.regime == "streaming" else t.batch
        activations = batch * t.seq_len * directions * m.hidden * m.layers
        if activations > MAX_ACTIVATIONS_PER_STEP:
            raise ConfigError(
                f"This run holds {activations:,} activations per step (batch x seq_len x directions x hidden x "
                f"layers); one run on this shared server may hold {MAX_ACTIVATIONS_PER_STEP:,}. "
                "Reduce batch, seq_len, hidden or layers."
            )
        if self.preset and self.preset not in presets.PRESETS:
            raise ConfigError(f"preset must be one of {', '.join(presets.PRESETS)} (got {self.preset!r}).")
        steps = [step for step, _ in self.lr_schedule]
        if steps != sorted(set(steps)) or (steps and steps[0] < 1):
            raise ConfigError("lr_schedule must list (step, lr) changes at increasing steps from 1 on.")
        for _, lr in self.lr_schedule:
            FIELD_BY_NAME["lr"].check(lr)

    # --- access -----------------------------------------------------------
    def get(self, name: str) -> Any:
        """The value of a setting by its one name."""
        return getattr(getattr(self, FIELD_BY_NAME[name].section), name)

    @property
    def directions(self) -> int:
        return 2 if self.model.bidirectional else 1

    @property
    def effective_batch(self) -> int:
        """Streaming always feeds one window at a time, whatever `batch` says."""
        return 1 if self.train.regime == "streaming" else self.train.batch

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with some settings changed, by their flat names (values already typed)."""
        flat = self.to_flat()
        flat.update(changes)
        return RunConfig.from_flat(flat, use_preset=False)

    # --- round trips ------------------------------------------------------
    def to_flat(self) -> dict[str, Any]:
        """{name: typed value} for every setting, plus the preset name if any."""
        flat: dict[str, Any] = {"preset": self.preset} if self.preset else {}
        flat.update({f.name: self.get(f.name) for f in FIELDS})
        if self.lr_schedule:
            flat["lr_schedule"] = [list(change) for change in self.lr_schedule]
        return flat

    def to_query(self, only_changes: bool = True) -> dict[str, str]:
        """A flat dict of strings for a URL; by default only what differs from the preset (or defaults)."""
        # What a link naming only the preset and this series would give; the series itself is written
        # unless the preset (or the default) already names it.
        base = _merged(self.preset, {"data": self.data.data})
        base["data"] = _merged(self.preset, {})["data"]
        query = {"preset": self.preset} if self.preset else {}
        for f in FIELDS:
            value = self.get(f.name)
            if not only_changes or value != base[f.name]:
                query[f.name] = _to_text(value)
        return query

    def to_json(self) -> str:
        return json.dumps(self.to_flat(), indent=2)

    @classmethod
    def from_json(cls, text: str | bytes) -> RunConfig:
        return cls.from_flat(json_settings(text))

    @classmethod
    def from_flat(cls, values: Mapping[str, Any], use_preset: bool = True) -> RunConfig:
        """Strict: build from {name: value}, merged over the preset and the series' settings (see _merged).

        use_preset=False keeps the preset only as a label (for values that already hold all settings)."""
        unknown = sorted(set(values) - set(FIELD_BY_NAME) - {"preset", "lr_schedule"})
        if unknown:
            raise ConfigError(f"Unknown setting {unknown[0]!r}; known settings: {', '.join(FIELD_BY_NAME)}.")
        preset = _preset_name(values.get("preset", ""))
        explicit = {name: FIELD_BY_NAME[name].parse(raw) for name, raw in values.items() if name in FIELD_BY_NAME}
        merged = _merged(preset if use_preset else "", explicit)
        return cls._build(merged, preset, _lr_schedule(values.get("lr_schedule", ())))

    @classmethod
    def from_query(cls, params: Mapping[str, Any]) -> tuple[RunConfig, list[str]]:
        """Lenient, for links: bad or unknown values become warnings and fall back to the preset or default."""
        warnings: list[str] = []
        preset = ""
        if "preset" in params:
            try:
                preset = _preset_name(params["preset"])
            except ConfigError as exc:
                warnings.append(str(exc))
        explicit: dict[str, Any] = {}
        refused: list[tuple[str, str]] = []  # (sentence, setting whose fallback value to name, or "")
        for name, raw in params.items():
            if name == "preset":
                continue
            f = FIELD_BY_NAME.get(name)
            if f is None:
                refused.append((f"Ignored unknown setting {str(name)[:40]!r}.", ""))
                continue
            try:
                explicit[name] = f.parse(raw)
            except ConfigError as exc:
                refused.append((str(exc), name))
        merged = _merged(preset, explicit)
        warnings += [f"{text} Using {_to_text(merged[name])}." if name else text for text, name in refused]
        try:
            return cls._build(merged, preset), warnings
        except ConfigError as exc:
            # Individually valid values that clash: fall back to the preset alone.
            warnings.append(f"{exc} The link's settings were reset to {'the preset' if preset else 'the defaults'}.")
            return cls._build(_merged(preset, {}), preset), warnings

    @classmethod
    def _build(cls, merged: Mapping[str, Any], preset: str,
               lr_schedule: tuple[tuple[int, float], ...] = ()) -> RunConfig:
        parts = {
            section: kind(**{f.name: merged[f.name] for f in FIELDS if f.section == section})
            for section, kind in _SECTIONS.items()
        }
        return cls(preset=preset, lr_schedule=lr_schedule, **parts)


def json_settings(text: str | bytes) -> dict[str, Any]:
    """The {name: value} object of a JSON config file, unchecked (from_flat checks it)."""
    try:
        raw = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"The config file is not valid JSON ({exc}).") from None
    if not isinstance(raw, dict):
        raise ConfigError("The config file must hold a JSON object of settings.")
    return raw


def series_settings(name: str, preset: str = "") -> dict[str, Any]:
    """The settings choosing series `name` brings, for every setting some series sets (period, length,
    seq_len): the preset's value if it sets one, else this series' own, else the table's default. The
    sidebar applies them when a series is picked, so it agrees with a link or a command line naming it."""
    if preset:
        return {key: value for key, value in _merged(preset, {"data": name}).items() if key in SERIES_SETTING_NAMES}
    own = getattr(GENERATORS.get(name) or DATASETS.get(name), "settings", {})
    return {key: own.get(key, FIELD_BY_NAME[key].default) for key in SERIES_SETTING_NAMES}


def has_covariates(name: str) -> bool:
    """Whether series `name` has columns besides its target (an upload may: it depends on the file)."""
    spec = GENERATORS.get(name) or DATASETS.get(name)
    return bool(spec.covariates) if spec is not None else name == UPLOAD_NAME


def _merged(preset: str, explicit: Mapping[str, Any]) -> dict[str, Any]:
    """Every setting, the one merge: the table's defaults, then the chosen series' settings, then the
    preset's (which count as explicit), then the explicit values (already parsed)."""
    chosen = presets.PRESETS[preset].settings if preset else {}
    merged: dict[str, Any] = {f.name: f.default for f in FIELDS}
    merged.update(series_settings(explicit.get("data", chosen.get("data", merged["data"]))))
    merged.update(chosen)
    merged.update(explicit)
    return merged


def _preset_name(raw: Any) -> str:
    if isinstance(raw, (list, tuple)):
        raw = raw[-1] if raw else ""
    name = str(raw).strip().lower()
    if name and name not in presets.PRESETS:
        raise ConfigError(f"preset must be one of {', '.join(presets.PRESETS)} (got {name[:40]!r}).")
    return name


def _lr_schedule(raw: Any) -> tuple[tuple[int, float], ...]:
    """((step, lr), ...) from a JSON list of [step, lr] pairs; RunConfig.validate checks the values."""
    if not isinstance(raw, (list, tuple)) or not all(isinstance(c, (list, tuple)) and len(c) == 2 for c in raw):
        raise ConfigError("lr_schedule must be a list of [step, lr] pairs, e.g. [[500, 0.001]].")
    lr = FIELD_BY_NAME["lr"]
    return tuple((_coerce(FIELD_BY_NAME["steps"], step), _coerce(lr, value)) for step, value in raw)


def _to_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value)) if abs(value) < 1e15 else repr(value)
    return str(value)
