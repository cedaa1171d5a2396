"""Tests of hybridmoo.train (and hybridmoo.tasks): budgets, results, determinism, failures."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from hybridmoo import preferences, problems, scalarize
from hybridmoo.errors import ConfigError, ShapeError, UnknownNameError
from hybridmoo.finalfront import reserve_seconds
from hybridmoo.hypernet import HypernetConfig, Hypernetwork
from hybridmoo.problems.base import Problem
from hybridmoo.targets import MultiHeadMLP
from hybridmoo.tasks import DataTask, VectorTask
from hybridmoo.train import TrainConfig, Trainer, TrialResult, train

NET = {"embed_dim": 8, "width": 16, "depth": 1}
ZDT1 = {"problem_options": {"n_var": 5}, "hypernet": NET}
# extra parameters a sampler needs (samplers with only defaults need none)
SAMPLER_PARAMS = {"mixture_dirichlet": {"alphas": [0.5, 2.0], "weights": [1.0, 1.0]}}


@pytest.fixture(autouse=True)
def _one_thread():
    """Run these tiny problems single-threaded (faster, and steady on a shared 2-core box)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _zdt1(**kw) -> TrialResult:
    """A short training run on ZDT1 with 5 variables and a tiny hypernetwork."""
    opts = {"steps": 20, "eval_every": 10, "n_eval": 16, "lr": 1e-2, **kw}
    return train("zdt1", **ZDT1, **opts)


# ---------------------------------------------------------------------------- test problems
class NaNAfter(Problem):
    """Two smooth objectives that turn NaN on training calls after ``after`` of them."""

    def __init__(self, after: int = 3, in_eval: bool = False) -> None:
        self._setup(name="nan_after", n_var=3, n_obj=2, lower=0.0, upper=1.0,
                    ref_point=(2.0, 2.0), ref_point_source="test")
        self.after, self.in_eval, self.calls = after, in_eval, 0

    def _evaluate(self, x: torch.Tensor) -> torch.Tensor:
        f = torch.stack([x.mean(-1), (1 - x).pow(2).mean(-1)], dim=-1)
        if x.requires_grad:  # a training step (evaluation runs under no_grad)
            self.calls += 1
            if not self.in_eval and self.calls > self.after:
                return f * float("nan")
        elif self.in_eval and self.calls >= self.after:
            return f * float("nan")
        return f


class Exploding(Problem):
    """A problem whose objective raises a RuntimeError on the third training call."""

    def __init__(self) -> None:
        self._setup(name="exploding", n_var=2, n_obj=2, lower=0.0, upper=1.0,
                    ref_point=(2.0, 2.0), ref_point_source="test")
        self.calls = 0

    def _evaluate(self, x: torch.Tensor) -> torch.Tensor:
        if x.requires_grad:
            self.calls += 1
            if self.calls == 3:
                raise RuntimeError("simulated CUDA error")
        return torch.stack([x[..., 0], 1 - x[..., 0] + x[..., 1]], dim=-1)


