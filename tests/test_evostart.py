"""The evolutionary start (``train.evo_start``, :mod:`hybridmoo.evostart`): NSGA-II's share of
the budget, the fit, the lower learning rate, the refusals, and the search's use of it."""

from __future__ import annotations

import numpy as np
import pytest

from hybridmoo import problems
from hybridmoo.errors import ConfigError
from hybridmoo.train import Trainer

ZDT3 = {"n_var": 5}
PIECES = np.array([0.0, 0.0830, 0.1822, 0.2577, 0.4093, 0.4540, 0.6183, 0.6525, 0.8233, 0.8518])


def _pieces(F: np.ndarray) -> set[int]:
    """ZDT3's front pieces (0–4) that hold a point of ``F`` (by f1, within 0.005)."""
    out = set()
    for k in range(5):
        lo, hi = PIECES[2 * k] - 0.005, PIECES[2 * k + 1] + 0.005
        if np.any((F[:, 0] >= lo) & (F[:, 0] <= hi)):
            out.add(k)
    return out


def _run(**train):
    cfg = {"steps": 400, "n_eval": 50, "eval_every": 10**6, "threads": 1, **train}
    t = Trainer("zdt3", None, cfg, seed=0, problem_options=ZDT3)
    return t, t.run()


def test_the_start_finds_the_pieces_the_gradients_alone_miss():
    _, plain = _run()
    t, evo = _run(evo_start=0.8)
    assert plain.ok and evo.ok
    # gradients from the usual start keep the first pieces only (the front's last piece, at
    # the lowest f2, lies across barriers in x1); NSGA-II finds it and the fit keeps it
    assert 4 not in _pieces(np.asarray(plain.F))
    assert _pieces(np.asarray(evo.F)) == {0, 1, 2, 3, 4}
    assert evo.hv > plain.hv
    info = evo.extra["evo_start"]
    # a steps budget: evo_start·steps·n_prefs evaluations (whole generations of 100)
    assert 2560 <= info["evaluations"] < 2660
    assert info["points"] >= 2 and info["fit_error"] < 0.05
    assert evo.steps == 400  # the gradient steps are counted in full


def test_the_start_is_charged_to_a_seconds_budget_and_lowers_the_learning_rate():
    cfg = {"steps": None, "seconds": 1.0, "n_eval": 20, "eval_every": 10**6, "threads": 1,
           "evo_start": 0.2, "lr_schedule": "constant", "lr": 0.01, "evo_lr": 0.5}
    t = Trainer("zdt1", {"width": 8}, cfg, seed=1, problem_options={"n_var": 4})
    took = t.evo_info["seconds"]
    assert took >= 0.2  # NSGA-II's 0.2 s, then the fit
    assert t.train_time == pytest.approx(took)
    assert all(g["lr"] == pytest.approx(0.005) for g in t.opt.param_groups)
    r = t.run()
    assert r.ok and r.train_time >= took and r.extra["evo_start"]["seconds"] == took
    # cosine: the learning rate is evo_lr times the schedule's
    t = Trainer("zdt1", {"width": 8}, {**cfg, "lr_schedule": "cosine"}, seed=1,
                problem_options={"n_var": 4})
    t._anneal()
    assert t.opt.param_groups[0]["lr"] < 0.5 * 0.01 + 1e-12


@pytest.mark.parametrize("problem, match", [
    ("mtl_regression", "no decision vector"),
    ("blackbox", "black box"),
])
def test_problems_without_a_decision_vector_or_with_their_own_start_refuse(problem, match):
    if problem == "blackbox":
        problem = problems.from_numpy(
            lambda X: np.stack([X[:, 0], 1 - X[:, 0] + X[:, 1]], 1), n_var=2, n_obj=2,
            lower=0.0, upper=1.0, ref_point=[1.1, 2.1])
    with pytest.raises(ConfigError, match=match):
        Trainer(problem, None, {"steps": 10, "evo_start": 0.1})


@pytest.mark.parametrize("key, value", [("evo_start", 1.0), ("evo_start", -0.1),
                                        ("evo_rescue", 1), ("evo_lr", 0.0), ("evo_lr", 2.0)])
def test_bad_values_are_refused(key, value):
    from hybridmoo.train import TrainConfig

    with pytest.raises(ConfigError, match=f"train.{key}"):
        TrainConfig(**{key: value})


