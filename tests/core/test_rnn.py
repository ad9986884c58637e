"""Recurrent cells as equations vs torch.nn.RNN / LSTM / GRU, gradients through time, the memory task."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import bigmodel_core
from bigmodel_core.errors import UserInputError
from bigmodel_core.models import rnn as M
from bigmodel_core.ops.rnn import gru_step, hidden_state_gradients, lstm_step, rnn_step, run_sequence

CASES = [(nn.RNN, 3, 5, 1), (nn.RNN, 7, 16, 23), (nn.LSTM, 4, 6, 9), (nn.LSTM, 10, 3, 40),
         (nn.GRU, 2, 8, 17), (nn.GRU, 9, 12, 1)]


@pytest.mark.parametrize("cls,I,H,T", CASES)
@pytest.mark.parametrize("seed", [0, 1])
def test_run_sequence_matches_torch_modules(cls, I, H, T, seed):
    torch.manual_seed(seed)
    module = cls(I, H, batch_first=True).double()            # float64: exact up to rounding
    with torch.no_grad():                                      # random weights, not just the init
        for p in module.parameters():
            p.normal_(0, 0.6)
    x = torch.randn(T, I, dtype=torch.float64)
    with torch.no_grad():
        out, state = module(x[None])                           # (1, T, H)
        ours = run_sequence(module, x)
    assert ours.hidden_states.shape == (T, H)
    torch.testing.assert_close(ours.hidden_states, out[0], atol=1e-10, rtol=1e-10)
    if cls is nn.LSTM:
        h_n, c_n = state
        torch.testing.assert_close(ours.final_state[0], h_n[0, 0], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(ours.final_state[1], c_n[0, 0], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(ours.cell_states[-1], c_n[0, 0], atol=1e-5, rtol=1e-5)
    else:
        torch.testing.assert_close(ours.final_state, state[0, 0], atol=1e-5, rtol=1e-5)
    assert len(ours.steps) == T
    for name, values in ours.gates().items():
        assert values.shape == (T, H), name


def test_matches_without_bias_with_relu_and_with_initial_state():
    torch.manual_seed(3)
    x = torch.randn(12, 4)
    for module in (nn.RNN(4, 6, nonlinearity="relu", batch_first=True), nn.GRU(4, 6, bias=False, batch_first=True)):
        h0 = torch.randn(6)
        with torch.no_grad():
            out, _ = module(x[None], h0[None, None])
            torch.testing.assert_close(run_sequence(module, x, h0=h0).hidden_states, out[0], atol=1e-5, rtol=1e-5)


def test_step_intermediates_follow_the_equations():
    torch.manual_seed(0)
    I, H = 5, 4
    x, h, c = torch.randn(I), torch.randn(H), torch.randn(H)
    W, U, b = torch.randn(H, I), torch.randn(H, H), torch.randn(H)
    s = rnn_step(x, h, W, U, b)
    torch.testing.assert_close(s.Wx + s.Uh + s.b, s.pre)      # the formula panel adds up
    torch.testing.assert_close(torch.tanh(s.pre), s.h)
    torch.testing.assert_close(s.h, torch.tanh(W @ x + U @ h + b))
    W4, U4, b4 = torch.randn(4 * H, I), torch.randn(4 * H, H), torch.randn(4 * H)
    ls = lstm_step(x, h, c, W4, U4, b4)
    assert ((ls.i > 0) & (ls.i < 1) & (ls.f > 0) & (ls.f < 1) & (ls.o > 0) & (ls.o < 1)).all()
    torch.testing.assert_close(ls.c, ls.f * c + ls.i * ls.g)
    torch.testing.assert_close(ls.h, ls.o * torch.tanh(ls.c))
    cell = nn.LSTMCell(I, H)
    with torch.no_grad():
        cell.weight_ih.copy_(W4), cell.weight_hh.copy_(U4), cell.bias_ih.copy_(b4), cell.bias_hh.zero_()
        h_ref, c_ref = cell(x[None], (h[None], c[None]))
    torch.testing.assert_close(ls.h, h_ref[0]), torch.testing.assert_close(ls.c, c_ref[0])
    W3, U3, bi, bh = torch.randn(3 * H, I), torch.randn(3 * H, H), torch.randn(3 * H), torch.randn(3 * H)
    gs = gru_step(x, h, W3, U3, bi, bh)
    torch.testing.assert_close(gs.h, (1 - gs.z) * gs.n + gs.z * h)
    gcell = nn.GRUCell(I, H)
    with torch.no_grad():
        gcell.weight_ih.copy_(W3), gcell.weight_hh.copy_(U3), gcell.bias_ih.copy_(bi), gcell.bias_hh.copy_(bh)
        torch.testing.assert_close(gs.h, gcell(x[None], h[None])[0])


def test_gradients_match_an_explicit_jacobian_product():
    torch.manual_seed(1)
    module = nn.RNN(3, 5, batch_first=True)
    x = torch.randn(8, 3)
    norms = hidden_state_gradients(module, x)
    assert norms.shape == (8,)
    assert math.isclose(float(norms[-1]), math.sqrt(5), rel_tol=1e-5)   # dh_T/dh_T = I
    with torch.no_grad():
        hs = run_sequence(module, x).hidden_states                      # (T, H)
    U = module.weight_hh_l0.detach()
    jac = torch.eye(5)
    for t in range(7, 0, -1):                                           # dh_T/dh_t, t = 7 .. 1 (1-based)
        jac = jac @ torch.diag(1 - hs[t] ** 2) @ U
        assert math.isclose(float(jac.norm()), float(norms[t - 1]), rel_tol=1e-4)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_gated_gradients_match_autograd_jacobian(kind):
    torch.manual_seed(2)
    module = M.CELL_CLASSES[kind](3, 4, batch_first=True)
    x = torch.randn(6, 3)
    norms = hidden_state_gradients(module, x)
    t = 2                                               # perturb h_2 (index 1), cell state fixed

    def h_T_from(h_t):
        W, U = module.weight_ih_l0, module.weight_hh_l0
        b_ih, b_hh = module.bias_ih_l0, module.bias_hh_l0
        h, c = h_t, run_sequence(module, x[:t]).cell_states[-1] if kind == "lstm" else None
        for k in range(t, 6):
            s = lstm_step(x[k], h, c, W, U, b_ih + b_hh) if kind == "lstm" else gru_step(x[k], h, W, U, b_ih, b_hh)
            h, c = s.h, getattr(s, "c", None)
        return h
    with torch.no_grad():
        h_t = run_sequence(module, x[:t]).hidden_states[-1]
    jac = torch.autograd.functional.jacobian(h_T_from, h_t)
    assert math.isclose(float(jac.norm()), float(norms[t - 1]), rel_tol=1e-4)


def test_gradients_vanish_for_small_weights_and_explode_for_large():
    seq = M.encode_text("recurrent networks forget")                     # T = 25
    small = hidden_state_gradients(M.demo_cell("rnn", seq.x.shape[1], 16, weight_scale=0.5), seq.x)
    large = hidden_state_gradients(M.demo_cell("rnn", seq.x.shape[1], 16, weight_scale=4.0), seq.x)
    T = seq.steps
    assert small[0] < 1e-6 * small[-1]                                 # fades geometrically
    assert (small[1:] >= small[:-1] * 0.999).all()                     # and monotonically
    assert large[0] > 1e2 * large[-1]                                  # blows up
    for kind in ("lstm", "gru"):                                       # gated cells stay in range
        g = hidden_state_gradients(M.demo_cell(kind, seq.x.shape[1], 16, weight_scale=1.0), seq.x)
        assert 1e-4 < float(g[0]) < 1e2, (kind, g[0])
    assert T == 25


def test_text_encoding_one_hot_cut_and_empty():
    e = M.encode_text("hello")
    assert e.x.shape == (5, 4) and e.vocab == ("e", "h", "l", "o")
    assert torch.equal(e.x.sum(1), torch.ones(5))
    assert e.labels == ("h", "e", "l", "l", "o") and e.cut_from == 0
    long = "x" * 30 + "y" * 30
    e = M.encode_text(long)
    assert e.steps == M.MAX_STEPS == 40 and e.cut_from == 60
    with pytest.raises(UserInputError) as err:
        M.encode_text("")
    assert err.value.key == "rnn.errors.empty"
    assert "character" in str(err.value)
    with pytest.raises(UserInputError):
        M.encode_text("  \n ")


def test_sine_sequence_frequency_and_noise():
    clean = M.sine_sequence(frequency=2.0, noise=0.0)
    assert clean.x.shape == (40, 1)
    expected = torch.sin(2 * math.pi * 2.0 * torch.arange(40.0) / 40)
    torch.testing.assert_close(clean.x[:, 0], expected)
    noisy = M.sine_sequence(frequency=2.0, noise=0.3)
    assert 0.2 < float((noisy.x - clean.x).std()) < 0.4
    with pytest.raises(UserInputError):
        M.sine_sequence(steps=0)


def test_next_step_model_learns_a_repeating_text():
    seq = M.encode_text("abcabcabcabc")
    model = M.fit_next_step("rnn", seq)
    with torch.no_grad():
        run = run_sequence(model.cell, seq.x)
        out = M.readout_step(model, run.hidden_states[6], seq)          # after reading 'a' at t=7
        full = model(seq.x[None])[0, 6]
    assert out["char"] == "b" and out["p"] > 0.5
    torch.testing.assert_close(out["y"], full, atol=1e-5, rtol=1e-5)    # the step path = the module


def test_recall_data_is_the_task_it_claims():
    X, y = M.recall_data(delay=6, n=50, seed=0)
    assert X.shape == (50, 7, M.INPUT_SIZE) and y.shape == (50,)
    assert torch.equal(X[:, 0].argmax(-1), y)                             # the first symbol is the answer
    later = X[:, 1:].argmax(-1)                                           # the rest: any of the 8 symbols
    assert (later < M.INPUT_SIZE).all() and (later < M.N_SYMBOLS).any() and (later >= M.N_SYMBOLS).any()


@pytest.fixture
def one_thread():
    """Tiny recurrent models run fastest on one thread (and do not fight other processes)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_lstm_and_gru_beat_the_plain_rnn_on_a_long_delay(one_thread):
    cfg = M.RecallConfig()                                                # the page's defaults: k = 40
    results = M.train_side_by_side(cfg)
    acc = {k: r.test_acc for k, r in results.items()}
    # the plain RNN learns a little (0.48 on a CPU, 0.51 with cuDNN on an H200): far below the gated cells
    assert acc["rnn"] < 0.6, acc
    assert acc["lstm"] > acc["rnn"] + 0.25 and acc["gru"] > acc["rnn"] + 0.25, acc
    assert all(r.history.reason == "finished" for r in results.values())


