"""The exports' file names: plain rules, apart from the exporters (which import PyTorch) so that a page can
name its download buttons before anyone clicks one."""

from __future__ import annotations

import re

from rnnlab.config import RunConfig


def export_filename(config: RunConfig) -> str:
    """A file name for the script: the preset's, or the cell's and the series'."""
    stem = config.preset or f"{config.model.cell}_{config.data.data}"
    return f"rnnlab_{re.sub(r'[^a-z0-9]+', '_', stem.lower())}.py"


def notebook_filename(config: RunConfig) -> str:
    return export_filename(config).removesuffix(".py") + ".ipynb"
