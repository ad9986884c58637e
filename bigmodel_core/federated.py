"""Federated learning: FedAvg over simulated clients that never share their digits (course text 3 §7, privacy).

    cfg = FedConfig(n_clients=10, split="two_classes", rounds=10, local_epochs=1, fraction=0.5)
    clients = split_clients(y_train, cfg)                   # a list of index arrays, one per client
    result = fedavg(cfg, (X_train, y_train), (X_test, y_test), on_round=print)
    central = central_curve(cfg, (X_train, y_train), (X_test, y_test))   # the same steps, all data in one place

FederatedAveraging (McMahan, Moore, Ramage, Hampson & Agüera y Arcas 2017, "Communication-Efficient
Learning of Deep Networks from Decentralized Data", Algorithm 1):

    server: w_0 = init; for each round t = 1..T:
        S_t = a random set of m = max(1, round(C K)) of the K clients
        each client k in S_t, in parallel: w_k = ClientUpdate(k, w_{t-1})   (E epochs of SGD, batch B,
                                                                             on its own n_k digits)
        w_t = sum_{k in S_t} (n_k / n) w_k,   n = sum_{k in S_t} n_k

Only weights travel; the digits stay on their client. ClientUpdate is bigmodel_core.train.fit, the
one training loop every page uses. Splits: "iid" (shuffled, equal shares) or "two_classes" (the
paper's pathological non-IID case: each client holds the digits of exactly two classes).

Optional privacy noise, the idea of DP-FedAvg (McMahan et al. 2018, "Learning Differentially Private
Recurrent Language Models"): clip each client's update Delta_k = w_k - w_{t-1} to L2 norm <= S, average
the clipped updates with equal weights, and add Gaussian noise N(0, (sigma S / m)^2) to every
coordinate. This shows the cost in accuracy; it does not compute a formal privacy budget (epsilon).
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bigmodel_core.errors import UserInputError
from bigmodel_core.train import TrainConfig, accuracy, fit

SPLITS = ("iid", "two_classes")
MAX_CLIENTS = 20
MAX_ROUNDS = 30


@dataclass(frozen=True)
class FedConfig:
    n_clients: int = 10         # K simulated clients (phones, hospitals, ...)
    split: str = "iid"          # "iid" or "two_classes" (each client holds about two digits)
    rounds: int = 10            # T communication rounds
    local_epochs: int = 1       # E passes over its own data per round
    fraction: float = 0.5       # C: share of clients asked each round (at least one)
    lr: float = 0.05            # client SGD learning rate
    batch_size: int = 32        # B: client mini-batch size
    clip: float = 0.0           # S: clip each client's update to this L2 norm (0 = no clipping)
    noise: float = 0.0          # sigma: Gaussian noise std on the averaged update, in units of S / m
    seed: int = 0               # initialization, client sampling, the split, local shuffling

    @property
    def clients_per_round(self) -> int:
        return max(1, round(self.fraction * self.n_clients))


def validate(cfg: FedConfig) -> None:
    """Refuse settings FedAvg cannot run with, with a message the learner can act on."""
    if not 1 <= cfg.n_clients <= MAX_CLIENTS:
        raise UserInputError("robustness.errors.clients", n=cfg.n_clients, max_clients=MAX_CLIENTS)
    if not 1 <= cfg.rounds <= MAX_ROUNDS:
        raise UserInputError("robustness.errors.rounds", n=cfg.rounds, max_rounds=MAX_ROUNDS)
    if cfg.local_epochs < 1:
        raise UserInputError("robustness.errors.local_epochs", n=cfg.local_epochs)
    if not (0.0 < cfg.fraction <= 1.0):
        raise UserInputError("robustness.errors.fraction", fraction=cfg.fraction)
    if cfg.split not in SPLITS:
        raise UserInputError("robustness.errors.split", split=cfg.split)
    if not (math.isfinite(cfg.lr) and cfg.lr > 0):
        raise UserInputError("robustness.errors.lr", lr=cfg.lr)
    if cfg.noise < 0 or cfg.clip < 0 or (cfg.noise > 0 and cfg.clip == 0):
        raise UserInputError("robustness.errors.noise")


def split_clients(y: torch.Tensor | np.ndarray, cfg: FedConfig) -> list[np.ndarray]:
    """Indices of each client's digits. "iid": a shuffle cut into K near-equal parts. "two_classes":
    every client holds exactly two digit classes (the paper's pathological non-IID case): clients
    are taken five at a time, each group pairs up a fresh random order of the ten classes, and each
    class's digits are shared out equally among the clients that hold it.
    Raises UserInputError if a client would be left with no data."""
    validate(cfg)
    y = np.asarray(y)
    rng = np.random.default_rng(cfg.seed)
    K = cfg.n_clients
    if cfg.split == "iid":
        parts = np.array_split(rng.permutation(len(y)), K)
    else:
        classes = int(y.max()) + 1 if len(y) else 10
        perms = [rng.permutation(classes) for _ in range(math.ceil(2 * K / classes))]
        pairs = [(perms[k * 2 // classes][(2 * k) % classes], perms[k * 2 // classes][(2 * k + 1) % classes])
                 for k in range(K)]                                        # two different classes each
        holders = {c: [k for k, pair in enumerate(pairs) if c in pair] for c in range(classes)}
        parts_l: list[list[np.ndarray]] = [[] for _ in range(K)]
        for c, ks in holders.items():
            if ks:
                for k, share in zip(ks, np.array_split(rng.permutation(np.flatnonzero(y == c)), len(ks))):
                    parts_l[k].append(share)
        parts = [np.concatenate(p) if p else np.zeros(0, dtype=np.int64) for p in parts_l]
    check_clients([len(p) for p in parts])
    return parts


def check_clients(sizes: list[int]) -> None:
    for k, n in enumerate(sizes):
        if n == 0:
            raise UserInputError("robustness.errors.empty_client", client=k + 1)


# ---------------------------------------------------------------------------------------------
# The algorithm

@dataclass
class RoundRecord:
    round: int                  # 1-based
    clients: list[int]          # the clients asked this round (0-based)
    accuracy: float             # the global model's held-out accuracy after the round
    client_loss: float          # mean local training loss of the round's clients
    update_norm: float          # L2 norm of the averaged update w_t - w_{t-1}
    seconds: float


@dataclass
class FedResult:
    config: FedConfig
    rounds: list[RoundRecord] = field(default_factory=list)
    initial_accuracy: float = 0.0
    reason: str = "finished"    # "finished", "stopped" or "diverged"
    diverged_round: int | None = None
    client_sizes: list[int] = field(default_factory=list)
    client_classes: list[list[int]] = field(default_factory=list)
    n_parameters: int = 0
    seconds: float = 0.0
    model: nn.Module | None = None

    @property
    def diverged(self) -> bool:
        return self.reason == "diverged"

    def bytes_sent(self) -> list[int]:
        """Per client: bytes sent to the server (float32 weights, once per round it took part)."""
        counts = [0] * len(self.client_sizes)
        for r in self.rounds:
            for k in r.clients:
                counts[k] += 1
        return [c * self.n_parameters * 4 for c in counts]


def client_config(cfg: FedConfig, round_idx: int, client: int) -> TrainConfig:
    """ClientUpdate's settings: E epochs of plain SGD with batch B; its own shuffling seed."""
    return TrainConfig(epochs=cfg.local_epochs, lr=cfg.lr, batch_size=cfg.batch_size, optimizer="sgd",
                       seed=cfg.seed + 1000 * round_idx + client, report_every=10**9)


def _flat(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])      # (P,)


