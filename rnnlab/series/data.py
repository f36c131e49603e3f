"""From a chosen series to training windows: pick or load the series, read a user's CSV, split it
chronologically, scale it (fitted on the training part only) and cut it into windows.

A series is a DataFrame: index named "time", column 0 the target, further columns covariates, float64.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO

import numpy as np
import pandas as pd
import torch

from rnnlab.config import UPLOAD_NAME, DataConfig, RunConfig
from rnnlab.errors import DataError
from rnnlab.series.datasets import DATASETS, load_dataset
from rnnlab.series.generators import GENERATORS

__all__ = [
    "DataError", "make_series", "read_csv", "ColumnGuess", "guess_columns", "series_from_table",
    "Scaler", "SCALINGS", "Prepared", "prepare", "split_bounds", "windows", "rows_needed", "window_count",
]

MIN_POINTS = 3  # below this there is nothing to interpolate, scale or split
MAX_MISSING = 0.2  # a column may have this share of gaps filled in; beyond it the gaps are the data
SCALINGS = ("none", "standard", "minmax")


# --- choosing the series ----------------------------------------------------------------------

def make_series(data_cfg: DataConfig, upload: pd.DataFrame | None = None) -> pd.DataFrame:
    """The series `data_cfg.data` names: a generator's, a bundled dataset's, or the uploaded one."""
    name = data_cfg.data
    if name == UPLOAD_NAME:
        if upload is None:
            raise DataError("Upload a CSV on the Data page first, or pick a built-in series.")
        frame = upload
    elif name in GENERATORS:
        frame = GENERATORS[name].fn(data_cfg.length, data_cfg.period, data_cfg.noise, data_cfg.seed)
    elif name in DATASETS:
        frame = load_dataset(name)
        if data_cfg.noise > 0:
            # Real series come in their own units (ppm, m^3, counts), so noise is measured in the
            # target's standard deviations: noise=0.1 means the same for every dataset.
            std = float(frame.iloc[:, 0].std())
            rng = np.random.default_rng(data_cfg.seed)
            frame.iloc[:, 0] += data_cfg.noise * std * rng.standard_normal(len(frame))
            frame.attrs["notes"] = [f"added Gaussian noise of {data_cfg.noise:g} x the series' standard "
                                    f"deviation ({std:.3g})"]
    else:
        known = ", ".join([*GENERATORS, *DATASETS, UPLOAD_NAME])
        raise DataError(f"There is no series named {name!r}; pick one of {known}.")
    return frame if data_cfg.covariates else frame.iloc[:, :1]


# --- reading a CSV --------------------------------------------------------------------------

def read_csv(source: bytes | str | os.PathLike | IO[bytes], max_bytes: int = 20_000_000) -> pd.DataFrame:
    """The raw table of a CSV given as bytes, a path or a binary file object; DataError if unusable."""
    text = _decode(_read_bytes(source, max_bytes))
    if not text.strip():
        raise DataError("The file is empty; upload a CSV with a header row and one row per time step.")
    separator = _sniff_separator(text)
    _check_header(text, separator)
    # Semicolon files come from spreadsheets set to a European locale, which write 3,14 for 3.14.
    decimal = "," if separator == ";" and re.search(r"\d,\d", text[:10_000]) else "."
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # index_col=False: rows longer than the header must not silently become an index column.
            table = pd.read_csv(io.StringIO(text), sep=separator, decimal=decimal, skipinitialspace=True,
                                index_col=False, low_memory=False)
    except pd.errors.EmptyDataError:
        raise DataError("The file is empty; upload a CSV with a header row and one row per time step.") from None
    except (pd.errors.ParserError, ValueError, csv.Error, OverflowError) as exc:
        raise DataError(_parse_failure(exc)) from None
    if any(issubclass(warning.category, pd.errors.ParserWarning) for warning in caught):
        raise DataError("The rows have more values than the header has column names; give every column a name, "
                        "and check the separator (decimal commas need a semicolon-separated file).")
    table.columns = [str(name).strip() for name in table.columns]
    # A trailing separator makes an unnamed, empty column: not the user's data.
    blank = [name for name in table.columns if name.startswith("Unnamed:") and table[name].isna().all()]
    table = table.drop(columns=blank)
    if len(table) == 0 or len(table.columns) == 0:
        raise DataError("The file has a header row but no data rows; add one row per time step below it.")
    return table


def _read_bytes(source: bytes | str | os.PathLike | IO[bytes], max_bytes: int) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif hasattr(source, "read"):
        data = source.read(max_bytes + 1)  # an uploaded file object: never read more than the cap
    else:
        try:
            with open(source, "rb") as handle:
                data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise DataError(f"The file {os.fspath(source)!r} cannot be opened ({exc.strerror}); "
                            "check the path.") from None
    if len(data) > max_bytes:
        raise DataError(f"The file is larger than {max_bytes / 1e6:g} MB, the limit here; "
                        "upload a shorter file (fewer rows or columns).")
    if not data:
        raise DataError("The file is empty; upload a CSV with a header row and one row per time step.")
    return data


_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_NOT_TEXT = "This file is not a text CSV (it contains binary data); save your table as CSV and upload that."


def _decode(data: bytes) -> str:
    """Text from bytes: a BOM decides (UTF-8, UTF-16), else UTF-8, else Windows-1252, else Latin-1."""
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise DataError("This looks like an Excel workbook; in Excel use File > Save As > CSV and upload that.")
    if data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    elif len(data) >= 4 and data[1::2].count(0) > 0.9 * len(data[1::2]) and not data[0::2].count(0):
        candidates = ["utf-16-le"]  # UTF-16 saved without a BOM: every other byte of ASCII text is 0
    elif len(data) >= 4 and data[0::2].count(0) > 0.9 * len(data[0::2]) and not data[1::2].count(0):
        candidates = ["utf-16-be"]
    else:
        candidates = ["utf-8", "cp1252", "latin-1"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DataError(_NOT_TEXT)
    # Text files have no control characters besides line breaks and tabs; binary files are full of them.
    controls = sum(1 for _ in _CONTROL.finditer(text))
    if "\x00" in text or controls > 0.01 * len(text):
        raise DataError(_NOT_TEXT)
    return text


def _fields(line: str, separator: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=separator), [])
    except csv.Error:
        return [line]


def _sniff_separator(text: str) -> str:
    """The one of , ; tab that splits the header, and most rows like it; comma if none does."""
    lines = [line for line in text.splitlines()[:100] if line.strip()][:30]
    best, best_score = ",", (0, 0)
    for separator in (",", ";", "\t"):
        counts = [len(_fields(line, separator)) for line in lines]
        if counts[0] < 2:
            continue
        score = (sum(count == counts[0] for count in counts), counts[0])
        if score > best_score:
            best, best_score = separator, score
    return best


def _check_header(text: str, separator: str) -> None:
    header = next(line for line in text.splitlines() if line.strip())
    names = [name.strip() for name in _fields(header, separator)]
    seen: set[str] = set()
    for name in names:
        if name and name in seen:
            raise DataError(f"The column name {name!r} appears more than once in the header; "
                            "give every column a different name.")
        seen.add(name)


def _parse_failure(exc: Exception) -> str:
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
    if found:
        expected, line, saw = found.groups()
        return (f"Line {line} has {saw} values but the header has {expected} columns; check the separator, "
                "and put quotes around values that contain it.")
    detail = str(exc).strip().splitlines()[-1][:80] if str(exc).strip() else type(exc).__name__
    return f"The file cannot be read as a table ({detail}); upload a CSV with one header row and one row per time step."


# --- from a table to a series ------------------------------------------------------------------

@dataclass(frozen=True)
class ColumnGuess:
    """What a table's columns probably are: the time column (or None), the numeric ones, a target."""

    time: str | None
    numeric: tuple[str, ...]
    target: str | None


