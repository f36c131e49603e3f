"""The lesson pane beside the Train page (`lesson=NAME`) and the Teach page, headless through AppTest."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from test_pages import app, no_job_left_behind, wait_until  # noqa: F401  (the fixture stops every job a test starts)

from rnnlab.config import RunConfig
from rnnlab.lessons.teach import app_root, class_link, class_query


def texts(at) -> str:
    return "\n".join(m.value for m in [*at.markdown, *at.caption, *at.success, *at.info, *at.warning])


def go_to(at, title: str):
    """Press Next until the step with this title shows."""
    for _ in range(10):
        if f"*{title}*" in texts(at):
            return at
        at.button(key="lesson_next").click().run()
    raise AssertionError(f"no step {title!r}")


def test_a_lesson_link_opens_its_first_step_beside_the_train_page():
    at = app({"lesson": "sine"})
    shown = texts(at)
    assert "**The classic sine notebook** · step 1 of 4: *The notebook*" in shown
    assert "$$h_t = \\tanh" in shown  # formulas go to st.markdown as written
    assert at.button(key="lesson_back").disabled and not at.button(key="lesson_next").disabled
    assert [b.label for b in at.button][-5:] == ["Train", "Pause", "Resume", "Step", "Reset"]


def test_next_and_back_walk_the_steps():
    at = app({"lesson": "sine"})
    at.button(key="lesson_next").click().run()
    assert "step 2 of 4: *Streaming: the state is carried*" in texts(at)
    at.button(key="lesson_back").click().run()
    assert "step 1 of 4" in texts(at)


def test_set_this_up_puts_the_steps_settings_in_the_sidebar():
    at = app({"lesson": "learning_rate"})
    at.button(key="lesson_setup").click().run()
    assert (at.session_state["cfg_optimizer"], at.session_state["cfg_lr"], at.session_state["cfg_cell"]) == (
        "sgd", 3.0, "lstm")
    go_to(at, "Back to a good one").button(key="lesson_setup").click().run()
    assert at.session_state["cfg_lr"] == 0.1 and at.session_state["config"].train.lr == 0.1


def test_a_step_about_another_page_links_to_it():
    at = app({"lesson": "vanishing"})
    links = [el for el in at.main if getattr(el, "type", "") == "page_link"]
    assert any("Open Inside" in str(el.proto) for el in links)


def test_an_unknown_lesson_gets_a_sentence_with_the_list():
    at = app({"lesson": "nope"})
    assert any("There is no lesson 'nope'; the lessons are sine, " in w.value for w in at.warning)


def test_predict_then_run_shows_the_answer_after_the_run_and_the_challenge_as_achieved():
    at = app({"lesson": "sine"})
    at.button(key="lesson_setup").click().run()
    go_to(at, "Predict, then run")
    assert "Choose your answer, then press **Train**." in texts(at)
    assert not any("At least 100 times lower" in s.value for s in [*at.success, *at.info])
    at.radio[0].set_value(0).run()  # a wrong guess: the answer still shows, as "The answer"
    at.button(key="btn_train").click().run()
    wait_until(at, lambda a: any("Finished: 300 steps" in s.value for s in a.success), timeout=120)
    at.run()
    assert any(i.value.startswith("The answer: **At least 100 times lower**") for i in at.info)
    at.button(key="lesson_next").click().run()
    assert any("Achieved at step" in s.value and "val_loss < 1e-3 within 300 steps" in s.value for s in at.success)


# --- the Teach page --------------------------------------------------------------------------------

def test_class_query_carries_settings_hide_lock_lesson_and_view():
    config = RunConfig.from_flat({"preset": "udacity-sine", "lr": 0.1})
    query = class_query(config, hide=["lr", "optimizer", "lr"], lock=["clip", "lr"], lesson="sine", present=True)
    assert query == {"preset": "udacity-sine", "lr": "0.1", "hide": "lr,optimizer", "lock": "clip",
                     "lesson": "sine", "view": "present"}
    assert class_query(RunConfig()) == {}


def test_the_class_link_opens_the_app_root_and_reads_back_as_the_same_settings():
    config = RunConfig.from_flat({"cell": "gru", "hidden": 64})
    link = class_link(app_root("http://host:8501/teach", "teach"), config, hide=["data"], lesson="shapes")
    parts = urlsplit(link)
    assert (parts.netloc, parts.path) == ("host:8501", "/")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    assert RunConfig.from_query({k: v for k, v in query.items() if k not in ("hide", "lesson")})[0] == config
    assert (query["hide"], query["lesson"]) == ("data", "shapes")
    assert class_link("http://host/", RunConfig()) == "http://host/"


def test_teach_page_builds_the_link_from_its_checkboxes():
    at = app({"preset": "udacity-sine"}, page="pages/teach.py")
    assert at.header[0].value.startswith("Teach")
    at.checkbox(key="teach_hide_optimizer").check().run()
    at.checkbox(key="teach_lock_lr").check().run()
    at.checkbox(key="teach_hide_model").check().run()
    at.selectbox(key="teach_lesson").set_value("sine").run()
    at.toggle(key="teach_present").set_value(True).run()
    link = at.main.code[-1].value
    query = {k: v[-1] for k, v in parse_qs(urlsplit(link).query).items()}
    assert query["preset"] == "udacity-sine"
    assert query["hide"].split(",") == ["model", "optimizer"]  # in the sidebar's order
    assert (query["lock"], query["lesson"], query["view"]) == ("lr", "sine", "present")


def test_a_hidden_control_cannot_also_be_locked_on_the_teach_page():
    at = app(page="pages/teach.py")
    at.checkbox(key="teach_hide_lr").check().run()
    assert at.checkbox(key="teach_lock_lr").disabled
    assert "lock=" not in at.main.code[-1].value
