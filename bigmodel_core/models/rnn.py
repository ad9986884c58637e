"""Sequences and small recurrent models for the RNN page (course text 1 §3.2 and §4.2, course text 3 §4.2).

- Inputs: a typed word or sentence as one-hot characters (at most MAX_STEPS steps), or a noisy sine.
- `NextStep`: a cell (nn.RNN / LSTM / GRU) plus the output y_t = g(V h_t + c), trained on the
  learner's own sequence to predict its next element, so every h_t and y_t on the page is a real one.
- `demo_cell`: a cell with random weights whose recurrent matrix U is scaled, for the gradient chart.
- The memory task: see one of four symbols, then k distracting steps, then name the first symbol.
  `SequenceClassifier` is the course texts' listing (nn.LSTM, then a Linear on out[:, -1, :]) for any cell;
  `train_side_by_side` trains RNN, LSTM and GRU on it with the shared loop, bigmodel_core.train.fit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from bigmodel_core.device import device_for
from bigmodel_core.errors import UserInputError
from bigmodel_core.train import TrainConfig, TrainEvent, TrainHistory, accuracy, fit

MAX_STEPS = 40                                  # longest sequence the page steps through
CELL_CLASSES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
GATE_BLOCKS = {"rnn": 1, "lstm": 4, "gru": 3}   # rows of weight_ih_l0 per hidden unit


# ---------------------------------------------------------------------------------------------
# Inputs

@dataclass(frozen=True)
class Encoded:
    x: torch.Tensor                 # (T, I) the inputs x_1..x_T
    labels: tuple[str, ...]         # T labels for the time axis ('h', 'e', ... or 0.12, ...)
    kind: str                       # "text" or "sine"
    vocab: tuple[str, ...] = ()     # text: the characters behind the one-hot columns
    cut_from: int = 0               # text: original length when it was cut to MAX_STEPS, else 0

    @property
    def steps(self) -> int:
        return self.x.shape[0]


def encode_text(text: str, max_steps: int = MAX_STEPS) -> Encoded:
    """Characters -> one-hot vectors over the text's own sorted alphabet: (T, V)."""
    if not text or not text.strip():
        raise UserInputError("rnn.errors.empty")
    cut_from = len(text) if len(text) > max_steps else 0
    text = text[:max_steps]
    vocab = tuple(sorted(set(text)))
    index = torch.tensor([vocab.index(ch) for ch in text])          # (T,)
    x = F.one_hot(index, len(vocab)).float()                         # (T, V)
    return Encoded(x, tuple("␣" if ch == " " else ch for ch in text), "text", vocab, cut_from)


def sine_sequence(frequency: float = 2.0, noise: float = 0.1, steps: int = MAX_STEPS,
                  seed: int = 0) -> Encoded:
    """x_t = sin(2π f t / T) + noise, f cycles over the T steps: (T, 1)."""
    if not 1 <= steps <= MAX_STEPS:
        raise UserInputError("rnn.errors.steps", max=MAX_STEPS)
    gen = torch.Generator().manual_seed(seed)
    t = torch.arange(steps, dtype=torch.float32)
    x = torch.sin(2 * math.pi * frequency * t / steps) + noise * torch.randn(steps, generator=gen)
    return Encoded(x[:, None], tuple(f"{v:.2f}" for v in x.tolist()), "sine")


# ---------------------------------------------------------------------------------------------
# The stepping model: a cell and its output layer, trained on the learner's sequence

class NextStep(nn.Module):
    """h_t from the cell, then y_t = V h_t + c (softmax over characters, or a number for the sine)."""

    def __init__(self, kind: str, input_size: int, hidden_size: int, output_size: int):
        super().__init__()
        self.kind = kind
        self.cell = CELL_CLASSES[kind](input_size, hidden_size, batch_first=True)
        self.readout = nn.Linear(hidden_size, output_size)

    def forward(self, x):                       # x: (B, T, I)
        out, _ = self.cell(x)                   # (B, T, H) h_1..h_T
        return self.readout(out)                # (B, T, O) y_1..y_T


