"""``[algorithm] initial``: generation 0 starts with given configurations (the library defaults
or tables of searched values), the rest drawn at random; bad entries are refused clearly."""

from __future__ import annotations

import pytest

from hybridmoo.errors import ConfigError
from hybridmoo.hypernet import HypernetConfig
from hybridmoo.study import Study
from hybridmoo.studyfile import load_study
from hybridmoo.train import TrainConfig

STUDY = """
[study]
seed = 1
output = "out.h5"
[problem]
name = "zdt1"
options = {{ n_var = 4 }}
[objectives]
names = ["hv", "n_params"]
[algorithm]
name = "{algorithm}"
pop_size = 4
generations = 1
initial = {initial}
[budget]
steps = 10
[resources]
retries = 0
[fixed.train]
n_eval = 8
threads = 1
[search]
"hypernet.width" = {{ type = "int", low = 8, high = 128, log = true }}
"train.lr" = {{ type = "real", low = 3e-4, high = 3e-2, log = true }}
"train.scalarization.name" = {{ type = "choice", values = ["linear", "tchebycheff"] }}
"train.sampler.alpha" = {{ type = "real", low = 0.2, high = 2.0 }}
"""


def _text(initial: str = '["defaults"]', algorithm: str = "nsga2") -> str:
    return STUDY.format(initial=initial, algorithm=algorithm)


def test_defaults_are_the_librarys_clipped_to_the_space():
    spec = load_study(text=_text('["defaults", { "train.lr" = 0.001, "hypernet.width" = 8 }]'))
    t, h = TrainConfig(), HypernetConfig()
    assert h.width > 128  # so the default is clipped to the range's top
    assert spec.initial[0] == {"hypernet.width": 128, "train.lr": t.lr,
                               "train.scalarization.name": t.scalarization["name"],
                               "train.sampler.alpha": t.sampler["alpha"]}
    # a table sets some paths; the others keep the defaults
    assert spec.initial[1] == {**spec.initial[0], "train.lr": 0.001, "hypernet.width": 8}
    assert load_study(text=_text('"defaults"')).initial == spec.initial[:1]
    assert load_study(text=_text("[]")).initial == []


@pytest.mark.parametrize("algorithm", ["nsga2", "mixed", "moead", "smsemoa"])
def test_generation_zero_starts_with_them(tmp_path, algorithm):
    (tmp_path / "s.toml").write_text(_text('["defaults", { "train.lr" = 0.02 }]', algorithm))
    spec = load_study(tmp_path / "s.toml")
    res = Study(tmp_path / "s.toml", backend="local", progress=False).run()
    assert res.values[0] == spec.initial[0] and res.values[1] == spec.initial[1]
    assert len(res.trials) == 4 and res.failed == 0
    # the rest is drawn from the study seed: the same study proposes the same configurations
    again = Study(tmp_path / "s.toml", backend="local", progress=False, overwrite=True).run()
    assert again.values == res.values


@pytest.mark.parametrize("initial, words", [
    ('[{ "train.momentum" = 0.5 }]', "'train.momentum', which is not searched"),
    ('[{ "train.lr" = 0.5 }]', "train.lr = 0.5 is outside the search space; allowed: a number"),
    ('[{ "hypernet.width" = 12.5 }]', "hypernet.width = 12.5 is outside"),
    ('[{ "train.scalarization.name" = "pbi" }]', 'allowed: "linear", "tchebycheff"'),
    ('["best"]', 'algorithm.initial[0] = "best" in <study file> is invalid'),
    ("3", "algorithm.initial = 3"),
    ('["defaults", "defaults", "defaults", "defaults", "defaults"]', "more than algorithm"),
])
def test_bad_initial_entries_are_refused(initial, words):
    with pytest.raises(ConfigError) as err:
        load_study(text=_text(initial))
    assert words in str(err.value)