_TIME_NAMES = ("time", "date", "datetime", "timestamp", "year", "month", "day", "ds", "period", "week", "hour")
# Blank-like cells, spreadsheet error cells included: treated as gaps, not as text.
_MISSING_TOKENS = ["", "na", "n/a", "nan", "-nan", "+nan", "null", "none", "-", "--", "?", "missing", "#n/a",
                   "#div/0!", "#value!", "#num!", "#ref!", "#null!"]
_DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+(?:[eE][+-]?\d+)?$")


def guess_columns(table: pd.DataFrame) -> ColumnGuess:
    """A first guess for the UI's column pickers: the user can always choose otherwise."""
    numeric = tuple(name for name in table.columns
                    if _as_numbers(table[name])[1] is None and table[name].notna().any())
    time_column = None
    for name in table.columns:
        lowered = str(name).strip().lower()
        named = lowered in _TIME_NAMES or "date" in lowered or "time" in lowered
        # A numeric column is a time only by its name (year, t); a text one if it reads as dates.
        # The first 50 values go first: parsing a long text column as dates is slow.
        candidate = named or (name not in numeric and _mostly_times(table[name].head(50)))
        if candidate and _mostly_times(table[name]):
            time_column = str(name)
            break
    targets = [name for name in numeric if name != time_column]
    return ColumnGuess(time_column, numeric, targets[0] if targets else None)


