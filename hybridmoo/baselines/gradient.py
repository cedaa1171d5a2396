"""Gradient baselines that train one model per preference (family facade).

Methods, one module each: :mod:`~hybridmoo.baselines.ls`, :mod:`~hybridmoo.baselines.mgda_ub`,
:mod:`~hybridmoo.baselines.pcgrad`, :mod:`~hybridmoo.baselines.cagrad`,
:mod:`~hybridmoo.baselines.epo`, :mod:`~hybridmoo.baselines.pmtl`; the shared runner is
:mod:`hybridmoo.baselines._perpref`. This module re-exports their public names.

Each method keeps a *finite* set of P preferences (``n_prefs``, evenly spread by
:func:`hybridmoo.preferences.eval_preferences`) and one model per preference. For the
decision-vector problems of :mod:`hybridmoo.problems` a model is one decision vector ``x`` (a
row of a `(P, n_var)` tensor); for data-driven problems (Multi-MNIST, ``mtl_regression``, …) a
model is one copy of the problem's target network (e.g. the LeNet), P copies stacked and
evaluated in one vectorised pass, every copy on the same minibatch of ``batch_size`` examples,
and the objectives it reports are its losses on the held-out split. All P models are updated on
every step, vectorised over P:

1. ``F = problem.evaluate(x)`` gives the `(P, m)` objectives (P evaluations; for networks, the
   P minibatch losses);
2. the `(P, m, d)` Jacobian comes from m backward passes, one per objective, on
   ``F[:, i].sum()``: each model only affects its own row, so the gradient of the sum with
   respect to row p is the gradient of ``F[p, i]``;
3. the method turns each row's `(m, d)` Jacobian into a descent direction `(d,)`;
4. an optimiser (SGD by default, or Adam) takes one step on all P rows.

>>> from hybridmoo import baselines
>>> r = baselines.run("ls", "zdt1", baselines.Budget("steps", 20), seed=0, n_prefs=4,
...                   problem_options={"n_var": 5})
>>> r.status, r.F.shape, r.budget_used["evaluations"]
('ok', (4, 2), 84.0)

**Budget.** One *step* updates all P models once; every step evaluates the P current decision
vectors once (P evaluations) and the final decision vectors are evaluated once more, so a run
of S steps uses ``(S + 1)·P`` evaluations. A budget of E evaluations gives
``S = E // P − 1`` steps; a budget of T seconds runs steps until T seconds of computation have
passed (the time spent computing the HV trace is not counted, in the budget or in
``trace["seconds"]``).

**Bounds (a reading).** The papers train unconstrained networks; here every decision vector
must stay in the problem's box. ``parameterization="project"`` (default) is projected gradient
descent: after every optimiser step ``x`` is clipped to the box shrunk by a relative margin of
1e-6 (so that objectives such as ZDT1's ``sqrt(x1)`` keep finite gradients on the bound). Before
the method sees the Jacobian, a variable that sits on a bound is dropped from all m gradients
when *every* objective would move it outside (all partial derivatives ≥ 0 on the lower bound,
≤ 0 on the upper); otherwise MGDA-type methods would count an infeasible direction and never
see Pareto-stationarity on problems whose Pareto set lies on a bound (ZDT, DTLZ).
``parameterization="sigmoid"`` optimises ``z`` with ``x = lower + (upper − lower)·σ(z)``
instead (the parameterisation hybridmoo's hypernetworks use); gradients are then taken with
respect to ``z``.

**Initialisation.** Uniform in the box from a ``torch.Generator`` seeded with ``seed``; every
method draws the same P starting points for the same seed and ``n_prefs``.

**Trace.** Every ``eval_every`` steps (default: a twentieth of the steps; for a seconds budget,
a twentieth of the seconds) the HV (and IGD, where the problem has a reference front) of the P
current objective vectors is recorded with :class:`~hybridmoo.baselines.common.Tracer`, and
once more at the end. A non-finite objective, gradient or direction ends the run with
``status == "failed"``; the trace recorded so far is kept.

The direction functions (:func:`ls_direction`, :func:`mgda_direction`,
:func:`pcgrad_direction`, :func:`cagrad_direction`, :func:`epo_direction`,
:func:`pmtl_weights`) are public, pure and work on any `(P, m, d)` Jacobian, so that a trainer
of neural networks can reuse them.
"""

from hybridmoo.aggregate import (
    cagrad_direction,
    epo_direction,
    ls_direction,
    mgda_direction,
    min_norm_weights,
    pcgrad_direction,
    pmtl_weights,
)
from hybridmoo.baselines._perpref import jacobian
from hybridmoo.baselines.cagrad import cagrad
from hybridmoo.baselines.epo import epo
from hybridmoo.baselines.ls import ls
from hybridmoo.baselines.mgda_ub import mgda_ub
from hybridmoo.baselines.pcgrad import pcgrad
from hybridmoo.baselines.pmtl import pmtl

__all__ = [
    "cagrad",
    "cagrad_direction",
    "epo",
    "epo_direction",
    "jacobian",
    "ls",
    "ls_direction",
    "mgda_direction",
    "mgda_ub",
    "min_norm_weights",
    "pcgrad",
    "pcgrad_direction",
    "pmtl",
    "pmtl_weights",
]
