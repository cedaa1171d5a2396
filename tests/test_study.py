"""Tests of the outer loop: study-file validation, search space, local and Ray backends."""

from __future__ import annotations

import json
import os
import signal
import textwrap
import threading
import time

import h5py
import numpy as np
import pytest
import torch

from hybridmoo import problems, store
from hybridmoo.errors import ConfigError
from hybridmoo.problems.base import Problem
from hybridmoo.space import SearchSpace, Variable
from hybridmoo.study import Study, outer_objectives, to_minimised
from hybridmoo.studyfile import load_study

BASE = textwrap.dedent("""
    [study]
    name = "t"
    seed = 1
    output = "out.h5"

    [problem]
    name = "zdt1"
    options = { n_var = 4 }

    [objectives]
    names = ["hv", "n_params"]

    [algorithm]
    name = "nsga2"
    pop_size = 4
    generations = 2

    [budget]
    steps = 30

    [resources]
    retries = 0

    [fixed.train]
    n_eval = 11
    eval_every = 15
    threads = 1

    [search]
    "hypernet.width" = { type = "int", low = 4, high = 32, log = true }
    "train.lr" = { type = "real", low = 1e-3, high = 1e-2, log = true }
""")


def study_text(**replace: str) -> str:
    """The base study with some lines replaced (old=new pairs)."""
    text = BASE
    for old, new in replace.values():
        assert old in text, old
        text = text.replace(old, new)
    return text


class NaNProblem(Problem):
    """ZDT1-like, but NaN wherever x0 > 0.5 at the first call with a big width (a bad trial)."""

    def __init__(self, n_var: int = 3) -> None:
        self._setup(name="nan_when_wide", n_var=n_var, n_obj=2, lower=0.0, upper=1.0,
                    ref_point=[1.1, 1.1], ref_point_source="test", options={"n_var": n_var})

    def _evaluate(self, x):
        f1 = x[..., 0]
        f2 = 1 - x[..., 0] + x[..., 1:].sum(-1)
        out = torch.stack([f1, f2], dim=-1)
        return out * torch.nan if x.shape[-2:-1] == (8,) and NaNProblem.poison else out

    poison = True


if "nan_when_wide" not in problems.names():
    problems.register("nan_when_wide", "TEST")(NaNProblem)


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("change", "match"),
    [
        (("[budget]", "[budjet]"), r"unknown table \[budjet\].*Did you mean 'budget'"),
        (("seed = 1", "seed = 1\nsed = 2"), r"unknown key study.sed"),
        (("name = \"nsga2\"", "name = \"nsga4\""), r"algorithm.name = 'nsga4' is not allowed"),
        (("pop_size = 4", "pop_size = 1"), r"algorithm.pop_size = 1 is invalid"),
        (("names = [\"hv\", \"n_params\"]", "names = [\"hv\", \"size\"]"),
         r"unknown objective 'size'"),
        (("name = \"zdt1\"", "name = \"zdt9\""), r"problem: unknown problem 'zdt9'"),
        (("options = { n_var = 4 }", "options = { nvar = 4 }"), r"no option 'nvar'"),
        (("type = \"int\"", "type = \"integer\""), r"search.hypernet.width.type = 'integer'"),
        (("low = 1e-3, high = 1e-2", "low = 1e-2, high = 1e-3"), r"low = 0.01 must be below"),
        (("\"train.lr\"", "\"train.lrate\""), r"unknown train option 'lrate'"),
        (("\"train.lr\"", "\"lr\""), r"starts with 'hypernet.' or 'train.'"),
        (("retries = 0", "retries = -1"),
         r"resources.retries = -1 is invalid: expected an integer in \[0, 100\]"),
        (("steps = 30", "steps = 0"), r"budget.steps = 0 is invalid: expected an integer"),
        (("n_eval = 11", "n_eval = 11\nlrr = 3"), r"unknown train option 'lrr'"),
        (("[study]", "[study\n"), r"not valid TOML"),
    ],
)
def test_study_file_errors_name_key_value_and_allowed(change, match):
    """Each invalid study file is refused before anything runs, naming what is wrong."""
    with pytest.raises(ConfigError, match=match):
        load_study(text=study_text(a=change))


def test_missing_required_table():
    """A study without [search] is refused."""
    text = BASE[: BASE.index("[search]")]
    with pytest.raises(ConfigError, match=r"no \[search\] table"):
        load_study(text=text)


