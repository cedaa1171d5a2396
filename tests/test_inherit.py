"""Inheritance (population-based training's exploit step): a trial with other settings takes
over another trial's saved run (hybridmoo.continuation.inherit_state)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from hybridmoo.errors import ConfigError
from hybridmoo.scheduler import AshaScheduler
from hybridmoo.train import Trainer

OPTS = {"n_var": 4}


def _cfg(steps: int, **kw) -> dict:
    return {"steps": steps, "n_eval": 11, "eval_every": 5, "threads": 1, "lr_horizon": 40, **kw}


def _donor(steps=15, hyper=None, **kw) -> tuple[Trainer, bytes]:
    t = Trainer("zdt1", hyper or {"width": 16, "depth": 2}, _cfg(steps, **kw), seed=3,
                problem_options=OPTS)
    t.run()
    return t, t.save_state()


def test_same_architecture_takes_weights_optimizer_and_counters():
    donor, blob = _donor(lr=1e-3)
    child = Trainer("zdt1", {"width": 16, "depth": 2}, _cfg(30, lr=4e-3), seed=99,
                    problem_options=OPTS, inherit_state=blob)
    for k, v in donor.net.state_dict().items():
        assert torch.equal(child.net.state_dict()[k], v), k
    # Adam's moments came along, the learning rate is the child's (cosine at step 15 of 40)
    d_state, c_state = donor.opt.state_dict()["state"], child.opt.state_dict()["state"]
    assert d_state.keys() == c_state.keys() and d_state
    for i in d_state:
        assert torch.equal(d_state[i]["exp_avg"], c_state[i]["exp_avg"])
    lr_expected = 0.5 * 4e-3 * (1 + np.cos(np.pi * 15 / 40))
    assert child.opt.param_groups[0]["lr"] == pytest.approx(lr_expected)
    assert child.step_count == 15 and child.samples == donor.samples
    n = len(donor.net.state_dict())
    assert child.inherited == {"step": 15, "parameters": [n, n],
                               "optimizer": True, "normalizer": True, "sampler": False}
    result = child.run()
    assert result.ok and result.steps == 30
    # one record: the donor's trace up to step 15, the child's after it
    np.testing.assert_array_equal(result.trace["steps"][:4], [0, 5, 10, 15])
    assert result.trace["steps"][-1] == 30


def test_inheritance_differs_from_a_plain_continuation():
    """The settings really change: the same donor continued with another lr moves elsewhere."""
    _, blob = _donor(lr=1e-3)
    same = Trainer("zdt1", {"width": 16, "depth": 2}, _cfg(25, lr=1e-3), seed=3,
                   problem_options=OPTS, resume_state=blob)
    other = Trainer("zdt1", {"width": 16, "depth": 2}, _cfg(25, lr=3e-2), seed=3,
                    problem_options=OPTS, inherit_state=blob)
    same.run(), other.run()
    diff = max(float((a - b).abs().max()) for a, b in
               zip(same.net.state_dict().values(), other.net.state_dict().values(), strict=True))
    assert diff > 1e-4


def test_other_architecture_transfers_matching_parameters_only():
    donor, blob = _donor(hyper={"width": 16, "depth": 2})
    child = Trainer("zdt1", {"width": 24, "depth": 2}, _cfg(30), seed=4, problem_options=OPTS,
                    inherit_state=blob)
    fresh = Trainer("zdt1", {"width": 24, "depth": 2}, _cfg(30), seed=4, problem_options=OPTS)
    own, d = child.net.state_dict(), donor.net.state_dict()
    matched = [k for k in own if k in d and d[k].shape == own[k].shape]
    assert 0 < len(matched) < len(own)
    for k in own:
        want = d[k] if k in matched else fresh.net.state_dict()[k]
        assert torch.equal(own[k], want), k
    assert child.inherited["parameters"] == [len(matched), len(own)]
    assert child.inherited["optimizer"] is False  # fresh Adam: its moments would not fit
    assert not child.opt.state_dict()["state"]
    assert child.run().ok


def test_two_starting_states_and_junk_are_refused():
    _, blob = _donor()
    with pytest.raises(ConfigError, match="one starting state"):
        Trainer("zdt1", {"width": 16, "depth": 2}, _cfg(30), seed=0, problem_options=OPTS,
                inherit_state=blob, resume_state=blob)
    with pytest.raises(ConfigError, match="not a saved trainer state|does not load"):
        Trainer("zdt1", {"width": 16, "depth": 2}, _cfg(30), seed=0, problem_options=OPTS,
                inherit_state=b"junk")


# ---------------------------------------------------------------- the scheduler's exploit step

def _filled(n: int = 6) -> AshaScheduler:
    s = AshaScheduler(10, 90, 3)  # rungs 10, 30, 90
    for t in range(n):
        s.start(t, 0)
        s.report(t, 0, [float(t), 0.0])  # one objective: lower id is better
    return s


def test_exploit_takes_the_worst_bottom_trial_and_offers_the_best():
    s = _filled(6)
    # ⌊6/3⌋ = 2 promotable (0, 1); the bottom is 2..5, the worst first
    assert s.next_exploit() == (5, 0, [0, 1])
    s.start_child(100, 0, 1, replaces=5)
    assert s.next_exploit() == (4, 0, [0, 1])
    assert s.running[100] == 1 and s.entry_rung(100) == 1 and s.entry_rung(0) == 0
    assert s.parents[100] == (0, 0, 5)
    # a promoted or running trial is not replaced
    s.start(4, 1)
    assert s.next_exploit() == (3, 0, [0, 1])
    with pytest.raises(ValueError, match="has not completed rung 1"):
        s.start_child(101, 0, 2, replaces=3)
    with pytest.raises(ValueError, match="already exists"):
        s.start_child(100, 0, 1, replaces=3)


def test_exploit_waits_for_enough_results_and_prefers_high_rungs():
    s = _filled(2)
    assert s.next_exploit() is None  # ⌊2/3⌋ = 0: nothing is known to be better yet
    s = _filled(9)
    for t in (0, 1, 2):
        s.start(t, 1)
        s.report(t, 1, [float(t), 0.0])
    # rung 1 has 3 results: 0 is promotable, 1 and 2 are its bottom, taken before rung 0's
    assert s.next_exploit() == (2, 1, [0])


def test_child_reports_and_is_promoted_like_any_trial():
    s = _filled(6)
    s.start_child(100, 0, 1, replaces=5)
    s.report(100, 1, [-1.0, 0.0])
    for t in (1, 2):
        s.start(t, 1)
        s.report(t, 1, [float(t), 0.0])
    assert s.next_promotion() == (100, 2)  # the child is rung 1's best


def test_scheduler_state_keeps_children_and_undoes_a_lost_one():
    s = _filled(6)
    s.start_child(100, 0, 1, replaces=5)
    s.report(100, 1, [0.5, 0.0])
    s.start_child(101, 1, 1, replaces=4)  # lost with the driver: never reported
    r = AshaScheduler.from_state(json.loads(json.dumps(s.state())))
    assert r.parents == {100: (0, 0, 5)}
    assert r.replaced(0) == {5}
    assert r.next_exploit() == (4, 0, [0, 1])  # 4 may be replaced again
    assert 100 not in r.promoted[0]  # a child did not come from its entry rung's promotions
