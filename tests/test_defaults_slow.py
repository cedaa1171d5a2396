"""Slow tier: the library defaults reach the issue-16 quality targets (no settings given).

Speed goals (seconds to 95 % / 99 %, equal-time comparisons) are measured by
benchmarks/bench_goals.py, not asserted here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hybridmoo import metrics, problems
from hybridmoo.train import train

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("name", "opts", "n_eval", "exact_hv", "target"), [
    ("zdt1", {}, 500, 0.1 + 2 / 3 + 0.11, 0.99),
    ("zdt2", {}, 500, 0.1 + 1 / 3 + 0.11, 0.99),
    ("dtlz2", {"n_obj": 3}, 5000, 1.1**3 - math.pi / 6, 0.98),
])
def test_defaults_reach_the_true_front_in_2000_steps(name, opts, n_eval, exact_hv, target):
    """ZDT1/ZDT2 ≥ 99 % (500 rays) and DTLZ2 ≥ 98 % (5,050 points) of the true HV, seed 0."""
    r = train(name, problem_options=opts, seed=0, n_eval=n_eval, eval_every=1000, threads=1,
              keep_weights=False)
    assert r.ok and r.steps == 2000
    assert r.hv / exact_hv >= target
    assert r.warnings == []


def test_defaults_on_raw_re21_reach_088_normalised_hv():
    """RE21 on raw objectives (f1 ~ 1e3, f2 ~ 1e-2): normalised HV ≥ 0.88 within 10 s."""
    p = problems.get("re21")
    r = train(p, seed=0, seconds=10.0, threads=1, keep_weights=False)
    assert r.ok and r.train_time <= 10.5
    hv_n = r.hv / float(np.prod((p.nadir - p.ideal).numpy()))
    assert hv_n >= 0.88
    ref = metrics.hypervolume(p.pareto_front(), p.ref_point.numpy())
    assert r.hv / ref >= 0.98
