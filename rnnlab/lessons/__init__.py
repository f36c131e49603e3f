"""Lessons (issue 12): Markdown files in this folder, read into steps with settings, questions and challenges.

A lesson file is a small header, then steps, each a `## heading` followed by directive lines and Markdown:

    ---
    title: The classic sine notebook
    summary: One line for the list of lessons.
    settings: preset=udacity-sine, steps=300
    ---

    ## Predict, then run
    settings: lr=1
    page: train
    ask: Where will the validation loss be after 300 steps?
    - About where it started
    - [x] At least ten times lower
    why: The reason, shown once the run has finished.
    challenge: val_loss < 1e-3 within 300 steps

    Any Markdown, formulas in $...$.

Directives start a line: `settings:` (name=value pairs over the lesson's, applied by "Set this up"),
`page:` (the page the step talks about), `ask:` with `- ` choices (the answer marked `[x]`) and `why:`,
`challenge:` (conditions joined by "and": `val_loss < 1e-3 within 300 steps`, `params <= 500`).
A malformed file raises LessonError with a sentence naming the file and the line. Pure: no streamlit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import pandas as pd

from rnnlab.config import FIELD_BY_NAME, RunConfig
from rnnlab.errors import ConfigError, RnnlabError

__all__ = ["LessonError", "Lesson", "Step", "Question", "Challenge", "Condition", "Outcome", "PAGES",
           "parse_lesson", "load_lessons", "lesson", "check", "step_config"]

# The pages a step may name, by the url path the app gives them ("" is Train, the default page).
PAGES = {"train": "", "shapes": "shapes", "data": "data", "inside": "inside", "forecast": "forecast",
         "runs": "runs", "glossary": "glossary", "sweep": "sweep", "teach": "teach"}
HEADER_KEYS = ("title", "summary", "settings")
DIRECTIVES = ("settings", "page", "ask", "why", "challenge")
# What a challenge may compare: a column of the run's history, or the model's parameter count.
HISTORY_METRICS = ("loss", "val_loss", "grad_norm", "lr")
METRICS = HISTORY_METRICS + ("params",)
_OPS = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}
_CONDITION = re.compile(r"^(?P<metric>[a-z_]+)\s*(?P<op><=|>=|<|>)\s*(?P<value>[-+0-9.e,_]+)"
                        r"(?:\s+within\s+(?P<within>[0-9,_]+)\s+steps?)?$")
_DIRECTIVE = re.compile(r"^(?P<key>[a-z_]+):\s*(?P<value>.*)$")


class LessonError(RnnlabError):
    """A lesson file that cannot be read; the message names the file and the line."""


@dataclass(frozen=True)
class Question:
    """Predict, then run: the student picks one of `choices` before training; `answer` and `why` show after."""

    text: str
    choices: tuple[str, ...]
    answer: int  # index into choices
    why: str


@dataclass(frozen=True)
class Condition:
    """One comparison: `metric op value`, for a history metric optionally `within` that many steps."""

    metric: str
    op: str
    value: float
    within: int | None = None

    def __str__(self) -> str:
        within = f" within {self.within:,} steps" if self.within else ""
        return f"{self.metric} {self.op} {self.value:g}{within}"


@dataclass(frozen=True)
class Challenge:
    """Conditions that must all hold; history conditions each at some step (of the run's history)."""

    text: str
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Step:
    title: str
    text: str  # Markdown
    settings: dict[str, Any] = field(default_factory=dict)  # over the lesson's settings
    page: str | None = None  # a key of PAGES
    question: Question | None = None
    challenges: tuple[Challenge, ...] = ()
    line: int = 0  # where the step's heading is, for messages


@dataclass(frozen=True)
class Lesson:
    name: str  # the file name without .md: what `lesson=` in a link names
    title: str
    summary: str
    settings: dict[str, Any]
    steps: tuple[Step, ...]


def _fail(source: str, line: int, text: str) -> LessonError:
    return LessonError(f"Lesson file {source}, line {line}: {text}")


def _settings(source: str, line: int, raw: str, base: dict[str, Any]) -> dict[str, Any]:
    """name=value pairs separated by commas, checked by building the config they give over `base`."""
    pairs: dict[str, Any] = {}
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise _fail(source, line, f"settings are name=value pairs separated by commas (got {item[:40]!r}).")
        if name != "preset" and name not in FIELD_BY_NAME:
            raise _fail(source, line, f"{name[:40]!r} is not a setting; settings are {', '.join(FIELD_BY_NAME)}.")
        pairs[name] = value
    try:
        RunConfig.from_flat({**base, **pairs})
    except ConfigError as exc:
        raise _fail(source, line, f"these settings cannot run: {exc}") from None
    return pairs


def _challenge(source: str, line: int, raw: str) -> Challenge:
    conditions = []
    for part in (p.strip() for p in re.split(r"\s+and\s+", raw.strip())):
        match = _CONDITION.match(part)
        if match is None:
            raise _fail(source, line, f"a challenge is conditions like 'val_loss < 1e-3 within 300 steps' or "
                                      f"'params <= 500', joined by 'and' (got {part[:60]!r}).")
        metric, within = match["metric"], match["within"]
        if metric not in METRICS:
            raise _fail(source, line, f"a challenge compares one of {', '.join(METRICS)} (got {metric!r}).")
        if metric == "params" and within:
            raise _fail(source, line, "the parameter count does not change while training: no 'within' for it.")
        try:
            value = float(match["value"].replace(",", "").replace("_", ""))
        except ValueError:
            raise _fail(source, line, f"{match['value']!r} is not a number.") from None
        steps = int(within.replace(",", "").replace("_", "")) if within else None
        conditions.append(Condition(metric, match["op"], value, steps))
    return Challenge(raw.strip(), tuple(conditions))


def parse_lesson(text: str, name: str, source: str | None = None) -> Lesson:
    """A lesson from its file's text; `source` (default NAME.md) names the file in messages."""
    source = source or f"{name}.md"
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise _fail(source, 1, "a lesson starts with a header between two '---' lines (title:, summary:, settings:).")
    header: dict[str, tuple[str, int]] = {}
    end = None
    for number, line in enumerate(lines[1:], start=2):
        if line.strip() == "---":
            end = number
            break
        if not line.strip():
            continue
        match = _DIRECTIVE.match(line.strip())
        if match is None or match["key"] not in HEADER_KEYS:
            raise _fail(source, number, f"the header holds {', '.join(HEADER_KEYS)} as 'key: value' lines "
                                        f"(got {line.strip()[:40]!r}).")
        header[match["key"]] = (match["value"].strip(), number)
    if end is None:
        raise _fail(source, len(lines), "the header is never closed: add a line '---' after it.")
    if not header.get("title", ("", 0))[0]:
        raise _fail(source, 1, "the header needs a title: line.")
    raw_settings, settings_line = header.get("settings", ("", 1))
    settings = _settings(source, settings_line, raw_settings, {})
    steps = _steps(source, lines, end, settings)
    if not steps:
        raise _fail(source, len(lines), "a lesson needs at least one step, a line starting with '## '.")
    return Lesson(name, header["title"][0], header.get("summary", ("", 0))[0], settings, tuple(steps))


def _steps(source: str, lines: list[str], end: int, settings: dict[str, Any]) -> list[Step]:
    """The `## ` sections after the header (line numbers start at 1; `end` is the header's closing line)."""
    steps: list[Step] = []
    current: dict[str, Any] | None = None

    def close() -> None:
        if current is None:
            return
        ask = current.pop("ask")
        if ask is not None:
            text, choices, answer, line = ask
            if len(choices) < 2 or len(answer) != 1:
                raise _fail(source, line, "a question needs two or more '- ' choices after it, exactly one "
                                          "marked '- [x]' as the answer.")
            if not current["why"]:
                raise _fail(source, line, "a question needs a 'why:' line, shown with the answer after the run.")
            current["question"] = Question(text, tuple(choices), answer[0], current["why"])
        current.pop("why")
        current["text"] = "\n".join(current.pop("body")).strip()
        current["challenges"] = tuple(current["challenges"])
        steps.append(Step(**current))

    choices_open = False
    for number, line in enumerate(lines[end:], start=end + 1):
        if line.startswith("## "):
            close()
            current = dict(title=line[3:].strip(), body=[], settings={}, page=None, ask=None, why="",
                           challenges=[], line=number)
            choices_open = False
            continue
        if current is None:
            if line.strip():
                raise _fail(source, number, "text after the header must belong to a step: start one with '## '.")
            continue
        if choices_open and line.startswith("- "):
            choice = line[2:].strip()
            text, choices, answer, _ = current["ask"]
            if choice.lower().startswith("[x]"):
                answer.append(len(choices))
                choice = choice[3:].strip()
            choices.append(choice)
            continue
        choices_open = False
        match = _DIRECTIVE.match(line)
        if match is None or match["key"] not in DIRECTIVES:
            current["body"].append(line)
            continue
        key, value = match["key"], match["value"].strip()
        if key == "settings":
            current["settings"] = _settings(source, number, value, settings)
        elif key == "page":
            if value not in PAGES:
                raise _fail(source, number, f"page must be one of {', '.join(PAGES)} (got {value[:40]!r}).")
            current["page"] = value
        elif key == "ask":
            current["ask"] = (value, [], [], number)
            choices_open = True
        elif key == "why":
            current["why"] = value
        else:
            current["challenges"].append(_challenge(source, number, value))
    close()
    return steps


def load_lessons() -> dict[str, Lesson]:
    """Every lesson shipped in this package, by name, in file-name order (01_sine.md, 02_shapes.md, ...)."""
    folder = resources.files(__name__)
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".md")), key=lambda f: f.name)
    lessons = [parse_lesson(f.read_text(encoding="utf-8"), _name(f.name), f"rnnlab/lessons/{f.name}") for f in files]
    return {item.name: item for item in lessons}