def mse_per_task(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """`(K, b, T, 1)` predictions and targets → `(K, T)` mean squared error per task."""
    return (out - y).pow(2).mean(dim=(1, 3))


def _regression_data(n: int = 48, in_dim: int = 3, seed: int = 0):
    """Inputs `(n, in_dim)` and two linear-regression targets `(n, 2, 1)`."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, in_dim, generator=g)
    W = torch.randn(in_dim, 2, generator=g)
    return X, (X @ W).unsqueeze(-1)


class TinyRegression:
    """A data-driven problem: two regression tasks on one MultiHeadMLP (duck-typed problem)."""

    name = "tiny_regression"
    n_obj = 2
    ideal = None

    def __init__(self, n_train: int = 40, n_eval: int = 16) -> None:
        X, Y = _regression_data(n_train + n_eval)
        self.train_data = (X[:n_train], Y[:n_train])
        self.eval_data = (X[n_train:], Y[n_train:])
        self.ref_point = torch.tensor([20.0, 20.0], dtype=torch.float64)

    def make_task(self, config: TrainConfig, dtype: torch.dtype, device) -> DataTask:
        module = MultiHeadMLP(3, [8], n_tasks=2)  # default (global-RNG) initialisation
        task = DataTask(module, self.train_data, self.eval_data, mse_per_task, self.n_obj,
                        batch_size=config.batch_size, n_prefs=config.n_prefs,
                        split_batch=config.split_batch, batched=config.batched)
        return task.to(device, dtype)

    def pareto_front(self, n: int):
        return None

    def describe(self) -> dict:
        return {"name": self.name, "n_obj": self.n_obj}


def _regress(**kw) -> TrialResult:
    opts = {"steps": 6, "eval_every": 3, "n_eval": 5, "batch_size": 8, "n_prefs": 4,
            "lr": 1e-2, **kw}
    return train(TinyRegression(), hypernet=NET, **opts)


# ---------------------------------------------------------------------------- results
def test_result_fields_have_documented_shapes():
    """A zdt1 run returns prefs/F `(n_eval, 2)`, X `(n_eval, 5)` and an aligned trace."""
    r = _zdt1(steps=25, eval_every=10, n_eval=12)
    assert r.ok and r.status == "ok" and r.error == ""
    assert r.prefs.shape == (12, 2) and r.F.shape == (12, 2) and r.X.shape == (12, 5)
    assert {r.prefs.dtype, r.F.dtype, r.X.dtype} == {np.dtype(np.float64)}
    np.testing.assert_allclose(r.prefs.sum(axis=1), 1.0, rtol=1e-6)
    assert set(r.trace) == {"steps", "seconds", "samples", "evaluations", "hv", "igd", "loss"}
    assert {len(v) for v in r.trace.values()} == {4}
    np.testing.assert_array_equal(r.trace["steps"], [0, 10, 20, 25])
    np.testing.assert_array_equal(r.trace["samples"], r.trace["steps"])  # 1 evaluation per step
    assert np.all(np.diff(r.trace["seconds"]) >= 0)
    assert math.isnan(r.trace["loss"][0]) and np.isfinite(r.trace["loss"][1:]).all()
    assert r.steps == 25 and r.hv == r.trace["hv"][-1] and r.igd == r.trace["igd"][-1]
    np.testing.assert_array_equal(r.ref_point, problems.get("zdt1", n_var=5).ref_point.numpy())
    assert r.n_target_params == 5
    assert r.n_params == Hypernetwork(
        2, VectorTask(problems.get("zdt1", n_var=5)).target, HypernetConfig(**NET)).n_params
    assert r.problem["name"] == "zdt1" and r.hypernet["width"] == 16 and r.train["steps"] == 25
    assert r.wall_time >= r.train_time > 0 and r.device == "cpu"
    assert set(r.state_dict) >= {"heads.0.weight", "_lower", "_upper"}


def test_decision_vectors_are_inside_bounds_and_reproduce_F():
    """The stored decision vectors lie in the box and evaluate to the stored front."""
    r = _zdt1()
    p = problems.get("zdt1", n_var=5)
    assert (r.X >= 0).all() and (r.X <= 1).all()
    F = p.evaluate(torch.as_tensor(r.X, dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(F, r.F, rtol=1e-6, atol=1e-7)


def test_eval_every_larger_than_steps_records_first_and_last():
    """With eval_every > steps the trace holds step 0 and the final step only."""
    r = _zdt1(steps=7, eval_every=100)
    np.testing.assert_array_equal(r.trace["steps"], [0, 7])


def test_callback_sees_every_evaluation():
    """The callback is called after each evaluation except the initial one, with its step."""
    seen = []
    r = _zdt1(steps=20, eval_every=5, callback=seen.append)
    assert [d["step"] for d in seen] == [5, 10, 15, 20]
    assert seen[-1]["hv"] == r.hv
    assert set(seen[0]) == {"step", "hv", "igd", "seconds"}


def test_keep_weights_false_drops_state_dict():
    """keep_weights=False returns no hypernetwork weights."""
    assert _zdt1(steps=2, keep_weights=False).state_dict is None


def test_state_dict_reloads_into_same_architecture():
    """The stored weights load into a fresh hypernetwork and reproduce the stored vectors X."""
    r = _zdt1()
    p = problems.get("zdt1", n_var=5)
    net = Hypernetwork(2, VectorTask(p).target, HypernetConfig(**NET))
    net.load_state_dict({k: torch.as_tensor(v) for k, v in r.state_dict.items()})
    with torch.no_grad():
        X = net(torch.as_tensor(r.prefs, dtype=torch.float32))["x"]
    np.testing.assert_allclose(X.double().numpy(), r.X, rtol=1e-6)


def test_short_run_improves_hypervolume():
    """100 Tchebycheff steps on ZDT1 raise the HV well above its value at initialisation."""
    r = _zdt1(steps=100, eval_every=50, scalarization={"name": "tchebycheff"})
    assert r.ok
    # ZDT1's optimal HV w.r.t. (1.1, 1.1) is about 0.87; the random init is at or near 0
    assert r.hv > r.trace["hv"][0] + 0.3, r.trace["hv"]
    assert r.igd < r.trace["igd"][0]


# ---------------------------------------------------------------------------- determinism
def test_same_seed_gives_identical_trace_and_front():
    """Two runs with the same seed agree on the trace and the front (rtol 1e-6)."""
    a, b = _zdt1(seed=3), _zdt1(seed=3)
    for k in ("steps", "samples", "hv", "igd", "loss"):
        np.testing.assert_allclose(a.trace[k], b.trace[k], rtol=1e-6, err_msg=k)
    np.testing.assert_allclose(a.F, b.F, rtol=1e-6)
    np.testing.assert_allclose(a.X, b.X, rtol=1e-6)


def test_different_seeds_give_different_fronts():
    """Two seeds give different initialisations and hence different fronts."""
    a, b = _zdt1(seed=0), _zdt1(seed=1)
    assert not np.allclose(a.F, b.F)


def test_seed_is_independent_of_global_rng():
    """The result depends on the seed only, not on the caller's global torch RNG state."""
    torch.manual_seed(123)
    a = _zdt1(seed=5)
    torch.manual_seed(456)
    b = _zdt1(seed=5)
    np.testing.assert_allclose(a.F, b.F, rtol=1e-6)


def test_train_leaves_global_rng_untouched():
    """train() does not advance or reseed the caller's global torch RNG."""
    torch.manual_seed(7)
    state = torch.get_rng_state()
    _zdt1(steps=3)
    assert torch.equal(torch.get_rng_state(), state)


def test_data_problem_seed_is_independent_of_global_rng():
    """For a data problem too, the same seed gives the same run whatever the global RNG state.

    The problem builds its template module in ``make_task`` with the default (global-RNG)
    initialisation, as a Multi-MNIST problem would; the trainer must seed that as well.
    """
    torch.manual_seed(1)
    a = _regress(seed=2)
    torch.manual_seed(2)
    b = _regress(seed=2)
    np.testing.assert_allclose(a.F, b.F, rtol=1e-6)


def test_data_problem_leaves_global_rng_untouched():
    """Training a data problem does not advance the caller's global torch RNG."""
    torch.manual_seed(7)
    state = torch.get_rng_state()
    _regress(steps=2)
    assert torch.equal(torch.get_rng_state(), state)


def test_threads_setting_does_not_leak():
    """train.threads applies to the run only: the caller's torch thread count is restored."""
    torch.set_num_threads(1)
    _zdt1(steps=2, threads=2)
    assert torch.get_num_threads() == 1


# ---------------------------------------------------------------------------- budgets
def test_steps_budget_is_exact():
    """A steps budget stops at exactly that many steps."""
    r = _zdt1(steps=13, eval_every=5)
    assert r.steps == 13 and r.trace["steps"][-1] == 13


def test_seconds_budget():
    """A seconds budget stops once the training time passes it, not long after."""
    r = _zdt1(steps=None, seconds=0.3, eval_every=10_000, front="preferences")
    assert r.ok
    assert 0.3 <= r.train_time < 1.5, r.train_time
    assert r.steps >= 1 and r.trace["steps"][-1] == r.steps
    assert r.trace["seconds"][-1] == r.train_time


def test_seconds_budget_leaves_time_for_the_hv_subset_front():
    """The default front's query and selection are charged: training stops by an estimate
    of their cost, and the run's time (training + selection) stays near the budget."""
    t = Trainer("zdt1", NET, {"steps": None, "seconds": 0.5, "eval_every": 10_000,
                              "n_eval": 50}, problem_options={"n_var": 5})
    r = t.run()
    assert r.ok and t.front == "hv_subset" and r.extra["front"]["seconds"] > 0
    trained = r.train_time - r.extra["front"]["seconds"]
    assert trained < 0.5 <= trained + reserve_seconds(t) + 0.05  # stopped by the reserve
    assert 0.25 <= r.train_time < 1.5, r.train_time
    assert r.trace["seconds"][-1] == r.train_time


def test_steps_and_seconds_first_reached_wins():
    """With both steps and seconds set, a small steps budget stops the run first."""
    r = _zdt1(steps=4, seconds=60.0)
    assert r.steps == 4 and r.train_time < 60.0


@pytest.mark.parametrize(("epochs", "expected"), [(0.5, 5), (0.55, 6), (1.0, 10), (2.0, 20)])
def test_epochs_budget(epochs, expected):
    """An epochs budget on 40 examples with batches of 4 takes exactly 10 steps per epoch."""
    r = _regress(steps=None, epochs=epochs, eval_every=1000, batch_size=4, n_prefs=2)
    assert r.ok
    assert r.steps == expected, f"{r.steps} steps for {epochs} epochs (expected {expected})"
    assert r.trace["samples"][-1] == expected * 4


def test_epochs_budget_ignored_for_vector_problems():
    """Epochs do not apply to synthetic problems: steps still stops the run."""
    r = _zdt1(steps=5, epochs=1.0)
    assert r.steps == 5


def test_cosine_schedule_anneals_to_zero():
    """The cosine schedule takes the learning rate to 0 after `steps` steps."""
    tr = Trainer("zdt1", NET, {"steps": 10, "lr": 1e-2, "lr_schedule": "cosine", "n_eval": 4},
                 problem_options={"n_var": 5})
    assert tr.opt.param_groups[0]["lr"] == pytest.approx(1e-2)
    r = tr.run()
    assert r.ok and tr.opt.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)


