"""Runs in and out as files: a zip of a run folder, or a folder `python -m rnnlab train --out` wrote.

Nothing from an archive is ever written under a name it chose: the known files are read into memory by
their base name and checked (config parsed, history parsed, weights loaded tensors-only and fitted to the
model) before the store writes them into a folder of its own naming. So a member called ../../x (zip slip)
can do no harm; it is refused anyway, with a sentence."""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from rnnlab.config import RunConfig
from rnnlab.errors import RnnlabError
from rnnlab.learn.history import COLUMNS
from rnnlab.store.folder import (
    CONFIG,
    CSV,
    DTYPE,
    FILES,
    LOG,
    LOG_META,
    META,
    SERIES,
    SNAPSHOT,
    WEIGHTS,
    RunFolder,
    StoreError,
    block_from_log,
    history_block_from_csv,
    parse_columns,
)

MAX_FILES = 50  # a run folder holds 7 files; anything far beyond that is not one


def max_import_bytes() -> int:
    return int(float(os.environ.get("RNNLAB_MAX_IMPORT_MB", "200")) * 1e6)


@dataclass(frozen=True)
class ImportedRun:
    """A checked run, ready to be written into the store."""

    config: RunConfig
    block: np.ndarray  # (len(COLUMNS), steps)
    weights: bytes | None
    series: bytes | None
    meta: dict
    snapshot: bytes | None = None  # the last "prediction vs target" window (runs saved before it have none)
    left_out: tuple[str, ...] = ()  # sentences: parts of the archive not imported, and why


def export_zip(folder: RunFolder, meta: dict) -> bytes:
    """The folder's files, history.csv and run.json added, as a zip (what "Download run" gives)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in (CONFIG, LOG, LOG_META, WEIGHTS, SERIES, SNAPSHOT):
            if (folder.path / name).exists():
                archive.write(folder.path / name, name)
        from rnnlab.export.script import history_csv

        archive.writestr(CSV, history_csv(folder.history().to_frame()))
        archive.writestr(META, json.dumps(meta, indent=1))
    return buffer.getvalue()


def files_from_zip(data: bytes) -> dict[str, bytes]:
    """The run files of a zip, by base name; StoreError with a sentence for anything that is not a run."""
    cap = max_import_bytes()
    if len(data) > cap:
        raise StoreError(f"The file is {len(data) / 1e6:.1f} MB, over the {cap / 1e6:g} MB import limit.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise StoreError("This file is not a zip archive; import a run downloaded from rnnlab (a .zip).") from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_FILES:
            raise StoreError(f"The zip holds {len(members)} files; a run holds a handful. Import one run's zip.")
        chosen: dict[str, zipfile.ZipInfo] = {}
        for m in members:
            path = PurePosixPath(m.filename.replace("\\", "/"))
            if path.is_absolute() or ".." in path.parts or ":" in m.filename:
                raise StoreError(f"The zip holds an unsafe path ({m.filename[:80]!r}); it was not imported.")
            if path.name in FILES and not any(part.startswith("__MACOSX") for part in path.parts):
                if path.name in chosen:
                    raise StoreError(f"The zip holds two {path.name} files; import one run at a time.")
                chosen[path.name] = m
        if sum(m.file_size for m in chosen.values()) > cap:
            raise StoreError(f"The zip unpacks to more than the {cap / 1e6:g} MB import limit.")
        files = {}
        for name, m in chosen.items():
            try:
                with archive.open(m) as f:
                    content = f.read(cap + 1)  # the size in the directory may lie; never read past the cap
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
                raise StoreError(f"{name} in the zip is damaged or encrypted; it cannot be read.") from None
            if len(content) > cap:
                raise StoreError(f"{name} unpacks to more than the {cap / 1e6:g} MB import limit.")
            files[name] = content
    return files


def files_from_folder(path: Path) -> dict[str, bytes]:
    """The run files of a folder (for example one `python -m rnnlab train --out` wrote)."""
    path = Path(path)
    if not path.is_dir():
        raise StoreError(f"{path} is not a folder; give the folder `python -m rnnlab train --out` wrote.")
    cap, files, total = max_import_bytes(), {}, 0
    for name in FILES:
        file = path / name
        if file.is_file() and not file.is_symlink():
            total += file.stat().st_size
            if total > cap:
                raise StoreError(f"The folder holds more than the {cap / 1e6:g} MB import limit.")
            files[name] = file.read_bytes()
    return files


def check(files: dict[str, bytes]) -> ImportedRun:
    """Parse and validate a run's files; StoreError naming the first problem."""
    if CONFIG not in files:
        raise StoreError("This is not an rnnlab run: it has no config.json (a run holds config.json, "
                         "history.csv and weights.pt).")
    try:
        config = RunConfig.from_json(files[CONFIG])
    except RnnlabError as exc:
        raise StoreError(f"The run's config.json cannot be used: {exc}") from None
    if LOG in files:
        columns = parse_columns(files[LOG_META]) if LOG_META in files else list(COLUMNS)
        data = files[LOG][: len(files[LOG]) - len(files[LOG]) % 8]
        block = block_from_log(np.frombuffer(data, dtype=DTYPE), columns)
    elif CSV in files:
        block = history_block_from_csv(files[CSV])
    else:
        raise StoreError("This run has no history (history.csv); it was not imported.")
    meta = {}
    if META in files:
        try:
            meta = json.loads(files[META])
        except ValueError:
            meta = {}
        meta = meta if isinstance(meta, dict) else {}
    if WEIGHTS in files:
        _check_weights(files[WEIGHTS], config, files.get(SERIES))
    snapshot, left_out = files.get(SNAPSHOT), ()
    if snapshot is not None and not _is_snapshot(snapshot):
        snapshot = None
        left_out = ("Its last window (snapshot.npz) is damaged and was left out: the window chart stays empty "
                    "until the run trains again.",)
    return ImportedRun(config, block, files.get(WEIGHTS), files.get(SERIES), meta, snapshot, left_out)


def _is_snapshot(data: bytes) -> bool:
    """A snapshot.npz as RunFolder.save_snapshot writes it: the Snapshot's arrays, 1-d numbers, no pickles."""
    from dataclasses import fields

    from rnnlab.learn.progress import Snapshot

    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return False
    names = [f.name for f in fields(Snapshot)]
    if set(arrays) != set(names) or not all(a.ndim == 1 and a.dtype.kind in "iuf" for a in arrays.values()):
        return False
    return len(arrays["input_time"]) == len(arrays["inputs"]) and \
        len(arrays["target_time"]) == len(arrays["targets"]) == len(arrays["predictions"])


def _check_weights(data: bytes, config: RunConfig, series: bytes | None) -> None:
    """The weights load tensors-only and fit the config's model (when the series' width is known)."""
    from rnnlab.export.script import load_weights
    from rnnlab.series.data import make_series

    try:
        upload = pd.read_csv(io.BytesIO(series)) if series is not None else None
        input_size = make_series(config.data, upload).shape[1]
    except (RnnlabError, ValueError):
        input_size = None  # an upload run exported without its series: fit unknown, contents still checked
    try:
        if input_size is not None:
            load_weights(data, config, input_size)
        else:
            _tensors_only(data)
    except RnnlabError as exc:
        raise StoreError(f"The run's weights.pt cannot be used: {exc}") from None


def _tensors_only(data: bytes) -> None:
    import torch

    try:
        state = torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    except Exception:  # torch.load raises many kinds
        raise StoreError("The run's weights.pt cannot be read as tensors; it was not imported.") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise StoreError("The run's weights.pt is not a state_dict (named tensors); it was not imported.")
