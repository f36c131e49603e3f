"""Classroom links and a sidebar that tells the truth (issues 12 and 14): the landing preset, hide= and lock=,
Train off with the reason when settings cannot run, the trained config equal to the sidebar's, the note when
the charts belong to a previous run, a sequence length fitted to an upload, options in words."""

import pytest
from test_pages import app, no_job_left_behind, share_link  # noqa: F401  (the fixture stops every job a test starts)

from rnnlab import classroom
from rnnlab.config import FIELDS, RunConfig
from rnnlab.ui.upload import fitting_seq_len


# --- the pure part ---------------------------------------------------------------------------------------
def test_hide_and_lock_take_setting_names_and_areas():
    room, warnings = classroom.parse({"hide": ["lr,optimizer,model"], "lock": "clip, pages"})
    assert not warnings
    assert {"lr", "optimizer", "cell", "hidden", "head"} <= room.hidden and "seq_len" not in room.hidden
    assert room.locked == {"clip", "pages"}
    assert room.pinned == {"lr", "optimizer", "clip"} | {f.name for f in FIELDS if f.section == "model"}


def test_the_sidebar_area_is_every_control_and_hide_wins_over_lock():
    room, _ = classroom.parse({"hide": "sidebar", "lock": "lr"})
    assert room.hidden >= {f.name for f in FIELDS} | {"preset", "share"} and not room.locked


def test_unknown_names_and_views_are_sentences():
    room, warnings = classroom.parse({"hide": "lr,banana", "lock": "Ørsted", "view": "cinema"})
    assert room.hidden == {"lr"} and not room.present
    assert len(warnings) == 3 and "'banana'" in warnings[0] and "'ørsted'" in warnings[1]
    assert "view must be present" in warnings[2]


def test_only_a_link_without_settings_or_lesson_is_the_landing():
    assert classroom.is_landing({}) and classroom.is_landing({"view": "present", "hide": "lr"})
    assert not classroom.is_landing({"hidden": "48"}) and not classroom.is_landing({"lesson": "sine"})
    assert classroom.settings_params({"hide": "lr", "lesson": "x", "hidden": "8"}) == {"hidden": "8"}


@pytest.mark.parametrize(("rows", "seq_len", "expected"), [(400, 100, 50), (400, 20, 20), (10_000, 500, 500),
                                                          (10, 100, None)])
def test_the_longest_sequence_that_fits_every_part(rows, seq_len, expected):
    # 400 rows at 15% each: 60-row validation and test parts; a window of 50 + its next step fits, 60 does not.
    assert fitting_seq_len(rows, seq_len, 0.15, 0.15, "seq2seq", 1) == expected


# --- the landing page and explicit links -------------------------------------------------------------------
def test_a_bare_visit_opens_the_classic_notebook_and_says_what_to_press():
    at = app()
    assert at.session_state["preset_choice"] == "udacity-sine" and at.session_state["cfg_cell"] == "rnn"
    assert any("Press **Train** to run the classic PyTorch sine notebook" in note.value for note in at.info)
    assert [link.proto.page for link in at.main.get("page_link")] == ["teach"]  # the way into the lessons
    assert not at.warning


def test_an_explicit_link_is_read_as_given():
    at = app({"hidden": "48"})
    assert at.session_state["preset_choice"] == "" and at.session_state["cfg_cell"] == "lstm"
    assert at.session_state["cfg_hidden"] == 48
    assert not any("classic PyTorch sine notebook" in note.value for note in at.info)


# --- hide and lock --------------------------------------------------------------------------------------------
def widget_keys(at) -> set[str]:
    bar = at.sidebar
    return {w.key for w in [*bar.selectbox, *bar.slider, *bar.select_slider, *bar.number_input, *bar.toggle]}


def test_hidden_controls_are_gone_and_their_values_still_apply():
    at = app({"preset": "udacity-sine", "lr": "0.03", "hide": "lr,optimizer,model"})
    keys = widget_keys(at)
    assert not keys & {"cfg_lr", "cfg_optimizer", "cfg_cell", "cfg_hidden", "cfg_head"}
    assert {"cfg_seq_len", "cfg_steps", "cfg_data", "preset_choice"} <= keys
    config = at.session_state["config"]
    assert (config.train.lr, config.train.optimizer, config.model.cell) == (0.03, "adam", "rnn")
    assert "hide=lr%2Coptimizer%2Cmodel" in share_link(at)  # a class link passed on stays one
    assert str(at.query_params["hide"]).strip("[]'\"") == "lr,optimizer,model"  # a reload keeps the view
    # Another preset changes what is shown, not what the link fixed.
    at.selectbox(key="preset_choice").set_value("lstm-load").run()
    config = at.session_state["config"]
    assert config.data.data == "load" and (config.train.lr, config.model.cell) == (0.03, "rnn")


def test_locked_controls_are_disabled_and_keep_the_links_value():
    at = app({"lock": "cell,lr", "cell": "gru"})
    assert at.selectbox(key="cfg_cell").disabled and at.select_slider(key="cfg_lr").disabled
    assert not at.select_slider(key="cfg_hidden").disabled
    at.selectbox(key="preset_choice").set_value("udacity-sine").run()
    assert at.selectbox(key="cfg_cell").value == "gru" and at.session_state["config"].model.cell == "gru"
    assert any("Kept cell gru" in c.value for c in at.sidebar.caption)


def test_unknown_names_warn_like_a_bad_link_and_plain_links_get_no_restrictions():
    at = app({"hide": "lr,banana"})
    assert any("'banana'" in w.value for w in at.warning)
    assert "cfg_lr" not in widget_keys(at)
    plain = app({"hidden": "48"})
    assert "hide" not in share_link(plain) and "lock" not in share_link(plain)