def test_the_search_tries_the_start_where_it_applies():
    from hybridmoo.baselines.common import Budget
    from hybridmoo.baselines.search import evo_applies, hybridmoo_search, search_setup

    zdt = problems.get("zdt1", n_var=4)
    assert evo_applies(zdt)
    assert not evo_applies(problems.get("mtl_regression"))
    paths = [v.path for v in search_setup(zdt, Budget("seconds", 10), 0).spec.space.variables]
    assert "train.evo_start" in paths
    data = search_setup(problems.get("mtl_regression"), Budget("seconds", 10), 0)
    assert "train.evo_start" not in [v.path for v in data.spec.space.variables]
    res = hybridmoo_search(zdt, Budget("steps", 200), 0, pop_size=2, generations=1, n_eval=10)
    assert res.status == "ok", res.error
    first, second = (res.extra["trial_values"][t] for t in (0, 1))
    # the first trial is the defaults, the second the defaults with the start
    assert first["train.evo_start"] == 0.0 and second["train.evo_start"] == 0.1
    assert {k: v for k, v in first.items() if k != "train.evo_start"} == \
        {k: v for k, v in second.items() if k != "train.evo_start"}


# ---------------------------------------------------------------- the rescue (train.evo_rescue)

def _dtlz4(**train):
    """DTLZ4 (x ↦ x¹⁰⁰): from the box centre every position variable's gradient is ~1e-28 and
    gradient training alone leaves the whole front at the corner (1, 0, 0)."""
    cfg = {"steps": 800, "n_eval": 28, "eval_every": 100, "threads": 1, **train}
    t = Trainer("dtlz4", {"width": 32}, cfg, seed=0, problem_options={"n_var": 6})
    return t, t.run()


def test_a_collapsed_front_is_rescued_by_a_start_at_a_quarter_of_the_budget():
    _, plain = _dtlz4(evo_rescue=False)
    t, res = _dtlz4()
    assert plain.ok and res.ok
    assert "collapse" in plain.extra and "evo_start" not in plain.extra
    info = res.extra["evo_start"]
    # checked at the first evaluation past a quarter of the 800 steps
    assert info["trigger"].startswith("front at step 200: 1 distinct of 28")
    # 10 % of steps·n_prefs evaluations (whole generations of 100)
    assert 640 <= info["evaluations"] < 740
    assert res.steps == 800  # the gradient steps are counted in full
    assert "collapse" not in res.extra
    assert res.hv > 3 * plain.hv
    # the trace: collapsed up to the rescue, spread after it
    hv = dict(zip(res.trace["steps"], res.trace["hv"], strict=True))
    assert hv[200] == pytest.approx(plain.hv) and hv[300] > 2 * plain.hv
    # and then at evo_lr times the schedule's learning rate, as after a start
    t._anneal()
    assert t.opt.param_groups[0]["lr"] < 0.3 * 3e-3


def test_a_spread_front_is_never_touched_by_the_check():
    runs = []
    for rescue in (False, True):
        cfg = {"steps": 400, "n_eval": 20, "eval_every": 50, "threads": 1,
               "evo_rescue": rescue}
        t = Trainer("zdt1", {"width": 16}, cfg, seed=2, problem_options={"n_var": 4})
        runs.append(t.run())
    off, on = runs
    assert "evo_start" not in on.extra
    # the check draws no random numbers and changes nothing: the same run, bit for bit
    np.testing.assert_array_equal(off.F, on.F)
    np.testing.assert_array_equal(off.trace["hv"], on.trace["hv"])


def test_a_continued_run_rescues_where_one_long_run_does():
    """With lr_horizon the check and the start's evaluations follow the horizon's steps, so N
    steps, save, and continuing to N + M across the rescue equals one run of N + M steps."""
    import torch

    kw = {"lr_horizon": 800}
    one, r_one = _dtlz4(**kw)
    first, _ = _dtlz4(**kw, steps=300)  # rescued at step 200, saved at 300
    assert "trigger" in first.evo_info
    second = Trainer("dtlz4", {"width": 32}, {"steps": 800, "n_eval": 28, "eval_every": 100,
                                              "threads": 1, **kw}, seed=0,
                     problem_options={"n_var": 6}, resume_state=first.save_state())
    r_two = second.run()
    assert r_two.extra["evo_start"] == r_one.extra["evo_start"] | {
        "seconds": r_two.extra["evo_start"]["seconds"]}
    for k, w in one.net.state_dict().items():
        assert torch.allclose(w, second.net.state_dict()[k], atol=1e-6, rtol=0), k
    assert r_two.hv == pytest.approx(r_one.hv, rel=1e-6)


