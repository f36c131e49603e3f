"""Reading a user's CSV: bytes to a table (encoding, separator, decimal commas), a first guess of its
columns (the time, the numeric ones, a target, and why each other column is left out), and the
chosen columns to a series with small gaps filled in.

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

from rnnlab.errors import DataError
from rnnlab.series.data import MIN_POINTS, counted

__all__ = ["read_csv", "ColumnGuess", "guess_columns", "series_from_table", "MAX_MISSING"]

MAX_MISSING = 0.2  # a column may have this share of gaps filled in; beyond it the gaps are the data


# --- reading a CSV --------------------------------------------------------------------------

def read_csv(source: bytes | str | os.PathLike | IO[bytes], max_bytes: int = 20_000_000) -> pd.DataFrame:
    """The raw table of a CSV given as bytes, a path or a binary file object; DataError if unusable.

    A column whose name repeats an earlier one's is dropped; attrs["left_out"] holds a sentence for each."""
    text = _decode(_read_bytes(source, max_bytes))
    if not text.strip():
        raise DataError("The file is empty; upload a CSV with a header row and one row per time step.")
    separator = _sniff_separator(text)
    repeated = _repeated_names(text, separator)
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
    table = table.iloc[:, [i for i in range(len(table.columns)) if i not in repeated]]
    table.columns = [str(name).strip() for name in table.columns]
    # A trailing separator makes an unnamed, empty column: not the user's data.
    blank = [name for name in table.columns if name.startswith("Unnamed:") and table[name].isna().all()]
    table = table.drop(columns=blank)
    if len(table) == 0 or len(table.columns) == 0:
        raise DataError("The file has a header row but no data rows; add one row per time step below it.")
    table.attrs["left_out"] = [
        f"Column {position + 1} is left out: its name {name!r} repeats an earlier column's, and only the first "
        "column of a name is kept; rename it in the file to use it." for position, name in repeated.items()]
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


def _repeated_names(text: str, separator: str) -> dict[int, str]:
    """{position: name} of the header's columns whose name an earlier column already has (pandas would
    rename them name.1, name.2, hiding that the file is ambiguous)."""
    header = next(line for line in text.splitlines() if line.strip())
    names = [name.strip() for name in _fields(header, separator)]
    return {position: name for position, name in enumerate(names) if name and name in names[:position]}


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
    """What a table's columns probably are: the time column (or None), the numeric ones (usable as target or
    covariate), a target; the columns left out, and a sentence for each choice a user could wonder about."""

    time: str | None
    numeric: tuple[str, ...]
    target: str | None
    left_out: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


_TIME_NAMES = ("time", "date", "datetime", "timestamp", "year", "month", "day", "ds", "period", "week", "hour")
# Blank-like cells, spreadsheet error cells included: treated as gaps, not as text.
_MISSING_TOKENS = ["", "na", "n/a", "nan", "-nan", "+nan", "null", "none", "-", "--", "?", "missing", "#n/a",
                   "#div/0!", "#value!", "#num!", "#ref!", "#null!"]
_DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+(?:[eE][+-]?\d+)?$")


def guess_columns(table: pd.DataFrame) -> ColumnGuess:
    """A first guess for the UI's column pickers, saying why a column is left out or taken as time; the user
    can always choose otherwise."""
    numbers: dict[str, np.ndarray] = {}
    reasons: dict[str, str] = {}  # column -> why it cannot be a target or covariate
    texts: set[str] = set()
    for name in table.columns:
        values, text = _as_numbers(table[name])
        gaps = float(np.mean(~np.isfinite(values))) if len(values) else 1.0
        if text is not None:
            texts.add(name)
            reasons[name] = f"it holds text (e.g. {text[:30]!r}), not numbers"
        elif gaps == 1:
            reasons[name] = "it has no values"
        elif gaps > MAX_MISSING:
            reasons[name] = (f"{gaps:.0%} of its values are missing or infinite, and at most {MAX_MISSING:.0%} "
                             "can be filled in")
        else:
            numbers[name] = values
    numeric = tuple(numbers)
    time_column, time_note = None, ""
    for name in table.columns:
        lowered = str(name).strip().lower()
        named = lowered in _TIME_NAMES or "date" in lowered or "time" in lowered
        # A numeric column is a time only by its name (year, t); a text one if it reads as dates.
        # The first 50 values go first: parsing a long text column as dates is slow.
        candidate = named or (name in texts and _mostly_times(table[name].head(50)))
        if candidate and _mostly_times(table[name]):
            time_column = str(name)
            break
    if time_column is None:
        time_column, time_note = _counting_column(numbers)
    left_out = tuple(name for name in reasons if name != time_column)
    notes = (*table.attrs.get("left_out", ()), *(f"Column {name!r} is left out: {reasons[name]}." for name in left_out))
    targets = [name for name in numeric if name != time_column]
    return ColumnGuess(time_column, numeric, targets[0] if targets else None, left_out,
                       notes + ((time_note,) if time_note else ()))


