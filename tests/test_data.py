"""The data layer: choosing a series, reading a user's CSV (csvfile), scaling, splitting and windows."""

import codecs

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rnnlab.config import DataConfig, RunConfig
from rnnlab.errors import DataError
from rnnlab.series import data
from rnnlab.series.csvfile import guess_columns, read_csv, series_from_table
from rnnlab.series.data import Scaler, prepare, windows


def config(**settings_) -> RunConfig:
    return RunConfig().replace(**settings_)


def ramp(rows: int, features: int = 1) -> pd.DataFrame:
    """A series whose value is its row number (and covariates offset by 1000 per column): easy to check."""
    columns = {f"c{j}": np.arange(rows, dtype=np.float64) + 1000 * j for j in range(features)}
    frame = pd.DataFrame(columns)
    frame.index.name = "time"
    return frame


# --- make_series --------------------------------------------------------------------------

def test_make_series_runs_the_named_generator_with_length_period_noise_and_seed():
    frame = data.make_series(DataConfig(data="sine", length=321, period=40.0, noise=0.0, seed=0))
    assert len(frame) == 321
    np.testing.assert_allclose(frame["sine"], np.sin(2 * np.pi * np.arange(321) / 40))


def test_make_series_loads_a_bundled_dataset_whatever_the_length():
    frame = data.make_series(DataConfig(data="nile", length=5000))
    assert len(frame) == 100 and frame.columns[0] == "flow"


def test_make_series_adds_seeded_noise_to_a_dataset_in_units_of_its_std():
    clean = data.make_series(DataConfig(data="nile", noise=0.0))
    noisy = data.make_series(DataConfig(data="nile", noise=0.5, seed=3))
    again = data.make_series(DataConfig(data="nile", noise=0.5, seed=3))
    pd.testing.assert_frame_equal(noisy, again)
    added = (noisy - clean)["flow"]
    assert 0.3 * clean["flow"].std() < added.std() < 0.7 * clean["flow"].std()
    assert "noise" in noisy.attrs["notes"][0]


def test_make_series_returns_the_upload_when_upload_is_chosen():
    upload = ramp(50)
    assert data.make_series(DataConfig(data="upload"), upload) is upload


def test_make_series_asks_for_an_upload_when_there_is_none():
    with pytest.raises(DataError, match="Upload a CSV on the Data page first"):
        data.make_series(DataConfig(data="upload"))


def test_make_series_without_covariates_keeps_only_the_target():
    frame = data.make_series(DataConfig(data="load", length=200, covariates=False))
    assert list(frame.columns) == ["load"]


def test_make_series_refuses_an_unknown_name_listing_the_valid_ones():
    with pytest.raises(DataError, match="sunspots"):
        data.make_series(DataConfig(data="nope"))


# --- read_csv ------------------------------------------------------------------------------

def test_read_csv_reads_a_comma_separated_table():
    table = read_csv(b"time,value,other\n1,2.5,3\n2,3.5,4\n")
    assert list(table.columns) == ["time", "value", "other"]
    assert table["value"].tolist() == [2.5, 3.5]


def test_read_csv_reads_a_file_by_path(tmp_path):
    path = tmp_path / "series.csv"
    path.write_bytes(b"a,b\n1,2\n3,4\n")
    assert read_csv(path)["b"].tolist() == [2, 4]
    assert read_csv(str(path))["a"].tolist() == [1, 3]


def test_read_csv_refuses_a_missing_path(tmp_path):
    with pytest.raises(DataError, match="cannot be opened"):
        read_csv(tmp_path / "nothing.csv")


def test_read_csv_refuses_empty_bytes():
    with pytest.raises(DataError, match="empty"):
        read_csv(b"")


def test_read_csv_refuses_a_file_of_blank_lines():
    with pytest.raises(DataError, match="empty"):
        read_csv(b"\n  \r\n\n")


def test_read_csv_refuses_a_header_without_rows():
    with pytest.raises(DataError, match="no data rows"):
        read_csv(b"time,value\n")


def test_read_csv_refuses_binary_garbage():
    garbage = bytes(np.random.default_rng(0).integers(0, 256, size=2000, dtype=np.uint8))
    with pytest.raises(DataError, match="binary"):
        read_csv(garbage)


def test_read_csv_refuses_an_excel_workbook_saying_how_to_export_csv():
    with pytest.raises(DataError, match="Excel"):
        read_csv(b"PK\x03\x04" + b"\x00" * 100)