def _load_flat(model: nn.Module, flat: torch.Tensor) -> None:
    i = 0
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(flat[i:i + p.numel()].view_as(p))
            i += p.numel()


def fedavg_clients(global_model: nn.Module, clients: list[tuple[torch.Tensor, torch.Tensor]], cfg: FedConfig,
                   evaluate: Callable[[nn.Module], float], *,
                   on_round: Callable[[RoundRecord], None] | None = None,
                   should_stop: Callable[[], bool] | None = None) -> FedResult:
    """FedAvg (Algorithm 1) on explicit client data [(X_k, y_k), ...]; trains global_model in place.

    evaluate(model) -> held-out accuracy, called once before training and after every round.
    """
    validate(cfg)
    check_clients([len(yk) for _, yk in clients])
    K = len(clients)
    device = next(global_model.parameters()).device
    rng = np.random.default_rng(cfg.seed + 1)
    m = max(1, round(cfg.fraction * K))
    gen = torch.Generator().manual_seed(cfg.seed + 2)                      # the privacy noise
    res = FedResult(cfg, n_parameters=sum(p.numel() for p in global_model.parameters()),
                    client_sizes=[len(yk) for _, yk in clients],
                    client_classes=[sorted(set(int(v) for v in torch.as_tensor(yk).tolist())) for _, yk in clients])
    t0 = time.perf_counter()
    global_model.eval()
    res.initial_accuracy = evaluate(global_model)
    for t in range(cfg.rounds):
        if should_stop and should_stop():
            res.reason = "stopped"
            break
        t_round = time.perf_counter()
        chosen = sorted(int(k) for k in rng.choice(K, size=m, replace=False))   # S_t
        w_prev = _flat(global_model)                                           # (P,)
        client_weights, weights, losses = [], [], []
        for k in chosen:                                                       # "in parallel" on devices
            local = copy.deepcopy(global_model)
            hist = fit(local, clients[k], client_config(cfg, t, k), loss_fn=F.cross_entropy, device=device)
            if hist.diverged:
                res.reason, res.diverged_round = "diverged", t + 1
                break
            client_weights.append(_flat(local))                                     # w_k, sent to the server
            weights.append(len(clients[k][1]))
            losses.append(hist.train_loss[-1] if hist.train_loss else float("nan"))
        if res.diverged:
            break
        W = torch.stack(client_weights)                                             # (m, P): the clients' w_k
        if cfg.clip > 0:                                                       # DP-FedAvg: clip, equal weights
            U = W - w_prev                                                     # Delta_k = w_k - w_{t-1}
            norms = U.norm(dim=1, keepdim=True)                                # (m, 1)
            U = U * torch.clamp(cfg.clip / norms.clamp_min(1e-12), max=1.0)    # each ||Delta_k|| <= S
            w_new = w_prev + U.mean(0)
            if cfg.noise > 0:                                                  # + N(0, (sigma S / m)^2)
                w_new = w_new + torch.randn(W.shape[1], generator=gen).to(device) * cfg.noise * cfg.clip / m
        else:                                                                  # Algorithm 1 as written:
            w = torch.tensor(weights, dtype=W.dtype, device=device) / sum(weights)   # n_k / n
            w_new = (w[:, None] * W).sum(0)                                    # sum_k (n_k / n) w_k
        delta = w_new - w_prev
        if not torch.isfinite(delta).all():
            res.reason, res.diverged_round = "diverged", t + 1
            break
        _load_flat(global_model, w_new)                                        # w_t
        global_model.eval()
        rec = RoundRecord(t + 1, chosen, float(evaluate(global_model)), float(np.mean(losses)),
                          float(delta.norm()), time.perf_counter() - t_round)
        res.rounds.append(rec)
        if on_round:
            on_round(rec)
    res.seconds = time.perf_counter() - t0
    res.model = global_model
    return res