def test_valid_study_parses(tmp_path):
    """The base study parses; the budget lands in every trial's train config."""
    spec = load_study(text=BASE)
    assert spec.n_trials == 8 and spec.space.n_var == 2
    cfg = spec.space.decode(np.array([0.0, 1.0]))
    assert cfg["hypernet"]["width"] == 4 and cfg["train"]["lr"] == pytest.approx(1e-2)
    assert cfg["train"]["steps"] == 30 and cfg["train"]["n_eval"] == 11


def test_shipped_studies_validate():
    """Every study file under studies/ is valid."""
    from pathlib import Path

    files = sorted(f for f in (Path(__file__).parents[1] / "studies").glob("*.toml")
                   if not f.name.startswith("compare_"))
    assert files
    for f in files:
        load_study(f)


# ----------------------------------------------------------------------------- search space
@pytest.mark.parametrize(
    "spec",
    [
        {"type": "int", "low": 1, "high": 5},
        {"type": "int", "low": 2, "high": 300, "log": True},
        {"type": "real", "low": -1.0, "high": 3.0},
        {"type": "choice", "values": ["a", "b", "c"]},
    ],
)
def test_variable_encode_decode_round_trip(spec):
    """Decoding covers every value, stays in range, and re-encodes to the same value."""
    v = Variable.from_spec("train.x", spec)
    seen = set()
    for u in np.linspace(0, 1, 401):
        x = v.decode(u)
        assert v.decode(v.encode(x)) == pytest.approx(x)
        if spec["type"] != "real":
            seen.add(x)
        else:
            assert spec["low"] <= x <= spec["high"]
    if spec["type"] == "int" and not spec.get("log"):
        assert seen == set(range(spec["low"], spec["high"] + 1))
    if spec["type"] == "choice":
        assert seen == set(spec["values"])


def test_int_cells_are_equal_width():
    """Each integer gets an equal share of [0, 1] (no bias to the interior)."""
    v = Variable.from_spec("train.x", {"type": "int", "low": 1, "high": 4})
    counts = np.bincount([v.decode(u) for u in np.linspace(0, 1, 4000, endpoint=False)])
    assert counts[1:].min() == counts[1:].max() == 1000


def test_space_decode_nested_paths():
    """Dotted paths write into nested tables over the fixed configuration."""
    space = SearchSpace([Variable.from_spec("train.sampler.alpha",
                                            {"type": "real", "low": 0.1, "high": 1.0})],
                        {"train": {"sampler": {"name": "dirichlet"}}, "hypernet": {}})
    cfg = space.decode(np.array([1.0]))
    assert cfg["train"]["sampler"] == {"name": "dirichlet", "alpha": 1.0}
    assert space.fixed["train"]["sampler"] == {"name": "dirichlet"}  # not mutated


def test_objectives_direction():
    """Maximised objectives are negated for pymoo; failed trials get the worst values."""
    F = np.array([[0.5, 100.0], [np.nan, np.nan]])
    out = to_minimised(F, ["hv", "n_params"])
    assert out[0].tolist() == [-0.5, 100.0]
    assert out[1, 0] == 0.0 and out[1, 1] >= 1e12


# ----------------------------------------------------------------------------- local backend
def test_local_study_end_to_end(tmp_path):
    """A local study records every trial, each generation and the outer front in the file."""
    path = tmp_path / "s.toml"
    path.write_text(BASE)
    res = Study(path, backend="local", progress=False).run()
    out = tmp_path / "out.h5"
    assert res.path == out and len(res.trials) == 8 and res.failed == 0
    ids, partial = store.list_trials(out)
    assert ids == list(range(8)) and partial == []
    with h5py.File(out) as f:
        assert f.attrs["kind"] == "study" and f.attrs["status"] == "finished"
        assert f.attrs["study_text"] == BASE
        assert sorted(f["generations"]) == ["0000", "0001"]
        g = f["generations/0001"]
        assert g["objectives"].shape == (4, 2) and g["encoded"].shape == (4, 2)
        front = f["outer_front/trial_ids"][()].tolist()
        assert front and set(front) == set(res.front_ids)
        for tid in range(8):
            t = f["trials"][store.trial_key(tid)]
            assert ("weights" in t) == (tid in front)  # keep_weights = "front"
            assert json.loads(t.attrs["values"])["hypernet.width"] >= 4
    # the outer front is non-dominated among all trials and HV is read from the trials
    hv = {t: store.read_trial(out, t).hv for t in ids}
    for t in front:
        assert res.objectives[t][0] == hv[t]