def test_the_projector_view_stays_out_of_the_share_link():
    at = app({"view": "present", "lock": "lr"})
    link = share_link(at)
    assert "lock=lr" in link and "view" not in link
    assert any("stMetricValue" in h.proto.body for h in at.get("html"))


def test_hiding_the_sidebar_hides_the_preset_and_the_share_link():
    at = app({"hide": "sidebar", "preset": "lstm-load"})
    assert not widget_keys(at) and share_link(at) is None
    assert at.session_state["config"].data.data == "load"


# --- what you see is what trains ------------------------------------------------------------------------
def test_settings_that_cannot_run_turn_train_off_with_the_reason_beside_it():
    at = app({"regime": "windowed"})
    at.select_slider(key="cfg_hidden").set_value(512)
    at.select_slider(key="cfg_batch").set_value(1024).run()
    assert at.button(key="btn_train").disabled and at.button(key="btn_reset").disabled
    assert at.button(key="btn_step").disabled
    reason = " ".join(e.value for e in at.main.error)
    assert "Train** is off" in reason and "activations per step" in reason and "Reduce batch" in reason
    # 512 x 20 x batch fits the cap of 4,000,000 up to batch 390: the largest choice below is 256.
    assert "For example batch 256 (or seq_len 5 or hidden 192) would run." in reason
    assert at.select_slider(key="cfg_batch").value == 1024  # the sidebar still shows what was asked for
    assert "batch" not in at.query_params  # the URL and the share link carry only settings that run
    # Other pages say what they show instead.
    at.switch_page("../pages/shapes.py").run()
    assert any("batch 16 → 1,024" in w.value and "hidden 32 → 512" in w.value for w in at.warning)


def test_bidirectional_with_the_seq2seq_head_turns_train_off():
    at = app({"regime": "windowed"})
    at.toggle(key="cfg_bidirectional").set_value(True).run()
    assert at.button(key="btn_train").disabled
    assert any("head=last" in e.value for e in at.main.error)
    at.selectbox(key="cfg_head").set_value("last").run()
    assert not at.button(key="btn_train").disabled and not at.main.error


def test_the_trained_config_is_the_sidebars():
    from rnnlab.ui.session import WORKSPACES

    at = app({"regime": "windowed", "steps": "100", "cell": "gru"})
    at.select_slider(key="cfg_hidden").set_value(256)
    at.select_slider(key="cfg_batch").set_value(1024).run()  # 256 x 1024 x 20 activations: refused, Train off
    assert at.button(key="btn_train").disabled
    at.select_slider(key="cfg_batch").set_value(64).run()  # 256 x 64 x 20 fits
    at.button(key="btn_train").click().run()
    assert not at.exception
    run = next(ws.current for ws in WORKSPACES if ws.current is not None)
    shown = {f.name: at.session_state[f"cfg_{f.name}"] for f in FIELDS}
    assert run.config == RunConfig.from_flat(shown, use_preset=False) == at.session_state["config"]
    assert (run.config.train.batch, run.config.model.hidden) == (64, 256)
    run.stop()
    run.wait_until(lambda view: view.phase not in ("starting", "running", "queued"), timeout=30)


def test_a_previous_runs_charts_are_named_as_such():
    at = app({"steps": "1000000"})
    at.button(key="btn_reset").click().run()  # a paused run at step 0
    from rnnlab.ui.session import WORKSPACES

    run = next(ws.current for ws in WORKSPACES if ws.current is not None)
    run.stop()  # no longer active: the note must not depend on that
    at.selectbox(key="preset_choice").set_value("lstm-load").run()
    note = " ".join(n.value for n in at.info)
    assert "The charts show the previous run" in note and "data sine → load" in note and "Train" in note


def test_a_sequence_too_long_for_an_upload_is_shortened_with_a_note():
    csv = ("t,v\n" + "\n".join(f"{i},{(i * 37) % 11}" for i in range(400)) + "\n").encode()
    at = app({"seq_len": "100"}, page="pages/data.py")
    at.file_uploader(key="csv_upload").set_value(("four_hundred.csv", csv, "text/csv")).run()
    at.button(key="csv_use").click().run()
    assert at.session_state["cfg_data"] == "upload" and at.session_state["cfg_seq_len"] == 50
    assert any("Sequence length set from 100 to 50" in n.value for n in at.info)
    assert not at.error and len(at.get("plotly_chart")) == 1


def test_a_class_link_that_fixes_the_series_keeps_it_after_an_upload():
    csv = ("t,v\n" + "\n".join(f"{i},{(i * 37) % 11}" for i in range(400)) + "\n").encode()
    at = app({"lock": "data", "seq_len": "100"}, page="pages/data.py")
    at.file_uploader(key="csv_upload").set_value(("four_hundred.csv", csv, "text/csv")).run()
    at.button(key="csv_use").click().run()
    assert at.session_state["config"].data.data == "sine" and at.session_state["cfg_seq_len"] == 100
    assert any("the link you opened fixes the series" in n.value for n in at.info)


# --- words ---------------------------------------------------------------------------------------------------
def test_options_read_as_words_with_the_code_name_beside_them():
    at = app()
    assert "last step (head=last)" in at.selectbox(key="cfg_head").options
    assert "carry (regime=streaming)" in at.selectbox(key="cfg_regime").options
    assert any(link.proto.page == "glossary" for link in at.sidebar.get("page_link"))