def _mostly_times(column: pd.Series) -> bool:
    present = column.notna()
    return bool(present.any()) and float(_parse_time(column)[present.to_numpy()].notna().mean()) >= 0.9


def _as_numbers(column: pd.Series) -> tuple[np.ndarray, str | None]:
    """The column as float64 (NaN where missing) and, if some value is text, the first such value."""
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        return column.to_numpy(dtype=np.float64, na_value=np.nan), None
    if pd.api.types.is_datetime64_any_dtype(column) or pd.api.types.is_timedelta64_dtype(column):
        return np.full(len(column), np.nan), str(column.iloc[0])
    text = column.astype("string").str.strip()
    missing = (text.isna() | text.str.lower().isin(_MISSING_TOKENS)).to_numpy(dtype=bool)
    text = text.mask(missing)
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    failed = np.isnan(numbers) & ~missing
    if failed.any():  # decimal commas, as European spreadsheets write them: 3,14
        comma = text.str.fullmatch(_DECIMAL_COMMA).to_numpy(dtype=bool, na_value=False) & failed
        numbers[comma] = pd.to_numeric(text[comma].str.replace(",", ".", regex=False)).to_numpy(dtype=np.float64)
        failed &= ~comma
    return numbers, (str(text[failed].iloc[0]) if failed.any() else None)


def _parse_time(column: pd.Series) -> pd.Index:
    """Times as a DatetimeIndex, or as numbers (years, seconds, step counts); NaT/NaN where unreadable."""
    numbers, text = _as_numbers(column)
    if text is None:
        return pd.Index(np.where(np.isfinite(numbers), numbers, np.nan), dtype=np.float64)
    if pd.api.types.is_datetime64_any_dtype(column):
        return pd.DatetimeIndex(column)
    strings = column.astype("string").str.strip()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas warns when it falls back to parsing element by element
        for utc in (False, True):  # mixed time zones only parse once converted to UTC
            try:
                return pd.DatetimeIndex(pd.to_datetime(strings, errors="coerce", utc=utc))
            except (ValueError, TypeError, OverflowError):
                continue
    return pd.DatetimeIndex([pd.NaT] * len(column))