def fedavg(cfg: FedConfig, train: tuple[torch.Tensor, torch.Tensor], test: tuple[torch.Tensor, torch.Tensor],
           *, model_fn: Callable[[int], nn.Module] | None = None, device: torch.device | None = None,
           on_round: Callable[[RoundRecord], None] | None = None,
           should_stop: Callable[[], bool] | None = None) -> FedResult:
    """Split the training digits over cfg.n_clients clients and run FedAvg from a fresh model.

    model_fn(seed) builds the model (default: the course CNN, bigmodel_core.models.cnn.new_cnn).
    """
    from bigmodel_core.device import get_device
    from bigmodel_core.models.cnn import new_cnn
    device = device or get_device()
    X, y = train
    parts = split_clients(y, cfg)
    clients = [(X[torch.from_numpy(p)], y[torch.from_numpy(p)]) for p in parts]
    model = (model_fn or new_cnn)(cfg.seed).to(device)
    X_test, y_test = test[0].to(device), test[1].to(device)
    return fedavg_clients(model, clients, cfg, lambda m: accuracy(m, X_test, y_test),
                          on_round=on_round, should_stop=should_stop)


def central_curve(cfg: FedConfig, train: tuple[torch.Tensor, torch.Tensor], test: tuple[torch.Tensor, torch.Tensor],
                  *, model_fn: Callable[[int], nn.Module] | None = None,
                  device: torch.device | None = None) -> dict:
    """The same model, SGD, lr and batch size trained on all the digits in one place, for as many
    samples as FedAvg processes per round (m clients x n/K digits x E epochs), evaluated at each
    round's mark. Returns {"rounds": [1..T], "accuracy": [...], "reason", "diverged_at"}."""
    from bigmodel_core.device import get_device
    from bigmodel_core.models.cnn import new_cnn
    validate(cfg)
    device = device or get_device()
    X, y = train
    model = (model_fn or new_cnn)(cfg.seed).to(device)
    X_test, y_test = test[0].to(device), test[1].to(device)
    per_round = cfg.clients_per_round * math.ceil(len(y) / cfg.n_clients) * cfg.local_epochs   # samples
    steps = max(1, math.ceil(per_round / cfg.batch_size))
    epochs = math.ceil(steps * cfg.rounds * cfg.batch_size / len(y))
    hist = fit(model, (X, y), TrainConfig(epochs=epochs, lr=cfg.lr, batch_size=cfg.batch_size, optimizer="sgd",
                                          seed=cfg.seed, max_steps=steps * cfg.rounds, eval_every=steps,
                                          report_every=10**9),
               loss_fn=F.cross_entropy, evaluate=lambda m: {"acc": accuracy(m, X_test, y_test)}, device=device)
    evals = [e for e in hist.evals if e["step"] % steps == 0 and e["step"] > 0]
    return {"rounds": [e["step"] // steps for e in evals], "accuracy": [e["acc"] for e in evals],
            "reason": hist.reason, "diverged_at": hist.diverged_at, "steps_per_round": steps}
