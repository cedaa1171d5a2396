"""The one budget type and the one record type."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from hybridmoo.errors import ConfigError
from hybridmoo.record import BUDGET_KINDS, TRACE_KEYS, Budget, Record, full_trace


def test_budget_forms_agree():
    assert Budget("steps", 100) == Budget(steps=100) == Budget.of({"steps": 100}) \
        == Budget.of({"kind": "steps", "amount": 100}) == Budget.of(("steps", 100.7))
    b = Budget.of({"steps": 500, "seconds": 60, "epochs": None})
    assert b.to_dict() == {"steps": 500, "seconds": 60.0} and b.kinds == ("steps", "seconds")
    assert pickle.loads(pickle.dumps(b)) == b and hash(b) == hash(Budget(seconds=60, steps=500))


def test_single_limit_views():
    b = Budget("evaluations", 2500.9)
    assert (b.kind, b.amount, b.count) == ("evaluations", 2500.0, 2500)
    with pytest.raises(ConfigError, match="several limits"):
        _ = Budget(steps=1, seconds=2).kind


def test_exhausted_at_the_first_limit():
    b = Budget(steps=100, seconds=60)
    assert not b.exhausted({"steps": 99, "seconds": 59.9})
    assert b.exhausted({"steps": 100})
    assert b.exhausted({"seconds": 60.0, "evaluations": 1e9})
    assert not Budget(epochs=2).exhausted({"steps": 10**9})  # uncounted kinds do not stop it


def test_split_and_scale():
    stages = Budget(steps=1000, seconds=10.0).split([0.4, 0.4, 0.2])
    assert [s.to_dict() for s in stages] == [{"steps": 400, "seconds": 4.0},
                                            {"steps": 400, "seconds": 4.0},
                                            {"steps": 200, "seconds": 2.0}]
    assert Budget(steps=3).split([0.5, 0.5]) == [Budget(steps=1), Budget(steps=1)]
    assert Budget(seconds=2).scaled(0.25) == Budget(seconds=0.5)
    with pytest.raises(ConfigError, match="sum to 1"):
        Budget(steps=10).split([0.5, 0.4])
    with pytest.raises(ConfigError, match="positive"):
        Budget(steps=10).split([1.5, -0.5])


@pytest.mark.parametrize("kwargs, words", [
    ({}, "at least one limit"),
    ({"steps": 0}, "finite number > 0"),
    ({"steps": 0.5}, "whole number ≥ 1"),
    ({"seconds": float("inf")}, "finite number > 0"),
    ({"seconds": float("nan")}, "finite number > 0"),
    ({"steps": True}, "finite number > 0"),
    ({"steps": "50"}, "without quotes"),
    ({"steps": "many"}, "finite number > 0"),
    ({"evaluations": 10**30}, "whole number"),
    ({"epochs": -1}, "finite number > 0"),
])
def test_bad_budgets_are_refused(kwargs, words):
    with pytest.raises(ConfigError, match=words):
        Budget(**kwargs)


def test_bad_kinds_name_the_allowed_ones():
    with pytest.raises(ConfigError, match="Did you mean 'steps'") as e:
        Budget.of({"step": 10})
    assert all(k in str(e.value) for k in BUDGET_KINDS)
    with pytest.raises(ConfigError, match="Allowed: steps, seconds"):
        Budget("minutes", 3)
    with pytest.raises(ConfigError, match="given twice"):
        Budget("steps", 3, steps=4)
    with pytest.raises(ConfigError, match="expected Budget"):
        Budget.of([1, 2, 3])


def test_budget_is_immutable():
    with pytest.raises(AttributeError, match="immutable"):
        Budget(steps=1).steps = 2


def test_trace_gets_every_column_and_reads_the_old_step_name():
    t = full_trace({"step": [0, 10], "hv": [0.1, 0.5]})
    assert set(t) == set(TRACE_KEYS)
    assert t["steps"].tolist() == [0.0, 10.0] and np.isnan(t["seconds"]).all()
    with pytest.raises(ValueError, match="differ in length"):
        full_trace({"steps": [0, 1], "hv": [1.0]})


def test_record_views_and_failed():
    r = Record(method="hypernet", problem={"name": "zdt1"}, seed=3, F=np.zeros((2, 2)),
               ref_point=np.ones(2), config={"hypernet": {"width": 8}, "train": {"lr": 1e-3}},
               budget_used={"steps": 50.0}, trace={"steps": [0, 50], "hv": [0, 0.6]})
    assert r.ok and r.steps == 50 and r.hypernet == {"width": 8} and r.train == {"lr": 1e-3}
    assert r.params is r.config and r.state_dict is None and len(r.trace["loss"]) == 2
    f = Record.failed("NaN loss at step 7", method="psl", problem={"name": "zdt1"}, seed=0,
                      n_obj=3, trace={"steps": [0], "hv": [0.1]}, budget_used={"steps": 7})
    assert not f.ok and f.F.shape == (0, 3) and np.isnan(f.ref_point).all()
    assert f.trace["hv"].tolist() == [0.1] and f.steps == 7 and np.isnan(f.hv)
