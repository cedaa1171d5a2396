"""The study front (issue 19, part 3) and prediction without a trainer (issue 15).

``StudyData.hypernetwork`` rebuilds a stored network from its configuration and weights;
``StudyData.study_front(n)`` pools every kept hypernetwork's dense front and selects ``n`` points
by greedy hypervolume contribution; ``show``, ``export``, ``plot``, ``predict`` and the
``hybridmoo_search`` comparison method serve it.
"""

from __future__ import annotations

import numpy as np
import pytest

import hybridmoo
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


def _study(d, problem="zdt1", options="{ n_var = 4 }", pop=3, steps=60, n_eval=11):
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
