"""Runs kept on disk: an SQLite index and one folder per run, private to each browser's workspace."""

from rnnlab.store.folder import RunFolder, StoreError, write_run_folder
from rnnlab.store.store import (
                                ACTIVE,
                                Created,
                                LoadedRun,
                                Quota,
                                RunInfo,
                                RunStore,
                                RunWriter,
                                default_home,
                                is_workspace_id,
                                new_workspace_id,
)

__all__ = ["ACTIVE", "Created", "LoadedRun", "Quota", "RunFolder", "RunInfo", "RunStore", "RunWriter", "StoreError",
           "default_home", "is_workspace_id", "new_workspace_id", "write_run_folder"]
