"""HV-PSL: Pareto set learning that maximises the hypervolume.

Zhang, Lin, Xue, Chen & Zhang, "Hypervolume Maximization: A Geometric View of Pareto Set
Learning", NeurIPS 2023 (code ``xzhang2523/hvpsl``; ALGORITHMS.md §5).
"""

from __future__ import annotations

from collections.abc import Mapping

from hybridmoo.baselines._trainer import COMMON_DOC, is_data, problem_family, run_trainer
from hybridmoo.baselines.common import BaselineResult, Budget, register

__all__ = ["hv_psl"]


# HV-PSL's SGD learning rates for hv1 per problem family (moo_data.py, hv1_sgd_lr_dict)
_HVPSL_LR = {"ZDT": 0.01, "VLMOP": 0.05, "RE": 0.1}


@register("hv_psl", "psl", "Zhang, Lin, Xue, Chen & Zhang, NeurIPS 2023")
def hv_psl(problem, budget: Budget, seed: int, *, n_eval: int = 100,
           eval_every: int | None = None, ref_point=None, threads: int | None = None,
           device: str = "cpu", dtype: str = "float32", hypernet: Mapping | None = None,
           train: Mapping | None = None) -> BaselineResult:
    """HV-PSL: maximise the hypervolume through the per-direction loss hv1.

    Settings on the synthetic and engineering problems (``xzhang2523/hvpsl``, ``psl_main.py``,
    ``model/psl_model.py``, ``moo_data.py``; ALGORITHMS.md §5): directions on the positive unit
    sphere (θ ~ U(0, π/2) for m = 2), clamped to [0.01, 0.99]; 256 directions per step; loss
    ``hv1`` with reference point nadir + 0.4 (the problem's nadir where known, else its HV
    reference point); model raw λ → 3 hidden ReLU layers of 128 units (512 for the RE problems)
    → sigmoid to the bounds; gradient-norm clipping at 4.0; plain SGD (no momentum) with lr
    0.01 (ZDT), 0.05 (VLMOP), 0.1 (RE); for the other synthetic families (DTLZ, PSL) 0.01, a
    reading.

    On data-driven (multi-task) problems the hvpsl code has no training script, so the settings
    follow the first author's LibMOON (``libmoon/solver/psl/run_mtl_psl.py``, Multi-MNIST): one
    direction per step on a minibatch of 128, Adam with lr 1e-3, and PHN's hypernetwork (raw
    λ → 2 hidden ReLU layers of 100 units → one linear head per target tensor, ``base = False``);
    the sphere directions, ``hv1``, its reference point and the clipping at 4.0 stay. The
    synthetic-problem settings (plain SGD at lr 0.01, 256 directions sharing one minibatch) do
    not move a LeNet hypernetwork: on Multi-MNIST they stay above the (2, 2) reference point
    after 60 s (HV 0).
    """
    fam = problem_family(problem)
    nadir = getattr(problem, "nadir", None)
    if nadir is not None:
        hv_ref = tuple(float(v) + 0.4 for v in nadir.tolist())
    else:
        hv_ref = None  # the trainer falls back to the HV reference point
    hv1 = {"sampler": {"name": "sphere", "clamp": [0.01, 0.99]}, "scalarization": {"name": "hv1"},
           "grad_clip": 4.0, "hv_ref": hv_ref, "normalize": "none"}
    if is_data(problem):  # LibMOON's Multi-MNIST PSL settings
        net = {"embed_dim": 0, "width": 100, "depth": 2, "base": False}
        config = {**hv1, "n_prefs": 1, "optimizer": "adam", "lr": 1e-3, "batch_size": 128}
    else:
        net = {"embed_dim": 0, "width": 512 if fam == "RE" else 128, "depth": 3}
        config = {**hv1, "n_prefs": 256, "optimizer": "sgd", "momentum": 0.0,
                  "lr": _HVPSL_LR.get(fam, 0.01)}
    return run_trainer(problem, budget, seed, method="hv_psl", hypernet=net, config=config,
                       user_hypernet=hypernet, user_train=train, n_eval=n_eval,
                       eval_every=eval_every, ref_point=ref_point, threads=threads,
                       device=device, dtype=dtype)


hv_psl.__doc__ = f"{hv_psl.__doc__.rstrip()}\n\n    {COMMON_DOC}\n"