def fit_next_step(kind: str, seq: Encoded, hidden_size: int = 8, steps: int = 150,
                  lr: float = 0.03, seed: int = 0) -> NextStep:
    """Train a NextStep on one sequence to predict x_{t+1} from x_1..x_t (fixed seed)."""
    torch.manual_seed(seed)
    out_size = seq.x.shape[1] if seq.kind == "text" else 1
    model = NextStep(kind, seq.x.shape[1], hidden_size, out_size)
    if seq.steps < 2:                           # nothing to predict: keep the initial weights
        return model.eval()
    X = seq.x[None, :-1]                        # (1, T-1, I) inputs
    if seq.kind == "text":
        y = seq.x[1:].argmax(-1)[None]          # (1, T-1) next character ids
        loss_fn = lambda out, tgt: F.cross_entropy(out.flatten(0, 1), tgt.flatten())
    else:
        y = seq.x[None, 1:]                     # (1, T-1, 1) next values
        loss_fn = F.mse_loss
    fit(model, (X, y), TrainConfig(epochs=steps, lr=lr, batch_size=1, seed=seed, report_every=steps),
        loss_fn=loss_fn, device=device_for("rnn_next_step"))   # batch 1: the CPU on purpose
    return model.eval()


def readout_step(model: NextStep, h: torch.Tensor, seq: Encoded) -> dict:
    """y_t for one hidden state h (H,): the logits / value, and for text the predicted next char."""
    y = model.readout(h)                                             # (O,)
    if seq.kind == "text":
        p = torch.softmax(y, -1)                                     # g = softmax (course text 5 §3.2)
        k = int(p.argmax())
        return {"y": y, "probs": p, "char": seq.vocab[k], "p": float(p[k])}
    return {"y": y, "value": float(y[0])}                            # g = identity for numbers


def step_arrays(model: NextStep, seq: Encoded) -> dict:
    """What the page's step-through draws from, as float32 numpy arrays in PyTorch's layout.

    kind; x (T, I) the inputs; W = weight_ih_l0 (G*H, I), U = weight_hh_l0 (G*H, H), b_ih, b_hh (G*H,)
    (zeros without bias); V (O, H), c (O,) the output layer y_t = g(V h_t + c). Running
    bigmodel_core.ops.rnn's equations over x with these weights gives the cell's states h_1..h_T.
    """
    cell = model.cell
    W, U = cell.weight_ih_l0, cell.weight_hh_l0
    zeros = torch.zeros(W.shape[0])

    def f32(a: torch.Tensor):
        return a.detach().float().cpu().numpy()

    return {"kind": model.kind, "x": f32(seq.x), "W": f32(W), "U": f32(U),
            "b_ih": f32(cell.bias_ih_l0 if cell.bias else zeros), "b_hh": f32(cell.bias_hh_l0 if cell.bias else zeros),
            "V": f32(model.readout.weight), "c": f32(model.readout.bias)}


# ---------------------------------------------------------------------------------------------
# A cell with chosen weights for the gradient chart

def demo_cell(kind: str, input_size: int, hidden_size: int = 16, weight_scale: float = 1.0,
              seed: int = 0) -> nn.Module:
    """Random weights with U = scale x a random orthogonal matrix (every singular value = scale).

    For the plain RNN, scale < 1 makes ||dh_T/dh_t|| vanish and scale >= 2 makes it explode.
    The LSTM's forget gate and the GRU's update gate get bias +2 ("keep the memory by default",
    Jozefowicz et al. 2015), which is what lets their gradients travel.
    """
    gen = torch.Generator().manual_seed(seed)
    G, H = GATE_BLOCKS[kind], hidden_size
    cell = CELL_CLASSES[kind](input_size, H, batch_first=True)
    with torch.no_grad():
        cell.weight_ih_l0.copy_(torch.randn(G * H, input_size, generator=gen) * 0.5)
        for g in range(G):                                   # one orthogonal block per gate
            Q, _ = torch.linalg.qr(torch.randn(H, H, generator=gen))        # (H, H) orthogonal
            cell.weight_hh_l0[g * H:(g + 1) * H] = weight_scale * Q
        cell.bias_ih_l0.zero_()
        cell.bias_hh_l0.zero_()
        if kind in ("lstm", "gru"):
            cell.bias_ih_l0[H:2 * H] = 2.0                   # LSTM blocks i,f,g,o: f; GRU blocks r,z,n: z
    return cell.eval()


# ---------------------------------------------------------------------------------------------
# The memory task and three cells trained side by side

N_SYMBOLS = 4        # symbols to remember (the classes): A B C D
N_DISTRACT = 4       # symbols that only distract: w x y z
INPUT_SIZE = N_SYMBOLS + N_DISTRACT
SYMBOLS = "ABCDwxyz"


