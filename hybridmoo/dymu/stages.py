"""DYMU training: the anchor, edge and weight stages under one budget."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from hybridmoo.dymu.config import DymuConfig
from hybridmoo.dymu.data import DymuData, dymu_data
from hybridmoo.dymu.model import Dymu, DymuResult
from hybridmoo.dymu.networks import AnchorNet, EdgeHypernet, SharedTree, WeightHypernet
from hybridmoo.dymu.search import (
    branching_regularizer,
    gumbel_softmax,
    gumbel_temperature,
    ml_tree,
    p_use,
    rsa_affinity,
)
from hybridmoo.errors import ConfigError, ShapeError
from hybridmoo.preferences import Dirichlet, even_rays


# ---------------------------------------------------------------------------- training
def _batches(n: int, size: int, generator: torch.Generator):
    """Endless minibatch indices: shuffled epochs of ``range(n)``."""
    while True:
        perm = torch.randperm(n, generator=generator)
        for s in range(0, n - size + 1 if n >= size else 1, size):
            yield perm[s:s + size]


def _stage_loop(steps: int, seconds: float | None, body: Callable[[int], float]
                ) -> tuple[int, float, list[float]]:
    """Run ``body(step)`` up to ``steps`` times or ``seconds``; returns (steps, time, losses)."""
    t0 = time.perf_counter()
    losses: list[float] = []
    step = 0
    while step < steps:
        if seconds is not None and time.perf_counter() - t0 >= seconds:
            break
        losses.append(body(step))
        step += 1
    return step, time.perf_counter() - t0, losses


def _groups(batch: int, k: int) -> Tensor:
    """`(batch,)` preference index of each example: k near-equal contiguous shares."""
    return torch.arange(batch) * k // batch


def _per_pref(losses: Tensor, groups: Tensor, k: int) -> Tensor:
    """Mean `(k, N)` of per-example losses `(B, N)` within each preference's share."""
    tot = torch.zeros(k, losses.shape[1], dtype=losses.dtype).index_add_(0, groups, losses)
    cnt = torch.bincount(groups, minlength=k).to(losses.dtype).unsqueeze(1)
    return tot / cnt


def train_dymu(problem, config: DymuConfig | Mapping | None = None, seed: int = 0, *,
               generator: torch.Generator | None = None) -> DymuResult:
    """Train DYMU on a problem: anchor streams, affinity, edge hypernet, weight hypernet.

    Args:
        problem: a Multi-MNIST-family problem, ``mtl_regression`` (see :func:`dymu_data`) or a
            :class:`DymuData`.
        config: a :class:`DymuConfig` or a dict of its fields (default: all defaults).
        seed: seeds the initialisation and, without ``generator``, all sampling.
        generator: the source of every random draw (minibatches, preferences, Gumbel noise);
            default ``torch.Generator().manual_seed(seed)``.

    Returns:
        A :class:`DymuResult` with the trained model and the evaluation at every
        ``config.eval_c``.

    >>> from hybridmoo import problems
    >>> p = problems.get("mtl_regression", n_tasks=3, in_dim=8, n_train=256, n_test=128)
    >>> res = train_dymu(p, {"widths": (8, 8), "head_hidden": 8, "anchor_steps": 5,
    ...                      "edge_steps": 5, "weight_steps": 5, "batch_size": 32,
    ...                      "rsa_images": 16, "n_eval": 4, "eval_c": (0.0, 1.0)})
    >>> sorted(res.evals), res.evals[1.0].F.shape
    ([0.0, 1.0], (6, 3))
    """
    cfg = config if isinstance(config, DymuConfig) else DymuConfig.from_dict(config)
    data = problem if isinstance(problem, DymuData) else dymu_data(problem)
    gen = generator if generator is not None else torch.Generator().manual_seed(int(seed))
    threads = torch.get_num_threads()
    if cfg.threads is not None:
        torch.set_num_threads(cfg.threads)
    try:
        return _train(data, cfg, int(seed), gen)
    finally:
        torch.set_num_threads(threads)


