"""DYMU configuration: every reading of the paper is a :class:`DymuConfig` field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from hybridmoo._config import check_choices, check_ranges, check_types

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
        check_types("dymu", self)  # booleans, quoted numbers, nan/inf: refused
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