def series_from_table(table: pd.DataFrame, time_column: str | None, target: str,
                      covariates: Sequence[str] = ()) -> pd.DataFrame:
    """The series (index time, target first) from chosen columns; what was repaired is in attrs["notes"]."""
    covariates = tuple(dict.fromkeys(name for name in covariates if name != target))
    if table.columns.duplicated().any():
        raise DataError("Some column names appear more than once; give every column a different name.")
    for name in (time_column, target, *covariates):
        if name is not None and name not in table.columns:
            raise DataError(f"There is no column named {name!r}; the columns are {', '.join(map(str, table.columns))}.")
    if time_column is not None and time_column in (target, *covariates):
        raise DataError(f"Column {time_column!r} is the time column, so it cannot also be the target or a covariate.")
    if len(table) < MIN_POINTS:
        raise DataError(f"The table has only {_count(len(table), 'data row')}; a series needs at least {MIN_POINTS} "
                        "(and a few hundred to learn anything).")
    columns = {}
    for name in (target, *covariates):
        numbers, text = _as_numbers(table[name])
        if text is not None:
            role = "the target" if name == target else "a covariate"
            raise DataError(f"Column {name!r} is not numeric (it contains {text[:30]!r}), so it cannot be {role}; "
                            "pick a numeric column, or encode the text as numbers.")
        columns[str(name)] = numbers
    frame = pd.DataFrame(columns)
    notes: list[str] = []
    if time_column is not None:
        frame = _index_by_time(frame, table[time_column], time_column, notes)
    else:
        frame.index = pd.RangeIndex(len(frame))
    frame.index.name = "time"
    if len(frame) < MIN_POINTS:
        raise DataError(f"Only {_count(len(frame), 'row')} left after removing unreadable and repeated times; "
                        f"a series needs at least {MIN_POINTS}.")
    for name in frame.columns:
        frame[name] = _fill_gaps(frame[name].to_numpy(), name, notes)
    frame.attrs["notes"] = notes
    return frame


def _index_by_time(frame: pd.DataFrame, column: pd.Series, name: str, notes: list[str]) -> pd.DataFrame:
    times = _parse_time(column)
    unreadable = np.asarray(times.isna())
    if unreadable.mean() > MAX_MISSING:
        example = column[unreadable].iloc[0]
        raise DataError(f"Column {name!r} does not hold times ({int(unreadable.sum())} of {len(column)} values, "
                        f"e.g. {str(example)[:30]!r}, are neither dates nor numbers); pick another time column "
                        "or none.")
    if unreadable.any():
        frame, times = frame[~unreadable], times[~unreadable]
        notes.append(f"dropped {_count(unreadable.sum(), 'row')} whose time could not be read")
    if times.dtype.kind == "f" and np.all(np.mod(np.asarray(times), 1) == 0) and np.all(np.abs(times) < 2**53):
        times = times.astype(np.int64)  # whole numbers (years, step counts) read better as integers
    frame.index = times
    order = frame.index.argsort(kind="stable")
    moved = int((order != np.arange(len(order))).sum())
    if moved:
        frame = frame.iloc[order]
        notes.append(f"sorted the rows by time ({_count(moved, 'row')} out of order)")
    repeated = frame.index.duplicated(keep="first")
    if repeated.any():
        frame = frame[~repeated]
        notes.append(f"dropped {_count(repeated.sum(), 'row')} with a repeated time (kept the first of each)")
    return frame


def _fill_gaps(values: np.ndarray, name: str, notes: list[str]) -> np.ndarray:
    """Linear interpolation over NaN and +-inf; the ends take the nearest value."""
    missing, infinite = np.isnan(values), np.isinf(values)
    gaps = missing | infinite
    if gaps.mean() > MAX_MISSING:
        raise DataError(f"Column {name!r} has {gaps.mean():.0%} missing or infinite values, and at most "
                        f"{MAX_MISSING:.0%} can be filled in; pick another column or fill the gaps in the file.")
    if not gaps.any():
        return values
    positions = np.arange(len(values))
    filled = values.copy()
    filled[gaps] = np.interp(positions[gaps], positions[~gaps], values[~gaps])
    kinds = [f"{int(count)} {kind}" for count, kind in ((missing.sum(), "missing"), (infinite.sum(), "infinite"))
             if count]
    plural = "s" if gaps.sum() > 1 else ""
    notes.append(f"filled {' and '.join(kinds)} value{plural} in {name!r} by linear interpolation")
    return filled


def _count(number: int, noun: str) -> str:
    return f"{int(number)} {noun}{'' if number == 1 else 's'}"


