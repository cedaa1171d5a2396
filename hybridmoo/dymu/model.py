"""The DYMU model (anchor, edge and weight hypernetworks together) and its evaluation."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from hybridmoo import metrics
from hybridmoo.dymu.config import DymuConfig
from hybridmoo.dymu.data import DymuData
from hybridmoo.dymu.networks import AnchorNet, EdgeHypernet, WeightHypernet
from hybridmoo.dymu.search import ml_tree, tree_cost, used_nodes
from hybridmoo.errors import ShapeError


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
