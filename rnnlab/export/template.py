"""The text of an exported training script, in pieces that rnnlab.export.script fills in and assembles.

`$name` is filled from the config (string.Template); a line holding only `@@name` is replaced by a block
of lines (or by nothing), indented as the marker is. Each piece reads as the plain PyTorch it becomes.
"""

from __future__ import annotations

SCRIPT = '''\
"""$title

Exported from rnnlab. It reproduces that run step for step: the same series, split, scaling,
windows, initial weights and batch order, so for the same seed its loss curve (history.csv)
is the one the app drew. It needs only Python 3.11+, PyTorch, NumPy and pandas.

Run it:
    python $filename              # $steps steps, as in the app
    python $filename --steps 100  # any other number of steps

It prints the loss every $eval_every steps and writes history.csv (step, epoch, loss, val_loss) and
weights.pt (the trained state_dict, which rnnlab can import).
"""

# The rnnlab settings of this run$preset_note:
@@settings_comment
# To open them in rnnlab, add this query string to the app's address:
#   ?$query

from __future__ import annotations

@@imports

# Small recurrent models train fastest on one thread, and one thread keeps the arithmetic (so the
# loss curve) the same from run to run.
torch.set_num_threads(1)

# --- settings ----------------------------------------------------------------------------------

@@constants


# --- the series --------------------------------------------------------------------------------

@@series_defs


# --- the model ---------------------------------------------------------------------------------
# Letters in the shape comments: B batch, T time steps (SEQ_LEN), F input features, H hidden size,
# L layers, D directions (2 if bidirectional, else 1).
State = $state_type  # $state_doc


class SequenceModel(nn.Module):
    """x (B, T, F) -> $cell_name -> Linear: $head_doc.

    The parameter names (rnn.*, head.*) are rnnlab's, so weights.pt loads into the app, and back.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int, bidirectional: bool,
                 dropout: float, out_features: int) -> None:
        super().__init__()
        self.rnn = nn.$cell_module(
            input_size,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,  # x is (B, T, F); the hidden state stays (D*L, B, H) whatever this says
            bidirectional=bidirectional,
            # torch applies dropout between stacked layers only, and warns if asked to with one layer
            dropout=dropout if num_layers > 1 else 0.0,$nonlinearity
        )
        # both directions' hidden states are concatenated, so the head reads D*H features
        directions = 2 if bidirectional else 1
        self.head = nn.Linear(directions * hidden_size, out_features)

    def forward(self, x: torch.Tensor, hidden: State | None = None) -> tuple[torch.Tensor, State]:
        out, hidden = self.rnn(x, hidden)  # out (B, T, D*H); hidden $hidden_doc
        @@forward_body


@@forget_gate_def


# --- split, scaling and windows: rnnlab's own functions, verbatim from rnnlab/series/data.py -------

@@data_defs


# --- validation and early stopping: verbatim from rnnlab/learn/trainer.py --------------------------

@@trainer_defs


# --- training ----------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=STEPS, help=f"optimisation steps (default {STEPS})")
    args = parser.parse_args()

    @@seeding

    @@load_series
    raw = series.to_numpy(dtype=np.float64)  # (rows, F): column 0 the target, then any covariates

    # A chronological split: train on the past, validate on what follows, keep the end for testing
    # (this script never touches the test rows).
    bounds = split_bounds(len(raw), VAL_FRACTION, TEST_FRACTION)  # "train", "val", "test" -> [start, end) rows
    train_start, train_end = bounds["train"]
    center, scale = fit_scaling(raw[train_start:train_end], SCALING)  # (F,), (F,): from the training rows only
    values = torch.from_numpy(((raw - center) / scale).astype(np.float32))  # (rows, F), scaled

    @@train_windows
    @@val_data
    sizes = ", ".join(f"{end - start} {part}" for part, (start, end) in bounds.items())
    print(f"{len(raw)} rows: {sizes}; {len(x_train)} training windows")

    model = SequenceModel(input_size=values.shape[1], hidden_size=HIDDEN_SIZE, num_layers=NUM_LAYERS,
                          bidirectional=BIDIRECTIONAL, dropout=DROPOUT, out_features=$out_features)
    @@forget_gate_call
    optimizer = $optimizer
    loss_fn = nn.$loss()

    history = []  # (step, epoch, loss, val_loss): one row per step
    @@early_stopping_start
    @@loop_start
        @@lr_change
        model.train()
        @@forward_call
        loss = loss_fn(prediction, y)
        loss_value = loss.item()
        if not math.isfinite(loss_value):
            history.append((step, epoch, loss_value, math.nan))
            print(f"Diverged at step {step}: the loss became {loss_value}. Lower the learning rate "
                  "(or clip the gradients) and train again.")
            break
        optimizer.zero_grad()
        loss.backward()
        @@clip
        optimizer.step()
        @@detach

        val_loss = math.nan
        if step % EVAL_EVERY == 0 or step == args.steps:
            val_loss = validation_loss(model, loss_fn, x_val, y_val$val_args)
            print(f"step {step:6d}  epoch {epoch:4d}  loss {loss_value:.4g}  val_loss {val_loss:.4g}")
        history.append((step, epoch, loss_value, val_loss))
        @@early_stopping_check

    pd.DataFrame(history, columns=["step", "epoch", "loss", "val_loss"]).to_csv("history.csv", index=False)
    torch.save(model.state_dict(), "weights.pt")
    print(f"Wrote history.csv ({len(history)} steps) and weights.pt.")

@@data_blob

if __name__ == "__main__":
    main()
'''