# --- scaling -----------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)  # eq=False: arrays have no single truth value to compare by
class Scaler:
    """Per-column scaling, scaled = (x - center) / scale; fitted on the training rows only."""

    kind: str
    center: np.ndarray  # (F,)
    scale: np.ndarray  # (F,), never 0

    @classmethod
    def fit(cls, values: np.ndarray | torch.Tensor, kind: str) -> Scaler:
        """Fit on rows of `values` (T, F) or (T,): "none", "standard" (mean 0, std 1) or "minmax" (0..1)."""
        x = np.asarray(values, dtype=np.float64)
        x = x[:, None] if x.ndim == 1 else x
        if kind not in SCALINGS:
            raise DataError(f"Scaling must be one of {', '.join(SCALINGS)} (got {kind!r}).")
        if len(x) == 0:
            raise DataError("There are no training rows to fit the scaling on; use a longer series.")
        if kind == "none":
            center, scale = np.zeros(x.shape[1]), np.ones(x.shape[1])
        elif kind == "standard":
            center, scale = x.mean(axis=0), x.std(axis=0)
        else:
            low, high = x.min(axis=0), x.max(axis=0)
            center, scale = low, high - low
        # A constant column (std ~ 1e-17 from rounding) would blow up: leave it unscaled, only centred.
        flat = ~(scale > 1e-9 * np.abs(x).max(axis=0))
        scale = np.where(flat, 1.0, scale)
        center.setflags(write=False)
        scale.setflags(write=False)
        return cls(kind, center, scale)

    def transform(self, values: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        """Scale (..., F) values, numpy or torch, keeping the type."""
        return (values - _like(self.center, values)) / _like(self.scale, values)

    def inverse(self, values: np.ndarray | torch.Tensor,
                column: int | slice = slice(None)) -> np.ndarray | torch.Tensor:
        """Back to the original units; `column=0` for predictions of the target alone (any shape)."""
        return values * _like(self.scale[column], values) + _like(self.center[column], values)

    def inverse_target(self, values: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        """Target values or predictions (any shape) back to the target's units."""
        return self.inverse(values, column=0)


def _like(array: np.ndarray, values: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    if isinstance(values, torch.Tensor):
        return torch.as_tensor(array, dtype=values.dtype, device=values.device)
    return array


# --- split and windows -----------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Prepared:
    """A series ready to train on: scaled values, the split, and the scaler to undo the scaling."""

    frame: pd.DataFrame  # the raw series, as given
    values: torch.Tensor  # (T, F) float32 scaled; column 0 is the target
    target: torch.Tensor  # (T,) float32 scaled target: a view of values[:, 0]
    scaler: Scaler
    bounds: dict[str, tuple[int, int]]  # "train", "val", "test" -> [start, end) rows, in time order
    feature_names: tuple[str, ...]

    @property
    def input_size(self) -> int:
        return int(self.values.shape[1])

    @property
    def target_name(self) -> str:
        return self.feature_names[0]

    def rows(self, part: str) -> tuple[int, int]:
        """[start, end) rows of a part; "all" is the whole series."""
        if part == "all":
            return 0, int(self.values.shape[0])
        if part not in self.bounds:
            raise ValueError(f"part must be one of {', '.join(self.bounds)}, all (got {part!r})")
        return self.bounds[part]


def split_bounds(rows: int, val: float, test: float) -> dict[str, tuple[int, int]]:
    """Chronological [start, end) rows: train first, then validation, then test."""
    n_test, n_val = int(round(rows * test)), int(round(rows * val))
    n_train = rows - n_val - n_test
    return {"train": (0, n_train), "val": (n_train, n_train + n_val), "test": (n_train + n_val, rows)}


def rows_needed(seq_len: int, head: str, horizon: int) -> int:
    """Rows one window takes: its inputs plus the targets after them."""
    return seq_len + (horizon if head == "last" else 1)


def window_count(rows: int, seq_len: int, head: str, horizon: int, stride: int = 1) -> int:
    """How many windows `windows` cuts from a part of `rows` rows."""
    return max(0, (rows - rows_needed(seq_len, head, horizon)) // stride + 1)


_PART_NAMES = {"train": "training part", "val": "validation part", "test": "test part", "all": "series"}
_REMEDY = {"train": ", or smaller validation and test fractions", "val": ", or a larger validation fraction",
           "test": ", or a larger test fraction"}


def _check_rows(part: str, rows: int, seq_len: int, head: str, horizon: int) -> None:
    need = rows_needed(seq_len, head, horizon)
    if rows < need:
        ahead = _count(horizon, "target step") if head == "last" else "1 next step"
        raise DataError(f"The {_PART_NAMES[part]} has {rows} rows, but one window needs {need} "
                        f"(seq_len {seq_len} + {ahead}); use a longer series, a shorter sequence length"
                        f"{_REMEDY.get(part, '')}.")


def prepare(config: RunConfig, frame: pd.DataFrame) -> Prepared:
    """Split `frame` by the config's fractions, fit the scaler on train, and check every part fits a window."""
    raw = _checked_values(frame)
    data, model, train = config.data, config.model, config.train
    bounds = split_bounds(len(raw), data.val, data.test)
    for part, (start, end) in bounds.items():
        _check_rows(part, end - start, train.seq_len, model.head, model.horizon)
    start, end = bounds["train"]
    scaler = Scaler.fit(raw[start:end], data.scale)
    scaled = scaler.transform(raw).astype(np.float32)
    if not np.isfinite(scaled).all():
        raise DataError("Some values are too large to train on (beyond float32); choose standard or minmax scaling.")
    values = torch.from_numpy(np.ascontiguousarray(scaled))  # (T, F)
    return Prepared(frame, values, values[:, 0], scaler, bounds, tuple(str(name) for name in frame.columns))


def _checked_values(frame: pd.DataFrame) -> np.ndarray:
    if not isinstance(frame, pd.DataFrame) or len(frame.columns) == 0:
        raise DataError("The series has no columns; pick a series or a target column.")
    for name in frame.columns:
        if not (pd.api.types.is_numeric_dtype(frame[name]) or pd.api.types.is_bool_dtype(frame[name])):
            raise DataError(f"Column {name!r} is not numeric; pick only numeric columns.")
    raw = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    if len(raw) < MIN_POINTS:
        raise DataError(f"The series has {_count(len(raw), 'row')}; it needs at least {MIN_POINTS}, "
                        "and a few hundred to learn.")
    bad = ~np.isfinite(raw)
    if bad.any():
        name = frame.columns[int(np.argmax(bad.any(axis=0)))]
        raise DataError(f"Column {name!r} has {int(bad.sum())} missing or infinite values; load the file through "
                        "the CSV importer, which fills small gaps, or fix the file.")
    return raw


def windows(prepared: Prepared, part: str, seq_len: int, head: str, horizon: int,
            stride: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs X (N, seq_len, F) and targets Y of a part, as views of `prepared.values` (no copy).

    head "seq2seq": Y (N, seq_len, 1), Y[n, t] = target one step after X[n, t];
    head "last": Y (N, horizon), the `horizon` targets after the window. Window n starts at part start + n*stride.
    """
    if head not in ("seq2seq", "last"):
        raise ValueError(f"head must be seq2seq or last (got {head!r})")
    if stride < 1:
        raise ValueError(f"stride must be at least 1 (got {stride})")
    start, end = prepared.rows(part)
    _check_rows(part, end - start, seq_len, head, horizon)
    values, target = prepared.values, prepared.target
    if head == "seq2seq":
        x = values[start:end - 1].unfold(0, seq_len, stride)  # (N, F, seq_len)
        y = target[start + 1:end].unfold(0, seq_len, stride)  # (N, seq_len): shifted one step
        return x.transpose(1, 2), y.unsqueeze(-1)  # (N, seq_len, F), (N, seq_len, 1)
    x = values[start:end - horizon].unfold(0, seq_len, stride)  # (N, F, seq_len)
    y = target[start + seq_len:end].unfold(0, horizon, stride)  # (N, horizon): the steps after each window
    return x.transpose(1, 2), y  # (N, seq_len, F), (N, horizon)
