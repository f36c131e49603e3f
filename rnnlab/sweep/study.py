"""The study a sweep fills: opening its storage, checking a reused name, reading its trials as a table."""

from __future__ import annotations

import json
import math
import random
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import optuna
import pandas as pd
from optuna.storages import BaseStorage, InMemoryStorage, RDBStorage
from optuna.trial import FrozenTrial, TrialState

from rnnlab.config import RunConfig
from rnnlab.errors import ConfigError
from rnnlab.sweep.space import Param, check_space, check_trials, config_of

OBJECTIVES = {"val_loss": "best validation loss", "train_loss": "last training loss"}
PRUNERS = ("median", "asha", "none")
GRACE_SECONDS = 20  # a worker that vanished (killed, machine lost) frees its trial after this long
SCHEMA_ATTEMPTS = 4
RACES = ("already exists", "duplicate key", "database is locked", "UniqueViolation", "UNIQUE constraint failed")
FAILED = "failed"  # user attr of a trial that genuinely failed (it counts towards the budget)
STATES = {TrialState.RUNNING: "running", TrialState.WAITING: "running", TrialState.COMPLETE: "complete",
          TrialState.PRUNED: "pruned", TrialState.FAIL: "failed"}

optuna.logging.set_verbosity(optuna.logging.WARNING)  # the sweep prints its own line per trial
# Ask-and-tell is how rnnlab drives trials; the heartbeat is recorded by the worker itself (engine._Heartbeat),
# and the heartbeat and fail_stale_trials are marked experimental.
warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used")
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


@dataclass(frozen=True)
class SweepSpec:
    """Everything that defines a study: the fixed settings, what varies, the budget and the judge."""

    base: RunConfig
    params: tuple[Param, ...]
    trials: int = 20
    pruner: str = "median"
    objective: str = "val_loss"
    study: str = "sweep"

    def __post_init__(self) -> None:
        check_trials(self.trials)
        if self.pruner not in PRUNERS:
            raise ConfigError(f"--prune must be one of {', '.join(PRUNERS)} (got {self.pruner!r}).")
        if self.objective not in OBJECTIVES:
            raise ConfigError(f"--objective must be one of {', '.join(OBJECTIVES)} (got {self.objective!r}).")
        if not self.study.strip() or len(self.study) > 100:
            raise ConfigError("--study must be a name of 1 to 100 characters.")
        check_space(self.base, self.params)

    @property
    def identity(self) -> dict[str, Any]:
        """What must match for a second worker to join this study: swept settings, fixed ones, objective."""
        swept = {p.name for p in self.params}
        fixed = {k: v for k, v in self.base.to_flat().items() if k not in swept}
        return {"params": [p.text for p in self.params], "fixed": fixed, "objective": self.objective}


def default_storage(out: Path) -> str:
    return f"sqlite:///{(Path(out) / 'study.db').resolve()}"


