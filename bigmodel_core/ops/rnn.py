"""Recurrent cells written as their equations, one time step at a time (course text 1 §3.2, 3 §3.2.1).

    RNN   h_t = tanh(W x_t + U h_{t-1} + b)                               course text 1 §3.2, 5 §3.2
    LSTM  i, f, g, o = σ(W_i x + U_i h + b_i), σ(..f), tanh(..g), σ(..o)   the course texts' nn.LSTM listings
          c_t = f ⊙ c_{t-1} + i ⊙ g,   h_t = o ⊙ tanh(c_t)
    GRU   r = σ(W_r x + U_r h + b_r),  z = σ(W_z x + U_z h + b_z)         course text 3 §3.2.1
          n = tanh(W_n x + b_in + r ⊙ (U_n h + b_hn)),  h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}

The weights are laid out exactly as torch.nn.RNN / LSTM / GRU store them (weight_ih_l0 = W,
weight_hh_l0 = U, gate blocks in PyTorch's order i,f,g,o and r,z,n), so `run_sequence(module, x)`
reproduces the module's outputs with nothing but these equations. `hidden_state_gradients` measures
||dh_T/dh_t|| with autograd: the vanishing (and exploding) gradient that LSTM and GRU were made for.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

CELLS = ("rnn", "lstm", "gru")


# ---------------------------------------------------------------------------------------------
# One step of each cell. x: (I,), h_prev / c_prev: (H,). Every intermediate is returned.

@dataclass
class RNNStep:
    x: torch.Tensor        # (I,)  x_t
    h_prev: torch.Tensor   # (H,)  h_{t-1}
    Wx: torch.Tensor       # (H,)  W x_t
    Uh: torch.Tensor       # (H,)  U h_{t-1}
    b: torch.Tensor        # (H,)  b (PyTorch's b_ih + b_hh)
    pre: torch.Tensor      # (H,)  W x_t + U h_{t-1} + b
    h: torch.Tensor        # (H,)  h_t = tanh(pre)


def rnn_step(x, h_prev, W, U, b, nonlinearity: str = "tanh") -> RNNStep:
    """h_t = f(W x_t + U h_{t-1} + b) with f = tanh (course text 1 §3.2). W: (H, I), U: (H, H), b: (H,)."""
    Wx = W @ x                                   # (H,)
    Uh = U @ h_prev                              # (H,)
    pre = Wx + Uh + b                            # (H,) the pre-activation
    h = torch.tanh(pre) if nonlinearity == "tanh" else torch.relu(pre)
    return RNNStep(x, h_prev, Wx, Uh, b, pre, h)


@dataclass
class LSTMStep:
    x: torch.Tensor        # (I,)
    h_prev: torch.Tensor   # (H,)
    c_prev: torch.Tensor   # (H,)  c_{t-1}
    i: torch.Tensor        # (H,)  input gate
    f: torch.Tensor        # (H,)  forget gate
    g: torch.Tensor        # (H,)  candidate cell value
    o: torch.Tensor        # (H,)  output gate
    c: torch.Tensor        # (H,)  cell state c_t
    h: torch.Tensor        # (H,)  h_t
    pre: torch.Tensor      # (4H,) the four pre-activations, PyTorch's order i, f, g, o


def lstm_step(x, h_prev, c_prev, W, U, b) -> LSTMStep:
    """The LSTM of the course texts' listings (nn.LSTM). W: (4H, I), U: (4H, H), b: (4H,) = b_ih + b_hh."""
    pre = W @ x + U @ h_prev + b                 # (4H,) all gates at once
    a_i, a_f, a_g, a_o = pre.chunk(4)            # 4 x (H,)
    i = torch.sigmoid(a_i)                       # how much new information to write
    f = torch.sigmoid(a_f)                       # how much of the old cell to keep
    g = torch.tanh(a_g)                          # the new information
    o = torch.sigmoid(a_o)                       # how much of the cell to show
    c = f * c_prev + i * g                       # (H,) the cell state: an additive memory
    h = o * torch.tanh(c)                        # (H,)
    return LSTMStep(x, h_prev, c_prev, i, f, g, o, c, h, pre)


@dataclass
class GRUStep:
    x: torch.Tensor        # (I,)
    h_prev: torch.Tensor   # (H,)
    r: torch.Tensor        # (H,)  reset gate
    z: torch.Tensor        # (H,)  update gate (1 = keep h_{t-1})
    n: torch.Tensor        # (H,)  candidate state
    h: torch.Tensor        # (H,)  h_t


def gru_step(x, h_prev, W, U, b_ih, b_hh) -> GRUStep:
    """The gated recurrent unit (course text 3 §3.2.1) in nn.GRU's form, where r multiplies (U_n h + b_hn).

    W: (3H, I), U: (3H, H), b_ih / b_hh: (3H,), gate blocks in PyTorch's order r, z, n.
    """
    gx = W @ x + b_ih                            # (3H,) input part of every gate
    gh = U @ h_prev + b_hh                       # (3H,) recurrent part of every gate
    x_r, x_z, x_n = gx.chunk(3)
    h_r, h_z, h_n = gh.chunk(3)
    r = torch.sigmoid(x_r + h_r)                 # which parts of h_{t-1} the candidate may read
    z = torch.sigmoid(x_z + h_z)                 # how much of h_{t-1} to keep
    n = torch.tanh(x_n + r * h_n)                # the candidate new state
    h = (1 - z) * n + z * h_prev                 # (H,) a gated mix: z near 1 copies the past
    return GRUStep(x, h_prev, r, z, n, h)