def _name(filename: str) -> str:
    """01_sine.md -> sine: the order prefix sorts the list, the rest is what a link names."""
    return re.sub(r"^\d+[_-]", "", filename[: -len(".md")])


def lesson(name: str) -> Lesson:
    """One shipped lesson by name; an unknown name gets the list of names."""
    lessons = load_lessons()
    if name not in lessons:
        raise LessonError(f"There is no lesson {name[:40]!r}; the lessons are {', '.join(lessons)}.")
    return lessons[name]


def step_config(item: Lesson, step: Step | None = None) -> RunConfig:
    """The run a step sets up: the lesson's settings, then the step's."""
    return RunConfig.from_flat({**item.settings, **(step.settings if step else {})})


# --- challenges, checked against a run ----------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    """Where a challenge stands: achieved (at `step`, for history conditions), missed (a `within` has
    passed, or the parameter count is over), or still open."""

    state: str  # "achieved" | "missed" | "open"
    step: int | None = None
    detail: str = ""

    @property
    def achieved(self) -> bool:
        return self.state == "achieved"


def _first_step(frame: pd.DataFrame, c: Condition) -> int | None:
    """The first step at which a history condition held (within its step budget), or None."""
    values = frame[c.metric].to_numpy(dtype=float)
    steps = frame["step"].to_numpy()
    held = _OPS[c.op](values, c.value) & ~pd.isna(values)
    if c.within is not None:
        held &= steps <= c.within
    hits = steps[held]
    return int(hits[0]) if len(hits) else None


def check(challenge: Challenge, frame: pd.DataFrame, params: int | None = None, finished: bool = False) -> Outcome:
    """A challenge against a run's history (History.to_frame(): one row per step, val_loss NaN where not
    measured) and its parameter count. Achieved once every condition has held; missed when one no longer
    can (its `within` passed, or the run `finished` without it)."""
    last = int(frame["step"].iloc[-1]) if len(frame) else 0
    steps: list[int] = []
    for c in challenge.conditions:
        if c.metric == "params":
            if params is None:
                return Outcome("open", detail="the parameter count is not known yet")
            if not _OPS[c.op](params, c.value):
                return Outcome("missed", detail=f"the model has {params:,} parameters ({c})")
            continue
        hit = _first_step(frame, c)
        if hit is None:
            if (c.within is not None and last >= c.within) or finished:
                return Outcome("missed", detail=f"{c} did not happen in this run")
            return Outcome("open")
        steps.append(hit)
    return Outcome("achieved", step=max(steps) if steps else None)
