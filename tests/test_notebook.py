"""The exported notebook: executed with nbclient, it trains exactly as the exported script does and plots."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from rnnlab.config import RunConfig
from rnnlab.export.notebook import export_notebook, notebook_filename
from rnnlab.export.script import export_script
from rnnlab.presets import PRESETS

CASES = {
    # streaming seq2seq on a generated series: the classic notebook
    "udacity-sine": RunConfig.from_flat(PRESETS["udacity-sine"].settings).replace(steps=40, eval_every=10),
    # windowed, last-step head, a bundled dataset (its CSV at the script's end) with covariates
    "lstm-load": RunConfig.from_flat(PRESETS["lstm-load"].settings).replace(steps=12, eval_every=4, hidden=8),
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_notebook_executes_and_matches_the_scripts_losses(tmp_path, name):
    config = CASES[name]
    script = tmp_path / "script"
    script.mkdir()
    (script / "exported.py").write_text(export_script(config))
    process = subprocess.Popen([sys.executable, "exported.py"], cwd=script, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    notebook = nbformat.reads(export_notebook(config), as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    _, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    ours, theirs = pd.read_csv(tmp_path / "history.csv"), pd.read_csv(script / "history.csv")
    assert len(ours) == config.train.steps
    pd.testing.assert_frame_equal(ours, theirs)  # same steps, same losses, bit for bit
    plots = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])
             if "application/vnd.plotly.v1+json" in output.get("data", {})]
    assert len(plots) == 2  # the loss curve and the prediction
    assert not [o for cell in notebook.cells for o in cell.get("outputs", []) if o.get("output_type") == "error"]


def test_each_code_cell_follows_a_markdown_cell_and_the_filename_says_ipynb():
    config = CASES["udacity-sine"]
    cells = json.loads(export_notebook(config))["cells"]
    assert cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).startswith("# Train a 1-layer RNN")
    kinds = [cell["cell_type"] for cell in cells[1:]]
    # the setup cell (settings comment and imports) comes straight after the title
    assert all(kinds[i - 1] == "markdown" for i, kind in enumerate(kinds) if kind == "code" and i > 1)
    sources = ["".join(cell["source"]) for cell in cells]
    assert any("# The rnnlab settings of this run" in source for source in sources)
    assert not any("parse_args" in source or "__main__" in source for source in sources)
    assert notebook_filename(config).endswith(".ipynb")