def test_same_seed_same_study(tmp_path):
    """The local backend is deterministic: two runs with one seed give the same objectives."""
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        d.mkdir()
        (d / "s.toml").write_text(BASE)
    ra = Study(a / "s.toml", backend="local", progress=False).run()
    rb = Study(b / "s.toml", backend="local", progress=False).run()
    for t in ra.objectives:
        np.testing.assert_allclose(ra.objectives[t], rb.objectives[t], rtol=1e-6)
    assert ra.front_ids == rb.front_ids


def test_failing_trials_are_recorded_and_study_goes_on(tmp_path):
    """Trials that raise or give NaN are recorded as failed with a reason; others finish."""
    text = study_text(
        a=('name = "zdt1"\n', 'name = "nan_when_wide"\n'),
        b=("options = { n_var = 4 }", "options = { n_var = 3 }"),
        c=('"train.lr"', '"train.n_prefs" = { type = "choice", values = [4, 8] }\n"train.lr"'),
        d=("retries = 0", "retries = 1"),
    )
    (tmp_path / "s.toml").write_text(text)
    res = Study(tmp_path / "s.toml", backend="local", progress=False).run()
    failed = [t for t, r in res.trials.items() if not r.ok]
    ok = [t for t, r in res.trials.items() if r.ok]
    assert failed and ok
    for t in failed:
        assert res.values[t]["train.n_prefs"] == 8
        r = store.read_trial(tmp_path / "out.h5", t)
        assert r.status == "failed" and "non-finite loss" in r.error
    with h5py.File(tmp_path / "out.h5") as f:
        assert json.loads(f["trials"][store.trial_key(failed[0])].attrs["attempts"]) == 2
    assert set(res.front_ids) <= set(ok)


def test_existing_output_is_protected(tmp_path):
    """A study refuses to overwrite an existing study file unless asked."""
    (tmp_path / "s.toml").write_text(BASE)
    (tmp_path / "out.h5").write_bytes(b"finished work")
    with pytest.raises(ConfigError, match="already exists"):
        Study(tmp_path / "s.toml", backend="local", progress=False)
    assert (tmp_path / "out.h5").read_bytes() == b"finished work"


def test_hv_auc_objective():
    """hv_auc is the trapezoid mean of the HV trace, normalised by the reference HV."""
    from hybridmoo.train import TrialResult

    r = TrialResult.failed("x", problem={}, hypernet={}, train={}, seed=0, n_obj=2)
    r.status = "ok"
    r.trace = {"steps": np.array([0.0, 10.0, 20.0]), "hv": np.array([0.0, 1.0, 1.0])}
    assert outer_objectives(r, ["hv_auc"], reference_hv=2.0)[0] == pytest.approx(0.375)


# ----------------------------------------------------------------------------- Ray backend
@pytest.mark.ray
def test_ray_study_end_to_end(tmp_path, ray_cluster):
    """A study on two Ray actors records all trials, with the node each ran on."""
    (tmp_path / "s.toml").write_text(study_text(a=("retries = 0", "retries = 0\nworkers = 2")))
    res = Study(tmp_path / "s.toml", backend="ray", progress=False).run()
    assert len(res.trials) == 8 and res.failed == 0
    with h5py.File(tmp_path / "out.h5") as f:
        assert all(f["trials"][k].attrs["node"] for k in f["trials"])


@pytest.mark.ray
def test_killed_actor_is_recorded_and_replaced(ray_cluster):
    """Killing an actor mid-trial yields a WorkerLost outcome; the pool keeps working."""
    from hybridmoo.backends.ray import RayBackend, WorkerLost
    from hybridmoo.methods.trial import run_trial

    backend = RayBackend(workers=1, threads=1)
    spec = {"problem": "zdt1", "problem_options": {"n_var": 4}, "hypernet": {"width": 8},
            "train": {"steps": None, "seconds": 20.0, "n_eval": 5, "eval_every": 10**6},
            "seed": 0}
    backend.submit(0, run_trial, spec)
    time.sleep(3.0)  # the actor is inside the trial
    (pid,) = backend.actor_pids()
    os.kill(pid, signal.SIGKILL)
    (tid, outcome, _), = backend.wait()
    assert tid == 0 and isinstance(outcome, WorkerLost) and "died" in str(outcome)
    quick = dict(spec, train={"steps": 5, "n_eval": 5})
    backend.submit(1, run_trial, quick)
    (tid, outcome, node), = backend.wait()
    assert tid == 1 and outcome.ok and node
    backend.close()