def test_cosine_schedule_follows_a_seconds_budget():
    """Without a steps budget the cosine schedule anneals over the training seconds."""
    tr = Trainer("zdt1", NET, {"steps": None, "seconds": 0.2, "lr": 1e-2,
                               "lr_schedule": "cosine", "n_eval": 4, "eval_every": 1000},
                 problem_options={"n_var": 5})
    tr.step()
    mid = tr.opt.param_groups[0]["lr"]
    assert 0 < mid < 1e-2 and mid == pytest.approx(
        0.5e-2 * (1 + math.cos(math.pi * tr.train_time / 0.2)))
    r = tr.run()
    assert r.ok and r.steps > 1 and tr.opt.param_groups[0]["lr"] == pytest.approx(0, abs=1e-12)


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd"])
def test_every_optimizer_trains(optimizer):
    """Each optimizer runs a few steps with clipping and weight decay and returns ok."""
    r = _zdt1(steps=5, optimizer=optimizer, grad_clip=1.0, weight_decay=1e-4, lr=1e-3)
    assert r.ok and r.steps == 5


# ---------------------------------------------------------------------------- failures
def test_non_finite_loss_fails_without_raising():
    """A NaN objective at step 4 gives status 'failed' naming the non-finite loss and step."""
    r = train(NaNAfter(after=3), hypernet=NET, steps=10, eval_every=2, n_eval=4)
    assert r.status == "failed" and not r.ok
    assert "non-finite loss at step 4" in r.error
    assert "train.grad_clip" in r.error
    assert r.steps == 3
    assert math.isnan(r.hv) and math.isnan(r.igd)
    np.testing.assert_array_equal(r.trace["steps"], [0, 2])
    assert r.F.shape == (4, 2) and np.isfinite(r.F).all()  # the last good front


