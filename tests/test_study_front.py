"""The study front (issue 19, part 3) and prediction without a trainer (issue 15).

``StudyData.hypernetwork`` rebuilds a stored network from its configuration and weights;
``StudyData.study_front(n)`` pools every kept hypernetwork's dense front and selects ``n`` points
by greedy hypervolume contribution; ``show``, ``export``, ``plot``, ``predict`` and the
``hybridmoo_search`` comparison method serve it.
"""

from __future__ import annotations

import moocore
import numpy as np
import pytest

import hybridmoo
from hybridmoo.errors import ConfigError
from hybridmoo.study import Study

STUDY = """
[study]
seed = 3
output = "out.h5"
[problem]
name = "{problem}"
options = {options}
[algorithm]
name = "nsga2"
pop_size = {pop}
generations = 1
[budget]
steps = {steps}
[resources]
keep_weights = "all"
[fixed.train]
n_eval = {n_eval}
eval_every = 1000
threads = 1
[search]
"hypernet.width" = {{ type = "int", low = 4, high = 32, log = true }}
"train.lr" = {{ type = "real", low = 1e-3, high = 3e-2, log = true }}
"""


def _study(d, problem="zdt1", options="{ n_var = 4 }", pop=3, steps=150, n_eval=11):
    (d / "s.toml").write_text(STUDY.format(problem=problem, options=options, pop=pop,
                                           steps=steps, n_eval=n_eval))
    Study(d / "s.toml", backend="local", progress=False).run()
    return d / "out.h5"


@pytest.fixture(scope="module")
def study_file(tmp_path_factory):
    """A small finished ZDT1 study that keeps every trial's weights (local backend)."""
    return _study(tmp_path_factory.mktemp("sf"))


@pytest.fixture(scope="module")
def data_study(tmp_path_factory):
    """A small finished study of a data problem (mtl_regression) with every weight kept."""
    return _study(tmp_path_factory.mktemp("sfd"), problem="mtl_regression", options="{}",
                  pop=2, steps=20, n_eval=5)


# ------------------------------------------------------------------- prediction without trainer
@pytest.mark.parametrize("which", ["study_file", "data_study"])
def test_rebuilt_network_reproduces_the_trainers_evaluation(which, request, monkeypatch):
    """The rebuilt hypernetwork gives, at the stored evaluation preferences, the front the
    trainer evaluated — and no Trainer is built to get it."""
    from hybridmoo.train import Trainer

    path = request.getfixturevalue(which)

    def no_trainer(*args, **kwargs):
        raise AssertionError("prediction built a Trainer")

    monkeypatch.setattr(Trainer, "__init__", no_trainer)
    s = hybridmoo.load(path)
    for tid in s.trial_ids():
        r = s.trial(tid)
        model = s.hypernetwork(tid)
        ev = model.evaluate(r.prefs)
        np.testing.assert_allclose(ev["F"], r.F, rtol=1e-5, atol=1e-7)
        if r.X is not None:
            np.testing.assert_allclose(ev["X"], r.X, rtol=1e-5, atol=1e-7)
        out = s.predict(tid, r.prefs[1])
        np.testing.assert_allclose(out["objectives"], r.F[1], rtol=1e-5, atol=1e-7)
        assert set(out["params"]) == set(ev["params"])


# ------------------------------------------------------------------------------- study front
def _pool(s, n, density):
    """The pooled non-dominated points, built independently of hybridmoo.studyfront."""
    import moocore

    from hybridmoo import preferences

    Fs = []
    for tid in s.trial_ids():
        r = s.trial(tid)
        P = np.vstack([preferences.eval_preferences(2, n * density).double().numpy(), r.prefs])
        Fs.append(s.hypernetwork(tid).evaluate(P)["F"])
    F = np.vstack(Fs)
    return F[moocore.is_nondominated(F)]


def test_study_front_equals_brute_force_on_a_tiny_case(study_file):
    """n = 2 from a tiny pool: the best pair of all pooled non-dominated points (every pair
    scored with moocore); greedy + exchanges alone reach at least (1 − 1/e) of it."""
    import itertools

    import moocore

    s = hybridmoo.load(study_file)
    for n, density in ((2, 2), (3, 1)):
        sf = s.study_front(n, density=density)
        ref = sf.ref_point
        if density == 1:
            import moocore as mc

            F = np.vstack([s.trial(t).F for t in s.trial_ids()])
            F = F[mc.is_nondominated(F)]
        else:
            F = _pool(s, n, density)
        F = F[(F < ref).all(axis=1)]
        assert len(F) > n  # a real choice
        best = max(itertools.combinations(range(len(F)), n),
                   key=lambda c: moocore.hypervolume(F[list(c)], ref=ref))
        best_hv = moocore.hypervolume(F[list(best)], ref=ref)
        assert sf.hv == pytest.approx(best_hv, rel=1e-12)
        assert sf.F.shape == (n, 2) and sf.source == "exact"
        assert sorted(map(tuple, sf.F.round(12))) == sorted(map(tuple, F[list(best)].round(12)))
        greedy = s.study_front(n, density=density, exact=0, refine=0, polish=0)
        refined = s.study_front(n, density=density, exact=0, polish=0)
        assert (1 - 1 / np.e) * best_hv <= greedy.hv <= refined.hv <= best_hv + 1e-15