@pytest.mark.ray
def test_ray_dymu_study(tmp_path, ray_cluster):
    """DYMU trials run on the Ray actors like hypernetwork trials; the resource objective is
    recorded for the outer algorithm."""
    text = textwrap.dedent("""
        [study]
        method = "dymu"
        output = "out.h5"
        [problem]
        name = "mtl_regression"
        options = { n_tasks = 2, in_dim = 8, n_train = 128, n_test = 64 }
        [algorithm]
        pop_size = 2
        generations = 1
        [budget]
        steps = 30
        [resources]
        workers = 2
        retries = 0
        [fixed.dymu]
        widths = [8]
        head_hidden = 8
        batch_size = 32
        rsa_images = 16
        n_eval = 4
        threads = 1
        [search]
        "dymu.c" = { type = "real", low = 0.0, high = 1.0 }
    """)
    (tmp_path / "s.toml").write_text(text)
    res = Study(tmp_path / "s.toml", backend="ray", progress=False).run()
    assert res.failed == 0 and res.objective_names == ["hv", "cost"]
    for tid, r in res.trials.items():
        assert r.method == "dymu" and 0 < res.objectives[tid][1] <= 1
        assert res.objectives[tid][1] == pytest.approx(np.mean(r.extra["costs"]))


def test_uniformity_objective_of_a_hypernetwork_trial(tmp_path):
    """uniformity = mean 1 − KL of the stored front (preferences on the simplex)."""
    from hybridmoo import metrics
    from hybridmoo.train import train

    r = train("vlmop2", hypernet={"width": 8}, steps=20, n_eval=7, eval_every=20, seed=0)
    got = outer_objectives(r, ["uniformity"])[0]
    assert got == pytest.approx(metrics.uniformity(r.F, r.prefs).mean())
    assert 0 < got <= 1


@pytest.mark.ray
def test_ray_listens_on_loopback_only(ray_cluster):
    """The local Ray started by hybridmoo binds its node to 127.0.0.1."""
    node = ray_cluster.nodes()[0]
    assert node["NodeManagerAddress"] == "127.0.0.1"


@pytest.mark.ray
def test_killed_actor_in_study(tmp_path, ray_cluster):
    """A study whose actor is killed during a trial records the failure, retries, finishes."""
    text = study_text(a=("retries = 0", "retries = 1\nworkers = 1"),
                      b=("steps = 30", "steps = 400"), c=("generations = 2", "generations = 1"))
    (tmp_path / "s.toml").write_text(text)
    study = Study(tmp_path / "s.toml", backend="ray", progress=False)
    killed = []

    def killer():
        for _ in range(200):
            time.sleep(0.1)
            b = getattr(study, "_live_backend", None)
            if b is not None and b._pending:
                try:
                    pids = b.actor_pids()
                except Exception:  # noqa: BLE001 - actor not ready
                    continue
                if pids:
                    time.sleep(0.5)
                    os.kill(pids[0], signal.SIGKILL)
                    killed.append(pids[0])
                    return

    th = threading.Thread(target=killer)
    th.start()
    res = study.run()
    th.join()
    assert killed
    assert len(res.trials) == 4  # every trial recorded once, retried after the kill
    with h5py.File(tmp_path / "out.h5") as f:
        attempts = [json.loads(f["trials"][k].attrs["attempts"]) for k in f["trials"]]
    assert max(attempts) == 2