def test_nan_in_final_front_fails():
    """A front with NaN objective values at evaluation gives status 'failed'."""
    r = train(NaNAfter(after=2, in_eval=True), hypernet=NET, steps=2, eval_every=1, n_eval=4)
    assert r.status == "failed"
    assert "the final front contains NaN objective values" in r.error
    assert math.isnan(r.hv)


def test_runtime_error_in_problem_is_recorded():
    """A RuntimeError inside a step is caught and reported with its type and step."""
    r = train(Exploding(), hypernet=NET, steps=10, n_eval=4)
    assert r.status == "failed"
    assert r.error.startswith("RuntimeError during training at step 2: simulated CUDA error")
    assert r.steps == 2


def test_huge_lr_with_sgd_fails_cleanly():
    """SGD with lr = 1e30 on a data problem blows up and is reported, not raised."""
    r = _regress(steps=20, optimizer="sgd", lr=1e30, eval_every=1)
    assert r.status == "failed"
    assert "non-finite loss" in r.error or "NaN" in r.error


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"steps": 0}, ConfigError, r"train\.steps = 0 is invalid: expected an integer ≥ 1"),
        ({"steps": None}, ConfigError, r"no budget: set steps, epochs, seconds or evaluations"),
        ({"epochs": 0.0}, ConfigError, r"train\.epochs = 0\.0 is invalid"),
        ({"seconds": -1.0}, ConfigError, r"train\.seconds = -1\.0 is invalid"),
        ({"n_prefs": 0}, ConfigError, r"train\.n_prefs = 0 is invalid"),
        ({"batch_size": 0}, ConfigError, r"train\.batch_size = 0 is invalid"),
        ({"lr": 0.0}, ConfigError, r"train\.lr = 0\.0 is invalid: expected a finite number > 0"),
        ({"lr": math.inf}, ConfigError, r"train\.lr = inf is invalid"),
        ({"weight_decay": -0.1}, ConfigError, r"train\.weight_decay = -0\.1 is invalid"),
        ({"grad_clip": 0.0}, ConfigError, r"train\.grad_clip = 0\.0 is invalid"),
        ({"eval_every": 0}, ConfigError, r"train\.eval_every = 0 is invalid"),
        ({"n_eval": 1}, ConfigError, r"train\.n_eval = 1 is invalid: expected an integer ≥ 2"),
        ({"threads": 0}, ConfigError, r"train\.threads = 0 is invalid"),
        ({"optimizer": "adma"}, ConfigError, r"optimizer = 'adma' is not allowed\. Did you mean "
                                             r"'adam'\?"),
        ({"lr_schedule": "linear"}, ConfigError, r"Allowed: constant, cosine"),
        ({"dtype": "float16"}, ConfigError, r"train\.dtype = 'float16' is not allowed"),
        ({"sampler": {"alpha": 1.0}}, ConfigError, r"train\.sampler needs a 'name' key"),
        ({"sampler": {"name": "dirichlett"}}, UnknownNameError,
         r"unknown preference sampler 'dirichlett'\. Did you mean 'dirichlet'\?"),
        ({"scalarization": {"name": "tchebychef"}}, UnknownNameError,
         r"unknown scalarization 'tchebychef'"),
        ({"scalarization": {"name": "pbi", "thetta": 2.0}}, ConfigError,
         r"has no parameter 'thetta'"),
    ],
)
def test_train_config_validation(kwargs, error, pattern):
    """Invalid TrainConfig values raise a ConfigError (or UnknownNameError) naming the key."""
    with pytest.raises(error, match=pattern):
        TrainConfig(**kwargs)