SEQ2SEQ_FORWARD = """\
# nn.Linear wants rows: flatten batch and time, apply it, and fold the result back
b, t, dh = out.shape  # (B, T, D*H)
flat = out.contiguous().view(b * t, dh)  # (B*T, D*H)
y = self.head(flat)  # (B*T, 1)
return y.view(b, t, 1), hidden  # (B, T, 1): the next value, predicted after every step"""

LAST_FORWARD = """\
last = out[:, -1]  # (B, D*H): the last time step only (its backward half, if any, saw one step)
return self.head(last), hidden  # (B, out_features): the values after the window"""

SEEDING = {
    "windowed": """\
# Seeded in rnnlab's order: NumPy's generator shuffles the windows, torch's draws the initial
# weights (and any dropout masks). A generated series seeds its own generators.
rng = np.random.default_rng(SEED)
torch.manual_seed(SEED)""",
    "streaming": """\
# Seeded as rnnlab seeds: torch's generator draws the initial weights (and any dropout masks).
# Streaming shuffles nothing; a generated series seeds its own generators.
torch.manual_seed(SEED)""",
}

STREAMING_WINDOWS = """\
# Streaming, as the classic notebook: consecutive windows that do not overlap, one per step.
x_train, y_train = cut_windows(values, train_start, train_end, SEQ_LEN, HEAD, HORIZON, stride=SEQ_LEN)"""

WINDOWED_WINDOWS = """\
# Windowed: every window (stride 1), shuffled into mini-batches.
x_train, y_train = cut_windows(values, train_start, train_end, SEQ_LEN, HEAD, HORIZON, stride=1)"""

VAL_WINDOWS = """\
x_val, y_val = spread_windows(*cut_windows(values, *bounds["val"], SEQ_LEN, HEAD, HORIZON))  # every window"""

VAL_SEQUENCE = """\
# Validation as one long sequence, warmed up on the training rows just before it (see warm_sequence).
x_val, y_val, score_from = warm_sequence(values, *bounds["val"], SEQ_LEN)"""

LR_CHANGE = """\
if step in LR_SCHEDULE:  # the learning rate was changed here while the rnnlab run trained
    for group in optimizer.param_groups:
        group["lr"] = LR_SCHEDULE[step]"""

STREAMING_LOOP = """\
epoch, cursor, hidden = 0, 0, None
for step in range(1, args.steps + 1):
    if cursor == len(x_train):  # the end of the training part: a new epoch, from a zero state again
        epoch, cursor, hidden = epoch + 1, 0, None
    x, y = x_train[cursor:cursor + 1], y_train[cursor:cursor + 1]  # (1, T, F), $y_shape: the next window
    cursor += 1"""