def test_polish_moves_points_below_the_pool_resolution(study_file):
    """The local search in preference space adds points of the chosen points' own networks
    near their preferences: the HV rises above the best the lattice pool allows, every point is
    still what its network gives at its preference, and the front is the same on each call."""
    s = hybridmoo.load(study_file)
    plain = s.study_front(polish=0)
    sf = s.study_front()
    assert sf.n_pooled > plain.n_pooled and sf.source == plain.source == "greedy"
    assert sf.hv > plain.hv
    for i in range(len(sf)):
        ev = s.hypernetwork(int(sf.trial_ids[i])).evaluate(sf.prefs[i: i + 1])
        np.testing.assert_allclose(ev["F"][0], sf.F[i], rtol=1e-5, atol=1e-6)
    assert np.allclose(sf.prefs.sum(axis=1), 1.0) and (sf.prefs >= 0).all()
    np.testing.assert_array_equal(s.study_front().F, sf.F)
    with pytest.raises(ConfigError, match="polish"):
        s.study_front(polish=-1)


def test_a_time_limit_stops_the_exchanges_and_the_polish_not_the_greedy_choice(study_file):
    s = hybridmoo.load(study_file)
    greedy = s.study_front(exact=0, refine=0, polish=0)
    full = s.study_front(exact=0)
    none_left = s.study_front(exact=0, time_limit=0)
    # no time: the greedy choice, no polish round (the pool is the lattice's)
    assert none_left.n_pooled == greedy.n_pooled < full.n_pooled
    assert none_left.hv == pytest.approx(greedy.hv, rel=1e-12) and full.hv > greedy.hv
    # time enough: the same front as without a limit
    np.testing.assert_array_equal(s.study_front(exact=0, time_limit=1e6).F, full.F)
    with pytest.raises(ConfigError, match="time_limit"):
        s.study_front(time_limit=-1)


