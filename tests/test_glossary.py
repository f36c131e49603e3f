"""The glossary: the terms the issue names are explained, the equations match PyTorch, the page filters."""

from __future__ import annotations

import re

import pytest
import torch
from streamlit.testing.v1 import AppTest

from rnnlab import glossary
from rnnlab.config import FIELD_BY_NAME

ENTRY = __import__("pathlib").Path(__file__).resolve().parent / "app_entry.py"


@pytest.mark.parametrize("term", ["seq2seq head", "many-to-one head", "streaming training", "windowed training",
                                  "truncated backpropagation", "teacher forcing", "free running", "Huber loss",
                                  "min-max scaling", "standard scaling", "tanh RNN", "ReLU RNN", "‖dL/dh_t‖",
                                  "gradient norm", "bidirectional", "hidden state", "cell state", "gates", "epoch",
                                  "step", "validation", "learning rate"])
def test_every_term_a_student_meets_is_explained_in_a_sentence_or_two(term):
    meaning = glossary.TERMS[term]
    assert 30 < len(meaning) < 400 and meaning[0].isupper() and meaning.endswith((".", ")"))


def test_the_gates_are_in_pytorchs_order_and_match_its_weight_rows():
    names = {cell: [re.match(r"(\w)_t =", line).group(1) for line in glossary.EQUATIONS[cell].lines
                    if re.match(r"\w_t =", line)] for cell in ("lstm", "gru")}
    assert names["lstm"][:4] == list("ifgo") and names["gru"][:3] == list("rzn")
    # torch stacks one block of H rows per gate in weight_ih_l0: 4 for the LSTM, 3 for the GRU
    assert torch.nn.LSTM(1, 5).weight_ih_l0.shape[0] == 5 * 4 and torch.nn.GRU(1, 5).weight_ih_l0.shape[0] == 5 * 3


def test_the_gru_equation_resets_after_the_matrix_product_as_pytorch_does():
    # PyTorch's GRU computes n = tanh(W_in x + b_in + r * (W_hn h + b_hn)): check it numerically
    torch.manual_seed(0)
    gru, x, h = torch.nn.GRU(2, 3), torch.randn(1, 1, 2), torch.randn(1, 1, 3)
    w_ir, w_iz, w_in = gru.weight_ih_l0.chunk(3)
    w_hr, w_hz, w_hn = gru.weight_hh_l0.chunk(3)
    b_ir, b_iz, b_in = gru.bias_ih_l0.chunk(3)
    b_hr, b_hz, b_hn = gru.bias_hh_l0.chunk(3)
    x0, h0 = x[0, 0], h[0, 0]
    r = torch.sigmoid(w_ir @ x0 + b_ir + w_hr @ h0 + b_hr)
    z = torch.sigmoid(w_iz @ x0 + b_iz + w_hz @ h0 + b_hz)
    n = torch.tanh(w_in @ x0 + b_in + r * (w_hn @ h0 + b_hn))
    expected = (1 - z) * n + z * h0
    assert torch.allclose(gru(x, h)[1][0, 0], expected, atol=1e-6)
    assert r"r_t \odot (W_{hn} h_{t-1} + b_{hn})" in glossary.EQUATIONS["gru"].lines[2]


def test_option_labels_put_human_words_before_the_code_name_for_every_choice():
    assert glossary.option_label("head", "last") == "last step (`head=last`)"
    for setting, words in glossary.OPTION_WORDS.items():
        assert set(words) == set(FIELD_BY_NAME[setting].choices)  # no choice left as a bare code value
    assert glossary.option_label("lr", 0.01) == "0.01"


def test_search_needs_every_word_and_ignores_case():
    assert "truncated backpropagation" in glossary.search("DETACH gradient")
    assert glossary.search("") == glossary.TERMS and glossary.search("zebra") == {}


def test_the_glossary_page_filters_and_shows_the_three_cells_equations():
    at = AppTest.from_file(str(ENTRY), default_timeout=60)
    at.run()
    at.switch_page("../pages/glossary.py").run()
    assert not at.exception, at.exception
    assert len(at.latex) == 3 and any("c_t" in latex.value for latex in at.latex)
    at.text_input(key="glossary_filter").input("teacher").run()
    shown = [m.value for m in at.markdown if m.value.startswith("**")]
    assert shown and all("teacher" in text.lower() for text in shown)
    at.text_input(key="glossary_filter").input("zebra").run()
    assert "No term mentions" in at.info[0].value
