"""Exact continuation: N steps, save, continue to N + M equals N + M steps in one run."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from hybridmoo.errors import ConfigError
from hybridmoo.train import Trainer

HYPER = {"width": 16, "depth": 2}


def _cfg(steps: int, **kw) -> dict:
    return {"steps": steps, "n_eval": 11, "eval_every": 7, "threads": 1, "lr_horizon": 40,
            **kw}


def _weights(tr: Trainer) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in tr.net.state_dict().items()}


def _split_run(problem, n: int, total: int, *, through_pickle: bool = False, seed: int = 5,
               **kw):
    first = Trainer(problem, HYPER, _cfg(n, **kw), seed=seed, problem_options={"n_var": 4})
    first.run()
    blob = first.save_state()
    assert isinstance(blob, bytes)
    if through_pickle:  # what a Ray task argument / return value goes through
        blob = pickle.loads(pickle.dumps({"state": blob}))["state"]
    second = Trainer(problem, HYPER, _cfg(total, **kw), seed=seed,
                     problem_options={"n_var": 4}, resume_state=blob)
    result = second.run()
    return first, second, result


@pytest.mark.parametrize("through_pickle", [False, True])
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_continuation_equals_one_run(through_pickle, optimizer):
    one = Trainer("zdt1", HYPER, _cfg(40, optimizer=optimizer), seed=5,
                  problem_options={"n_var": 4})
    r_one = one.run()
    first, second, r_two = _split_run("zdt1", 15, 40, through_pickle=through_pickle,
                                      optimizer=optimizer)
    w1, w2 = _weights(one), _weights(second)
    assert w1.keys() == w2.keys()
    for k in w1:
        assert torch.allclose(w1[k], w2[k], atol=1e-6, rtol=0), k
    # the continuation moved the weights (it really trained M more steps)
    assert any(not torch.equal(_weights(first)[k], w2[k]) for k in w2)
    assert second.step_count == 40 and r_two.steps == 40
    # same learning rate at the end (the schedule spans lr_horizon in both)
    assert one.opt.param_groups[0]["lr"] == pytest.approx(second.opt.param_groups[0]["lr"])
    assert r_one.hv == pytest.approx(r_two.hv, rel=1e-6)
    np.testing.assert_allclose(r_one.F, r_two.F, atol=1e-6)


def test_continued_trace_goes_on():
    """The trace of the continuation starts with the first run's points; steps strictly increase
    (no restart, no duplicated point at the boundary); counters and seconds carry on."""
    first, second, r = _split_run("zdt1", 15, 40)
    steps = r.trace["steps"]
    assert np.all(np.diff(steps) > 0)
    assert steps[0] == 0 and steps[-1] == 40
    assert 15 in steps.tolist()
    n_first = len(first._trace["steps"])
    np.testing.assert_array_equal(steps[:n_first], np.asarray(first._trace["steps"]))
    assert r.trace["seconds"][-1] >= first.train_time
    assert r.trace["evaluations"][-1] > first.evaluations > 0
    assert second.samples == 40


def test_normalizer_state_is_restored():
    first, second, _ = _split_run("zdt1", 15, 15 + 1, normalize="auto")
    st = second.normalizer.state_dict()
    assert st["count"] == first.normalizer.state_dict()["count"] + \
        (1 if second.normalizer.needs_updates else 0)


def test_cosine_without_horizon_refuses_a_changed_budget():
    first = Trainer("zdt1", HYPER, {"steps": 10, "n_eval": 11, "threads": 1}, seed=0,
                    problem_options={"n_var": 4})
    first.run()
    with pytest.raises(ConfigError, match="lr_horizon"):
        Trainer("zdt1", HYPER, {"steps": 20, "n_eval": 11, "threads": 1}, seed=0,
                problem_options={"n_var": 4}, resume_state=first.save_state())


def test_other_settings_are_refused():
    first = Trainer("zdt1", HYPER, _cfg(10), seed=0, problem_options={"n_var": 4})
    first.run()
    blob = first.save_state()
    with pytest.raises(ConfigError, match="train.lr"):
        Trainer("zdt1", HYPER, _cfg(20, lr=0.1), seed=0, problem_options={"n_var": 4},
                resume_state=blob)
    with pytest.raises(ConfigError, match="seed"):
        Trainer("zdt1", HYPER, _cfg(20), seed=1, problem_options={"n_var": 4},
                resume_state=blob)
    with pytest.raises(ConfigError, match="not a saved trainer state|does not load"):
        Trainer("zdt1", HYPER, _cfg(20), seed=0, problem_options={"n_var": 4},
                resume_state=b"garbage")


def test_horizon_changes_only_the_schedule():
    """lr_horizon = the budget is today's cosine schedule exactly."""
    a = Trainer("zdt1", HYPER, {"steps": 20, "n_eval": 11, "threads": 1}, seed=2,
                problem_options={"n_var": 4})
    b = Trainer("zdt1", HYPER, {"steps": 20, "n_eval": 11, "threads": 1, "lr_horizon": 20},
                seed=2, problem_options={"n_var": 4})
    a.run(), b.run()
    for k, v in _weights(a).items():
        assert torch.equal(v, _weights(b)[k])


def test_data_problem_continues_its_minibatch_order():
    """A data problem's epoch order and position travel with the state (mtl_regression)."""
    def cfg(n: int) -> dict:
        return {"steps": n, "n_eval": 5, "eval_every": 4, "threads": 1, "lr_horizon": 12,
                "batch_size": 32}

    one = Trainer("mtl_regression", HYPER, cfg(12), seed=1)
    one.run()
    first = Trainer("mtl_regression", HYPER, cfg(5), seed=1)
    first.run()
    second = Trainer("mtl_regression", HYPER, cfg(12), seed=1, resume_state=first.save_state())
    second.run()
    assert second.task.epochs_done == pytest.approx(one.task.epochs_done)
    for k, v in _weights(one).items():
        assert torch.allclose(v, _weights(second)[k], atol=1e-6, rtol=0), k