def test_study_front_beats_every_trial_at_equal_n(study_file):
    """At the trials' own front size, the study front's HV is at least every trial's; each
    point is reproduced by its trial's network at its preference; the build is timed and
    deterministic."""
    import moocore

    from hybridmoo.subset import subset_hypervolume

    s = hybridmoo.load(study_file)
    sf = s.study_front()
    n = len(s.trial(s.trial_ids()[0]).F)
    assert sf.n == n and sf.F.shape == (n, 2) and sf.X.shape == (n, 4)
    assert sf.density == 20 and sf.n_pooled >= 3 * 20 * n
    for tid in s.trial_ids():
        r = s.trial(tid)
        assert sf.hv >= subset_hypervolume(r.F, sf.ref_point, np.arange(len(r.F))) - 1e-12
        assert sf.hv >= r.hv - 1e-12
    assert moocore.is_nondominated(sf.F).all()
    assert sf.hv == pytest.approx(moocore.hypervolume(sf.F, ref=sf.ref_point), rel=1e-12)
    for i in range(n):
        ev = s.hypernetwork(int(sf.trial_ids[i])).evaluate(sf.prefs[i: i + 1])
        np.testing.assert_allclose(ev["F"][0], sf.F[i], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(ev["X"][0], sf.X[i], rtol=1e-5, atol=1e-6)
    assert sf.seconds > 0
    again = s.study_front()
    np.testing.assert_array_equal(again.F, sf.F)
    rows = sf.records()
    assert len(rows) == n and {"trial_id", "pref_1", "f1", "x_4"} <= set(rows[0])


def test_data_problem_pools_the_stored_fronts(data_study):
    """A data problem's study front (default density 1) is drawn from the stored evaluation
    fronts, with no decision vectors; density > 1 queries the networks on the test split."""
    s = hybridmoo.load(data_study)
    sf = s.study_front()
    assert sf.density == 1 and sf.X is None and sf.F.shape[0] <= 5
    for f, t, p in zip(sf.F, sf.trial_ids, sf.prefs, strict=True):
        r = s.trial(int(t))
        i = int(np.argmin(np.abs(r.prefs - p).sum(axis=1)))
        np.testing.assert_allclose(r.F[i], f)
    dense = s.study_front(density=3)
    assert dense.density == 3 and dense.n_pooled == 2 * (15 + 5)
    assert dense.hv >= max(s.trial(t).hv for t in s.trial_ids()) - 1e-12


def test_study_front_needs_kept_weights_and_valid_sizes(study_file, tmp_path):
    """No stored weights: a StoreError naming keep_weights; bad n or density: ConfigError."""
    import shutil

    from hybridmoo import store
    from hybridmoo.errors import ConfigError, StoreError

    s = hybridmoo.load(study_file)
    for bad in ({"n": 0}, {"density": 0}, {"n": 2.5}):
        with pytest.raises(ConfigError, match="study_front"):
            s.study_front(**bad)
    copy = tmp_path / "noweights.h5"
    shutil.copy(study_file, copy)
    import h5py

    with h5py.File(copy, "a") as f:
        for g in f["trials"].values():
            if "weights" in g:
                del g["weights"]
    assert store.list_trials(copy)[0] == s.trial_ids()
    with pytest.raises(StoreError, match="keep_weights"):
        hybridmoo.load(copy).study_front()


# ------------------------------------------------------------------------------- command line
def test_show_prints_the_study_front_next_to_the_best_trial(study_file, capsys):
    """`hybridmoo show` prints the study front's HV and size beside the best trial's."""
    from hybridmoo.cli import main

    sf = hybridmoo.load(study_file).study_front()
    assert main(["show", str(study_file)]) == 0
    out = capsys.readouterr().out
    assert "best HV:" in out and "(trial" in out
    line = next(x for x in out.splitlines() if x.startswith("study front:"))
    assert f"HV {sf.hv:.6g} ({len(sf)} points" in line
    assert main(["show", str(study_file), "--n", "4"]) == 0
    assert "(4 points from" in capsys.readouterr().out


@pytest.mark.parametrize("fmt", ["csv", "json", "npz", "parquet"])
def test_export_study_front_every_format(study_file, tmp_path, fmt, capsys):
    """`export --what study-front` writes one row per point: trial, preference, objectives, x."""
    import pandas as pd

    from hybridmoo.cli import main
    from hybridmoo.cli._common import EXPORT_WHAT
    from hybridmoo.export import WHAT

    assert "study-front" in WHAT and tuple(WHAT) == tuple(EXPORT_WHAT)
    sf = hybridmoo.load(study_file).study_front(6)
    out = tmp_path / f"sf.{fmt}"
    assert main(["export", str(study_file), "--what", "study-front", "--format", fmt,
                 "--n", "6", "--out", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    if fmt == "csv":
        df = pd.read_csv(out)
    elif fmt == "json":
        df = pd.read_json(out)
    elif fmt == "parquet":
        df = pd.read_parquet(out)
    else:
        df = pd.DataFrame(dict(np.load(out)))
    assert len(df) == 6
    np.testing.assert_array_equal(df["trial_id"].to_numpy(), sf.trial_ids)
    tol = {"rtol": 1e-12, "atol": 1e-14}  # JSON keeps 15 significant digits
    np.testing.assert_allclose(df[["f1", "f2"]].to_numpy(), sf.F, **tol)
    np.testing.assert_allclose(df[["pref_1", "pref_2"]].to_numpy(), sf.prefs, **tol)
    np.testing.assert_allclose(df[[f"x_{j}" for j in range(1, 5)]].to_numpy(), sf.X, **tol)


def test_export_study_front_refuses_what_does_not_apply(study_file, tmp_path, capsys):
    """--n belongs to study-front; --trials does not apply to it."""
    from hybridmoo.cli import main

    assert main(["export", str(study_file), "--what", "fronts", "--n", "3", "--out",
                 str(tmp_path / "a.csv")]) == 2
    assert "--what study-front" in capsys.readouterr().err
    assert main(["export", str(study_file), "--what", "study-front", "--trials", "0", "--out",
                 str(tmp_path / "b.csv")]) == 2
    assert "every kept hypernetwork" in capsys.readouterr().err


def test_plot_draws_the_study_front_against_each_trial(study_file, tmp_path, capsys):
    """`hybridmoo plot` writes the fronts figure with the study front in every trial panel."""
    from hybridmoo.cli import main
    from hybridmoo.report import study_figures

    s = hybridmoo.load(study_file)
    assert main(["plot", str(study_file), "--out-dir", str(tmp_path)]) == 0
    assert (tmp_path / "out_fronts.png").stat().st_size > 5000
    F, label = study_figures.study_front(s)
    np.testing.assert_array_equal(F, s.study_front().F)
    assert label.startswith(f"study front (HV {s.study_front().hv:.4g})")
    fig = study_figures.fronts_figure(s)
    texts = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    texts += [t.get_text() for ax in fig.axes if ax.get_legend() for t in
              ax.get_legend().get_texts()]
    assert label in texts
    panels = [ax for ax in fig.axes if ax.get_title().startswith("trial ")]
    assert len(panels) >= 1
    for ax in panels:  # the study front's curve is drawn in each trial's panel
        xs = [line.get_xdata() for line in ax.get_lines() if len(line.get_xdata()) == len(F)]
        assert any(np.allclose(np.sort(x), np.sort(F[:, 0])) for x in xs)


def test_predict_serves_the_study_front(study_file, tmp_path, capsys):
    """`predict --study-front` prints every point with its trial and preference; --save
    writes one entry per point with the generated parameters."""
    import torch

    from hybridmoo.cli import main

    sf = hybridmoo.load(study_file).study_front(5)
    save = tmp_path / "sf.pt"
    assert main(["predict", str(study_file), "--study-front", "--n", "5", "--save",
                 str(save)]) == 0
    out = capsys.readouterr().out
    rows = [x for x in out.splitlines() if "  trial " in x]
    assert len(rows) == 5 and f"HV {sf.hv:.6g}" in out
    for row, t in zip(rows, sf.trial_ids, strict=True):
        assert f"trial {t} " in row and "preference [" in row and "f1 = " in row
    points = torch.load(save)
    assert len(points) == 5
    for p, x, t in zip(points, sf.X, sf.trial_ids, strict=True):
        assert p["trial_id"] == t
        np.testing.assert_allclose(p["params"]["x"].double().numpy(), x, rtol=1e-5, atol=1e-6)
    for argv, words in ((["--study-front", "-p", "0.5,0.5"], "does not apply"),
                        ([], "needs --preference"), (["-p", "0.5,0.5", "--n", "3"], "--n")):
        assert main(["predict", str(study_file), *argv]) == 2
        assert words in capsys.readouterr().err


# ------------------------------------------------------------------------------- compare
def test_hybridmoo_search_reports_the_study_front_and_pays_for_it(monkeypatch):
    """The `hybridmoo_search` comparison method returns the study front: its HV is the
    method's HV (at least the best trial's), and the time spent building it is in the run's
    wall time and in the last point of its trace."""
    import time

    import moocore

    from hybridmoo import baselines, subset

    pause = 0.4
    greedy = subset.greedy_hv_subset

    def slow_greedy(*args, **kwargs):  # makes the study front's cost visible
        time.sleep(pause)
        return greedy(*args, **kwargs)

    monkeypatch.setattr(subset, "greedy_hv_subset", slow_greedy)
    t0 = time.perf_counter()
    r = baselines.run("hybridmoo_search", "zdt1", ("steps", 120), seed=0,
                      problem_options={"n_var": 4}, pop_size=2, generations=1)
    wall = time.perf_counter() - t0
    info = r.extra["study_front"]
    assert r.ok and r.F.shape == (100, 2) and r.X.shape == (100, 4) and info["points"] == 100
    assert r.hv == pytest.approx(moocore.hypervolume(r.F, ref=r.ref_point), rel=1e-12)
    assert r.hv >= r.extra["best_trial_hv"] - 1e-12
    assert r.trace["hv"][-1] == r.hv
    assert info["seconds"] >= pause
    # charged: the wall time includes it, and the trace's last point comes that much later
    assert info["seconds"] <= r.budget_used["seconds"] <= wall
    assert r.trace["seconds"][-1] - r.trace["seconds"][-2] == pytest.approx(info["seconds"])
    assert len(info["trial_ids"]) == 100 and set(info["trials"]) <= {0, 1}


# ------------------------------------------------------------------------------- selection
def test_exact_and_refined_subsets_against_brute_force():
    """exact_hv_subset is the best subset (or None above its limit); swap_refine never lowers
    the greedy selection's HV and, over random fronts, closes part of its gap to the best."""
    import itertools

    import moocore

    from hybridmoo.subset import (
        exact_hv_subset,
        greedy_hv_subset,
        subset_hypervolume,
        swap_refine,
    )

    rng = np.random.default_rng(0)
    ref = np.array([1.1, 1.1])
    gaps_greedy, gaps_refined = [], []
    for _ in range(30):
        t = np.sort(rng.random(12))
        F = np.c_[t, 1 - t ** rng.uniform(0.3, 3.0)]  # convex or concave fronts
        k = 3
        best = max(moocore.hypervolume(F[list(c)], ref=ref)
                   for c in itertools.combinations(range(len(F)), k))
        ex = exact_hv_subset(F, ref, k)
        assert subset_hypervolume(F, ref, ex) == pytest.approx(best, rel=1e-12)
        assert exact_hv_subset(F, ref, k, limit=10) is None  # C(12, 3) = 220 subsets
        g = greedy_hv_subset(F, ref, k)
        r = swap_refine(F, ref, g)
        hg, hr = subset_hypervolume(F, ref, g), subset_hypervolume(F, ref, r)
        assert hg - 1e-15 <= hr <= best + 1e-15 and len(set(r.tolist())) == k
        gaps_greedy.append(best - hg)
        gaps_refined.append(best - hr)
    assert sum(gaps_greedy) > 0 and sum(gaps_refined) < sum(gaps_greedy)


def test_refined_subset_of_a_dense_linear_front_is_the_optimal_distribution():
    """On the linear front f1 + f2 = 1 with reference point (1, 1) the n points of largest HV
    are evenly spaced, x_i = i / (n + 1) (Auger, Bader, Brockhoff & Zitzler, FOGA 2009). From
    2,001 points on the line, greedy selection misses it (it halves intervals); the exchanges
    with each point's neighbours reach it within the pool's resolution, where exchanges with
    every candidate, under the same cap, reach only the first points of the selection."""
    import moocore

    from hybridmoo.errors import ConfigError
    from hybridmoo.subset import greedy_hv_subset, subset_hypervolume, swap_refine

    x = np.linspace(0.0, 1.0, 2001)
    F, ref, n = np.c_[x, 1.0 - x], np.array([1.0, 1.0]), 5
    xs = np.arange(1, n + 1) / (n + 1)
    optimum = float(moocore.hypervolume(np.c_[xs, 1.0 - xs], ref=ref))
    g = greedy_hv_subset(F, ref, n)
    local = swap_refine(F, ref, g, max_evals=4000)
    wide = swap_refine(F, ref, g, max_evals=4000, neighbours=0)
    h_g, h_local, h_wide = (subset_hypervolume(F, ref, i) for i in (g, local, wide))
    assert h_g < optimum - 1e-3
    assert h_local == pytest.approx(optimum, abs=1e-5)
    assert np.allclose(np.sort(F[local, 0]), xs, atol=3e-3)
    assert h_wide < h_local - 1e-4
    with pytest.raises(ConfigError, match="neighbours"):
        swap_refine(F, ref, g, neighbours=-1)


@pytest.fixture(scope="module")
def val_study(tmp_path_factory):
    """A small finished study of a data problem with a validation split (tabular_sparsity)."""
    return _study(tmp_path_factory.mktemp("sfv"), problem="tabular_sparsity", options="{}",
                  pop=2, steps=20, n_eval=5)


def test_data_problem_with_a_validation_split_chooses_there(val_study, data_study, capsys):
    """With a validation split the study front's points are chosen on the validation losses
    (never below any kept trial's own front there) and reported on the evaluation split;
    without one (mtl_regression) the selection sees the evaluation split, as it says."""
    s = hybridmoo.load(val_study)
    sf = s.study_front()
    assert sf.split == "validation" and sf.density == 1 and len(sf) <= 5
    ref = sf.ref_point
    val_hv = {}
    for t in s.trial_ids():
        r = s.trial(t)
        val_hv[t] = float(moocore.hypervolume(
            s.hypernetwork(t).evaluate(r.prefs, split="validation")["F"], ref=ref))
    chosen = np.vstack([s.hypernetwork(int(t)).evaluate(p[None], split="validation")["F"]
                        for t, p in zip(sf.trial_ids, sf.prefs, strict=True)])
    # (one point at a time in float32 rounds differently from the batch the selection saw)
    assert float(moocore.hypervolume(chosen, ref=ref)) >= max(val_hv.values()) * (1 - 1e-6)
    for f, t, p in zip(sf.F, sf.trial_ids, sf.prefs, strict=True):  # evaluation-split losses
        again = s.hypernetwork(int(t)).evaluate(p[None])["F"][0]
        np.testing.assert_allclose(f, again, rtol=1e-5, atol=1e-7)
    assert sf.hv == pytest.approx(float(moocore.hypervolume(sf.F, ref=ref)))
    assert hybridmoo.load(data_study).study_front().split == "evaluation"
    from hybridmoo.cli import main

    assert main(["show", str(val_study)]) == 0
    assert "chosen on the validation split" in capsys.readouterr().out
