"""The series the current settings describe, for any page: built-in from the cache, or this session's upload."""

from __future__ import annotations

import pandas as pd

from rnnlab.config import RunConfig
from rnnlab.series import data
from rnnlab.ui import cached
from rnnlab.ui.session import workspace


def series(config: RunConfig) -> pd.DataFrame:
    """Raises DataError (e.g. 'upload' chosen but nothing uploaded) for the page to show as a sentence."""
    if config.data.data == "upload":
        return data.make_series(config.data, workspace().upload)
    return cached.series(config.data)