def _counting_column(numbers: dict[str, np.ndarray]) -> tuple[str | None, str]:
    """A numeric column that rises at every row is a time (a saved index, seconds, steps), not a target:
    always if it counts the rows (0 to N-1 or 1 to N), else only if another numeric column is left to forecast."""
    for name, values in numbers.items():
        if len(values) < MIN_POINTS or not np.all(np.diff(values) > 0):  # a gap (NaN) is not a rise
            continue
        rows = len(values)
        if np.array_equal(values, np.arange(rows)) or np.array_equal(values, np.arange(1, rows + 1)):
            return name, (f"Column {name!r} counts the rows ({values[0]:g}, {values[1]:g}, {values[2]:g}, ...), "
                          "so it is proposed as the time column rather than as the target.")
        if len(numbers) > 1:
            return name, (f"Column {name!r} rises at every row ({values[0]:g}, {values[1]:g}, {values[2]:g}, ...), "
                          "so it is proposed as the time column rather than as the target.")
    return None, ""


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
        raise DataError(f"The table has only {counted(len(table), 'data row')}; a series needs at least {MIN_POINTS} "
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
        raise DataError(f"Only {counted(len(frame), 'row')} left after removing unreadable and repeated times; "
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
        notes.append(f"dropped {counted(unreadable.sum(), 'row')} whose time could not be read")
    if times.dtype.kind == "f" and np.all(np.mod(np.asarray(times), 1) == 0) and np.all(np.abs(times) < 2**53):
        times = times.astype(np.int64)  # whole numbers (years, step counts) read better as integers
    frame.index = times
    order = frame.index.argsort(kind="stable")
    moved = int((order != np.arange(len(order))).sum())
    if moved:
        frame = frame.iloc[order]
        notes.append(f"sorted the rows by time ({counted(moved, 'row')} out of order)")
    repeated = frame.index.duplicated(keep="first")
    if repeated.any():
        frame = frame[~repeated]
        notes.append(f"dropped {counted(repeated.sum(), 'row')} with a repeated time (kept the first of each)")
    return frame


def _fill_gaps(values: np.ndarray, name: str, notes: list[str]) -> np.ndarray:
    """NaN and +-inf take the last known value before them; gaps before the first known value take it."""
    missing, infinite = np.isnan(values), np.isinf(values)
    gaps = missing | infinite
    if gaps.mean() > MAX_MISSING:
        raise DataError(f"Column {name!r} has {gaps.mean():.0%} missing or infinite values, and at most "
                        f"{MAX_MISSING:.0%} can be filled in; pick another column or fill the gaps in the file.")
    if not gaps.any():
        return values
    # Carried forward, never interpolated: an interpolated gap holds part of the next known value, so the
    # input at that row would reveal the value the network is asked to predict next (issue 15).
    source = np.maximum.accumulate(np.where(gaps, 0, np.arange(len(values))))
    filled = values[source]
    first = int(np.argmax(~gaps))
    filled[:first] = values[first]  # no past to carry: the opening gaps take the first known value
    kinds = [f"{int(count)} {kind}" for count, kind in ((missing.sum(), "missing"), (infinite.sum(), "infinite"))
             if count]
    plural = "s" if gaps.sum() > 1 else ""
    notes.append(f"filled {' and '.join(kinds)} value{plural} in {name!r} with the last known value")
    return filled
