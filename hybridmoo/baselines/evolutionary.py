"""Evolutionary baselines (family facade): pymoo's multi-objective algorithms run on a problem.

Each method is its own module: :mod:`~hybridmoo.baselines.nsga2`, :mod:`~hybridmoo.baselines.nsga3`,
:mod:`~hybridmoo.baselines.moead`, :mod:`~hybridmoo.baselines.smsemoa` and
:mod:`~hybridmoo.baselines.pymoo_any`; the shared driver is :mod:`hybridmoo.baselines._pymoo`.

The hybridmoo problem is wrapped as a vectorised pymoo ``Problem`` (numpy float64 in, one batched
``problem.evaluate`` in torch float64, numpy out; no gradients) and driven by pymoo's ask/tell
interface, so the budget is checked between generations:

- ``evaluations``: objective evaluations f(x). The last generation is cut to the evaluations
  left: its individuals are evaluated and enter the archive but are not told to the algorithm,
  so ``budget_used["evaluations"]`` never exceeds the budget.
- ``steps``: generations (the initial population counts as the first; for the loop-wise MOEA/D
  a generation is one pass over all subproblems).
- ``seconds``: seconds spent in ask, evaluate and tell; the time to compute the HV trace is
  excluded (as :func:`hybridmoo.train` excludes evaluation time). A generation that has started
  is finished, so a run may overrun by one generation.

Approximation set (``front``): ``"archive"`` (default) is the non-dominated set of *every* point
evaluated so far (an unbounded archive, as in anytime benchmarking such as COCO's bi-objective
suite); ``"population"`` is the non-dominated part of the current population (what
``pymoo.optimize.minimize`` reports as ``res.F``); only the archive front keeps the archive, whose
upkeep (a non-dominated sort of it each generation, outside the seconds budget) grows with the run
and can stretch a long seconds-budget run's wall clock several-fold. The trace records the HV (and
IGD, where the problem has a reference front) of that set about once per ``trace_every`` evaluations
(default: the population size, i.e. every generation of a generational algorithm, or 1/50 of an
evaluations budget if larger; under a seconds budget at most every 1/50 of it), plus the start and
the end: about 50 points, since each costs an HV (and IGD) of the whole archive.

Methods (family ``"evolutionary"``), with the operator settings of their papers:

- ``nsga2``: NSGA-II (Deb, Pratap, Agarwal, Meyarivan, "A fast and elitist multiobjective genetic
  algorithm: NSGA-II", IEEE TEVC 6(2), 2002): SBX η_c = 20, p_c = 0.9; polynomial mutation
  η_m = 20, p_m = 1/n (the paper's settings; pymoo's default SBX uses η_c = 15).
- ``nsga3``: NSGA-III (Deb & Jain, "An evolutionary many-objective optimization algorithm using
  reference-point-based nondominated sorting approach, part I", IEEE TEVC 18(4), 2014): SBX
  η_c = 30, p_c = 1; PM η_m = 20 (pymoo's defaults, which are the paper's); Das–Dennis
  reference directions, the largest lattice with at most ``pop_size`` points.
- ``moead``: MOEA/D (Zhang & Li, "MOEA/D: A multiobjective evolutionary algorithm based on
  decomposition", IEEE TEVC 11(6), 2007): Tchebycheff decomposition, T = 20 neighbours, parents
  always drawn from the neighbourhood (``prob_neighbor_mating = 1``, as in the paper; pymoo's
  0.9 comes from MOEA/D-DE), SBX η_c = 20, p_c = 1, PM η_m = 20. ``pop_size`` Das–Dennis weight
  vectors (the largest lattice with at most ``pop_size`` points). ``parallel=True`` (default)
  runs pymoo's generation-wise ``ParallelMOEAD`` (one offspring per subproblem, evaluated as
  one batch, neighbours replaced after the batch); ``parallel=False`` runs pymoo's loop-wise
  ``MOEAD`` (one offspring per ask, replacement immediately, as in the paper; slower in Python).
- ``smsemoa``: SMS-EMOA (Beume, Naujoks & Emmerich, "SMS-EMOA: Multiobjective selection based
  on dominated hypervolume", EJOR 181(3), 2007): steady state, one offspring per generation
  (``n_offsprings = 1``, the (μ + 1) scheme of the paper), SBX η_c = 15, p_c = 0.9, PM η_m = 20
  (pymoo's defaults).
- ``pymoo:<name>``: any other pymoo algorithm, looked up by module or class name under
  ``pymoo.algorithms.moo`` (case-insensitive: ``pymoo:spea2`` → ``SPEA2``, ``pymoo:sms`` →
  ``SMSEMOA``, ``pymoo:rvea``, ``pymoo:ctaea``; AGE-MOEA, ``pymoo:age``, needs numba) or by a
  full dotted path (``pymoo:pkg.module.Class``), built with pymoo's defaults. ``pop_size`` is
  passed if the class takes it; ``ref_dirs`` (when the class takes them and none are given) are
  Das–Dennis directions as for NSGA-III; any other required argument must be given as a
  parameter.

Every method accepts ``pop_size``, ``front``, ``trace_every``, ``ref_point`` (HV reference
point, default the problem's), ``threads`` (torch threads while evaluating; unset: unchanged),
plus keyword options of the pymoo class's constructor (e.g.
``n_offsprings``, ``eliminate_duplicates``, ``crossover=SBX(eta=10)``); an option the class does
not take is an error that lists those it does. Randomness comes from pymoo's own generator,
seeded with ``seed``: the same seed gives the same run.

>>> from hybridmoo import baselines
>>> r = baselines.run("nsga2", "zdt1", {"evaluations": 400}, seed=1, pop_size=40,
...                   problem_options={"n_var": 5})
>>> r.ok, r.budget_used["evaluations"], r.budget_used["steps"]
(True, 400.0, 10.0)
"""

from hybridmoo.baselines._pymoo import as_pymoo_problem, run_pymoo
from hybridmoo.baselines.moead import moead
from hybridmoo.baselines.nsga2 import nsga2
from hybridmoo.baselines.nsga3 import nsga3
from hybridmoo.baselines.pymoo_any import resolve_pymoo
from hybridmoo.baselines.smsemoa import smsemoa

__all__ = ["as_pymoo_problem", "moead", "nsga2", "nsga3", "resolve_pymoo", "run_pymoo", "smsemoa"]