def open_storage(url: str | BaseStorage | None, *, grace: int = GRACE_SECONDS) -> BaseStorage:
    """An Optuna storage from a URL (None: in memory, for one process); a sentence if it cannot be used.
    A database storage frees the trial of a worker silent for `grace` seconds (it beats 4 times as often)."""
    if url is None:
        return InMemoryStorage()
    if isinstance(url, BaseStorage):
        return url
    url = str(url)
    if "://" not in url:
        raise ConfigError(f"--storage must be a database URL such as sqlite:///sweep.db or "
                          f"postgresql+psycopg://user@host/db (got {url[:60]!r}).")
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        # Several workers write to one file: wait for the lock instead of failing at once.
        kwargs["connect_args"] = {"timeout": 60}
        folder = Path(url.split(":///", 1)[-1]).parent
        if not folder.is_dir():
            raise ConfigError(f"The storage folder {folder} does not exist.")
    elif url.startswith("postgresql"):
        kwargs["connect_args"] = {"connect_timeout": 5}
    for attempt in range(SCHEMA_ATTEMPTS):
        try:
            return RDBStorage(url, engine_kwargs=kwargs, heartbeat_interval=max(1, grace // 4),
                              grace_period=grace)
        except ImportError as exc:
            raise ConfigError(f"The storage {_safe(url)} needs a database driver that is not installed ({exc}).")\
                from None
        except Exception as exc:  # sqlalchemy's errors: unreachable server, refused login, not a database
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
            # Two workers starting together on an empty database both create the tables: one loses the race.
            if attempt + 1 < SCHEMA_ATTEMPTS and any(r in reason for r in RACES):
                time.sleep(0.5 + random.random())
                continue
            raise ConfigError(f"Cannot use the storage {_safe(url)}: {reason}") from None
    raise AssertionError("unreachable")


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    head, sep, tail = url.partition("://")
    if "@" in tail:
        credentials, _, host = tail.rpartition("@")
        tail = f"{credentials.split(':')[0]}:***@{host}" if ":" in credentials else tail
    return head + sep + tail


def open_study(spec: SweepSpec, storage: BaseStorage) -> optuna.Study:
    """Create the study or join it; a study of that name sweeping something else is refused."""
    study = optuna.create_study(study_name=spec.study, storage=storage, direction="minimize",
                                load_if_exists=True, pruner=make_pruner(spec))
    mine = json.loads(json.dumps(spec.identity))  # as stored: JSON types
    theirs = study.user_attrs.get("identity")
    if theirs is None:
        study.set_user_attr("identity", mine)
    elif theirs != mine:
        differs = next(k for k in mine if mine[k] != theirs.get(k))
        what = {"params": f"sweeps {' '.join(theirs.get('params', []))}", "objective":
                f"minimises {theirs.get('objective')}", "fixed": "has other fixed settings "
                + _first_difference(theirs.get("fixed", {}), mine["fixed"])}[differs]
        raise ConfigError(f"The study {spec.study!r} in this storage {what}: give the same settings to join it, "
                          "or another --study name.")
    return study


def _first_difference(theirs: dict, mine: dict) -> str:
    for key in sorted(set(theirs) | set(mine)):
        if theirs.get(key) != mine.get(key):
            return f"({key}={theirs.get(key)!r} there, {mine.get(key)!r} here)"
    return ""


def make_pruner(spec: SweepSpec) -> optuna.pruners.BasePruner:
    steps = spec.base.train.steps
    if spec.pruner == "median":
        # Judge against a few finished trials, and not in the first quarter of a run, where a good
        # setting (a large network, a small learning rate) may still be behind.
        return optuna.pruners.MedianPruner(n_startup_trials=min(5, max(2, spec.trials // 4)),
                                           n_warmup_steps=steps // 4)
    if spec.pruner == "asha":
        # Rungs from a tenth of the run: reduction factor 3 leaves rungs at 1/10, 3/10, 9/10.
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=max(1, steps // 10))
    return optuna.pruners.NopPruner()


def counts_towards_budget(trial: FrozenTrial) -> bool:
    """Interrupted, surplus and abandoned trials are redone; finished, running and failed ones count.
    A waiting (enqueued) trial is not asked yet: the next ask takes it."""
    if trial.state == TrialState.WAITING:
        return False
    return trial.state != TrialState.FAIL or FAILED in trial.user_attrs


def trial_config(spec_or_base: SweepSpec | RunConfig, trial: FrozenTrial) -> RunConfig:
    base = spec_or_base.base if isinstance(spec_or_base, SweepSpec) else spec_or_base
    return config_of(base, trial.params)


def trials_frame(trials: Sequence[FrozenTrial], params: Sequence[Param], now: datetime | None = None
                 ) -> pd.DataFrame:
    """One row per trial: number, every swept setting, value, state, steps, seconds (and why it failed)."""
    names = [p.name for p in params]
    rows = []
    for t in trials:
        if t.state == TrialState.FAIL and FAILED not in t.user_attrs:
            continue  # interrupted or surplus: redone under another number
        end = t.datetime_complete or now or datetime.now()
        steps = t.user_attrs.get("steps", max(t.intermediate_values, default=0))
        rows.append({"number": t.number, **{n: t.params.get(n) for n in names},
                     "value": t.value if t.state == TrialState.COMPLETE else _last(t),
                     "state": STATES[t.state], "steps": int(steps),
                     "seconds": round((end - t.datetime_start).total_seconds(), 2) if t.datetime_start else 0.0,
                     "note": t.user_attrs.get(FAILED, "")})
    return pd.DataFrame(rows, columns=["number", *names, "value", "state", "steps", "seconds", "note"])


def _last(t: FrozenTrial) -> float | None:
    """A pruned or running trial's latest intermediate value (its value so far)."""
    if not t.intermediate_values:
        return None
    value = t.intermediate_values[max(t.intermediate_values)]
    return value if math.isfinite(value) else None


def best_trial(trials: Sequence[FrozenTrial]) -> FrozenTrial | None:
    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.value is not None]
    return min(complete, key=lambda t: (t.value, t.number)) if complete else None


def importances(study: optuna.Study, minimum: int = 5) -> dict[str, float]:
    """How much each swept setting explains the result (PED-ANOVA: no extra packages); {} with too few trials."""
    complete = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
    if len(complete) < minimum:
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            evaluator = optuna.importance.PedAnovaImportanceEvaluator()
            return dict(optuna.importance.get_param_importances(study, evaluator=evaluator))
        except (ValueError, RuntimeError, ZeroDivisionError):
            return {}  # e.g. every trial took the same value of a setting



class Curve(NamedTuple):
    """One trial's reported losses, for the intermediate-values chart."""

    number: int
    state: str
    steps: np.ndarray
    values: np.ndarray


def curves(trials: Sequence[FrozenTrial]) -> list[Curve]:
    """Every trial that reported something, redone ones (interrupted, surplus) left out."""
    found = []
    for t in trials:
        if t.intermediate_values and (t.state != TrialState.FAIL or FAILED in t.user_attrs):
            steps = np.array(sorted(t.intermediate_values), dtype=float)
            values = np.array([t.intermediate_values[int(s)] for s in steps], dtype=float)
            found.append(Curve(t.number, STATES[t.state], steps, values))
    return found
