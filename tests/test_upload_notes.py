"""The Data page's upload says, in sentences, why a column is not offered and which column it took as time."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

ENTRY = Path(__file__).resolve().parent / "app_entry.py"


def upload(at: AppTest, name: str, rows: list[str]) -> AppTest:
    at.file_uploader(key="csv_upload").set_value((name, ("\n".join(rows) + "\n").encode(), "text/csv")).run()
    assert not at.exception, at.exception
    return at


def test_left_out_columns_and_the_proposed_time_are_named_on_the_data_page():
    at = AppTest.from_file(str(ENTRY), default_timeout=60).run()
    at.switch_page("../pages/data.py").run()
    # v is text: nothing is left to forecast once t is taken as the time, and the page says both.
    upload(at, "words.csv", ["t,v"] + [f"{i},w{i % 3}" for i in range(40)])
    info = " ".join(element.value for element in at.info)
    assert "Column 'v' is left out: it holds text (e.g. 'w0'), not numbers." in info
    assert "Column 't' counts the rows (0, 1, 2, ...), so it is proposed as the time column" in info
    assert at.selectbox(key="csv_time").value == "t"
    assert at.error and "choose (row number) as the time column to forecast 't' itself" in at.error[0].value
    # v is 75% gaps: named with the limit; w is a usable target, so the series can be used.
    gaps = ["", "nan", "inf"]
    upload(at, "gaps.csv", ["t,v,w"] + [f"{i},{i if i % 4 == 0 else gaps[i % 3]},{(i * 7) % 11}" for i in range(40)])
    info = " ".join(element.value for element in at.info)
    assert ("Column 'v' is left out: 75% of its values are missing or infinite, and at most 20% can be filled in."
            in info)
    assert at.selectbox(key="csv_target").options == ["w"] and not at.error
