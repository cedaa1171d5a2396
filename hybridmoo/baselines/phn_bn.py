"""PHN-BN: a Pareto hypernetwork that predicts only the batch norms of a shared network.

The baseline "PHN-BN" of Raychaudhuri et al., "Controllable Dynamic Multi-Task Architectures",
CVPR 2022 (DYMU), built on Navon et al., "Learning the Pareto Front with Hypernetworks"
(PHN), ICLR 2021. The DYMU paper names it without its details; this is a reading: DYMU with
its dynamic tree replaced by one fixed hard-sharing tree, so the comparison isolates what the
learned tree adds (:mod:`hybridmoo.dymu`, ``tree = "shared"``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hybridmoo.baselines.common import BaselineResult, Budget, register
from hybridmoo.baselines.dymu import run_dymu_method
from hybridmoo.errors import ConfigError

__all__ = ["phn_bn"]


@register("phn_bn", "psl",
          "Raychaudhuri et al., CVPR 2022 (baseline), after Navon et al., ICLR 2021 (PHN)")
def phn_bn(problem, budget: Budget, seed: int, *, n_eval: int = 20, ref_point=None,
           threads: int | None = None, stage_fractions: Sequence[float] = (0.8, 0.0, 0.2),
           config: Mapping | None = None) -> BaselineResult:
    """PHN-BN: preference-conditioned batch-norm offsets of one hard-sharing multi-task network.

    The network is DYMU's anchor net with every node reading stream 0: one trunk of L blocks
    and N task heads. Stage 0 trains it on the mean task loss (batch norms with batch
    statistics); stage 2 freezes it and trains DYMU's weight hypernetwork h̄(r) (c = 0), which
    predicts Δγ, Δβ of every batch norm, on ``Σ r_i w_i L_i`` with ``r ~ Dir(α)``. There is no
    edge stage. Same problems as ``dymu`` (the Multi-MNIST family and ``mtl_regression``).

    Budget: split by ``stage_fractions`` (default 0.8 to the shared network, 0.2 to the
    hypernetwork, the share of DYMU's stage 2); kinds as for ``dymu``.

    Parameters:
        n_eval: evaluation preferences. ref_point: HV reference point (default the
            problem's). threads: torch threads. stage_fractions: the budget split (the middle
            one must be 0). config: further :class:`~hybridmoo.dymu.DymuConfig` fields.

    ``extra`` as for ``dymu``: ``cost`` is the shared network's share of DYMU's anchor net of
    the same widths (the trunk of one stream and all heads).
    """
    if len(stage_fractions) != 3 or stage_fractions[1] != 0:
        raise ConfigError(f"phn_bn.stage_fractions = {list(stage_fractions)!r}: expected "
                          "[shared network, 0, hypernetwork] (PHN-BN has no edge stage)")
    cfg = {**dict(config or {}), "tree": "shared"}
    return run_dymu_method("phn_bn", problem, budget, seed, c=0.0, n_eval=n_eval,
                           ref_point=ref_point, threads=threads,
                           stage_fractions=stage_fractions, config=cfg)