def test_train_config_from_dict_unknown_key():
    """TrainConfig.from_dict rejects an unknown key and suggests the closest field."""
    with pytest.raises(ConfigError, match=r"unknown train option 'setps'\. Did you mean 'steps'"):
        TrainConfig.from_dict({"setps": 10})


def test_train_config_round_trip():
    """to_dict/from_dict round-trips a configuration with a reference point."""
    cfg = TrainConfig(steps=5, ref_point=(1.0, 2.0), sampler={"name": "sphere"})
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


def test_train_unknown_option_raises():
    """An unknown keyword to train() raises an UnknownNameError listing the fields."""
    with pytest.raises(UnknownNameError, match=r"unknown option 'stepz'.*TrainConfig fields"):
        train("zdt1", stepz=10)


def test_train_wrong_ref_point_length_raises():
    """A reference point of the wrong length is rejected before training."""
    with pytest.raises(ConfigError, match=r"ref_point has length 3, the problem has 2"):
        _zdt1(ref_point=(1.0, 1.0, 1.0))


def test_missing_ref_point_raises():
    """A problem without a default reference point needs train.ref_point."""
    prob = TinyRegression()
    prob.ref_point = None
    with pytest.raises(ConfigError, match=r"no default reference point: set train\.ref_point"):
        train(prob, hypernet=NET, steps=1, batch_size=8, n_prefs=4)


