"""The words a student meets in rnnlab, explained plainly; the cells' equations as PyTorch computes them;
and human labels for the settings' code values ("many-to-one: last step (`head=last`)").

Plain data and two small functions: the Glossary page draws it, the sidebar labels its options with it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TERMS", "EQUATIONS", "Equation", "OPTION_WORDS", "option_label", "search"]

# term -> a short plain explanation (Markdown). Ordered as a student meets them: data, model, training, inside.
TERMS: dict[str, str] = {
    "time series": "Values measured one after another in time (a sine, hourly electricity load). The network "
                   "reads the past and predicts what comes next.",
    "target": "The column the network learns to predict. Other columns (temperature, holidays) are covariates: "
              "extra inputs that help.",
    "covariate": "An extra input column that is known at each time step (temperature, the hour, a holiday "
                 "flag); it helps predict the target but is not predicted itself.",
    "window": "A slice of seq_len consecutive time steps: the piece of the series the network reads at once.",
    "sequence length (seq_len)": "How many time steps one window holds: how far back the network looks at once.",
    "min-max scaling": "Rescales each column to 0..1 using the smallest and largest value of the training part: "
                       "x' = (x − min) / (max − min). Networks train better on small numbers.",
    "standard scaling": "Rescales each column to mean 0 and standard deviation 1, measured on the training part: "
                        "x' = (x − mean) / std.",
    "training, validation and test parts": "The series is cut in time order: the network learns on the first "
                                           "part, is checked on the next (validation) while it trains, and the "
                                           "last part (test) is kept for the final forecast it never saw.",
    "validation": "Measuring the loss on data the network does not learn from, every few steps. If training loss "
                  "falls but validation loss rises, the network memorises instead of learning (overfitting).",
    "overfitting": "The network fits the training data ever better but gets worse on new data: validation loss "
                   "rises while training loss falls. Stop earlier, or use a smaller model or dropout.",
    "early stopping": "Stop training when the validation loss has not improved for `patience` checks, and keep "
                      "the weights of the best check.",
    "hidden state": "The vector h_t (hidden_size numbers) the cell carries from one time step to the next: the "
                    "network's memory of what it has read so far.",
    "cell state": "An LSTM's second memory vector c_t, changed only by the gates' multiplications and additions, "
                  "so information (and gradient) can travel many steps with little loss.",
    "gates": "Numbers between 0 and 1 (a sigmoid) that an LSTM or GRU computes at each step to decide how much to "
             "forget, let in and let out. A gate near 0 blocks, near 1 passes.",
    "tanh RNN": "The plain recurrent cell: h_t = tanh(W x_t + U h_{t−1} + b). tanh keeps h between −1 and 1.",
    "ReLU RNN": "The plain cell with ReLU (max(0, x)) instead of tanh: h is not bounded, which can make it "
                "learn faster or blow up.",
    "LSTM": "Long short-term memory: a cell with a cell state and three gates (input, forget, output) that learns "
            "what to remember over long spans.",
    "GRU": "Gated recurrent unit: a lighter gated cell (reset and update gates, no separate cell state) that "
           "often learns as well as an LSTM.",
    "bidirectional": "Two recurrent layers read the window, one forwards and one backwards, and their hidden "
                     "states are joined (2 × hidden_size features). Useful to understand a whole window; for "
                     "forecasting, the backward half must not see the future.",
    "layers (num_layers)": "Recurrent layers stacked: the hidden states of one layer are the inputs of the next.",
    "dropout": "Randomly zeroing some values between stacked layers while training, so the network cannot rely on "
               "any single unit: a guard against overfitting.",
    "seq2seq head": "Many-to-many: a prediction after every time step of the window (the next value each time), "
                    "as the classic sine notebook does.",
    "many-to-one head": "Only the last time step's hidden state is used, to predict the value(s) after the window "
                        "(horizon values at once). Also called the last-step head.",
    "horizon": "How many future values the many-to-one head predicts at once.",
    "streaming training": "Windows in time order, one per step, with the hidden state carried from one window to "
                          "the next (and detached): the classic notebook's way.",
    "windowed training": "Windows cut at every position, shuffled into mini-batches; each batch starts from a zero "
                         "hidden state.",
    "truncated backpropagation": "Backpropagation through time cut to the last few steps: the hidden state keeps "
                                 "its values but forgets how it was computed (`hidden.detach()`), so the gradient "
                                 "stops at the window's start.",
    "backpropagation through time": "Computing the gradient of the loss back through every time step of the "
                                    "window, as if the unrolled network were one deep network.",
    "teacher forcing": "Predicting each step from the true previous values (the one-step forecast): what the "
                       "network is trained on.",
    "free running": "Feeding the network its own predictions as the next inputs, as a real forecast must. Errors "
                    "pile up, so it is harder than teacher forcing.",
    "loss": "One number saying how wrong the predictions are; training changes the weights to make it smaller.",
    "MSE": "Mean squared error: the average of (prediction − target)². Large errors count a lot.",
    "MAE": "Mean absolute error: the average of |prediction − target|. Less swayed by a few large errors.",
    "Huber loss": "Squared error for small errors and absolute error for large ones (beyond 1): smooth near the "
                  "answer, robust to outliers.",
    "epoch": "One pass over all training windows.",
    "step": "One update of the weights: a forward pass on a batch, the loss, its gradient, and the optimiser's "
            "change to the weights.",
    "batch": "The windows processed together in one step; their losses are averaged.",
    "learning rate": "How big a step the optimiser takes along the gradient. Too small: slow. Too large: the loss "
                     "jumps around, gets stuck high or becomes NaN (diverges).",
    "optimiser": "The rule that turns gradients into weight changes: SGD (plain steps, optionally with momentum), "
                 "Adam and RMSprop (steps scaled per weight by recent gradient sizes).",
    "gradient": "For every weight, how much the loss would change if that weight changed a little: the direction "
                "training moves the weights in.",
    "gradient norm": "The length of the whole gradient (all weights together). A sudden jump warns of exploding "
                     "gradients.",
    "gradient clipping": "Shrinking the gradient when its norm exceeds a limit, so one bad step cannot throw the "
                         "weights far away.",
    "‖dL/dh_t‖": "How strongly the loss depends on the hidden state at time step t. Small far back in the window "
                 "means the network cannot learn from inputs that old: vanishing gradients.",
    "vanishing gradients": "The gradient shrinks at every step back through time (a plain RNN multiplies it by "
                           "numbers below 1), so long-ago inputs barely affect learning. Gates fix much of it.",
    "exploding gradients": "The gradient grows at every step back through time until the weights jump and the loss "
                           "becomes huge or NaN. Clipping or a lower learning rate fixes it.",
    "diverged": "The loss became infinite or NaN: the learning rate is usually too high.",
    "trivial reference": "What a model that learnt nothing scores: predicting that the next value equals the last "
                         "one, or always the mean. A network has learnt only if it does clearly better.",
    "seasonal naive": "Predicting the value one season ago (one period back). On a series that repeats exactly it "
                      "is perfect.",
}


@dataclass(frozen=True)
class Equation:
    title: str
    lines: tuple[str, ...]  # LaTeX, one equation per line
    note: str


# As torch.nn.RNN / LSTM / GRU document and compute them: W_i* act on x_t, W_h* on h_{t-1}, each with its
# own bias, and the gates stacked in weight_ih_l0 in this order (LSTM: i, f, g, o; GRU: r, z, n).
EQUATIONS: dict[str, Equation] = {
    "rnn": Equation(
        "RNN (nn.RNN)",
        (r"h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})",),
        "With nonlinearity='relu' (the rnn_relu cell), ReLU replaces tanh.",
    ),
    "lstm": Equation(
        "LSTM (nn.LSTM), gates in PyTorch's order i, f, g, o",
        (
            r"i_t = \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi})",
            r"f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf})",
            r"g_t = \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg})",
            r"o_t = \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho})",
            r"c_t = f_t \odot c_{t-1} + i_t \odot g_t",
            r"h_t = o_t \odot \tanh(c_t)",
        ),
        "σ is the sigmoid, ⊙ elementwise multiplication. weight_ih_l0 stacks W_ii, W_if, W_ig, W_io (4H rows).",
    ),
    "gru": Equation(
        "GRU (nn.GRU), gates in PyTorch's order r, z, n",
        (
            r"r_t = \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr})",
            r"z_t = \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz})",
            r"n_t = \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn}))",
            r"h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}",
        ),
        "The reset gate r multiplies W_hn h + b_hn (after the matrix product, as PyTorch does); "
        "weight_ih_l0 stacks W_ir, W_iz, W_in (3H rows).",
    ),
}
EQUATIONS["rnn_relu"] = EQUATIONS["rnn"]

# setting -> {code value -> human words}; option_label adds the code name beside them. Short: the sidebar's
# select boxes fit about 156 px (a Model or Training expander at 1280x720), and the code name must show.
OPTION_WORDS: dict[str, dict[str, str]] = {
    "head": {"seq2seq": "all steps", "last": "last step"},
    "regime": {"streaming": "carry", "windowed": "mix"},  # the state carried on; the windows shuffled
    "cell": {"rnn": "tanh RNN", "rnn_relu": "ReLU RNN", "lstm": "LSTM", "gru": "GRU"},
    "scale": {"none": "no scaling", "standard": "z-score", "minmax": "0 to 1"},
    "loss": {"mse": "squared error", "mae": "absolute error", "huber": "Huber"},
    "optimizer": {"adam": "Adam", "sgd": "SGD", "rmsprop": "RMS"},
}


def option_label(setting: str, value: object) -> str:
    """"last step (`head=last`)"; the bare value for settings or values without words."""
    words = OPTION_WORDS.get(setting, {}).get(str(value))
    return f"{words} (`{setting}={value}`)" if words else str(value)


def search(text: str) -> dict[str, str]:
    """The terms whose name or explanation contains every word of `text` (case-insensitive); all if empty."""
    words = text.lower().split()
    return {term: meaning for term, meaning in TERMS.items()
            if all(word in f"{term} {meaning}".lower() for word in words)}