def build_dymu(data: DymuData, config: DymuConfig | Mapping | None = None, seed: int = 0,
               state: Mapping[str, Any] | None = None) -> Dymu:
    """The untrained :class:`Dymu` of ``config`` for ``data`` (initial weights from ``seed``),
    or, given ``state`` (a :meth:`~torch.nn.Module.state_dict` of a trained one, tensors or
    numpy arrays), the trained model rebuilt.

    >>> from hybridmoo import problems
    >>> d = dymu_data(problems.get("mtl_regression", n_tasks=2, in_dim=4, n_train=32, n_test=8))
    >>> m = build_dymu(d, {"widths": (4, 4), "head_hidden": 4})
    >>> tuple(m.anchor.node_flops().shape), tuple(m.tree([0.5, 0.5], 1.0).shape)
    ((3, 2), (1, 2, 2))
    """
    cfg = config if isinstance(config, DymuConfig) else DymuConfig.from_dict(config)
    N = data.n_tasks
    L = len(cfg.widths)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # initial weights of the three networks
        anchor = AnchorNet(N, data.x_train.shape[1:], cfg.widths, cfg.head_hidden, data.out_dim,
                           cfg.input_pool)
        edge = EdgeHypernet(N, L, cfg.embed_dim, cfg.edge_width, cfg.edge_depth)
        if cfg.shared_init:
            for s in anchor.streams[1:]:
                s.load_state_dict(anchor.streams[0].state_dict())
        if cfg.edge_init_bias:
            with torch.no_grad():
                for head in edge.heads:
                    head.bias.add_(cfg.edge_init_bias * torch.eye(N).flatten())
        weight = WeightHypernet(N, anchor.n_deltas, cfg.embed_dim, cfg.weight_width,
                                cfg.weight_depth)
    if cfg.tree == "shared":
        edge = SharedTree(N, L)
    model = Dymu(anchor, edge, weight, torch.zeros(N, N), torch.ones(N))
    if state is not None:
        try:
            model.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in state.items()})
        except RuntimeError as exc:
            raise ShapeError(f"the stored DYMU weights do not fit the configuration "
                             f"(widths {list(cfg.widths)}, {N} tasks): {exc}") from None
        model.eval()
        model.requires_grad_(False)
    return model


