"""Export a run as a Jupyter notebook: the exported script's own code, cut into cells at its section comments,
a Markdown cell before each part, and the loss and prediction plots the classic notebook draws.

Built from export_script's text, so the notebook and the script can never disagree: the script's main() is
unwrapped into top-level cells (so the model and the history stay in the notebook for the plots), its command
line options take their defaults, and the data the script keeps at its end comes before it is used.
Plots use plotly (an rnnlab dependency already, drawn by Jupyter, VS Code and Colab alike) rather than adding
matplotlib.
"""

from __future__ import annotations

import ast
import re
import textwrap

import nbformat
import pandas as pd
from nbformat import v4

from rnnlab.config import RunConfig
from rnnlab.export.names import notebook_filename
from rnnlab.export.script import export_script

__all__ = ["export_notebook", "notebook_filename"]

_SECTION = re.compile(r"^# --- (.+?) -+\s*$")


def export_notebook(config: RunConfig, frame: pd.DataFrame | None = None) -> str:
    """The notebook's JSON text (nbformat 4), not yet executed: run all cells to train and plot."""
    script = export_script(config, frame)
    tree = ast.parse(script)
    lines = script.split("\n")
    doc = ast.get_docstring(tree) or ""
    main = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "main")
    entry = [node for node in tree.body if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test)]
    tail = [node for node in tree.body if node.lineno > main.end_lineno and node not in entry]

    title, _, rest = doc.partition("\n")
    cells = [v4.new_markdown_cell(f"# {title}\n\n{_notebook_intro(rest)}")]
    # Everything above main, section by section (the first part: settings comment, imports).
    body_start = tree.body[0].end_lineno if isinstance(tree.body[0], ast.Expr) else 0  # after the docstring
    for heading, text in _sections(lines[body_start : _first_line(main, lines)]):
        if heading:
            cells.append(v4.new_markdown_cell(f"## {heading[0].upper()}{heading[1:]}"))
        cells.append(v4.new_code_cell(text))
    if tail:  # the data blob the script keeps at its end: needed before main's code runs
        cells.append(v4.new_markdown_cell("## The data\nThe series' values, embedded so the notebook needs no file."))
        cells.append(v4.new_code_cell("\n".join(lines[_first_line(tail[0], lines) : tail[-1].end_lineno]).strip()))
    cells.append(v4.new_markdown_cell(
        "## Training\nThe script's `main()`, cell by cell: prepare the data, build the model, train, save."))
    for heading, text in _main_parts(main, lines):
        cells += [v4.new_markdown_cell(heading), v4.new_code_cell(text)]
    cells += _plots(config)
    notebook = v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    })
    nbformat.validate(notebook)
    return nbformat.writes(notebook)


def _notebook_intro(docstring_rest: str) -> str:
    # The script's "Run it: python x.py" paragraph is for a terminal; here the cells are run instead.
    paragraphs = [p for p in docstring_rest.strip().split("\n\n") if not p.startswith("Run it")]
    text = "\n\n".join(textwrap.dedent(p).replace("\n", " ") for p in paragraphs)
    return (text + "\n\nRun the cells from top to bottom (Run All). Besides PyTorch, NumPy and pandas the plots at "
            "the end need plotly (`pip install plotly`).")


def _first_line(node: ast.stmt, lines: list[str]) -> int:
    """0-based index of a statement's first line, with the comment lines just above it."""
    first = node.lineno - 1 - len(getattr(node, "decorator_list", []))
    while first > 0 and lines[first - 1].lstrip().startswith("#"):
        first -= 1
    return first


def _sections(lines: list[str]) -> list[tuple[str, str]]:
    """(heading, code) per `# --- heading ---` section; the part before the first has no heading."""
    parts: list[tuple[str, list[str]]] = [("", [])]
    for line in lines:
        found = _SECTION.match(line)
        if found:
            parts.append((found.group(1), []))
        else:
            parts[-1][1].append(line)
    cleaned = [(heading, "\n".join(body).strip()) for heading, body in parts]
    return [(heading, text) for heading, text in cleaned if text]


