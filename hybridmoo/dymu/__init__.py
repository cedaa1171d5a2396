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

from hybridmoo.dymu.config import PAPER as PAPER
from hybridmoo.dymu.config import DymuConfig
from hybridmoo.dymu.data import DymuData, dymu_data
from hybridmoo.dymu.model import Dymu, DymuEval, DymuResult
from hybridmoo.dymu.networks import AnchorNet, EdgeHypernet, WeightHypernet
from hybridmoo.dymu.search import (
    branching_regularizer,
    gumbel_softmax,
    gumbel_temperature,
    ml_tree,
    p_use,
    rsa_affinity,
    tree_cost,
    used_nodes,
)
from hybridmoo.dymu.stages import build_dymu, split_budget, train_dymu

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