def split_budget(config: DymuConfig, n_tasks: int, *, steps: int | None = None,
                 seconds: float | None = None,
                 fractions: Sequence[float] = (0.4, 0.4, 0.2)) -> DymuConfig:
    """The configuration with a run's budget split over the three stages.

    Args:
        config: the other settings. n_tasks: N (the anchor share is divided among the N
            streams).
        steps: optimiser steps in all: stage s gets ``fractions[s]`` of them.
        seconds: wall-clock seconds in all: stage s stops at ``fractions[s]`` of them. Without
            ``steps`` the stages are limited by time alone; the temperature then decays every
            300 steps and the learning rate every 14,000 (the paper's values) unless the
            configuration sets them.
        fractions: anchor, edge and weight shares (normalised; default 0.4 / 0.4 / 0.2).

    Raises:
        ConfigError: bad fractions, or neither steps nor seconds.
    """
    f = np.asarray(fractions, dtype=np.float64)
    if f.shape != (3,) or not np.isfinite(f).all() or (f < 0).any() or f.sum() <= 0:
        raise ConfigError(f"dymu.stage_fractions = {list(fractions)!r}: expected three numbers "
                          "≥ 0 with a positive sum (anchor, edge, weight)")
    if steps is None and seconds is None:
        raise ConfigError("a DYMU run needs a budget: steps, seconds or both")
    f = f / f.sum()
    out = config
    if seconds is not None:
        out = replace(out, stage_seconds=tuple(float(v) * float(seconds) for v in f))
    if steps is None:
        big = 10**9
        s0, s1, s2 = (big if v > 0 else 0 for v in f)
        return replace(out, anchor_steps=s0, edge_steps=s1, weight_steps=s2,
                       zeta_every=out.zeta_every or 300,
                       lr_decay_every=out.lr_decay_every or 14000)
    total = int(steps)
    s0 = max(1, int(total * f[0]) // n_tasks) if f[0] > 0 else 0
    return replace(out, anchor_steps=s0, edge_steps=int(total * f[1]),
                   weight_steps=int(total * f[2]))


def _train(data: DymuData, cfg: DymuConfig, seed: int, gen: torch.Generator) -> DymuResult:
    N = data.n_tasks
    L = len(cfg.widths)
    secs = cfg.stage_seconds or (None, None, None)
    model = build_dymu(data, cfg, seed)
    anchor, edge, weight = model.anchor, model.edge, model.weight
    Xtr, Ytr = data.x_train, data.y_train
    n = Xtr.shape[0]
    bs = min(cfg.batch_size, n)
    history: dict[str, list[float]] = {}
    steps: dict[str, int] = {}
    seconds: dict[str, float] = {}

    # ---- stage 0: pre-train every stream alone on its task
    probe = Xtr[:min(n, 512)], Ytr[:min(n, 512)]

    @torch.no_grad()
    def stream_loss(i: int) -> float:
        anchor.eval()
        out = anchor.forward_stream(i, probe[0])
        full = out.unsqueeze(1).expand(-1, N, -1)
        return float(data.losses(full, probe[1])[:, i].mean())

    shared = cfg.tree == "shared"
    base_mix = F.one_hot(model.edge(torch.zeros(1, N), torch.zeros(1)).argmax(-1)[0], N) \
        .to(Xtr.dtype) if shared else None  # (L, N, N): every node reads stream 0

    @torch.no_grad()
    def shared_loss() -> np.ndarray:
        anchor.eval()
        out = anchor(probe[0], base_mix.expand(probe[0].shape[0], -1, -1, -1))
        return data.losses(out, probe[1]).mean(0).to(torch.float64).numpy()

    init_loss = shared_loss() if shared else np.array([stream_loss(i) for i in range(N)])
    steps["anchor"], seconds["anchor"], history["anchor"] = 0, 0.0, []
    per_stream = None if secs[0] is None else secs[0] / N
    for i in range(1 if shared else N):
        if shared:  # PHN-BN: one hard-sharing multi-task network on the mean task loss
            opt = torch.optim.Adam(anchor.parameters(), lr=cfg.anchor_lr,
                                   weight_decay=cfg.anchor_weight_decay)
            it = _batches(n, bs, gen)

            def step0s(_: int, opt=opt, it=it) -> float:
                anchor.train()
                idx = next(it)
                out = anchor(Xtr[idx], base_mix.expand(idx.shape[0], -1, -1, -1))
                loss = data.losses(out, Ytr[idx]).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                return float(loss.detach())

            steps["anchor"], seconds["anchor"], history["anchor"] = _stage_loop(
                cfg.anchor_steps * N, secs[0], step0s)
            break
        s = anchor.streams[i]
        opt = torch.optim.Adam(s.parameters(), lr=cfg.anchor_lr,
                               weight_decay=cfg.anchor_weight_decay)
        it = _batches(n, bs, gen)

        def step0(_: int, i=i, s=s, opt=opt, it=it) -> float:
            s.train()
            idx = next(it)
            out = anchor.forward_stream(i, Xtr[idx]).unsqueeze(1).expand(-1, N, -1)
            loss = data.losses(out, Ytr[idx])[:, i].mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return float(loss.detach())

        k, t, hist = _stage_loop(cfg.anchor_steps, per_stream, step0)
        steps["anchor"] += k
        seconds["anchor"] += t
        history["anchor"] += hist
    anchor.eval()
    anchor.requires_grad_(False)
    trained_loss = shared_loss() if shared else np.array([stream_loss(i) for i in range(N)])

    # ---- task affinity by RSA on K training images (not used by the shared tree)
    t_aff = time.perf_counter()
    K = min(cfg.rsa_images, n)
    with torch.no_grad():
        if shared:
            affinity = torch.eye(N)
        else:
            feats = [anchor.forward_stream(i, Xtr[:K], features=True)[1] for i in range(N)]
            per_layer = [torch.stack([feats[i][lay] for i in range(N)]) for lay in range(L)]
            affinity = rsa_affinity(per_layer, cfg.affinity_norm).to(torch.float32)
    seconds["anchor"] += time.perf_counter() - t_aff
    if isinstance(cfg.loss_scale, tuple):
        if len(cfg.loss_scale) != N:
            raise ConfigError(f"dymu.loss_scale has {len(cfg.loss_scale)} numbers for {N} tasks")
        scale = np.asarray(cfg.loss_scale, dtype=np.float64)
    else:
        scale = {"init": init_loss, "anchor": trained_loss, "none": np.ones(N)}[cfg.loss_scale]
    w = torch.as_tensor(1.0 / np.maximum(scale, 1e-8), dtype=torch.float32)
    model.affinity.copy_(affinity)
    model.loss_weights.copy_(w)
    tau = cfg.tau_for(N)
    sampler = Dirichlet(N, cfg.alpha)
    groups = _groups(bs, cfg.n_prefs)

    def draw_prefs() -> tuple[Tensor, Tensor]:
        r = sampler.sample(cfg.n_prefs, gen)
        c = torch.zeros(cfg.n_prefs) if shared else torch.rand(cfg.n_prefs, generator=gen)
        return r, c

    # ---- stage 1: the edge hypernet on L_task + Ω
    opt = torch.optim.Adam(edge.parameters() if not shared else [torch.zeros(0)], lr=cfg.lr)
    sched = torch.optim.lr_scheduler.StepLR(opt, cfg.decay_interval(cfg.edge_steps),
                                            cfg.lr_decay)
    it = _batches(n, bs, gen)
    history["omega"] = []
    every = cfg.zeta_interval()

    def step1(step: int) -> float:
        edge.train()
        idx = next(it)
        r, c = draw_prefs()
        logits = edge(r, c)  # (K, L, N, N)
        zeta = gumbel_temperature(step, cfg.zeta0, cfg.zeta_decay, every)
        v = gumbel_softmax(logits, zeta, gen)
        P = p_use(torch.softmax(logits, -1), cfg.p_use)  # (K, L + 1, N)
        if cfg.gumbel_hard:  # one-hot trees forward, the soft samples' gradient backward
            hard = F.one_hot(v.argmax(-1), N).to(v.dtype)
            mix = hard + v - v.detach()
        else:
            mix = v
        out = anchor(Xtr[idx], mix[groups])
        per = _per_pref(data.losses(out, Ytr[idx]), groups, cfg.n_prefs)  # (K, N)
        l_task = (r * w * per).sum(-1)
        omega, _, _ = branching_regularizer(v, P[:, 1:], affinity, r, c, tau=tau,
                                            lambda_active=cfg.lambda_active,
                                            lambda_inactive=cfg.lambda_inactive)
        loss = (l_task + omega).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        history["omega"].append(float(omega.detach().mean()))
        return float(loss.detach())

    steps["edge"], seconds["edge"], history["edge"] = _stage_loop(
        0 if shared else cfg.edge_steps, secs[1], step1)
    edge.eval()
    edge.requires_grad_(False)
    zeta_end = gumbel_temperature(steps["edge"], cfg.zeta0, cfg.zeta_decay, every)

    # ---- stage 2: the weight hypernet on L_task alone, F and h frozen
    opt = torch.optim.Adam(weight.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.StepLR(opt, cfg.decay_interval(cfg.weight_steps),
                                            cfg.lr_decay)
    it = _batches(n, bs, gen)

    def step2(_: int) -> float:
        weight.train()
        idx = next(it)
        r, c = draw_prefs()
        with torch.no_grad():
            logits = edge(r, c)
            if cfg.stage2_tree == "ml":
                parents = ml_tree(logits)
            else:
                parents = gumbel_softmax(logits, zeta_end, gen).argmax(-1)
        mix = F.one_hot(parents, N).to(Xtr.dtype)[groups]
        deltas = weight(r, c)[groups]
        out = anchor(Xtr[idx], mix, deltas)
        per = _per_pref(data.losses(out, Ytr[idx]), groups, cfg.n_prefs)
        loss = (r * w * per).sum(-1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        return float(loss.detach())

    steps["weight"], seconds["weight"], history["weight"] = _stage_loop(
        cfg.weight_steps, secs[2], step2)
    weight.eval()
    weight.requires_grad_(False)

    # ---- evaluation
    prefs = even_rays(N, cfg.n_eval, dtype=torch.float64)
    with torch.no_grad():
        mix = base_mix if shared else F.one_hot(torch.arange(N).expand(L, N), N).float()
        tot = torch.zeros(N, dtype=torch.float64)
        for s in range(0, data.x_test.shape[0], 1000):
            xb = data.x_test[s:s + 1000]
            out = anchor(xb, mix.expand(xb.shape[0], -1, -1, -1))
            tot += data.losses(out, data.y_test[s:s + 1000]).sum(0).to(torch.float64)
        anchor_losses = (tot / data.x_test.shape[0]).numpy()
    evals = {float(c): model.evaluate(data, prefs, float(c)) for c in cfg.eval_c}
    return DymuResult(model=model, data=data, config=cfg, prefs=prefs.numpy(), evals=evals,
                      anchor_losses=anchor_losses, affinity=affinity.to(torch.float64).numpy(),
                      loss_weights=w.to(torch.float64).numpy(), steps=steps, seconds=seconds,
                      history=history)