def test_read_csv_refuses_a_file_over_the_size_cap():
    with pytest.raises(DataError, match="larger than"):
        read_csv(b"a,b\n" + b"1,2\n" * 1000, max_bytes=1000)


def test_read_csv_keeps_the_first_of_duplicated_column_names_and_says_which_it_left_out():
    table = read_csv(b"time,value,value\n1,2,3\n2,3,4\n")
    assert list(table.columns) == ["time", "value"] and table["value"].tolist() == [2, 3]
    assert table.attrs["left_out"] == ["Column 3 is left out: its name 'value' repeats an earlier column's, and only "
                                       "the first column of a name is kept; rename it in the file to use it."]
    assert guess_columns(table).notes[0] == table.attrs["left_out"][0]


def test_read_csv_refuses_rows_longer_than_the_header_naming_the_line():
    with pytest.raises(DataError, match="Line 3"):
        read_csv(b"a,b\n1,2\n1,2,3\n")


@pytest.mark.parametrize("raw", [b"a,b\n1,2,3\n4,5,6\n", b"value\n1,5\n2,5\n"])
def test_read_csv_refuses_rows_longer_than_the_header_instead_of_shifting_columns(raw):
    with pytest.raises(DataError, match="more values than the header"):
        read_csv(raw)


def test_read_csv_reads_utf16_with_a_bom():
    text = "température,valeur\n1,2.5\n2,3.5\n"
    table = read_csv(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert list(table.columns) == ["température", "valeur"]
    assert table["valeur"].tolist() == [2.5, 3.5]


def test_read_csv_reads_utf16_without_a_bom():
    table = read_csv("x,y\n1,2\n3,4\n".encode("utf-16-le"))
    assert table["y"].tolist() == [2, 4]


def test_read_csv_drops_the_utf8_bom_from_the_first_column_name():
    table = read_csv(codecs.BOM_UTF8 + b"time,value\n1,2\n")
    assert list(table.columns) == ["time", "value"]


def test_read_csv_reads_latin1_text():
    table = read_csv("Température;Débit\n1;2\n3;4\n".encode("latin-1"))
    assert list(table.columns) == ["Température", "Débit"]


def test_read_csv_detects_semicolons():
    table = read_csv(b"date;load;temp\n2024-01-01;1,5;3,25\n2024-01-02;2,5;4\n")
    assert list(table.columns) == ["date", "load", "temp"]


def test_read_csv_detects_tabs():
    table = read_csv(b"date\tload\n2024-01-01\t1.5\n2024-01-02\t2.5\n")
    assert table["load"].tolist() == [1.5, 2.5]


def test_read_csv_reads_a_single_column():
    assert read_csv(b"value\n1\n2\n3\n")["value"].tolist() == [1, 2, 3]


def test_read_csv_drops_the_empty_column_a_trailing_separator_makes():
    assert list(read_csv(b"a,b,\n1,2,\n3,4,\n").columns) == ["a", "b"]


# --- guess_columns --------------------------------------------------------------------------

def test_guess_columns_finds_the_date_column_and_the_numeric_ones():
    table = read_csv(b"date,label,load,temp\n2024-01-01,a,1,2\n2024-01-02,b,3,4\n2024-01-03,c,5,6\n")
    guess = guess_columns(table)
    assert guess.time == "date"
    assert guess.numeric == ("load", "temp")
    assert guess.target == "load"


def test_guess_columns_takes_a_numeric_year_column_as_time_not_as_target():
    guess = guess_columns(read_csv(b"year,flow\n1871,1120\n1872,1160\n1873,963\n"))
    assert guess.time == "year" and guess.target == "flow"


def test_guess_columns_finds_no_time_column_when_there_is_none():
    guess = guess_columns(read_csv(b"a,b\n1,2\n3,4\n"))
    assert guess.time is None and guess.target == "a"


def _rows(values) -> bytes:
    return ("t,v\n" + "".join(f"{i},{v}\n" for i, v in enumerate(values))).encode()


def test_guess_columns_names_a_text_column_it_leaves_out_and_takes_a_row_counter_as_time():
    guess = guess_columns(read_csv(_rows(["low", "high", "low", "mid", "high", "low", "low", "mid"])))
    assert guess.left_out == ("v",) and guess.time == "t" and guess.target is None
    assert guess.notes == ("Column 'v' is left out: it holds text (e.g. 'low'), not numbers.",
                           "Column 't' counts the rows (0, 1, 2, ...), so it is proposed as the time column rather "
                           "than as the target.")


@pytest.mark.parametrize("gap", ["nan", "inf", "", "-inf"])
def test_guess_columns_names_a_column_of_too_many_gaps_with_the_limit(gap):
    guess = guess_columns(read_csv(_rows(["1.5", gap, gap, gap, "2.5", gap, gap, gap])))
    assert guess.left_out == ("v",) and "v" not in guess.numeric
    assert guess.notes[0] == ("Column 'v' is left out: 75% of its values are missing or infinite, and at most 20% "
                              "can be filled in.")


def test_guess_columns_keeps_a_column_whose_few_gaps_can_be_filled():
    guess = guess_columns(read_csv(_rows(["1.5", "nan", "3", "2", "2.5", "1", "0", "4"])))
    assert guess.left_out == () and guess.time == "t" and guess.target == "v"


def test_guess_columns_names_an_empty_column():
    guess = guess_columns(read_csv(b"x,y\n1,\n3,\n2,\n"))
    assert guess.left_out == ("y",) and guess.notes == ("Column 'y' is left out: it has no values.",)


def test_guess_columns_proposes_a_rising_column_as_time_only_if_a_target_is_left():
    rising = guess_columns(read_csv(b"seconds,x\n0.5,3\n1.5,1\n4,2\n"))
    assert rising.time == "seconds" and rising.target == "x" and "rises at every row" in rising.notes[0]
    alone = guess_columns(read_csv(b"total\n3\n5\n9\n"))  # a cumulative series is data, not a clock
    assert alone.time is None and alone.target == "total" and alone.notes == ()


def test_guess_columns_does_not_take_a_column_that_falls_somewhere_as_time():
    guess = guess_columns(read_csv(b"a,b\n1,5\n2,3\n2,4\n"))
    assert guess.time is None and guess.target == "a"


def test_guess_columns_recognises_unnamed_date_strings():
    guess = guess_columns(read_csv(b"when,x\n2024-01-01 10:00,1\n2024-01-01 11:00,2\n"))
    assert guess.time == "when"


# --- series_from_table ------------------------------------------------------------------------

TABLE = (b"date,load,temp,label\n"
         + b"".join(f"2024-01-{d:02d},{d},{d * 10},x{d}\n".encode() for d in range(1, 21)))


def test_series_from_table_puts_the_target_first_and_indexes_by_time():
    frame = series_from_table(read_csv(TABLE), "date", "temp", ["load"])
    assert list(frame.columns) == ["temp", "load"]
    assert frame.index.name == "time" and isinstance(frame.index, pd.DatetimeIndex)
    assert frame.attrs["notes"] == []


def test_series_from_table_without_a_time_column_numbers_the_rows():
    frame = series_from_table(read_csv(TABLE), None, "load")
    assert isinstance(frame.index, pd.RangeIndex) and frame.index.name == "time"


def test_series_from_table_refuses_a_text_target_naming_the_column():
    with pytest.raises(DataError, match="'label' is not numeric.*the target"):
        series_from_table(read_csv(TABLE), "date", "label")


def test_series_from_table_refuses_a_text_covariate_naming_the_column():
    with pytest.raises(DataError, match="'label' is not numeric.*a covariate"):
        series_from_table(read_csv(TABLE), "date", "load", ["label"])


def test_series_from_table_refuses_a_column_that_does_not_exist():
    with pytest.raises(DataError, match="no column named 'price'"):
        series_from_table(read_csv(TABLE), "date", "price")


def test_series_from_table_refuses_the_time_column_as_target():
    with pytest.raises(DataError, match="time column"):
        series_from_table(read_csv(TABLE), "load", "load")


def test_series_from_table_refuses_a_single_row():
    with pytest.raises(DataError, match="only 1 data row"):
        series_from_table(read_csv(b"t,x\n1,2\n"), "t", "x")


def test_series_from_table_fills_missing_values_from_the_past_and_says_so():
    table = read_csv(b"t,x\n1,1\n2,\n3,3\n4,n/a\n5,5\n6,6\n7,7\n8,8\n9,9\n10,10\n")
    frame = series_from_table(table, "t", "x")
    # carried forward, not interpolated: row 2 must not hold half of row 3, which it is asked to predict
    assert frame["x"].tolist() == [1.0, 1.0, 3.0, 3.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]
    assert frame.attrs["notes"] == ["filled 2 missing values in 'x' with the last known value"]


def test_series_from_table_fills_missing_values_at_the_ends_with_the_nearest():
    frame = series_from_table(read_csv(b"x\n\n2\n3\n4\n5\n6\n7\n8\n9\n"), None, "x")
    assert frame["x"].iloc[0] == 2.0


def test_series_from_table_replaces_infinite_values_and_says_so():
    table = pd.DataFrame({"x": [1.0, np.inf, 3.0, -np.inf, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]})
    frame = series_from_table(table, None, "x")
    assert np.isfinite(frame["x"]).all() and frame["x"].iloc[1] == 1.0
    assert "2 infinite" in frame.attrs["notes"][0]


def test_series_from_table_refuses_a_column_with_too_many_gaps():
    with pytest.raises(DataError, match="'x' has 50% missing"):
        series_from_table(pd.DataFrame({"x": [1.0, None] * 10}), None, "x")


def test_series_from_table_sorts_rows_by_time_and_says_so():
    frame = series_from_table(read_csv(b"t,x\n3,30\n1,10\n2,20\n4,40\n"), "t", "x")
    assert frame.index.tolist() == [1, 2, 3, 4] and frame["x"].tolist() == [10, 20, 30, 40]
    assert frame.attrs["notes"] == ["sorted the rows by time (3 rows out of order)"]


def test_series_from_table_keeps_the_first_of_repeated_timestamps_and_says_so():
    table = read_csv(b"date,x\n2024-01-01,1\n2024-01-02,2\n2024-01-02,99\n2024-01-03,3\n")
    frame = series_from_table(table, "date", "x")
    assert frame["x"].tolist() == [1, 2, 3]
    assert frame.attrs["notes"] == ["dropped 1 row with a repeated time (kept the first of each)"]


def test_series_from_table_refuses_a_time_column_of_words():
    table = read_csv(b"t,x\nfoo,1\nbar,2\nbaz,3\n")
    with pytest.raises(DataError, match="'t' does not hold times"):
        series_from_table(table, "t", "x")


def test_series_from_table_reads_decimal_commas():
    table = read_csv(b"date;load\n2024-01-01;1,5\n2024-01-02;2,25\n2024-01-03;-3,0\n")
    assert series_from_table(table, "date", "load")["load"].tolist() == [1.5, 2.25, -3.0]


def test_series_from_table_reads_decimal_commas_in_text_columns():
    table = pd.DataFrame({"x": ["1,5", " 2,25", "-3,0", "4"]})
    assert series_from_table(table, None, "x")["x"].tolist() == [1.5, 2.25, -3.0, 4.0]


def test_series_from_table_treats_spreadsheet_error_cells_as_gaps():
    table = pd.DataFrame({"x": ["1", "#DIV/0!", "3", "4", "5", "6"]})
    frame = series_from_table(table, None, "x")
    assert frame["x"].tolist() == [1.0, 1.0, 3.0, 4.0, 5.0, 6.0]


def test_series_from_table_keeps_whole_number_times_as_integers():
    frame = series_from_table(read_csv(b"year,flow\n1871,1\n1872,2\n1873,3\n"), "year", "flow")
    assert frame.index.tolist() == [1871, 1872, 1873] and frame.index.dtype == np.int64


def test_series_from_table_makes_float64_columns():
    frame = series_from_table(read_csv(TABLE), "date", "load", ["temp"])
    assert (frame.dtypes == np.float64).all()


# --- Scaler -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["none", "standard", "minmax"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=arrays(np.float64, st.tuples(st.integers(2, 30), st.integers(1, 4)),
                     elements=st.floats(-1e6, 1e6, allow_nan=False)))