# ---------------------------------------------------------------------------------------------
# A whole sequence with a torch module's weights

@dataclass
class SequenceRun:
    kind: str                                    # "rnn", "lstm" or "gru"
    hidden_states: torch.Tensor                  # (T, H) h_1..h_T
    steps: list = field(default_factory=list)    # T step records (RNNStep / LSTMStep / GRUStep)
    cell_states: torch.Tensor | None = None      # (T, H) c_1..c_T, LSTM only

    def gates(self) -> dict[str, torch.Tensor]:
        """Every per-step intermediate stacked over time: name -> (T, H)."""
        names = {"rnn": ("pre", "h"), "lstm": ("i", "f", "g", "o", "c", "h"),
                 "gru": ("r", "z", "n", "h")}[self.kind]
        return {k: torch.stack([getattr(s, k) for s in self.steps]) for k in names}

    @property
    def final_state(self):
        """What the module returns as h_n (and c_n): (H,) tensors."""
        h = self.hidden_states[-1]
        return (h, self.cell_states[-1]) if self.kind == "lstm" else h


def cell_kind(module: nn.Module) -> str:
    if isinstance(module, nn.LSTM):
        return "lstm"
    if isinstance(module, nn.GRU):
        return "gru"
    if isinstance(module, nn.RNN):
        return "rnn"
    raise TypeError(f"expected nn.RNN, nn.LSTM or nn.GRU, got {type(module).__name__}")


def _weights(module: nn.Module):
    """(W, U, b_ih, b_hh) of layer 0; zeros where the module has bias=False."""
    if module.num_layers != 1 or module.bidirectional:
        raise ValueError("run_sequence explains a single-layer, one-direction cell")
    W, U = module.weight_ih_l0, module.weight_hh_l0       # (G*H, I), (G*H, H)
    zeros = torch.zeros(W.shape[0], dtype=W.dtype, device=W.device)
    b_ih = module.bias_ih_l0 if module.bias else zeros
    b_hh = module.bias_hh_l0 if module.bias else zeros
    return W, U, b_ih, b_hh


def cell_step(kind: str, x_t, h, c, W, U, b_ih, b_hh, nonlinearity: str = "tanh"):
    """One time step of an "rnn", "lstm" or "gru" cell with PyTorch's weight layout."""
    if kind == "rnn":
        return rnn_step(x_t, h, W, U, b_ih + b_hh, nonlinearity)
    if kind == "lstm":
        return lstm_step(x_t, h, c, W, U, b_ih + b_hh)
    return gru_step(x_t, h, W, U, b_ih, b_hh)


def run_sequence(module: nn.Module, x: torch.Tensor, h0: torch.Tensor | None = None,
                 c0: torch.Tensor | None = None) -> SequenceRun:
    """Run a single-layer nn.RNN / LSTM / GRU over x (T, I) with the step equations above."""
    kind = cell_kind(module)
    W, U, b_ih, b_hh = _weights(module)
    T, I = x.shape
    H = module.hidden_size
    h = torch.zeros(H, dtype=W.dtype, device=W.device) if h0 is None else h0   # (H,) h_0
    c = torch.zeros(H, dtype=W.dtype, device=W.device) if c0 is None else c0   # (H,) c_0
    steps = []
    for t in range(T):                                   # h_1 .. h_T, one equation per step
        s = cell_step(kind, x[t], h, c, W, U, b_ih, b_hh, getattr(module, "nonlinearity", "tanh"))
        h, c = s.h, (s.c if kind == "lstm" else c)
        steps.append(s)
    hs = torch.stack([s.h for s in steps])               # (T, H)
    cs = torch.stack([s.c for s in steps]) if kind == "lstm" else None
    return SequenceRun(kind, hs, steps, cs)


def hidden_state_gradients(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """||dh_T/dh_t|| (Frobenius norm of the H x H Jacobian) for t = 1..T, by autograd: (T,).

    Backpropagation through time multiplies one Jacobian per step; for the plain RNN
    dh_T/dh_t = prod_{k=t+1..T} diag(1 - h_k^2) U, which shrinks or grows geometrically.
    A zero "probe" d_t is added to every h_t; dh_T/dd_t is then dh_T/dh_t along every path
    (for the LSTM also through the cell states c_{t+1}..c_T). Entry T is ||I|| = sqrt(H).
    """
    kind = cell_kind(module)
    W, U, b_ih, b_hh = (w.detach() for w in _weights(module))
    x = x.detach()
    T, H = x.shape[0], module.hidden_size
    h = torch.zeros(H, dtype=W.dtype, device=W.device)     # (H,) h_0
    c = torch.zeros(H, dtype=W.dtype, device=W.device)     # (H,) c_0
    probes = []                                            # T x (H,) zeros that h_t passes through
    for t in range(T):
        s = cell_step(kind, x[t], h, c, W, U, b_ih, b_hh, getattr(module, "nonlinearity", "tanh"))
        c = s.c if kind == "lstm" else c
        probe = torch.zeros(H, dtype=W.dtype, device=W.device, requires_grad=True)
        probes.append(probe)
        h = s.h + probe                                    # h_t, with a handle to differentiate by
    sq = torch.zeros(T, dtype=W.dtype, device=W.device)    # (T,) sum of squared Jacobian entries
    for j in range(H):                                     # row j of every dh_T/dh_t at once
        rows = torch.autograd.grad(h[j], probes, retain_graph=j < H - 1, allow_unused=True)
        sq += torch.stack([(r.pow(2).sum() if r is not None else sq.new_zeros(())) for r in rows])
    return sq.sqrt()                                       # (T,) for t = 1..T
