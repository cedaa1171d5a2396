"""DYMU: controllable dynamic multi-task architectures, scaled to small CNN / MLP streams.

Raychaudhuri, Suh, Schulter, Yu, Faraki, Roy-Chowdhury and Chandraker, "Controllable Dynamic
Multi-Task Architectures", CVPR 2022 (arXiv 2203.14949; https://www.nec-labs.com/~mas/DYMU/),
and the NEC patent US20230196122, which carries the equations. No official code is public; the
method below follows ``ALGORITHMS.md`` §2a of this project, whose tags say what was checked.

The user gives a task preference ``r`` (on the simplex, one weight per task) and a resource
preference ``c ∈ [0, 1]`` (larger ``c``: a more frugal model). DYMU answers with a *tree*
inside an anchor net of N single-task streams and with batch-norm offsets for that tree:

- **Anchor net F** (stage 0): N streams of L blocks each (convolution, batch norm, ReLU, 2×2
  max-pooling for images; linear, batch norm, ReLU for vectors) and one head per task, each
  stream pre-trained alone on its task, then frozen (:class:`AnchorNet`).
- **Search space**: node ``(l + 1, j)`` takes its input from one parent ``(l, i)``; block 0 of
  every stream reads the input, and the head of task j is node ``(L, j)``, so there are L
  *choice layers* ``l = 0 … L − 1``, each an N×N matrix of parent logits (row j: the child
  ``(l + 1, j)``, column i: the parent ``(l, i)``). One parent per node is one tree.
- **Edge hypernet h(r, c)** (:class:`EdgeHypernet`): embedding ``Σ r_i e_i + c e_c`` (32-d),
  MLP with 2 hidden layers of 100 units, L linear heads of N×N logits.
- **Task affinity A** by representational similarity analysis on K training images
  (:func:`rsa_affinity`).
- **P_use** (:func:`p_use`): the probability that a node lies in the sampled tree, by dynamic
  programming from the heads (always used) down.
- **Branching regulariser** (:func:`branching_regularizer`):
  ``Ω = c·λ_A·L_active + λ_I·L_inactive`` over Gumbel-softmax samples of the parent
  distributions, active tasks ``r_i ≥ τ = 0.6/N``.
- **Stage 1** trains h on ``L_task + Ω`` with ``r ~ Dir(0.2)``, ``c ~ U(0, 1)``;
  ``L_task = Σ_i r_i w_i L_i``. **Stage 2** freezes F and h and trains the weight hypernet
  ``h̄(r, c)`` (:class:`WeightHypernet`, MLP with 3 hidden layers of 100 units) that predicts
  ``Δγ, Δβ`` of every batch norm, on ``L_task`` alone.
- **Inference**: the maximum-likelihood parent of every node, the anchor weights, the
  modulated batch norms ``(γ + Δγ)(x − μ)/σ + (β + Δβ)``.

Readings (details the sources leave open; each is a :class:`DymuConfig` field):

- ``p_use = "independent"``: ``P_use(l, i) = 1 − Π_j (1 − P_use(l + 1, j)·ν^l_j(i))`` with
  the heads at 1 (ALGORITHMS.md's [I] formula; ν are the softmax parent probabilities). It
  treats the use of the children as independent, which is exact one layer below the heads and
  an approximation further down; ``"exact"`` runs the dynamic programme over the *set* of used
  nodes (2^N states per layer), exact for every layer.
- ``affinity_norm = "pair"``: the RSA distances ``D_l(i, j) = ‖S_l(i) − S_l(j)‖_F`` (Pearson
  correlation similarity over the K images, Frobenius norm: both [I]) are divided by their
  bound ``‖S_l(i)‖_F + ‖S_l(j)‖_F``, which puts them in [0, 1]. ``"row"`` divides each row by
  its maximum, the literal "normalise each row to [0, 1]", but that sets the affinity to the
  least similar task to 0, and with N = 2 to the *only* other task: L_active then vanishes.
- L_active sums over ordered pairs ``i ≠ j`` of active tasks as written (each unordered pair
  twice), and weighs the pair by the use of the two *children* that choose a parent
  (``P_use(l + 1, ·)``), the nodes "likely to be sampled" that the paper asks to share parents.
- ``lambda_active = 1.0`` (paper); the patent gives 0.05.
- ``loss_scale = "anchor"``: ``w_i = 1 / L_i`` of the pre-trained stream i (its training
  loss), so every task loss is measured in units of its single-task loss ("w_i normalises
  loss scales"; the paper does not say how). ``"init"`` takes the loss of the untrained stream
  (chance level: ln 10 for ten classes), ``"none"`` sets ``w_i = 1``, or give N numbers. With
  ``"init"`` the task term is ~5× smaller on Multi-MNIST and Ω (λ_A = 1) overrides it.
- ``gumbel_hard = True``: the stage-1 forward pass runs the one-hot tree ``d`` of the Gumbel
  sample (the paper's ``x = d·Y`` with d one-hot), the gradient that of the soft sample
  (straight-through); Ω uses the soft samples ν. ``False`` feeds the soft mixture forward.
- ``shared_init = True``: all streams start from the same initial weights before their
  single-task training, standing in for the paper's common ImageNet initialisation; without it
  the streams' channels do not correspond and every cross-task edge fails.
- ``edge_init_bias``: added to the diagonal (own-stream) logits of h at initialisation
  (default 0: no prior).
- Batch norms use the anchor's running statistics in stages 1 and 2 and at inference (F is
  frozen and one batch mixes several trees); the heads also hold a batch norm
  (linear → batch norm → ReLU → linear), modulated like the blocks, so a head that reads
  another stream's features can be adapted.
- Each training step draws ``n_prefs`` preferences and one Gumbel-softmax tree sample per
  preference; each preference gets an equal share of the minibatch. Stage 2 trains on the
  maximum-likelihood trees (``stage2_tree = "ml"``), the trees used at inference, or on hard
  Gumbel samples (``"sample"``).
- Cost: the parameters of the used blocks plus all heads over those of the whole anchor net
  (the paper's "ratio of the size of the predicted architecture to the size of the total anchor
  net").

- FLOPs (:meth:`AnchorNet.node_flops`): convolutions and linear layers per example, counted
  by ``torch.utils.flop_counter``; a tree's FLOPs are those of its used nodes, and without a
  gradient through the tree :meth:`AnchorNet.forward` runs only those.
- ``tree = "shared"``: the PHN-BN baseline (``hybridmoo.baselines.phn_bn``), one fixed
  hard-sharing tree instead of the learned ones.

At CPU scale (``benchmarks/bench_dymu.py``, ``results/dymu.md``; Multi-MNIST, three seeds)
skewed preferences give single-stream trees and the mean cost falls slightly from c = 0 to
c = 1 (0.736 → 0.696); uniformity beats PHN-LS and PHN-BN, HV does not. On a small synthetic
problem the edge hypernet did not learn the c-dependence (``tests/test_dymu.py``, an expected
failure).

>>> import torch
>>> nu = torch.tensor([[[1.0, 0.0], [1.0, 0.0]]])  # one choice layer, both heads read node 0
>>> p_use(nu).tolist()
[[1.0, 0.0], [1.0, 1.0]]
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from hybridmoo import metrics
from hybridmoo._config import check_choices, check_ranges
from hybridmoo.errors import ConfigError, ShapeError
from hybridmoo.preferences import Dirichlet, even_rays

__all__ = [
    "AnchorNet",
    "Dymu",
    "DymuConfig",
    "DymuData",
    "DymuEval",
    "DymuResult",
    "EdgeHypernet",
    "WeightHypernet",
    "branching_regularizer",
    "build_dymu",
    "dymu_data",
    "gumbel_softmax",
    "gumbel_temperature",
    "ml_tree",
    "p_use",
    "rsa_affinity",
    "split_budget",
    "train_dymu",
    "tree_cost",
    "used_nodes",
]

PAPER = ("Raychaudhuri et al., 'Controllable Dynamic Multi-Task Architectures', CVPR 2022")


# ---------------------------------------------------------------------------- configuration
@dataclass(frozen=True)
class DymuConfig:
    """Settings of a DYMU run (defaults: the paper's values, step counts scaled to a CPU).

    Attributes:
        widths: per-block widths of every stream (channels for images, units for vectors);
            L = ``len(widths)`` blocks.
        input_pool: images are average-pooled by this factor before block 0 (2: Multi-MNIST's
            36×36 becomes 18×18, four times cheaper on a CPU; 1: none). Vectors: ignored.
        head_hidden: hidden units of each task head (linear → batch norm → ReLU → linear).
        anchor_steps: pre-training steps of *each* stream (stage 0).
        shared_init: start every stream from the same initial weights (a reading: the paper's
            streams are all fine-tuned from one ImageNet-pretrained backbone, which keeps
            their features compatible across streams; independent random starts give
            streams whose channels do not correspond, and every cross-task edge then fails).
        anchor_lr, anchor_weight_decay: Adam settings of stage 0 (paper, CIFAR streams:
            1e-3 and 1e-5).
        batch_size: examples per step in every stage.
        rsa_images: K, training images behind the RSA affinity (paper: "K images"; ≈ 100).
        affinity_norm: ``"pair"`` or ``"row"`` (see the module docstring; a reading).
        edge_steps, weight_steps: steps of stage 1 (edge hypernet) and stage 2 (weight
            hypernet); 0 skips a stage (stage 2 at 0 leaves all offsets at 0).
        stage_seconds: optional time limits ``(s0, s1, s2)`` in seconds; a stage ends at its
            step count or its time limit, whichever comes first.
        n_prefs: preferences per step in stages 1 and 2 (each with ``batch_size / n_prefs``
            examples; a reading).
        lr, lr_decay, lr_decay_every: Adam learning rate of stages 1 and 2, multiplied by
            ``lr_decay`` every ``lr_decay_every`` steps (paper: 1e-3, ×0.3 every 14K of 30K
            steps); ``None``: 14/30 of the stage's steps, the paper's schedule at our scale.
        embed_dim: dimension of the preference embedding ``Σ r_i e_i + c e_c`` (paper: 32).
        edge_width, edge_depth: hidden units and layers of h (paper: 100, 2).
        weight_width, weight_depth: hidden units and layers of h̄ (paper: 100, 3).
        alpha: Dirichlet concentration of the training preferences (paper: 0.2).
        tau: threshold of the active set ``r_i ≥ τ``; ``None``: 0.6 / N (paper). τ > 1/N
            loses cost control (paper, ablation).
        lambda_active: λ_A (paper: 1; patent: 0.05). lambda_inactive: λ_I (0.1).
        zeta0, zeta_decay, zeta_every: Gumbel-softmax temperature ζ = ``zeta0`` ×
            ``zeta_decay`` ^ ⌊step / ``zeta_every``⌋ in stage 1 (paper: 5, 0.97, 300 in 30K
            steps); ``zeta_every = None``: ``edge_steps / 100``, which keeps the paper's 100
            decays (final ζ ≈ 0.24) over a shorter stage.
        gumbel_hard: straight-through one-hot trees in the stage-1 forward (a reading).
        edge_init_bias: initial bias of h's own-stream logits (0: none).
        p_use: ``"independent"`` (ALGORITHMS.md's formula) or ``"exact"``.
        loss_scale: ``"anchor"``, ``"init"``, ``"none"`` or N positive numbers: the 1/w_i.
        stage2_tree: ``"ml"`` or ``"sample"``: the trees stage 2 trains on.
        tree: ``"learned"`` (DYMU) or ``"shared"``: the PHN-BN baseline's fixed hard-sharing
            tree (every node reads stream 0: one trunk, N heads), trained as one multi-task
            network on the mean task loss in stage 0 (``anchor_steps × N`` steps), no edge
            stage (``edge_steps`` is not used), and stage 2's batch-norm hypernetwork at c = 0.
        n_eval: evaluation preferences (evenly spread on the simplex; paper: 20).
        eval_c: resource preferences the result reports (paper: 0 and 1).
        threads: torch intra-op threads during the run (``None``: leave torch's setting).
    """

    widths: tuple[int, ...] = (8, 16, 16, 32)
    input_pool: int = 2
    head_hidden: int = 32
    anchor_steps: int = 600
    shared_init: bool = True
    anchor_lr: float = 1e-3
    anchor_weight_decay: float = 1e-5
    batch_size: int = 64
    rsa_images: int = 100
    affinity_norm: str = "pair"
    edge_steps: int = 800
    weight_steps: int = 400
    stage_seconds: tuple[float, float, float] | None = None
    n_prefs: int = 8
    lr: float = 1e-3
    lr_decay: float = 0.3
    lr_decay_every: int | None = None
    embed_dim: int = 32
    edge_width: int = 100
    edge_depth: int = 2
    weight_width: int = 100
    weight_depth: int = 3
    alpha: float = 0.2
    tau: float | None = None
    lambda_active: float = 1.0
    lambda_inactive: float = 0.1
    zeta0: float = 5.0
    zeta_decay: float = 0.97
    zeta_every: int | None = None
    gumbel_hard: bool = True
    edge_init_bias: float = 0.0
    p_use: str = "independent"
    loss_scale: str | tuple[float, ...] = "anchor"
    stage2_tree: str = "ml"
    tree: str = "learned"
    n_eval: int = 20
    eval_c: tuple[float, ...] = (0.0, 0.5, 1.0)
    threads: int | None = None

    def __post_init__(self) -> None:
        for name in ("widths", "eval_c"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if self.stage_seconds is not None:
            object.__setattr__(self, "stage_seconds",
                               tuple(float(s) for s in self.stage_seconds))
        if not isinstance(self.loss_scale, str):
            object.__setattr__(self, "loss_scale", tuple(float(v) for v in self.loss_scale))

        def is_int(v: Any, low: int) -> bool:
            return isinstance(v, int | np.integer) and not isinstance(v, bool) and v >= low

        checks = [
            ("widths", len(self.widths) >= 1 and all(is_int(w, 1) for w in self.widths),
             "a non-empty tuple of integers ≥ 1"),
            ("head_hidden", is_int(self.head_hidden, 1), "an integer ≥ 1"),
            ("input_pool", is_int(self.input_pool, 1), "an integer ≥ 1"),
            ("anchor_steps", is_int(self.anchor_steps, 0), "an integer ≥ 0"),
            ("anchor_lr", self.anchor_lr > 0, "a number > 0"),
            ("anchor_weight_decay", self.anchor_weight_decay >= 0, "a number ≥ 0"),
            ("batch_size", is_int(self.batch_size, 2), "an integer ≥ 2"),
            ("rsa_images", is_int(self.rsa_images, 3), "an integer ≥ 3"),
            ("edge_steps", is_int(self.edge_steps, 0), "an integer ≥ 0"),
            ("weight_steps", is_int(self.weight_steps, 0), "an integer ≥ 0"),
            ("stage_seconds", self.stage_seconds is None or (
                len(self.stage_seconds) == 3 and all(s >= 0 for s in self.stage_seconds)),
             "None or three numbers ≥ 0"),
            ("n_prefs", is_int(self.n_prefs, 1) and self.n_prefs <= self.batch_size,
             f"an integer in [1, batch_size = {self.batch_size}]"),
            ("lr", self.lr > 0, "a number > 0"),
            ("lr_decay", 0 < self.lr_decay <= 1, "a number in (0, 1]"),
            ("lr_decay_every", self.lr_decay_every is None or is_int(self.lr_decay_every, 1),
             "None or an integer ≥ 1"),
            ("embed_dim", is_int(self.embed_dim, 1), "an integer ≥ 1"),
            ("edge_width", is_int(self.edge_width, 1), "an integer ≥ 1"),
            ("edge_depth", is_int(self.edge_depth, 0), "an integer ≥ 0"),
            ("weight_width", is_int(self.weight_width, 1), "an integer ≥ 1"),
            ("weight_depth", is_int(self.weight_depth, 0), "an integer ≥ 0"),
            ("alpha", self.alpha > 0, "a number > 0"),
            ("tau", self.tau is None or 0 < self.tau <= 1, "None or a number in (0, 1]"),
            ("lambda_active", self.lambda_active >= 0, "a number ≥ 0"),
            ("lambda_inactive", self.lambda_inactive >= 0, "a number ≥ 0"),
            ("zeta0", self.zeta0 > 0, "a number > 0"),
            ("zeta_decay", 0 < self.zeta_decay <= 1, "a number in (0, 1]"),
            ("zeta_every", self.zeta_every is None or is_int(self.zeta_every, 1),
             "None or an integer ≥ 1"),
            ("loss_scale", isinstance(self.loss_scale, str) or all(
                v > 0 for v in self.loss_scale), "'init', 'anchor', 'none' or numbers > 0"),
            ("n_eval", is_int(self.n_eval, 2), "an integer ≥ 2"),
            ("eval_c", len(self.eval_c) >= 1 and all(0 <= v <= 1 for v in self.eval_c),
             "a non-empty tuple of numbers in [0, 1]"),
            ("threads", self.threads is None or is_int(self.threads, 1),
             "None or an integer ≥ 1"),
        ]
        check_ranges("dymu", self, checks)
        choices = [("affinity_norm", self.affinity_norm, ("pair", "row")),
                   ("p_use", self.p_use, ("independent", "exact")),
                   ("stage2_tree", self.stage2_tree, ("ml", "sample")),
                   ("tree", self.tree, ("learned", "shared"))]
        if isinstance(self.loss_scale, str):
            choices.append(("loss_scale", self.loss_scale, ("init", "anchor", "none")))
        check_choices("dymu", choices)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> DymuConfig:
        """Build from a dict of fields; an unknown key raises :class:`ConfigError`."""
        from dataclasses import fields

        from hybridmoo._config import reject_unknown

        d = dict(d or {})
        reject_unknown(d, [f.name for f in fields(cls)], "dymu")
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-friendly dict (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def tau_for(self, n_tasks: int) -> float:
        """The active-set threshold for N tasks: ``tau`` or 0.6 / N."""
        return 0.6 / n_tasks if self.tau is None else float(self.tau)

    def zeta_interval(self) -> int:
        """Steps between two temperature decays: ``zeta_every`` or ``edge_steps / 100``."""
        if self.zeta_every is not None:
            return int(self.zeta_every)
        return max(1, round(self.edge_steps / 100))

    def decay_interval(self, steps: int) -> int:
        """Steps between two learning-rate decays in a stage of ``steps`` steps."""
        if self.lr_decay_every is not None:
            return int(self.lr_decay_every)
        return max(1, round(steps * 14 / 30))


# ---------------------------------------------------------------------------- data
@dataclass
class DymuData:
    """The tensors of an N-task problem as DYMU uses them.

    Attributes:
        x_train, x_test: inputs `(n, C, H, W)` (images) or `(n, d)` (vectors).
        y_train, y_test: `(n, N)` int64 class labels (``task = "classification"``) or
            `(n, N, o)` float targets (``task = "regression"``).
        task: ``"classification"`` (per-task cross-entropy) or ``"regression"`` (per-task
            mean squared error).
        out_dim: classes (classification) or outputs per task (regression).
        ref_point: `(N,)` HV reference point of the test losses.
        name: the problem's name.
    """

    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    task: str
    out_dim: int
    ref_point: np.ndarray
    name: str = ""

    def __post_init__(self) -> None:
        if self.task not in ("classification", "regression"):
            raise ConfigError(f"DymuData.task = {self.task!r}: expected 'classification' or "
                              "'regression'")
        for split in ("train", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if x.shape[0] != y.shape[0]:
                raise ShapeError(f"x_{split} has {x.shape[0]} rows but y_{split} has "
                                 f"{y.shape[0]}")
            want = 2 if self.task == "classification" else 3
            if y.dim() != want:
                raise ShapeError(f"y_{split} must have {want} dimensions for {self.task}, got "
                                 f"shape {tuple(y.shape)}")
            if x.dim() not in (2, 4):
                raise ShapeError(f"x_{split} must be (n, d) or (n, C, H, W), got shape "
                                 f"{tuple(x.shape)}")
        self.ref_point = np.asarray(self.ref_point, dtype=np.float64).reshape(-1)
        if self.ref_point.size != self.n_tasks:
            raise ShapeError(f"ref_point has length {self.ref_point.size} for {self.n_tasks} "
                             "tasks")

    @property
    def n_tasks(self) -> int:
        """N, the number of tasks."""
        return int(self.y_train.shape[1])

    def losses(self, out: Tensor, y: Tensor) -> Tensor:
        """Per-example, per-task losses `(B, N)` of outputs `(B, N, out_dim)`."""
        if self.task == "classification":
            B, N, C = out.shape
            return F.cross_entropy(out.reshape(B * N, C), y.reshape(B * N),
                                   reduction="none").view(B, N)
        return ((out - y) ** 2).mean(dim=-1)


def dymu_data(problem) -> DymuData:
    """The :class:`DymuData` of a Multi-MNIST-family problem or of ``mtl_regression``.

    Multi-MNIST, Multi-Fashion and Multi-(Fashion+MNIST) give images `(n, 1, 36, 36)` and two
    10-class tasks (objectives: the test cross-entropies on the problem's ``eval_split``);
    ``mtl_regression`` gives vectors and N regression tasks (test MSEs).

    Raises:
        ConfigError: for any other problem.
    """
    from hybridmoo.problems.mtl import MTLRegression, _MultiOverlay

    ref = None if problem.ref_point is None else problem.ref_point.detach().cpu().numpy()
    if isinstance(problem, _MultiOverlay):
        xtr, ytr = problem.tensors("train")
        xte, yte = problem.tensors(problem.options["eval_split"])
        return DymuData(xtr, ytr, xte, yte, "classification", 10, ref, problem.name)
    if isinstance(problem, MTLRegression):
        d = problem.data()
        xtr, ytr = (torch.as_tensor(a, dtype=torch.float32) for a in d["train"])
        xte, yte = (torch.as_tensor(a, dtype=torch.float32) for a in d["test"])
        return DymuData(xtr, ytr, xte, yte, "regression", problem.options["out_dim"], ref,
                        problem.name)
    raise ConfigError(
        f"DYMU needs a multi-task problem whose tasks can each own a stream: multi_mnist, "
        f"multi_fashion, multi_fashion_mnist or mtl_regression; got {problem.name!r}"
    )


# ---------------------------------------------------------------------------- search-space maths
def gumbel_temperature(step: int, zeta0: float = 5.0, decay: float = 0.97,
                       every: int = 300) -> float:
    """Gumbel-softmax temperature ζ at a step: ``zeta0 · decay ^ ⌊step / every⌋``.

    >>> gumbel_temperature(0), round(gumbel_temperature(600), 6)
    (5.0, 4.7045)
    """
    return float(zeta0) * float(decay) ** (int(step) // int(every))


def gumbel_softmax(logits: Tensor, zeta: float, generator: torch.Generator) -> Tensor:
    """Relaxed one-hot samples ``softmax((log α + G) / ζ)`` over the last dimension.

    Args:
        logits: `(..., n)` unnormalised log-probabilities (log α up to a constant).
        zeta: temperature ζ > 0.
        generator: source of the uniform draws behind the Gumbel noise G = −log(−log U).

    Returns:
        `(..., n)` samples on the simplex.
    """
    u = torch.rand(logits.shape, generator=generator, dtype=logits.dtype,
                   device=logits.device).clamp_(1e-10, 1.0 - 1e-7)
    g = -torch.log(-torch.log(u))
    return torch.softmax((torch.log_softmax(logits, -1) + g) / zeta, dim=-1)


def _check_nu(nu: Tensor) -> tuple[int, int]:
    if nu.dim() < 3 or nu.shape[-1] != nu.shape[-2]:
        raise ShapeError(f"parent probabilities must be (..., L, N, N), got {tuple(nu.shape)}")
    return int(nu.shape[-3]), int(nu.shape[-1])


def p_use(nu: Tensor, mode: str = "independent") -> Tensor:
    """Probability that each node is in the sampled tree, by dynamic programming.

    Args:
        nu: `(..., L, N, N)` parent probabilities: ``nu[..., l, j, i]`` is the probability that
            node ``(l + 1, j)`` takes its input from node ``(l, i)``; rows sum to 1. Layer L
            holds the task heads, which are always used.
        mode: ``"independent"``: ``P(l, i) = 1 − Π_j (1 − P(l + 1, j)·nu[l, j, i])`` (the [I]
            formula of ALGORITHMS.md §2a: exact at layer L − 1, an approximation below, where
            the use of two children is correlated); ``"exact"``: the distribution over the set
            of used nodes per layer (2^N states), propagated layer by layer; exact.

    Returns:
        `(..., L + 1, N)`: ``P[..., l, i]`` for node layers 0 … L (row L is all ones).
        Differentiable in ``nu``.
    """
    L, N = _check_nu(nu)
    if mode == "independent":
        rows = [torch.ones(nu.shape[:-3] + (N,), dtype=nu.dtype, device=nu.device)]
        for layer in range(L - 1, -1, -1):
            pc = rows[0]  # (..., N) use of the children (l + 1, j)
            rows.insert(0, 1.0 - torch.prod(1.0 - pc.unsqueeze(-1) * nu[..., layer, :, :],
                                             dim=-2))
        return torch.stack(rows, dim=-2)
    if mode != "exact":
        raise ConfigError(f"p_use mode {mode!r} is not allowed; allowed: independent, exact")
    if N > 8:
        raise ConfigError(f"p_use(mode='exact') enumerates 2^N sets; N = {N} is too many "
                          "(use mode='independent')")
    n_sets = 1 << N
    members = [[j for j in range(N) if s >> j & 1] for s in range(n_sets)]
    bits = torch.tensor([[float(s >> i & 1) for i in range(N)] for s in range(n_sets)],
                        dtype=nu.dtype, device=nu.device)  # (2^N, N)
    q = torch.zeros(nu.shape[:-3] + (n_sets,), dtype=nu.dtype, device=nu.device)
    q[..., n_sets - 1] = 1.0  # every head is used
    rows = [q @ bits]
    for layer in range(L - 1, -1, -1):
        cols: list[Tensor | float] = [0.0] * n_sets
        for s in range(1, n_sets):
            kids = members[s]
            # every assignment of a parent to each used child; t: the set of chosen parents
            for parents in itertools.product(range(N), repeat=len(kids)):
                prob = q[..., s]
                for j, i in zip(kids, parents, strict=True):
                    prob = prob * nu[..., layer, j, i]
                t = sum(1 << i for i in set(parents))
                cols[t] = cols[t] + prob
        q = torch.stack([col if isinstance(col, Tensor) else torch.zeros_like(q[..., 0])
                         for col in cols], dim=-1)
        rows.insert(0, q @ bits)
    return torch.stack(rows, dim=-2)


def ml_tree(logits: Tensor) -> Tensor:
    """Maximum-likelihood parents `(..., L, N)` int64 of parent logits `(..., L, N, N)`."""
    _check_nu(logits)
    return logits.argmax(dim=-1)


def used_nodes(parents: Tensor) -> Tensor:
    """Which nodes a tree uses: `(..., L + 1, N)` bool from parents `(..., L, N)` int64.

    Row L (the heads) is all True; node ``(l, i)`` is used when a used child picks it.
    """
    if parents.dim() < 2:
        raise ShapeError(f"parents must be (..., L, N), got {tuple(parents.shape)}")
    L, N = parents.shape[-2:]
    rows = [torch.ones(parents.shape[:-2] + (N,), dtype=torch.bool, device=parents.device)]
    for layer in range(L - 1, -1, -1):
        child = rows[0]
        pick = F.one_hot(parents[..., layer, :], N).bool() & child.unsqueeze(-1)  # (..., N, N)
        rows.insert(0, pick.any(dim=-2))
    return torch.stack(rows, dim=-2)


def tree_cost(parents: Tensor, node_params: Tensor) -> Tensor:
    """Active parameter ratio of trees: used-node parameters over all parameters.

    Args:
        parents: `(..., L, N)` int64 parents. node_params: `(L + 1, N)` parameters per node
            (row L: the heads).

    Returns:
        `(...)` float64 ratios in (0, 1].
    """
    used = used_nodes(parents).to(torch.float64)
    w = node_params.to(torch.float64)
    return (used * w).sum(dim=(-2, -1)) / w.sum()


def branching_regularizer(v: Tensor, p_child: Tensor, affinity: Tensor, r: Tensor, c: Tensor,
                          *, tau: float, lambda_active: float = 1.0,
                          lambda_inactive: float = 0.1) -> tuple[Tensor, Tensor, Tensor]:
    """DYMU's branching regulariser ``Ω = c·λ_A·L_active + λ_I·L_inactive``.

    ``L_active = Σ_l Σ_{i ≠ j ∈ A} ((L − l)/L)·A(i, j)·P(l, i)·P(l, j)·‖v_i^l − v_j^l‖²`` over
    ordered pairs of active tasks, and ``L_inactive = Σ_l Σ_{j ∈ I} min_{i ∈ A}
    ‖v_i^l − v_j^l‖²``; A = {i : r_i ≥ τ}, I the others. Without active task L_inactive is 0.

    Args:
        v: `(K, L, N, N)` Gumbel-softmax samples; ``v[k, l, j]`` is the parent distribution of
            node ``(l + 1, j)`` (choice layer l = 0 … L − 1).
        p_child: `(K, L, N)` use probability of the choosing nodes ``(l + 1, j)``.
        affinity: `(N, N)` task affinity. r: `(K, N)` task preferences. c: `(K,)` resource
            preferences.
        tau: threshold of the active set. lambda_active, lambda_inactive: λ_A, λ_I.

    Returns:
        ``(omega, l_active, l_inactive)``, each `(K,)`.
    """
    K, L, N, _ = v.shape
    if p_child.shape != (K, L, N) or affinity.shape != (N, N) or r.shape != (K, N) \
            or c.shape != (K,):
        raise ShapeError(
            f"branching_regularizer: v {tuple(v.shape)} needs p_child ({K}, {L}, {N}), "
            f"affinity ({N}, {N}), r ({K}, {N}), c ({K},); got {tuple(p_child.shape)}, "
            f"{tuple(affinity.shape)}, {tuple(r.shape)}, {tuple(c.shape)}"
        )
    active = r >= tau  # (K, N)
    diff = ((v.unsqueeze(3) - v.unsqueeze(2)) ** 2).sum(-1)  # (K, L, N, N): ‖v_i − v_j‖²
    depth = (L - torch.arange(L, dtype=v.dtype, device=v.device)) / L
    pp = p_child.unsqueeze(-1) * p_child.unsqueeze(-2)
    eye = torch.eye(N, dtype=torch.bool, device=v.device)
    pair = (active.unsqueeze(-1) & active.unsqueeze(-2) & ~eye).unsqueeze(1)  # (K, 1, N, N)
    term = depth.view(1, L, 1, 1) * affinity * pp * diff
    l_active = torch.where(pair, term, torch.zeros_like(term)).sum(dim=(1, 2, 3))
    big = torch.finfo(v.dtype).max
    masked = torch.where(active.view(K, 1, N, 1), diff, torch.full_like(diff, big))
    nearest = masked.min(dim=2).values  # (K, L, N): min over active i, per node j
    use = (~active & active.any(dim=-1, keepdim=True)).unsqueeze(1)  # inactive, some active
    l_inactive = torch.where(use, nearest, torch.zeros_like(nearest)).sum(dim=(1, 2))
    omega = c * lambda_active * l_active + lambda_inactive * l_inactive
    return omega, l_active, l_inactive


def rsa_affinity(features: Sequence[Tensor], norm: str = "pair") -> Tensor:
    """Task affinity by representational similarity analysis (RSA).

    For every layer l and task i, ``S_l(i)`` is the K×K Pearson correlation between the
    flattened features of the K images; ``D_l(i, j) = ‖S_l(i) − S_l(j)‖_F``; normalised to
    [0, 1] (``norm``), ``A_l = 1 − D̃_l``, averaged over the layers.

    Args:
        features: one tensor per layer, `(N, K, ...)`: task i's features of image k.
        norm: ``"pair"``: ``D̃ = D / (‖S_l(i)‖_F + ‖S_l(j)‖_F)``; ``"row"``: each row divided
            by its maximum (the least similar task then gets affinity 0).

    Returns:
        `(N, N)` float64 affinity, symmetric for ``"pair"``, ones on the diagonal.
    """
    if not features:
        raise ShapeError("rsa_affinity needs the features of at least one layer")
    if norm not in ("pair", "row"):
        raise ConfigError(f"rsa_affinity norm {norm!r} is not allowed; allowed: pair, row")
    per_layer = []
    for f in features:
        if f.dim() < 3:
            raise ShapeError(f"features must be (N, K, ...) per layer, got {tuple(f.shape)}")
        z = f.reshape(f.shape[0], f.shape[1], -1).to(torch.float64)
        z = z - z.mean(dim=-1, keepdim=True)
        z = z / z.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        S = z @ z.transpose(1, 2)  # (N, K, K) correlations
        D = (S.unsqueeze(1) - S.unsqueeze(0)).flatten(2).norm(dim=-1)  # (N, N)
        if norm == "pair":
            n = S.flatten(1).norm(dim=-1)
            Dn = D / (n.unsqueeze(0) + n.unsqueeze(1)).clamp_min(1e-12)
        else:
            Dn = D / D.max(dim=1, keepdim=True).values.clamp_min(1e-12)
        per_layer.append(1.0 - Dn.clamp(0.0, 1.0))
    return torch.stack(per_layer).mean(dim=0)


# ---------------------------------------------------------------------------- networks
class _ModBN(nn.Module):
    """Batch norm whose affine parameters can be offset per example: ``(γ + Δγ)x̂ + (β + Δβ)``.

    Without offsets it is a plain batch norm (batch statistics in training mode, running
    statistics in eval mode); with offsets it always normalises with the running statistics.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm1d(channels)  # works on (B, C) and (B, C, L); 4-d reshaped

    def forward(self, x: Tensor, delta: tuple[Tensor, Tensor] | None = None) -> Tensor:
        shape = x.shape
        flat = x.flatten(2) if x.dim() > 2 else x
        if delta is None:
            return self.bn(flat).view(shape)
        bn = self.bn
        xh = F.batch_norm(flat, bn.running_mean, bn.running_var, None, None, False, 0.0,
                          bn.eps)
        dg, db = delta  # (B, C) each
        view = (shape[0], shape[1]) + (1,) * (flat.dim() - 2)
        out = xh * (bn.weight + dg).view(view) + (bn.bias + db).view(view)
        return out.view(shape)


class _Block(nn.Module):
    """conv 3×3 → BN → ReLU → max-pool 2×2 (images) or linear → BN → ReLU (vectors)."""

    def __init__(self, in_ch: int, out_ch: int, image: bool) -> None:
        super().__init__()
        self.image = image
        self.op = nn.Conv2d(in_ch, out_ch, 3, padding=1) if image else nn.Linear(in_ch, out_ch)
        self.norm = _ModBN(out_ch)

    def forward(self, x: Tensor, delta: tuple[Tensor, Tensor] | None = None) -> Tensor:
        y = torch.relu(self.norm(self.op(x), delta))
        return F.max_pool2d(y, 2) if self.image else y


class _Head(nn.Module):
    """flatten → linear → BN → ReLU → linear: one task's output layer."""

    def __init__(self, in_dim: int, hidden: int, out_dim: int) -> None:
        super().__init__()
        self.fc = nn.Linear(in_dim, hidden)
        self.norm = _ModBN(hidden)
        self.out = nn.Linear(hidden, out_dim)

    def forward(self, x: Tensor, delta: tuple[Tensor, Tensor] | None = None) -> Tensor:
        return self.out(torch.relu(self.norm(self.fc(x.flatten(1)), delta)))


class AnchorNet(nn.Module):
    """The anchor net F: N single-task streams of L blocks and a head each.

    Args:
        n_tasks: N. input_shape: one example's shape, `(C, H, W)` or `(d,)`.
        widths: per-block widths (L = ``len(widths)``). head_hidden: head hidden units.
        out_dim: outputs per task. input_pool: average-pooling factor applied to images first.

    Shapes: :meth:`forward` maps `(B, *input_shape)` and a per-example tree to
    `(B, N, out_dim)`; :meth:`forward_stream` runs one stream alone.
    """

    def __init__(self, n_tasks: int, input_shape: Sequence[int], widths: Sequence[int],
                 head_hidden: int, out_dim: int, input_pool: int = 1) -> None:
        super().__init__()
        self.n_tasks = int(n_tasks)
        self.input_shape = tuple(int(s) for s in input_shape)
        self.widths = tuple(int(w) for w in widths)
        self.n_layers = len(self.widths)
        image = len(self.input_shape) == 3
        if not image and len(self.input_shape) != 1:
            raise ShapeError(f"input_shape must be (C, H, W) or (d,), got {self.input_shape}")
        self.input_pool = int(input_pool) if image else 1
        if image:
            side_h, side_w = (s // self.input_pool for s in self.input_shape[1:])
            for _ in self.widths:
                side_h, side_w = side_h // 2, side_w // 2
            if side_h < 1 or side_w < 1:
                raise ConfigError(f"{len(self.widths)} pooled blocks shrink a "
                                  f"{self.input_shape[1:]} image to nothing; use fewer blocks")
            head_in = self.widths[-1] * side_h * side_w
        else:
            head_in = self.widths[-1]
        dims = [self.input_shape[0], *self.widths]
        self.streams = nn.ModuleList()
        for _ in range(self.n_tasks):
            s = nn.Module()
            s.blocks = nn.ModuleList(_Block(a, b, image) for a, b in zip(dims[:-1], dims[1:],
                                                                          strict=True))
            s.head = _Head(head_in, head_hidden, out_dim)
            self.streams.append(s)
        # BN layout: block (l, j) for l < L, then head j; offsets [Δγ | Δβ] per layer
        self._bn: list[tuple[int, int, int]] = [(lay, j, self.widths[lay])
                                                for lay in range(self.n_layers)
                                                for j in range(self.n_tasks)]
        self._bn += [(self.n_layers, j, head_hidden) for j in range(self.n_tasks)]

    @property
    def n_deltas(self) -> int:
        """Length of the offset vector: 2 × all batch-norm channels (Δγ and Δβ)."""
        return 2 * sum(ch for _, _, ch in self._bn)

    def split_deltas(self, deltas: Tensor) -> dict[tuple[int, int], tuple[Tensor, Tensor]]:
        """`(B, n_deltas)` → ``{(layer, node): (Δγ (B, C), Δβ (B, C))}`` (layer L: heads)."""
        if deltas.dim() != 2 or deltas.shape[1] != self.n_deltas:
            raise ShapeError(f"deltas must be (B, {self.n_deltas}), got {tuple(deltas.shape)}")
        out, o = {}, 0
        for lay, j, ch in self._bn:
            out[(lay, j)] = (deltas[:, o:o + ch], deltas[:, o + ch:o + 2 * ch])
            o += 2 * ch
        return out

    def node_params(self) -> Tensor:
        """`(L + 1, N)` int64 parameter counts of the nodes (row L: the heads)."""
        rows = [[sum(p.numel() for p in s.blocks[lay].parameters()) for s in self.streams]
                for lay in range(self.n_layers)]
        rows.append([sum(p.numel() for p in s.head.parameters()) for s in self.streams])
        return torch.tensor(rows, dtype=torch.int64)

    @torch.no_grad()
    def node_flops(self) -> Tensor:
        """`(L + 1, N)` int64 FLOPs per example of the nodes (row L: the heads).

        Counted by ``torch.utils.flop_counter.FlopCounterMode`` on one example: the
        convolutions and matrix products (a multiply-add is 2 FLOPs); batch norms, ReLUs,
        pooling and the routing between streams are not counted.
        """
        from torch.utils.flop_counter import FlopCounterMode

        was = self.training
        self.eval()
        try:
            x = self._stem(torch.zeros((1, *self.input_shape)))
            rows = []
            for lay in range(self.n_layers + 1):
                row, y = [], None
                for s in self.streams:
                    node = s.blocks[lay] if lay < self.n_layers else s.head
                    with FlopCounterMode(display=False) as counter:
                        y = node(x)
                    row.append(int(counter.get_total_flops()))
                rows.append(row)
                x = y
        finally:
            self.train(was)
        return torch.tensor(rows, dtype=torch.int64)

    def _stem(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(x, self.input_pool) if self.input_pool > 1 else x

    def forward_stream(self, i: int, x: Tensor, features: bool = False):
        """Stream i alone on `(B, ...)`: its task output `(B, out_dim)` (and block outputs)."""
        s = self.streams[i]
        x = self._stem(x)
        feats = []
        for block in s.blocks:
            x = block(x)
            feats.append(x)
        out = s.head(x)
        return (out, feats) if features else out

    def forward(self, x: Tensor, mix: Tensor, deltas: Tensor | None = None) -> Tensor:
        """Run the tree(s) ``mix`` on ``x``.

        Args:
            x: `(B, *input_shape)`.
            mix: `(B, L, N, N)` per-example parent weights (one-hot rows for a hard tree,
                Gumbel-softmax samples in stage 1): the input of node ``(l + 1, j)`` is
                ``Σ_i mix[b, l, j, i]·y_i^l``.
            deltas: `(B, n_deltas)` batch-norm offsets, or ``None`` (plain anchor batch norms).

        Returns:
            `(B, N, out_dim)` task outputs.
        """
        B, N, L = x.shape[0], self.n_tasks, self.n_layers
        if mix.shape != (B, L, N, N):
            raise ShapeError(f"mix must be ({B}, {L}, {N}, {N}), got {tuple(mix.shape)}")
        d = None if deltas is None else self.split_deltas(deltas)
        x = self._stem(x)
        need = self._needed(mix)

        def delta(lay: int, j: int):
            return None if d is None else d[(lay, j)]

        def layer(lay: int, inputs) -> list[Tensor]:
            ys: list[Tensor | None] = [s.blocks[lay](inputs(j), delta(lay, j)) if need[lay][j]
                                       else None for j, s in enumerate(self.streams)]
            done = next(y for y in ys if y is not None)
            return [torch.zeros_like(done) if y is None else y for y in ys]

        ys = layer(0, lambda j: x)
        for lay in range(1, L + 1):
            Y = torch.stack(ys, dim=1)  # (B, N, ...)
            X = torch.einsum("bji,bi...->bj...", mix[:, lay - 1].to(Y.dtype), Y)
            if lay < L:
                ys = layer(lay, lambda j, X=X: X[:, j])
            else:
                outs = [s.head(X[:, j], delta(L, j)) for j, s in enumerate(self.streams)]
        return torch.stack(outs, dim=1)

    def _needed(self, mix: Tensor) -> list[list[bool]]:
        """Which blocks any example's tree reads: ``need[l][i]`` for l < L.

        Without a gradient through ``mix`` a block no child reads is skipped (its output would
        be multiplied by 0): a frugal tree then costs fewer FLOPs to run. With one (stage 1's
        straight-through samples) every block runs, since ∂loss/∂mix needs every output.
        """
        L, N = self.n_layers, self.n_tasks
        if mix.requires_grad:
            return [[True] * N for _ in range(L)]
        reads = (mix != 0).any(dim=0).tolist()  # (L, N, N): child j reads parent i
        need = [[True] * N]  # the heads
        for lay in range(L - 1, -1, -1):
            child = need[0]
            need.insert(0, [any(child[j] and reads[lay][j][i] for j in range(N))
                            for i in range(N)])
        return need[:L]


class _Embed(nn.Module):
    """Preference embedding ``Σ_i r_i e_i + c·e_c`` followed by an MLP with ReLU."""

    def __init__(self, n_tasks: int, embed_dim: int, width: int, depth: int) -> None:
        super().__init__()
        self.embed = nn.Linear(n_tasks + 1, embed_dim, bias=False)  # columns: e_1 … e_N, e_c
        layers: list[nn.Module] = []
        a = embed_dim
        for _ in range(depth):
            layers += [nn.Linear(a, width), nn.ReLU()]
            a = width
        self.mlp = nn.Sequential(*layers)
        self.out_dim = a

    def forward(self, r: Tensor, c: Tensor) -> Tensor:
        return self.mlp(self.embed(torch.cat([r, c.unsqueeze(-1)], dim=-1)))


class EdgeHypernet(nn.Module):
    """Edge hypernet h(r, c): embedding, MLP, L linear heads of N×N parent logits.

    Args:
        n_tasks: N. n_layers: L (choice layers). embed_dim, width, depth: embedding size and
            MLP shape (paper: 32, 100, 2).

    Shapes: ``r`` `(K, N)`, ``c`` `(K,)` → logits `(K, L, N, N)` (row j: node ``(l + 1, j)``).
    """

    def __init__(self, n_tasks: int, n_layers: int, embed_dim: int = 32, width: int = 100,
                 depth: int = 2) -> None:
        super().__init__()
        self.n_tasks, self.n_layers = n_tasks, n_layers
        self.body = _Embed(n_tasks, embed_dim, width, depth)
        self.heads = nn.ModuleList(nn.Linear(self.body.out_dim, n_tasks * n_tasks)
                                   for _ in range(n_layers))

    def forward(self, r: Tensor, c: Tensor) -> Tensor:
        h = self.body(r, c)
        N = self.n_tasks
        return torch.stack([head(h).view(-1, N, N) for head in self.heads], dim=1)


class WeightHypernet(nn.Module):
    """Weight hypernet h̄(r, c): embedding, MLP, one linear layer to all Δγ, Δβ.

    The output layer starts at zero, so training starts from the anchor's batch norms.

    Args:
        n_tasks: N. n_deltas: offsets to predict. embed_dim, width, depth: as for
            :class:`EdgeHypernet` (paper: 32, 100, 3).

    Shapes: ``r`` `(K, N)`, ``c`` `(K,)` → `(K, n_deltas)`.
    """

    def __init__(self, n_tasks: int, n_deltas: int, embed_dim: int = 32, width: int = 100,
                 depth: int = 3) -> None:
        super().__init__()
        self.body = _Embed(n_tasks, embed_dim, width, depth)
        self.out = nn.Linear(self.body.out_dim, n_deltas)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, r: Tensor, c: Tensor) -> Tensor:
        return self.out(self.body(r, c))


class SharedTree(nn.Module):
    """The fixed tree of ``tree = "shared"``: logits that make every node read stream 0.

    Shapes: ``r`` `(K, N)`, ``c`` `(K,)` → logits `(K, L, N, N)` (inputs ignored).
    """

    def __init__(self, n_tasks: int, n_layers: int) -> None:
        super().__init__()
        logits = torch.zeros(n_layers, n_tasks, n_tasks)
        logits[..., 0] = 1.0
        self.register_buffer("logits", logits)

    def forward(self, r: Tensor, c: Tensor) -> Tensor:
        return self.logits.expand(r.shape[0], -1, -1, -1)


# ---------------------------------------------------------------------------- the model
@dataclass
class DymuEval:
    """Evaluation of n preferences at one resource preference c.

    Attributes:
        c: the resource preference. prefs: `(n, N)` task preferences.
        F: `(n, N)` test losses. accuracy: `(n, N)` test accuracies (classification) or
            ``None``. parents: `(n, L, N)` the maximum-likelihood trees. cost: `(n,)` active
            parameter ratios. uniformity: `(n,)` ``1 − KL(L̂ ‖ 1/N)``. hv: HV of ``F``.
        flops: `(n,)` FLOPs per example of the trees (:meth:`AnchorNet.node_flops`);
            ``flops / anchor_flops`` is the FLOPs ratio.
        anchor_flops: FLOPs per example of the whole anchor net (every node).
    """

    c: float
    prefs: np.ndarray
    F: np.ndarray
    accuracy: np.ndarray | None
    parents: np.ndarray
    cost: np.ndarray
    uniformity: np.ndarray
    hv: float
    flops: np.ndarray | None = None
    anchor_flops: float = float("nan")

    def summary(self) -> dict[str, float]:
        """``{"c", "hv", "uniformity", "cost", "flops", "flops_ratio"}`` (and ``"accuracy"``
        for classification): HV and the means of uniformity, active-parameter ratio, FLOPs per
        example, FLOPs ratio and test accuracy."""
        flops = float(np.mean(self.flops)) if self.flops is not None else float("nan")
        out = {"c": float(self.c), "hv": float(self.hv),
               "uniformity": float(np.mean(self.uniformity)), "cost": float(np.mean(self.cost)),
               "flops": flops, "flops_ratio": flops / self.anchor_flops}
        if self.accuracy is not None:
            out["accuracy"] = float(np.mean(self.accuracy))
        return out


class Dymu(nn.Module):
    """A trained DYMU controller: anchor net F, edge hypernet h, weight hypernet h̄.

    Args:
        anchor: the (frozen) :class:`AnchorNet`. edge: :class:`EdgeHypernet`.
        weight: :class:`WeightHypernet`. affinity: `(N, N)` task affinity.
        loss_weights: `(N,)` the w_i of ``L_task``.
    """

    def __init__(self, anchor: AnchorNet, edge: EdgeHypernet, weight: WeightHypernet,
                 affinity: Tensor, loss_weights: Tensor) -> None:
        super().__init__()
        self.anchor, self.edge, self.weight = anchor, edge, weight
        self.register_buffer("affinity", affinity.to(torch.float32))
        self.register_buffer("loss_weights", loss_weights.to(torch.float32))

    @property
    def n_tasks(self) -> int:
        """N."""
        return self.anchor.n_tasks

    def _rc(self, r, c) -> tuple[Tensor, Tensor]:
        r = torch.as_tensor(r, dtype=torch.float32)
        if r.dim() == 1:
            r = r.unsqueeze(0)
        if r.dim() != 2 or r.shape[1] != self.n_tasks:
            raise ShapeError(f"r must be (n, {self.n_tasks}), got {tuple(r.shape)}")
        c = torch.as_tensor(c, dtype=torch.float32).reshape(-1).expand(r.shape[0])
        return r, c.contiguous()

    @torch.no_grad()
    def tree(self, r, c) -> Tensor:
        """Maximum-likelihood parents `(n, L, N)` for preferences r `(n, N)` and c."""
        return ml_tree(self.edge(*self._rc(r, c)))

    def cost(self, parents: Tensor) -> Tensor:
        """Active parameter ratio `(n,)` of trees `(n, L, N)`."""
        return tree_cost(parents, self.anchor.node_params())

    def flops(self, parents: Tensor) -> Tensor:
        """FLOPs per example `(n,)` of trees `(n, L, N)` (see :meth:`AnchorNet.node_flops`)."""
        if getattr(self, "_node_flops", None) is None:
            self._node_flops = self.anchor.node_flops()
        w = self._node_flops.to(torch.float64)
        return (used_nodes(parents).to(torch.float64) * w).sum(dim=(-2, -1))

    @torch.no_grad()
    def predict(self, x: Tensor, r, c, adapted: bool = True) -> Tensor:
        """Outputs `(B, N, out_dim)` of the network for one preference (r `(N,)`, scalar c)."""
        r, c = self._rc(r, c)
        if r.shape[0] != 1:
            raise ShapeError("predict takes one preference; loop over preferences")
        parents = ml_tree(self.edge(r, c))
        mix = F.one_hot(parents, self.n_tasks).to(x.dtype).expand(x.shape[0], -1, -1, -1)
        deltas = self.weight(r, c).expand(x.shape[0], -1) if adapted else None
        return self.anchor(x, mix, deltas)

    @torch.no_grad()
    def evaluate(self, data: DymuData, r, c: float, adapted: bool = True,
                 batch: int = 1000) -> DymuEval:
        """Test losses, accuracies, trees, costs, uniformity and HV of preferences r at c.

        Args:
            data: the problem's tensors (the test split is used). r: `(n, N)` preferences.
            c: resource preference. adapted: apply h̄'s offsets (False: stage-1 network).
            batch: test examples per forward pass.
        """
        self.eval()
        r, cc = self._rc(r, c)
        parents = ml_tree(self.edge(r, cc))
        deltas = self.weight(r, cc)
        n, N = r.shape
        Fm = np.zeros((n, N))
        acc = np.zeros((n, N)) if data.task == "classification" else None
        X, Y = data.x_test, data.y_test
        for k in range(n):
            tot = torch.zeros(N, dtype=torch.float64)
            hits = torch.zeros(N, dtype=torch.float64)
            for s in range(0, X.shape[0], batch):
                xb, yb = X[s:s + batch], Y[s:s + batch]
                mix = F.one_hot(parents[k], N).to(xb.dtype).expand(xb.shape[0], -1, -1, -1)
                dl = deltas[k].expand(xb.shape[0], -1) if adapted else None
                out = self.anchor(xb, mix, dl)
                tot += data.losses(out, yb).sum(0).to(torch.float64)
                if acc is not None:
                    hits += (out.argmax(-1) == yb).sum(0).to(torch.float64)
            Fm[k] = (tot / X.shape[0]).numpy()
            if acc is not None:
                acc[k] = (hits / X.shape[0]).numpy()
        P = r.to(torch.float64).numpy()
        unif = metrics.uniformity(np.maximum(Fm, 1e-12), P)
        full = torch.arange(N).expand(1, parents.shape[1], N)
        return DymuEval(c=float(c), prefs=P, F=Fm, accuracy=acc,
                        parents=parents.numpy(), cost=self.cost(parents).numpy(),
                        uniformity=unif, hv=metrics.hypervolume(Fm, data.ref_point),
                        flops=self.flops(parents).numpy(),
                        anchor_flops=float(self.flops(full)[0]))


@dataclass
class DymuResult:
    """Outcome of :func:`train_dymu`.

    Attributes:
        model: the trained :class:`Dymu`. data: the problem's tensors. config: the settings.
        prefs: `(n_eval, N)` evaluation preferences (evenly spread on the simplex).
        evals: ``{c: DymuEval}`` for every ``config.eval_c`` (adapted networks).
        anchor_losses: `(N,)` test loss of every single-task stream (the anchor's own tree;
            with ``tree = "shared"``: of the shared multi-task network before stage 2).
        affinity: `(N, N)` RSA task affinity. loss_weights: `(N,)` the w_i.
        steps: steps taken per stage ``{"anchor", "edge", "weight"}`` (anchor: all streams).
        seconds: training seconds per stage. history: per-stage mean training losses.
    """

    model: Dymu
    data: DymuData
    config: DymuConfig
    prefs: np.ndarray
    evals: dict[float, DymuEval]
    anchor_losses: np.ndarray
    affinity: np.ndarray
    loss_weights: np.ndarray
    steps: dict[str, int]
    seconds: dict[str, float]
    history: dict[str, list[float]] = field(default_factory=dict)

    def evaluate(self, r=None, c: float = 0.0, adapted: bool = True) -> DymuEval:
        """Evaluate preferences ``r`` (`(n, N)`; default the evaluation set) at ``c``."""
        return self.model.evaluate(self.data, self.prefs if r is None else r, c, adapted)

    def table(self) -> list[dict[str, float]]:
        """One summary row per evaluated c: ``{"c", "hv", "uniformity", "cost"}``."""
        return [e.summary() for e in self.evals.values()]


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