def test_train_does_not_mutate_config():
    """train() with overrides leaves the caller's config dict unchanged."""
    cfg = {"steps": 3, "n_eval": 4}
    train("zdt1", **ZDT1, config=cfg, steps=2)
    assert cfg == {"steps": 3, "n_eval": 4}


# ---------------------------------------------------------------------------- methods
def _sampler_for(name: str) -> dict:
    return {"name": "sphere"} if name == "hv1" else {"name": "dirichlet"}


@pytest.mark.parametrize("name", scalarize.names())
def test_every_scalarization_trains(name):
    """Every registered scalarization trains a few steps on ZDT1 and returns status ok."""
    r = _zdt1(steps=4, eval_every=2, n_prefs=4, n_eval=8, lr=1e-3,
              scalarization={"name": name}, sampler=_sampler_for(name))
    assert r.ok, r.error
    assert r.steps == 4 and np.isfinite(r.trace["loss"][1:]).all()
    if name == "hv1":  # trained on sphere directions: evaluated on unit-norm rays
        np.testing.assert_allclose(np.linalg.norm(r.prefs, axis=1), 1.0, rtol=1e-6)
    else:
        np.testing.assert_allclose(r.prefs.sum(axis=1), 1.0, rtol=1e-6)


def test_epo_on_a_data_problem():
    """EPO (per-objective gradients w.r.t. generated weights) trains on a neural target."""
    r = _regress(steps=3, scalarization={"name": "epo"})
    assert r.ok, r.error
    assert np.isfinite(r.trace["loss"][1:]).all()


@pytest.mark.parametrize("name", preferences.names())
def test_every_sampler_trains(name):
    """Every registered preference sampler trains a few steps on ZDT1 and returns status ok."""
    sampler = {"name": name, **SAMPLER_PARAMS.get(name, {})}
    r = _zdt1(steps=4, n_eval=8, sampler=sampler)
    assert r.ok, r.error
    on_simplex = preferences.from_dict({**sampler, "n_obj": 2}).on_simplex
    norms = r.prefs.sum(axis=1) if on_simplex else np.linalg.norm(r.prefs, axis=1)
    np.testing.assert_allclose(norms, 1.0, rtol=1e-6)


# ---------------------------------------------------------------------------- data tasks
def _data_task(*, split_batch=True, batched=True, batch_size=8, n_prefs=4, n=40, module=None):
    X, Y = _regression_data(n + 10)
    torch.manual_seed(0)
    module = module or MultiHeadMLP(3, [8], n_tasks=2)
    return DataTask(module, (X[:n], Y[:n]), (X[n:], Y[n:]), mse_per_task, 2,
                    batch_size=batch_size, n_prefs=n_prefs, split_batch=split_batch,
                    batched=batched, eval_batch_size=4)


def _params(task: DataTask, K: int = 4, seed: int = 0) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    net = Hypernetwork(2, task.target, HypernetConfig(**NET))
    return net(torch.full((K, 2), 0.5))


def _id_task(*, split_batch: bool, n: int = 40, batch_size: int = 8, n_prefs: int = 4):
    """A DataTask whose targets are the example indices, recorded by the loss function."""
    seen: list[torch.Tensor] = []
    X = torch.randn(n, 3)
    ids = torch.arange(n, dtype=torch.float32).reshape(n, 1, 1).expand(n, 2, 1)

    def record(out, y):
        seen.append(y[..., 0, 0].clone())
        return mse_per_task(out, y)

    task = DataTask(MultiHeadMLP(3, [4], n_tasks=2), (X, ids), (X, ids), record, 2,
                    batch_size=batch_size, n_prefs=n_prefs, split_batch=split_batch)
    return task, seen