@pytest.mark.parametrize("algorithm", ["nsga2", "nsga3", "moead", "smsemoa", "mixed"])
def test_every_outer_algorithm_runs(tmp_path, algorithm):
    """Each pymoo algorithm drives a small study to the end through ask/tell."""
    text = study_text(a=('name = "nsga2"', f'name = "{algorithm}"'),
                      b=("steps = 30", "steps = 8"),
                      c=('"train.lr"', '"hypernet.activation" = { type = "choice", values = '
                                       '["relu", "tanh"] }\n"train.lr"'))
    (tmp_path / "s.toml").write_text(text)
    res = Study(tmp_path / "s.toml", backend="local", progress=False).run()
    assert len(res.trials) == 8 and res.failed == 0
    assert all(res.values[t]["hypernet.activation"] in ("relu", "tanh") for t in res.trials)
    assert all(4 <= res.values[t]["hypernet.width"] <= 32 for t in res.trials)
    with h5py.File(tmp_path / "out.h5") as f:
        assert f["generations/0001/encoded"].shape == (4, 3)


def test_pymoo_variable_types_round_trip():
    """The space declared as pymoo variables maps back to valid values of every type."""
    space = load_study(text=study_text(
        a=('"train.lr"', '"train.scalarization.name" = { type = "choice", values = '
                         '["linear", "pbi"] }\n"hypernet.depth" = { type = "int", low = 1, '
                         'high = 3 }\n"train.lr"'))).space
    pv = space.pymoo_vars()
    assert set(pv) == {v.path for v in space.variables}
    rng = np.random.default_rng(0)
    for _ in range(200):
        x = {k: v.sample(1, random_state=rng)[0] if "random_state" in
             v.sample.__code__.co_varnames else v.sample(1)[0] for k, v in pv.items()}
        vals = space.from_pymoo(x)
        assert 4 <= vals["hypernet.width"] <= 32 and 1 <= vals["hypernet.depth"] <= 3
        assert 1e-3 <= vals["train.lr"] <= 1e-2
        assert vals["train.scalarization.name"] in ("linear", "pbi")
        assert space.values(space.encode(vals))["hypernet.width"] == vals["hypernet.width"]


# ----------------------------------------------------------------------------- warm starts
def _warm_text(keep: str = "all") -> str:
    return study_text(
        a=("generations = 2", 'generations = 3\nwarm_start = "nearest"'),
        b=("retries = 0", f'retries = 0\nkeep_weights = "{keep}"'),
        c=('"hypernet.width" = { type = "int", low = 4, high = 32, log = true }',
           '"hypernet.width" = { type = "choice", values = [8, 16] }'),
    )


def test_warm_start_continues_from_the_nearest_compatible_trial(tmp_path):
    """With warm_start = "nearest" a trial of a later generation starts from the weights of the
    nearest earlier trial (encoded distance) of the same architecture: its HV at step 0 is that
    trial's final HV. Generation 0 starts cold."""
    (tmp_path / "s.toml").write_text(_warm_text())
    res = Study(tmp_path / "s.toml", backend="local", progress=False).run()
    out = tmp_path / "out.h5"
    attrs = store.read_trial_attrs(out)
    with h5py.File(out) as f:
        enc = {t: x for g in f["generations"].values()
               for t, x in zip(g["trial_ids"][()].tolist(), g["encoded"][()], strict=True)}
    warm = 0
    for tid, a in attrs.items():
        src = a["warm_start_from"]
        if tid < 4:
            assert src == -1
            continue
        first_of_gen = (tid // 4) * 4
        width = res.values[tid]["hypernet.width"]
        same = [t for t in range(first_of_gen) if res.values[t]["hypernet.width"] == width]
        if not same:
            assert src == -1
            continue
        warm += 1
        assert src in same
        d = {t: np.linalg.norm(enc[t] - enc[tid]) for t in same}
        assert d[src] == min(d.values())
        trial = store.read_trial(out, tid)
        # the same network at the same preferences (the source's front may be an hv_subset)
        hv_src = res.trials[src].extra.get("front", {}).get("hv_preferences", res.trials[src].hv)
        assert trial.trace["hv"][0] == pytest.approx(hv_src, rel=1e-6, abs=1e-9)
    assert warm >= 4


def test_cold_study_records_no_warm_start_and_bad_settings_are_rejected(tmp_path):
    """Without warm_start every trial starts cold; an unknown mode, or warm starts without kept
    weights, are configuration errors that say what to change."""
    with pytest.raises(ConfigError, match="warm_start = 'closest'.*Allowed: none, nearest"):
        load_study(text=_warm_text().replace('"nearest"', '"closest"'))
    with pytest.raises(ConfigError, match="keep_weights"):
        load_study(text=_warm_text(keep="none"))
    assert load_study(text=BASE).warm_start == "none"
