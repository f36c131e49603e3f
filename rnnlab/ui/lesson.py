"""The lesson pane on the Train page (`lesson=NAME` in the link): a lesson's steps, one at a time.

The lessons themselves (files, parser, challenge checks) are rnnlab.lessons; this module draws a step:
its text, "Set this up" (the sidebar takes the step's settings, as choosing a preset does), a link to the
page it talks about, a predict-then-run question and the challenges, checked live against the run."""

from __future__ import annotations

import streamlit as st

from rnnlab import lessons
from rnnlab.jobs.phases import ACTIVE
from rnnlab.lessons import Lesson, Outcome, Question, Step
from rnnlab.ui import classroom as classroom_ui
from rnnlab.ui import settings
from rnnlab.ui.live import current_run

PAGE_TITLES = {"train": "Train", "shapes": "Shapes", "data": "Data", "inside": "Inside", "forecast": "Forecast",
               "runs": "Runs", "glossary": "Glossary", "sweep": "Sweep", "teach": "Teach"}
STATE_ICONS = {"achieved": ":material/check_circle:", "missed": ":material/cancel:", "open": ":material/flag:"}
# A live challenge ("reach a loss below x") is checked on its own clock: a rerun repaints the whole app
# in the browser, so once a second, not with every frame.
CHALLENGE_SECONDS = 1.0


def opened() -> Lesson | None:
    """The lesson the link names (None without one); a wrong name gets a warning in the pane's place."""
    name = (st.query_params.get("lesson") or "").strip().lower()
    if not name:
        return None
    try:
        return lessons.lesson(name)
    except lessons.LessonError as exc:
        st.warning(f"Link: {exc}")
        return None


def pane() -> None:
    """The opened lesson's current step, in a bordered box at the top of the Train page."""
    item = opened()
    if item is None:
        return
    key = f"lesson_step_{item.name}"
    index = min(st.session_state.get(key, 0), len(item.steps) - 1)
    step = item.steps[index]
    with st.container(border=True, key="lesson_pane"):
        head, back, forward = st.columns([6, 1, 1], vertical_alignment="center")
        head.markdown(f"**{item.title}** · step {index + 1} of {len(item.steps)}: *{step.title}*")
        back.button("Back", key="lesson_back", on_click=_move, args=(key, index - 1), disabled=index == 0,
                    width="stretch", icon=":material/arrow_back:")
        forward.button("Next", key="lesson_next", on_click=_move, args=(key, index + 1),
                       disabled=index + 1 >= len(item.steps), width="stretch", icon=":material/arrow_forward:")
        if step.text:
            st.markdown(step.text)
        _actions(item, step)
        if step.question is not None:
            _question(f"lesson_{item.name}_{index}", step.question)
        if step.challenges:
            active = (run := current_run()) is not None and run.view().phase in ACTIVE
            # Checked live while the run computes; the live view reruns the page when it ends (a last check).
            st.fragment(run_every=CHALLENGE_SECONDS if active else None)(_challenges)(step)


def _move(key: str, index: int) -> None:
    st.session_state[key] = index


def _actions(item: Lesson, step: Step) -> None:
    """Set this up (when the lesson or the step has settings) and the page the step talks about."""
    left, right, _ = st.columns([1.3, 1.3, 3], vertical_alignment="center")
    if item.settings or step.settings:
        left.button("Set this up", key="lesson_setup", on_click=_set_up, args=(item, step), type="primary",
                    icon=":material/tune:", help="Put this step's settings into the sidebar.")
    if step.page and step.page != "train":
        classroom_ui.link(lessons.PAGES[step.page], f"Open {PAGE_TITLES[step.page]}", icon=":material/open_in_new:",
                          container=right)


def _set_up(item: Lesson, step: Step) -> None:
    """As choosing a preset does (settings.apply_config): the widgets take the step's values before the
    script runs; a class link's locked settings keep the link's values."""
    settings.apply_config(lessons.step_config(item, step), note=f"Set up for the lesson step “{step.title}”.")


def _question(key: str, question: Question) -> None:
    """Predict, then run: the answer and why show after a run that started once the student had chosen."""
    run = current_run()
    picked = st.session_state.get(key)
    st.radio(f"**Predict:** {question.text}", range(len(question.choices)), index=None, key=key,
             format_func=lambda i: question.choices[i], on_change=_mark_choice, args=(key,),
             disabled=picked is not None and run is not None and run.number > st.session_state.get(key + "_run", 0))
    if picked is None:
        st.caption("Choose your answer, then press **Train**.")
        return
    chosen_before = st.session_state.get(key + "_run", 0)
    if run is None or run.number <= chosen_before or run.view().phase in ACTIVE + ("paused",):
        st.caption("Now press **Train**; the answer shows when the run ends.")
        return
    right = picked == question.answer
    (st.success if right else st.info)(
        f"{'Right' if right else 'The answer'}: **{question.choices[question.answer]}**. {question.why}")


def _mark_choice(key: str) -> None:
    """Remember which run was the latest when the student chose: only a later run reveals the answer."""
    run = current_run()
    st.session_state[key + "_run"] = run.number if run is not None else 0


def _challenges(step: Step) -> None:
    run = current_run()
    for challenge in step.challenges:
        outcome = _outcome(challenge, run)
        label = {"achieved": f"Achieved{f' at step {outcome.step:,}' if outcome.step else ''}",
                 "missed": "Not this time", "open": "Challenge"}[outcome.state]
        detail = f" ({outcome.detail})" if outcome.detail and outcome.state == "missed" else ""
        text = f"{STATE_ICONS[outcome.state]} **{label}:** `{challenge.text}`{detail}"
        (st.success if outcome.achieved else st.markdown)(text)


def _outcome(challenge: lessons.Challenge, run) -> Outcome:
    if run is None:
        return Outcome("open")
    view = run.view()
    return lessons.check(challenge, run.history_frame(), _params(run),
                         finished=view.phase in ("finished", "stopped", "error"))


def _params(run) -> int:
    """The run's parameter count (the Shapes page's formula), kept per run: its data is rebuilt to count."""
    cache = st.session_state.setdefault("lesson_params", {})
    if run.number not in cache:
        from rnnlab.analysis.shapes import param_table  # PyTorch: loaded anyway once a run exists

        cache[run.number] = param_table(run.config, run.prepared.input_size)[-1].count
    return cache[run.number]