def test_split_batch_gives_each_preference_its_own_share():
    """split_batch=True: K preferences get disjoint batch_size/K examples each."""
    task, seen = _id_task(split_batch=True)
    assert task.samples_per_step == 8
    losses = task.train_losses(_params(task), torch.Generator().manual_seed(0))
    assert losses.shape == (4, 2)
    ids = seen[0]
    assert ids.shape == (4, 2)  # K x B/K
    assert len(set(ids.flatten().tolist())) == 8


def test_shared_batch_gives_every_preference_the_same_examples():
    """split_batch=False: every preference sees the same batch_size examples."""
    task, seen = _id_task(split_batch=False)
    assert task.samples_per_step == 8 * 4
    task.train_losses(_params(task), torch.Generator().manual_seed(0))
    ids = seen[0]
    assert ids.shape == (4, 8)
    assert (ids == ids[0]).all() and len(set(ids[0].tolist())) == 8


def test_one_epoch_visits_every_example_once():
    """n / batch_size steps draw every training example exactly once."""
    task, seen = _id_task(split_batch=True, n=40, batch_size=8)
    g = torch.Generator().manual_seed(0)
    params = _params(task)
    for _ in range(5):
        task.train_losses(params, g)
    ids = torch.cat([s.flatten() for s in seen])
    assert sorted(ids.long().tolist()) == list(range(40))
    assert task.epochs_done == pytest.approx(1.0)


def test_batch_size_not_divisible_by_prefs_raises():
    """With split_batch=True a batch_size not divisible by n_prefs raises a ConfigError."""
    with pytest.raises(ConfigError, match=r"batch_size = 10 is not divisible by n_prefs = 4"):
        _data_task(batch_size=10, n_prefs=4)
    _data_task(batch_size=10, n_prefs=4, split_batch=False)  # fine when shared


def test_train_rejects_batch_size_not_divisible_by_prefs():
    """train() on a data problem with batch_size % n_prefs != 0 raises the same ConfigError."""
    with pytest.raises(ConfigError, match="not divisible by n_prefs"):
        _regress(batch_size=10, n_prefs=4)


def test_batch_larger_than_data_raises():
    """A batch_size larger than the training set raises a ConfigError."""
    with pytest.raises(ConfigError, match=r"batch_size = 48 exceeds the 40 training examples"):
        _data_task(batch_size=48)


def test_mismatched_data_lengths_raise():
    """Training inputs and targets of different lengths raise a ShapeError."""
    X, Y = _regression_data(20)
    with pytest.raises(ShapeError, match="differ in length: 20 and 19"):
        DataTask(MultiHeadMLP(3, [4], 2), (X, Y[:19]), (X, Y), mse_per_task, 2, batch_size=4,
                 n_prefs=2)


