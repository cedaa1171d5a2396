"""The evolutionary preference sampler (hybridmoo.eps): simplex, determinism, selection toward
the front, checkpoints, configuration errors and training through the trainer's hook."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hybridmoo import preferences
from hybridmoo.eps import EPS
from hybridmoo.errors import ConfigError, UnknownNameError


def _toy_losses(p: torch.Tensor, cut: float = 0.6) -> torch.Tensor:
    """Preferences with p0 > cut map onto a linear front (1 − p); the others to a dominated
    point."""
    front = 1 - p
    bad = torch.full_like(front, 1.5)
    return torch.where((p[:, 0] > cut)[:, None], front, bad)


def _run(s: EPS, seed: int, draws: int, k: int = 8) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(draws):
        p = s.sample(k, g, dtype=torch.float64)
        s.observe(p, _toy_losses(p))
        out.append(p)
    return out


def test_rows_stay_on_the_simplex_through_evolution():
    s = preferences.get("eps", n_obj=3, pop_size=12, period=3)
    rows = torch.cat(_run(s, 0, 40, k=20))  # k > pop_size: draws with replacement
    assert s.generations == 13
    assert rows.shape == (800, 3)
    assert bool((rows >= 0).all())
    assert torch.allclose(rows.sum(-1), torch.ones(len(rows), dtype=torch.float64))
    assert torch.allclose(s.population.sum(-1), torch.ones(12, dtype=torch.float64))


def test_same_seed_same_preferences_other_seed_others():
    a = _run(EPS(2, pop_size=8, period=2), 3, 12)
    b = _run(EPS(2, pop_size=8, period=2), 3, 12)
    c = _run(EPS(2, pop_size=8, period=2), 4, 12)
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not torch.equal(torch.cat(a), torch.cat(c))


def test_population_moves_toward_the_contributing_region():
    s = EPS(2, pop_size=32, period=4, explore=0.0)
    g = torch.Generator().manual_seed(0)
    s.sample(1, g)
    before = float((s.population[:, 0] > 0.6).double().mean())
    _run(s, 1, 100, k=16)
    after = float((s.population[:, 0] > 0.6).double().mean())
    assert s.generations == 25
    assert before < 0.6  # Dirichlet(1): P(p0 > 0.6) = 0.4
    assert after > 0.85, (before, after)
    # and it spreads along the contributing piece rather than collapsing on one point
    assert float(s.population[:, 0].std()) > 0.05


def test_scores_rank_front_points_above_dominated_ones():
    s = EPS(2, pop_size=4)
    p = torch.tensor([[0.9, 0.1], [0.7, 0.3], [0.2, 0.8], [0.1, 0.9]], dtype=torch.float64)
    s.observe(p, _toy_losses(p))
    s.observe(p[:1], _toy_losses(p[:1]))  # a repeated preference is averaged, not counted twice
    prefs, score = s.scores()
    assert len(prefs) == 4
    on_front = prefs[:, 0] > 0.6
    assert score[on_front].min() > 0 > score[~on_front].max()


def test_state_dict_continues_the_same_draws():
    s = EPS(2, pop_size=8, period=3)
    g = torch.Generator().manual_seed(5)
    for _ in range(4):
        p = s.sample(6, g)
        s.observe(p, _toy_losses(p))
    state, gstate = s.state_dict(), g.get_state()
    rest = [s.sample(6, g) for _ in range(5)]
    t = EPS(2, pop_size=8, period=3)
    t.load_state_dict(state)
    g2 = torch.Generator()
    g2.set_state(gstate)
    assert all(torch.equal(x, t.sample(6, g2)) for x in rest)
    with pytest.raises(ConfigError, match=r"population must be \(4, 2\)"):
        EPS(2, pop_size=4).load_state_dict(state)


def test_round_trip_and_bad_settings_are_named():
    s = preferences.get("EPS", n_obj=2, pop_size=16, period=5)
    assert preferences.from_dict(s.to_dict()) == s
    assert "eps" in preferences.names()
    with pytest.raises(ConfigError, match="'pop_size' must be an integer >= 4"):
        preferences.get("eps", n_obj=2, pop_size=2)
    with pytest.raises(ConfigError, match="'elite' must be a number in"):
        preferences.get("eps", n_obj=2, elite=1.0)
    with pytest.raises(ConfigError, match="has no parameter 'popsize'"):
        preferences.get("eps", n_obj=2, popsize=8)
    with pytest.raises(UnknownNameError, match="eps"):
        preferences.get("epss", n_obj=2)
    with pytest.raises(ConfigError, match=r"prefs and losses must both be \(k, 2\)"):
        s.observe(torch.ones(3, 2), torch.ones(3, 3))


def test_trainer_feeds_eps_and_zdt1_trains_to_a_sensible_hv():
    from hybridmoo import metrics, problems
    from hybridmoo.train import Trainer

    torch.set_num_threads(1)
    prob = problems.get("zdt1", n_var=10)
    hv = {}
    for name in ("dirichlet", "eps"):
        tr = Trainer(prob, None, {"steps": 300, "sampler": {"name": name}, "eval_every": 300},
                     seed=0)
        res = tr.run(keep_weights=False)
        assert res.ok
        hv[name] = res.hv
    assert tr.sampler.generations == 300 // 20  # observe() was called by Trainer.step
    ref = metrics.hypervolume(prob.pareto_front(1000), prob.ref_point)
    assert hv["eps"] > 0.9 * ref, (hv, ref)
    assert hv["eps"] > 0.97 * hv["dirichlet"], hv
    assert np.isfinite(hv["eps"])


def test_study_files_can_fix_or_search_the_sampler():
    from hybridmoo.studyfile import load_study

    base = """
[study]
seed = 0
output = "x.h5"
[problem]
name = "zdt1"
[objectives]
names = ["hv"]
[algorithm]
name = "nsga2"
pop_size = 2
generations = 1
[budget]
steps = 10
[fixed.train]
{fixed}
[search]
{search}
"""
    lr = '"train.lr" = { type = "real", low = 1e-3, high = 1e-2 }'
    spec = load_study(text=base.format(fixed='sampler = { name = "eps", period = 5 }', search=lr))
    assert spec.space.fixed["train"]["sampler"] == {"name": "eps", "period": 5}
    choice = '"train.sampler.name" = { type = "choice", values = ["dirichlet", "eps"] }'
    spec = load_study(text=base.format(fixed="", search=choice))
    assert spec.space.config(spec.space.values([0.9]))["train"]["sampler"]["name"] == "eps"
    with pytest.raises(ConfigError, match="period"):
        load_study(text=base.format(fixed='sampler = { name = "eps", period = 0 }', search=lr))