# main()'s body is cut before these statements; each part gets the heading beside it.
_MAIN_HEADINGS = (
    ("", "### The data\nSeeded as rnnlab seeds; the series is split in time order, scaled on the training part "
         "only, and cut into windows."),
    ("model", "### The model, its optimiser and its loss"),
    ("history", "### The training loop\nOne step per window (or batch): forward, loss, backward, update; the "
                "validation loss every few steps."),
    ("", "### Save\nThe history as CSV and the weights as a state_dict, as the script writes them."),
)


def _main_parts(main: ast.FunctionDef, lines: list[str]) -> list[tuple[str, str]]:
    """main()'s body as top-level code in parts, its command line replaced by the defaults."""
    body = [node for node in main.body if "parser" not in ast.unparse(node)]
    starts = [0]
    for name in ("model", "history"):
        at = next((i for i, node in enumerate(body) if isinstance(node, ast.Assign)
                   and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)), None)
        starts.append(at if at is not None and at > starts[-1] else None)
    loop = next((i for i, node in enumerate(body) if isinstance(node, (ast.For, ast.While))), None)
    starts.append(loop + 1 if loop is not None and loop + 1 < len(body) else None)
    args = "args = argparse.Namespace(steps=STEPS)  # the script's options (python script.py --steps N): defaults"
    if any(s is None for s in starts):  # an unexpected shape: one cell rather than a wrong cut
        return [("### Train", args + "\n\n" + _code(body, 0, len(body), lines))]
    ends = [*starts[1:], len(body)]
    parts = [(heading, _code(body, start, end, lines)) for (_, heading), start, end
             in zip(_MAIN_HEADINGS, starts, ends, strict=True)]
    return [(parts[0][0], args + "\n\n" + parts[0][1]), *parts[1:]]


def _code(body: list[ast.stmt], start: int, end: int, lines: list[str]) -> str:
    text = "\n".join(lines[_first_line(body[start], lines) : body[end - 1].end_lineno])
    return textwrap.dedent(text).strip()


def _plots(config: RunConfig) -> list:
    last = config.model.head == "last"
    after = ("np.arange(len(inputs), len(inputs) + len(predicted))  # the values after the window" if last
             else "np.arange(1, len(inputs) + 1)  # each step predicts the next point")
    loss_plot = '''\
import plotly.graph_objects as go

frame = pd.DataFrame(history, columns=["step", "epoch", "loss", "val_loss"])
checked = frame.dropna(subset=["val_loss"])
figure = go.Figure()
figure.add_scatter(x=frame["step"], y=frame["loss"], mode="lines", name="train")
figure.add_scatter(x=checked["step"], y=checked["val_loss"], mode="lines+markers", name="validation")
figure.update_layout(title="Loss", xaxis_title="step", yaxis_title="loss", yaxis_type="log")
figure.show()'''
    prediction_plot = f'''\
# As the classic notebook draws it: the inputs (red dots) and the predictions (blue dots), scaled units.
model.eval()
with torch.no_grad():
    prediction, _ = model(x_val[:1])  # the first validation window (a streaming model: the whole sequence)
inputs = x_val[0, :, 0].numpy()  # (T,) the target feature of the inputs
predicted = prediction[0].reshape(-1).numpy()
after = {after}
figure = go.Figure()
figure.add_scatter(x=np.arange(len(inputs)), y=inputs, mode="markers", name="input", marker_color="red")
figure.add_scatter(x=after, y=predicted, mode="markers", name="prediction", marker_color="blue")
figure.update_layout(title="Prediction on validation data", xaxis_title="time step", yaxis_title="value (scaled)")
figure.show()'''
    return [
        v4.new_markdown_cell("## The curves\nTraining loss at every step, validation loss where it was measured "
                             "(log scale)."),
        v4.new_code_cell(loss_plot),
        v4.new_markdown_cell("## The prediction"),
        v4.new_code_cell(prediction_plot),
    ]