def test_short_delay_is_easy_for_every_cell(one_thread):
    results = M.train_side_by_side(M.RecallConfig(delay=2, steps=150, train_size=1024))
    assert all(r.test_acc > 0.9 for r in results.values()), {k: r.test_acc for k, r in results.items()}


def test_public_names():
    for name in ("rnn_step", "lstm_step", "gru_step", "run_sequence", "hidden_state_gradients"):
        assert callable(getattr(bigmodel_core, name))


def test_chrono_init_opens_the_keep_gates():
    torch.manual_seed(0)
    lstm = M.SequenceClassifier("lstm", memory_steps=41).rnn
    H = lstm.hidden_size
    f_bias = lstm.bias_ih_l0[H:2 * H] + lstm.bias_hh_l0[H:2 * H]
    assert (f_bias >= 0).all() and (f_bias <= math.log(41)).all()
    torch.testing.assert_close(lstm.bias_ih_l0[:H], -lstm.bias_ih_l0[H:2 * H])
    plain = M.SequenceClassifier("rnn", memory_steps=41).rnn            # the plain RNN has no gates
    assert plain.bias_ih_l0.abs().max() <= 1 / math.sqrt(32)


def test_trained_side_by_side_cells_give_the_step_through_numbers(one_thread):
    """The side-by-side run trains torch.nn.RNN / LSTM / GRU (cuDNN on a GPU); the page's step-through
    runs the by-hand cells (ops.rnn). With the trained weights shared, both give the same h_t and logits."""
    from tests.conftest import tolerance
    cfg = M.RecallConfig(delay=6, steps=20, train_size=256, test_size=64)
    results = M.train_side_by_side(cfg, models_out=(models := {}))
    X, _ = M.recall_data(cfg.delay, 5, seed=9)                            # (5, 7, 8)
    for kind, model in models.items():
        assert isinstance(model.rnn, M.CELL_CLASSES[kind]) and results[kind].history.reason == "finished"
        dev = next(model.parameters()).device
        with torch.no_grad():
            out, _ = model.rnn(X.to(dev))                                 # (5, 7, H) the library's kernel
            logits = model(X.to(dev))                                     # (5, 4)
            for i in range(len(X)):
                run = run_sequence(model.rnn, X[i].to(dev))               # by hand, step by step
                torch.testing.assert_close(run.hidden_states, out[i], rtol=tolerance(1e-5), atol=tolerance(1e-6))
                torch.testing.assert_close(model.fc(run.hidden_states[-1]), logits[i],
                                           rtol=tolerance(1e-5), atol=tolerance(1e-6))
