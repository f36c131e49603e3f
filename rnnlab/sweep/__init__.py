"""Hyperparameter sweeps on Optuna: the --param grammar, the study and its storage, the engine."""

from rnnlab.sweep.engine import Sweep, TrialResult
from rnnlab.sweep.space import MAX_TRIALS, SWEEPABLE, Param, parse_param, parse_params
from rnnlab.sweep.study import OBJECTIVES, PRUNERS, SweepSpec

__all__ = ["MAX_TRIALS", "OBJECTIVES", "PRUNERS", "SWEEPABLE", "Param", "Sweep", "SweepSpec", "TrialResult",
           "parse_param", "parse_params"]