def test_states_saved_before_the_rescue_existed_still_resume():
    import io

    import torch

    t = Trainer("zdt1", {"width": 8}, {"steps": 20, "lr_horizon": 40, "threads": 1,
                                        "n_eval": 10}, seed=0, problem_options={"n_var": 3})
    t.run()
    state = torch.load(io.BytesIO(t.save_state()), weights_only=False)
    del state["evo"], state["train"]["evo_rescue"]  # what an older version wrote
    buf = io.BytesIO()
    torch.save(state, buf)
    again = Trainer("zdt1", {"width": 8}, {"steps": 40, "lr_horizon": 40, "threads": 1,
                                            "n_eval": 10}, seed=0, problem_options={"n_var": 3},
                    resume_state=buf.getvalue())
    assert again.run().ok and again.step_count == 40


def test_published_methods_keep_their_papers_behaviour():
    from hybridmoo import baselines

    psl = baselines.run("psl", "dtlz4", baselines.Budget("steps", 400), seed=0,
                        problem_options={"n_var": 6}, n_eval=28, eval_every=50)
    assert psl.status == "ok" and psl.params["train"]["evo_rescue"] is False
    assert "evo_start" not in psl.extra


def test_what_the_rescue_starts_over():
    from hybridmoo.evostart import rescue_reason

    t = np.linspace(0.0, 1.0, 100)
    spread = np.c_[t, 1.0 - t]
    ref = [1.1, 1.1]
    assert rescue_reason(spread, ref_point=ref) is None
    assert rescue_reason(np.ones((100, 2))) == "1 distinct of 100, distinct+spread"
    # ZDT6 with x1 = 0: f1 = 1 everywhere, f2 spread; one point is non-dominated
    zdt6 = np.c_[np.ones(100), np.linspace(1e-4, 0.0234, 100)]
    assert rescue_reason(zdt6) == "1 non-dominated of 100"
    # ZDT4 on a local front: spread, but outside the reference box (HV 0)
    assert rescue_reason(spread + [0.0, 40.0], ref_point=ref) == \
        "no point inside the reference box"
    assert rescue_reason(spread + [0.0, 40.0]) is None  # (no box to be outside of)
    # five pieces of a disconnected front, each spread: not collapsed
    pieces = np.vstack([np.c_[0.2 * k + 0.1 * t[:20], 1.0 - 0.2 * k - 0.1 * t[:20]]
                        for k in range(5)])
    assert rescue_reason(pieces, ref_point=ref) is None
    assert rescue_reason(spread[:3]) is None  # too few to judge
    assert rescue_reason(np.r_[spread, [[np.nan, 0.0]]]) is None


def test_a_front_outside_the_reference_box_is_rescued():
    """ZDT4 (g with 21⁹ local optima): the defaults' front from the box centre lies far
    outside the reference box (HV 0 throughout, as without the rescue)."""
    cfg = {"steps": 800, "n_eval": 20, "eval_every": 100, "threads": 1}
    res = Trainer("zdt4", None, cfg, seed=0).run()
    assert res.ok
    assert res.extra["evo_start"]["trigger"] == \
        "front at step 200: no point inside the reference box"
    assert res.trace["hv"][2] == 0.0  # (the evaluation at step 200)


def test_the_fit_stops_when_its_seconds_run_out():
    """Under a seconds budget the fit takes at most FIT_SHARE of it: a trial of a second has
    no time for 300 Adam steps of a wide network (the search's shortest trials)."""
    import time

    import torch

    from hybridmoo.problems.custom import fit_to_points

    t = Trainer("zdt1", {"width": 64}, {"steps": 10, "threads": 1}, seed=0,
                problem_options={"n_var": 4})
    X = np.random.default_rng(0).random((20, 4))
    F = np.asarray(t.problem.evaluate(torch.as_tensor(X)).detach())
    t0 = time.perf_counter()
    err = fit_to_points(t, X, F, steps=10**6, seconds=0.2)  # a million steps: ~an hour
    assert time.perf_counter() - t0 < 10.0 and np.isfinite(err)