def test_scaler_inverse_undoes_transform(kind, values):
    scaler = Scaler.fit(values, kind)
    np.testing.assert_allclose(scaler.inverse(scaler.transform(values)), values, rtol=1e-9, atol=1e-6)


def test_standard_scaler_gives_the_fitted_rows_mean_zero_and_std_one():
    values = np.random.default_rng(0).normal(5, 3, size=(200, 2))
    scaled = Scaler.fit(values, "standard").transform(values)
    np.testing.assert_allclose(scaled.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(scaled.std(axis=0), 1)


def test_minmax_scaler_maps_the_fitted_rows_onto_zero_to_one():
    values = np.array([[2.0, -1.0], [4.0, 1.0], [3.0, 0.0]])
    scaled = Scaler.fit(values, "minmax").transform(values)
    np.testing.assert_allclose(scaled, [[0, 0], [1, 1], [0.5, 0.5]])


@pytest.mark.parametrize("kind", ["standard", "minmax"])
def test_zero_variance_column_is_scaled_without_dividing_by_zero(kind):
    values = np.column_stack([np.full(50, 0.1), np.arange(50.0)])
    scaler = Scaler.fit(values, kind)
    scaled = scaler.transform(values)
    assert np.isfinite(scaled).all()
    assert scaler.scale[0] == 1.0


def test_scaler_inverse_of_the_target_column_works_on_tensors_of_any_shape():
    scaler = Scaler.fit(np.array([[10.0, 0.0], [20.0, 5.0], [30.0, 1.0]]), "standard")
    predictions = torch.zeros(4, 3, 1)
    restored = scaler.inverse_target(predictions)
    assert restored.shape == (4, 3, 1) and restored.dtype == torch.float32
    assert torch.allclose(restored, torch.full((4, 3, 1), 20.0))


def test_scaler_refuses_an_unknown_kind():
    with pytest.raises(DataError, match="standard"):
        Scaler.fit(np.ones((3, 1)), "robust")


# --- prepare ----------------------------------------------------------------------------------

def test_prepare_splits_chronologically_train_validation_test():
    prepared = prepare(config(val=0.2, test=0.1, seq_len=5), ramp(100))
    assert prepared.bounds == {"train": (0, 70), "val": (70, 90), "test": (90, 100)}


def test_prepare_fits_the_scaler_on_the_training_rows_only():
    frame = ramp(100)
    changed = frame.copy()
    changed.iloc[70:, 0] = 1e6  # the validation and test parts are wildly different
    first = prepare(config(val=0.15, test=0.15, seq_len=5, scale="standard"), frame)
    second = prepare(config(val=0.15, test=0.15, seq_len=5, scale="standard"), changed)
    np.testing.assert_array_equal(first.scaler.center, second.scaler.center)
    np.testing.assert_array_equal(first.scaler.scale, second.scaler.scale)
    assert first.scaler.center[0] == pytest.approx(np.arange(70).mean())


def test_prepare_gives_float32_scaled_values_with_the_target_first():
    prepared = prepare(config(seq_len=5, scale="minmax"), ramp(100, features=3))
    assert prepared.values.shape == (100, 3) and prepared.values.dtype == torch.float32
    assert torch.equal(prepared.target, prepared.values[:, 0])
    assert prepared.input_size == 3
    assert prepared.feature_names == ("c0", "c1", "c2") and prepared.target_name == "c0"


def test_prepare_refuses_a_test_part_too_short_for_one_window_with_the_numbers():
    with pytest.raises(DataError, match="test part has 15 rows, but one window needs 21.*shorter sequence length"):
        prepare(config(seq_len=20, val=0.3, test=0.15), ramp(100))


def test_prepare_asks_for_smaller_fractions_when_the_train_part_is_too_short():
    with pytest.raises(DataError, match="training part.*smaller validation and test fractions"):
        prepare(config(seq_len=30, val=0.45, test=0.45, head="last", horizon=1), ramp(100))


def test_prepare_counts_the_horizon_in_the_rows_a_window_needs():
    with pytest.raises(DataError, match="needs 25 \\(seq_len 5 \\+ 20 target steps\\)"):
        prepare(config(seq_len=5, head="last", horizon=20, val=0.15, test=0.15), ramp(100))


def test_prepare_refuses_fewer_than_three_values():
    with pytest.raises(DataError, match="at least 3"):
        prepare(config(seq_len=2), ramp(2))


def test_prepare_refuses_values_left_missing():
    frame = ramp(100)
    frame.iloc[5, 0] = np.nan
    with pytest.raises(DataError, match="'c0' has 1 missing or infinite"):
        prepare(config(seq_len=5), frame)


def test_prepare_refuses_a_text_column():
    frame = ramp(100).assign(label="a")
    with pytest.raises(DataError, match="'label' is not numeric"):
        prepare(config(seq_len=5), frame)


# --- windows ----------------------------------------------------------------------------------

@pytest.fixture
def prepared():
    return prepare(config(val=0.2, test=0.2, seq_len=4, scale="none"), ramp(100, features=2))


def test_seq2seq_windows_have_a_target_at_every_step(prepared):
    x, y = windows(prepared, "train", 4, "seq2seq", 1)
    assert x.shape == (60 - 4, 4, 2) and y.shape == (60 - 4, 4, 1)


def test_last_windows_have_horizon_targets(prepared):
    x, y = windows(prepared, "val", 4, "last", 3)
    assert x.shape == (20 - 4 - 3 + 1, 4, 2) and y.shape == (20 - 4 - 3 + 1, 3)


def test_seq2seq_target_is_the_next_point_after_each_input(prepared):
    x, y = windows(prepared, "val", 4, "seq2seq", 1)
    start = prepared.bounds["val"][0]
    for n in (0, 7, len(x) - 1):
        for t in range(4):
            assert x[n, t, 0] == start + n + t  # the ramp's value is its row number
            assert y[n, t, 0] == start + n + t + 1


def test_last_head_targets_are_the_points_after_the_window(prepared):
    x, y = windows(prepared, "test", 4, "last", 2)
    start = prepared.bounds["test"][0]
    for n in (0, len(x) - 1):
        assert x[n, :, 0].tolist() == [start + n + t for t in range(4)]
        assert y[n].tolist() == [start + n + 4, start + n + 5]


def test_windows_carry_the_covariates_as_further_features(prepared):
    x, _ = windows(prepared, "train", 4, "seq2seq", 1)
    assert torch.equal(x[:, :, 1], x[:, :, 0] + 1000)


def test_windows_stay_inside_their_part(prepared):
    for part, (start, end) in prepared.bounds.items():
        for head, horizon in (("seq2seq", 1), ("last", 3)):
            x, y = windows(prepared, part, 4, head, horizon)
            assert x[..., 0].min() == start and x[..., 0].max() < end
            assert y.min() > start and y.max() == end - 1  # the last row is some window's target


def test_windows_start_every_stride_rows(prepared):
    x, y = windows(prepared, "train", 4, "seq2seq", 1, stride=4)
    assert x[:, 0, 0].tolist() == list(range(0, 56, 4))
    assert torch.equal(y[:-1, -1, 0], x[1:, 0, 0])  # consecutive windows: the streaming regime


def test_window_count_matches_the_windows_cut(prepared):
    for head, horizon, stride in (("seq2seq", 1, 1), ("last", 3, 2), ("seq2seq", 1, 4)):
        x, _ = windows(prepared, "train", 4, head, horizon, stride)
        assert len(x) == data.window_count(60, 4, head, horizon, stride)


def test_windows_of_the_whole_series(prepared):
    x, _ = windows(prepared, "all", 4, "seq2seq", 1)
    assert len(x) == 100 - 4


def test_windows_are_views_of_the_prepared_values(prepared):
    x, y = windows(prepared, "train", 4, "seq2seq", 1)
    for tensor in (x, y):
        assert tensor.untyped_storage().data_ptr() == prepared.values.untyped_storage().data_ptr()
        assert tensor.untyped_storage().nbytes() == prepared.values.untyped_storage().nbytes()


def test_long_windows_of_a_long_series_cost_no_memory():
    frame = data.make_series(DataConfig(data="sine", length=100_000))
    prepared_ = prepare(config(seq_len=1000, batch=4), frame)
    x, y = windows(prepared_, "train", 1000, "seq2seq", 1)
    assert x.shape == (70_000 - 1000, 1000, 1)  # 69 million values described ...
    assert x.untyped_storage().nbytes() == 100_000 * 4  # ... by the 100,000 floats of the series
    batch = x[torch.tensor([0, 5])]  # the trainer's indexing copies only the batch
    assert batch.shape == (2, 1000, 1) and batch.is_contiguous()


def test_windows_refuse_a_part_too_short_for_the_seq_len(prepared):
    with pytest.raises(DataError, match="validation part has 20 rows, but one window needs 31"):
        windows(prepared, "val", 30, "seq2seq", 1)


# --- fuzzing: any bytes give a table or a sentence ----------------------------------------------------

def _table_or_sentence(raw: bytes) -> None:
    try:
        table = read_csv(raw)
        guess = guess_columns(table)
        if guess.target is not None:
            series_from_table(table, guess.time, guess.target,
                              [c for c in guess.numeric if c not in (guess.target, guess.time)])
    except DataError as exc:
        assert str(exc).endswith(".")


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_give_a_table_or_a_data_error(raw):
    _table_or_sentence(raw)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(",;\t\n\r\"'.-+eE0123456789 abcdéNa:/")), max_size=300),
       st.sampled_from(["utf-8", "utf-16", "latin-1"]))
def test_random_csv_like_text_gives_a_table_or_a_data_error(text, encoding):
    _table_or_sentence(text.encode(encoding))