@pytest.mark.parametrize("split_batch", [True, False])
def test_batched_and_looped_data_tasks_agree(split_batch):
    """Batched (vmap) and looped DataTasks give the same losses for the same generator state."""
    a = _data_task(batched=True, split_batch=split_batch)
    b = _data_task(batched=False, split_batch=split_batch)
    params = _params(a)
    la = a.train_losses(params, torch.Generator().manual_seed(3))
    lb = b.train_losses(params, torch.Generator().manual_seed(3))
    torch.testing.assert_close(la, lb, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(a.eval_losses(params), b.eval_losses(params), rtol=1e-5,
                               atol=1e-6)


def test_eval_losses_independent_of_eval_batch_size():
    """Held-out losses do not depend on the evaluation chunk size (10 examples in chunks of 4)."""
    task = _data_task()
    params = _params(task)
    chunked = task.eval_losses(params)
    task.eval_batch_size = 1024
    torch.testing.assert_close(chunked, task.eval_losses(params), rtol=1e-5, atol=1e-6)
    assert chunked.shape == (4, 2) and not chunked.requires_grad


def test_data_task_to_float64():
    """DataTask.to moves floating data and the template to float64, integer data unchanged."""
    X, Y = _regression_data(20)
    labels = torch.zeros(20, 2, dtype=torch.long)
    task = DataTask(MultiHeadMLP(3, [4], 2), (X, labels), (X, labels), mse_per_task, 2,
                    batch_size=4, n_prefs=2).to("cpu", torch.float64)
    assert task.X.dtype == task.Xe.dtype == torch.float64
    assert task.Y.dtype == torch.long
    assert all(v.dtype == torch.float64 for v in task.target.init.values())


# ---------------------------------------------------------------------------- neural targets
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("split_batch", [True, False])
def test_neural_target_training_records_hv_trace(batched, split_batch):
    """A MultiHeadMLP regression trains and records a finite HV trace with sample counts."""
    r = _regress(steps=6, eval_every=3, batched=batched, split_batch=split_batch)
    assert r.ok, r.error
    np.testing.assert_array_equal(r.trace["steps"], [0, 3, 6])
    per_step = 8 if split_batch else 8 * 4
    np.testing.assert_array_equal(r.trace["samples"], r.trace["steps"] * per_step)
    assert np.isfinite(r.trace["hv"]).all() and r.trace["hv"][-1] > 0
    assert np.isnan(r.trace["igd"]).all()  # no reference front
    assert r.X is None and r.F.shape == (5, 2)
    assert r.n_target_params == sum(p.numel() for p in MultiHeadMLP(3, [8], 2).parameters())


def test_neural_target_training_reduces_loss():
    """Forty steps of regression lower the mean held-out loss of the front."""
    tr = Trainer(TinyRegression(), NET, {"steps": 40, "eval_every": 40, "batch_size": 8,
                                         "n_prefs": 4, "n_eval": 5, "lr": 3e-2})
    initial = tr.evaluate()["F"]
    r = tr.run()
    assert r.ok
    assert r.F.mean() < 0.5 * initial.mean(), (initial.mean(), r.F.mean())


# ---------------------------------------------------------------------------- float64
def test_float64_training_on_zdt1():
    """dtype='float64' trains ZDT1 and keeps float64 weights."""
    r = _zdt1(dtype="float64", steps=10)
    assert r.ok
    assert all(v.dtype == np.float64 for v in r.state_dict.values())
    assert r.X.shape == (16, 5)


def test_float64_training_on_data_problem():
    """dtype='float64' trains the neural target with float64 data and generated weights."""
    r = _regress(dtype="float64")
    assert r.ok, r.error
    assert all(v.dtype == np.float64 for v in r.state_dict.values())


def test_sgd_momentum_is_a_setting():
    """``momentum`` reaches torch's SGD (0: plain SGD, HV-PSL's optimiser); out of range raises."""
    for mom in (0.0, 0.5):
        tr = Trainer("zdt1", config=TrainConfig(steps=1, optimizer="sgd", momentum=mom), seed=0)
        assert tr.opt.param_groups[0]["momentum"] == mom
    with pytest.raises(ConfigError, match="momentum"):
        TrainConfig(optimizer="sgd", momentum=1.0)


def test_init_state_starts_from_given_weights_and_checks_the_architecture():
    """A trainer built with ``init_state`` generates exactly what the source network did; a state
    of another architecture is a ConfigError naming the mismatch."""
    cfg = TrainConfig(steps=5, n_eval=5, eval_every=5, threads=1)
    src = Trainer("zdt1", {"width": 16}, cfg, seed=0)
    src.run()
    state = {k: v.detach().clone() for k, v in src.net.state_dict().items()}
    warm = Trainer("zdt1", {"width": 16}, cfg, seed=7, init_state=state)
    prefs = torch.tensor([[0.3, 0.7], [0.9, 0.1]])
    torch.testing.assert_close(warm.generate(prefs)["x"], src.generate(prefs)["x"])
    cold = Trainer("zdt1", {"width": 16}, cfg, seed=7)
    assert not torch.allclose(cold.generate(prefs)["x"], src.generate(prefs)["x"])
    with pytest.raises(ConfigError, match="init_state does not fit.*shape"):
        Trainer("zdt1", {"width": 32}, cfg, seed=0, init_state=state)