WINDOWED_LOOP = """\
epoch, order, cursor = 0, rng.permutation(len(x_train)), 0  # the windows in a random order
for step in range(1, args.steps + 1):
    if cursor == len(order):  # every window seen: a new epoch, in a new random order
        epoch, order, cursor = epoch + 1, rng.permutation(len(x_train)), 0
    index = torch.from_numpy(order[cursor:cursor + BATCH_SIZE])
    cursor += len(index)
    x, y = x_train[index], y_train[index]  # (B, T, F), $y_shape"""

STREAMING_FORWARD = """\
prediction, hidden = model(x, hidden)  # the state carries on from the previous window"""

WINDOWED_FORWARD = """\
prediction, _ = model(x)  # every batch starts from a zero state"""

DETACH = {
    "tuple": """\
# Keep the state's values, cut its history (the notebook's hidden = hidden.data): truncated backprop.
hidden = (hidden[0].detach(), hidden[1].detach())  # (h_n, c_n), each (D*L, 1, H)""",
    "tensor": """\
# Keep the state's values, cut its history (the notebook's hidden = hidden.data): truncated backprop.
hidden = hidden.detach()  # (D*L, 1, H)""",
}

CLIP = """\
grad_norm = nn.utils.clip_grad_norm_(model.parameters(), CLIP)  # rescales the gradient if its norm > CLIP
if not math.isfinite(grad_norm):
    print(f"Diverged at step {step}: the gradient norm became {float(grad_norm)}. Lower the learning rate.")
    break"""

EARLY_STOPPING_START = """\
# Early stopping: keep the weights of the best validation loss; give up after PATIENCE checks without one.
stopper, best_weights = EarlyStopping(PATIENCE), copy.deepcopy(model.state_dict())"""

EARLY_STOPPING_CHECK = """\
if math.isfinite(val_loss):
    if stopper.improved(val_loss, step):
        best_weights = copy.deepcopy(model.state_dict())
    elif stopper.exhausted:
        model.load_state_dict(best_weights)
        print(f"Stopped early at step {step}: no better validation loss for {PATIENCE} checks; "
              f"restored the weights of step {stopper.best_step} (val_loss {stopper.best:.4g}).")
        break"""

GENERATOR_INTRO = """\
# `$name` and the helpers it uses, verbatim from rnnlab/series/generators.py. A generator is a plain function
# (length, period, noise, seed) -> DataFrame: index "time", the target first, then any covariates."""

GENERATOR_CALL = """\
series = $function(LENGTH, PERIOD, NOISE, SEED)  # DataFrame: index time, the target first, then covariates"""

DATASET_INTRO = """\
# The $title dataset, bundled with rnnlab. Its CSV text is at the end of this file.
# Source: $source"""

DATASET_CALL = """\
series = pd.read_csv(io.StringIO($constant), index_col="time").astype("float64")  # index time; the target"""

DATASET_NOISE = """\
add_noise(series, NOISE, SEED)  # Gaussian noise on the target, in units of its standard deviation"""

UPLOAD_INTRO = """\
# The series uploaded to rnnlab (the columns used: the target first, then any covariates).
# Its CSV text is at the end of this file."""

UPLOAD_CALL = """\
# Read as text, then converted: Python's float() gives back exactly the numbers rnnlab wrote.
series = pd.read_csv(io.StringIO(SERIES_CSV), index_col=0, dtype=str).astype("float64")  # the target first"""

NO_COVARIATES = """\
series = series.iloc[:, :1]  # covariates off: learn from the target alone"""


# An LSTM's forget-gate bias, set after the weights are drawn (it draws no random numbers, so the
# weights stay the app's): rnnlab's own function, verbatim from rnnlab/learn/models.py.
FORGET_GATE_CALL = "open_forget_gate(model.rnn, FORGET_BIAS)  # the cell keeps more of itself from step 0"
