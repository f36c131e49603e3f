"""What a sweep varies: `--param` texts (`lr=1e-4:1e-1:log`, `hidden=8:64:int`, `cell=rnn,lstm,gru`)
parsed against the settings table into Optuna distributions, with a sentence for every mistake."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from rnnlab.config import FIELD_BY_NAME, Field, RunConfig
from rnnlab.errors import ConfigError

MAX_TRIALS = 200  # per sweep: a class sharing one server must not be buried under one student's study

# Settings whose change would change what the loss measures (the series, its split or scaling, the loss
# itself, the task) or the sweep's own budget: trials that differ in them cannot be ranked by their loss.
NOT_SWEPT: dict[str, str] = {
    "data": "it changes the series, so the trials' losses would not be comparable",
    "length": "it changes the series, so the trials' losses would not be comparable",
    "period": "it changes the series, so the trials' losses would not be comparable",
    "noise": "it changes the series, so the trials' losses would not be comparable",
    "scale": "it changes the units of the loss, so the trials would not be comparable",
    "val": "it changes the validation data, so the trials' losses would not be comparable",
    "test": "it changes the split, so the trials' losses would not be comparable",
    "loss": "it changes what the loss measures, so the trials would not be comparable",
    "horizon": "it changes the task, so the trials' losses would not be comparable",
    "steps": "it is the sweep's budget per trial: set it with --steps",
    "eval_every": "it sets when trials are judged: set it as a fixed setting",
}
SWEEPABLE: tuple[str, ...] = tuple(name for name in FIELD_BY_NAME if name not in NOT_SWEPT)


@dataclass(frozen=True)
class Param:
    """One swept setting: a range (uniform, log or whole numbers) or a list of choices."""

    name: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False
    choices: tuple = ()

    @property
    def distribution(self) -> BaseDistribution:
        if self.choices:
            return CategoricalDistribution(self.choices)
        if self.integer:
            return IntDistribution(int(self.low), int(self.high), log=self.log)
        return FloatDistribution(float(self.low), float(self.high), log=self.log)

    @property
    def text(self) -> str:
        """The canonical `--param` text: parsing it gives this Param back."""
        if self.choices:
            return f"{self.name}={','.join(_value_text(c) for c in self.choices)}"
        kind = FIELD_BY_NAME[self.name].kind
        modifiers = [m for m, on in (("log", self.log), ("int", self.integer and kind is not int)) if on]
        return ":".join([f"{self.name}={_value_text(self.low)}", _value_text(self.high), *modifiers])


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def parse_param(text: str) -> Param:
    """`name=lo:hi[:log][:int]` or `name=a,b,c`; a ConfigError that says what to change otherwise."""
    name, sep, spec = str(text).partition("=")
    name, spec = name.strip().lower().replace("-", "_"), spec.strip()
    if not sep or not name:
        raise ConfigError(f"--param {text!r} must look like lr=1e-4:1e-1:log, hidden=8:64:int or cell=rnn,lstm,gru.")
    f = FIELD_BY_NAME.get(name)
    if f is None:
        raise ConfigError(f"Unknown setting {name[:40]!r} in --param; settings that can be swept: "
                          f"{', '.join(SWEEPABLE)}.")
    if name in NOT_SWEPT:
        raise ConfigError(f"{name} cannot be swept: {NOT_SWEPT[name]}.")
    if not spec:
        raise ConfigError(f"--param {name}= gives no values: write a range like {_example(f)}.")
    if "," in spec or f.choices or f.kind in (bool, str):
        return _choices(f, spec)
    return _range(f, spec)


def _example(f: Field) -> str:
    if f.choices or f.kind in (bool, str):
        return f"{f.name}={','.join(f.choices or ('true', 'false'))}"
    return f"{f.name}={_value_text(f.kind(f.low))}:{_value_text(f.kind(f.high))}"


def _choices(f: Field, spec: str) -> Param:
    if ":" in spec:
        raise ConfigError(f"{f.name} takes a list of choices, not a range: write {_example(f)}.")
    parts = [part.strip() for part in spec.split(",")]
    if any(part == "" for part in parts):
        raise ConfigError(f"--param {f.name}={spec} has an empty choice: separate values with single commas.")
    values = tuple(dict.fromkeys(f.parse(part) for part in parts))  # checked, typed, in order, no repeats
    if len(values) < 2:
        raise ConfigError(f"--param {f.name} needs at least two different values to compare; "
                          f"a single value is a fixed setting (--{f.name} {parts[0]}).")
    return Param(f.name, choices=values)


def _range(f: Field, spec: str) -> Param:
    low_text, _, rest = spec.partition(":")
    if not rest:
        raise ConfigError(f"--param {f.name}={spec} needs a range lo:hi (like {_example(f)}) "
                          "or at least two choices separated by commas.")
    high_text, *modifiers = rest.split(":")
    modifiers = [m.strip().lower() for m in modifiers]
    unknown = [m for m in modifiers if m not in ("log", "int")]
    if unknown:
        raise ConfigError(f"--param {f.name}: unknown modifier {unknown[0][:20]!r}; use :log, :int or both.")
    integer = "int" in modifiers or f.kind is int
    if integer and f.kind is float:
        raise ConfigError(f"{f.name} is not a whole number: drop :int.")
    low, high = f.parse(low_text), f.parse(high_text)
    if low == high:
        raise ConfigError(f"--param {f.name}={spec} is an empty range: {f.name} would always be "
                          f"{_value_text(low)}; set it as a fixed setting, or widen the range.")
    if low > high:
        raise ConfigError(f"--param {f.name}={spec} is inverted: write the smaller value first "
                          f"({f.name}={_value_text(high)}:{_value_text(low)}).")
    log = "log" in modifiers
    if log and low <= 0:
        raise ConfigError(f"--param {f.name}: a log range must start above 0 (got {_value_text(low)}).")
    return Param(f.name, low, high, log=log, integer=integer)


def parse_params(texts: Iterable[str]) -> tuple[Param, ...]:
    """Every --param, each setting at most once and at least one in all."""
    params = tuple(parse_param(text) for text in texts)
    if not params:
        raise ConfigError("Give at least one --param to sweep, like --param lr=1e-4:1e-1:log.")
    names = [p.name for p in params]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f"{repeated[0]} is given twice in --param: give each setting once.")
    return params


def check_trials(trials: int) -> int:
    if not 1 <= trials <= MAX_TRIALS:
        raise ConfigError(f"--trials must be between 1 and {MAX_TRIALS} per sweep (got {trials}).")
    return trials


def check_space(base: RunConfig, params: tuple[Param, ...]) -> None:
    """Each swept value, and all the largest values together, must make a valid run with the fixed settings:
    otherwise say so before any trial starts rather than fail trials one by one."""
    corners = [{p.name: value} for p in params for value in (p.choices or (p.low, p.high))]
    corners.append({p.name: p.high for p in params if not p.choices})
    for changes in corners:
        try:
            base.replace(**{name: _typed(name, value) for name, value in changes.items()})
        except ConfigError as exc:
            shown = ", ".join(f"{name}={_value_text(value)}" for name, value in changes.items())
            raise ConfigError(f"With the fixed settings, {shown} is not a valid run: {exc}") from None


def _typed(name: str, value: Any) -> Any:
    kind = FIELD_BY_NAME[name].kind
    return kind(value) if kind in (int, float) else value


def config_of(base: RunConfig, values: dict[str, Any]) -> RunConfig:
    """The run a trial trains: the fixed settings with the trial's values (typed as the table says)."""
    return base.replace(**{name: _typed(name, value) for name, value in values.items()})