def recall_data(delay: int, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """n sequences of length delay+1: a symbol, then `delay` random symbols. X (n, k+1, 8), y (n,).

    The later symbols come from all eight (A B C D too), so the network must keep the first one
    and ignore every later A-D: it has to learn when *not* to write, which a gate does naturally.
    """
    gen = torch.Generator().manual_seed(seed)
    y = torch.randint(0, N_SYMBOLS, (n,), generator=gen)                       # (n,) what to recall
    noise = torch.randint(0, INPUT_SIZE, (n, delay), generator=gen)            # (n, k) distractors
    ids = torch.cat([y[:, None], noise], dim=1)                                # (n, k+1)
    return F.one_hot(ids, INPUT_SIZE).float(), y


class SequenceClassifier(nn.Module):
    """The course texts' listing (course text 1 §4.2): a recurrent layer, then fc on the last hidden state."""

    def __init__(self, kind: str, input_size: int = INPUT_SIZE, hidden_size: int = 32,
                 num_classes: int = N_SYMBOLS, memory_steps: int | None = None):
        super().__init__()
        self.rnn = CELL_CLASSES[kind](input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, num_classes)
        if memory_steps and kind != "rnn":
            chrono_init(self.rnn, memory_steps)

    def forward(self, x):                   # x: (B, T, I)
        out, _ = self.rnn(x)                # (B, T, H)
        return self.fc(out[:, -1, :])       # (B, classes) from h_T only


def chrono_init(cell: nn.Module, max_steps: int) -> None:
    """Chrono initialisation (Tallec & Ollivier 2018): gate biases that keep memories for 1..max_steps.

    LSTM: forget bias log(u), input bias -log(u), u ~ U(1, max_steps). GRU: update gate bias log(u).
    A keep-gate of sigmoid(log u) = u/(1+u) holds a memory for about u steps at the start of training.
    """
    H = cell.hidden_size
    with torch.no_grad():
        keep = torch.log(torch.empty(H).uniform_(1, max(2, max_steps)))      # (H,)
        cell.bias_ih_l0[H:2 * H] = keep                      # LSTM i,f,g,o -> f;  GRU r,z,n -> z
        cell.bias_hh_l0[H:2 * H] = 0
        if isinstance(cell, nn.LSTM):
            cell.bias_ih_l0[0:H] = -keep                     # the input gate starts mostly closed
            cell.bias_hh_l0[0:H] = 0


@dataclass(frozen=True)
class RecallConfig:
    delay: int = 40            # k: distracting steps between the symbol and the question
    hidden_size: int = 32      # units per cell
    train_size: int = 2048     # training sequences
    test_size: int = 512       # held-out sequences
    steps: int = 400           # optimizer steps per cell (the page's default budget)
    batch_size: int = 64
    lr: float = 0.01           # Adam
    seed: int = 0


@dataclass
class RecallResult:
    kind: str
    history: TrainHistory
    test_acc: float


def train_side_by_side(config: RecallConfig = RecallConfig(), kinds=("rnn", "lstm", "gru"), *,
                       on_progress: Callable[[str, TrainEvent], None] | None = None,
                       should_stop: Callable[[], bool] | None = None,
                       device: torch.device | None = None,
                       models_out: dict | None = None) -> dict[str, RecallResult]:
    """Train one SequenceClassifier per cell on the same data, same seed, same budget.

    The cells are torch.nn.RNN / LSTM / GRU, so on a GPU the 41 time steps run in cuDNN's fused
    kernels (device_for("rnn_side_by_side")); the page's step-through runs the same equations by
    hand (bigmodel_core.ops.rnn.run_sequence). models_out, if given, receives the trained models.
    """
    X, y = recall_data(config.delay, config.train_size, seed=config.seed)
    X_test, y_test = recall_data(config.delay, config.test_size, seed=config.seed + 1)
    epochs = math.ceil(config.steps * config.batch_size / config.train_size)
    train_cfg = TrainConfig(epochs=epochs, lr=config.lr, batch_size=config.batch_size,
                            seed=config.seed, max_steps=config.steps, report_every=10,
                            eval_every=max(10, config.steps // 10))
    results = {}
    for kind in kinds:
        torch.manual_seed(config.seed)                       # same initial draw for every cell
        model = SequenceClassifier(kind, INPUT_SIZE, config.hidden_size, N_SYMBOLS,
                                   memory_steps=config.delay + 1)    # gates: chrono init
        history = fit(model, (X, y), train_cfg, loss_fn=F.cross_entropy,
                      evaluate=lambda m: {"test_acc": accuracy(m, X_test, y_test)},
                      on_progress=(lambda e, k=kind: on_progress(k, e)) if on_progress else None,
                      should_stop=should_stop, device=device or device_for("rnn_side_by_side"))
        acc = history.evals[-1]["test_acc"] if history.evals else float("nan")
        results[kind] = RecallResult(kind, history, acc)
        if models_out is not None:
            models_out[kind] = model
        if history.reason == "stopped":
            break
    return results
