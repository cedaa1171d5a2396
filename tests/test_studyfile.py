"""hybridmoo.studyfile: what a valid study file becomes (the refusals live in test_inputs.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybridmoo.studyfile import OBJECTIVES, load_study

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted(p for p in (ROOT / "studies").rglob("*.toml") if not p.name.startswith("compare"))

BASE = """
[study]
seed = 7
output = "out.h5"
[problem]
name = "zdt1"
options = { n_var = 5 }
[algorithm]
pop_size = 4
generations = 3
[budget]
steps = 50
seconds = 20
[fixed.hypernet]
width = 32
[fixed.train]
n_prefs = 4
[search]
"train.lr" = { type = "real", low = 1e-4, high = 1e-2, log = true }
train.sampler.alpha = { type = "real", low = 0.2, high = 2.0 }
"""


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_study_file_is_valid(path):
    spec = load_study(path)
    assert spec.n_trials == spec.pop_size * spec.generations >= 1
    assert spec.space.n_var >= 1 and set(spec.objectives) <= set(OBJECTIVES)
    assert spec.output.is_absolute() and spec.output.suffix == ".h5"
    for _, cfg in spec.space.probes():  # every probe configuration has the method's tables
        assert set(cfg) == set(spec.trial_method.tables)


def test_defaults_and_resolution(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text(BASE)
    spec = load_study(f)
    assert spec.method == "hypernet" and spec.objectives == ["hv", "n_params"]
    assert spec.algorithm == "nsga2" and spec.warm_start == "none"
    assert spec.keep_weights == "front" and spec.retries == 1 and spec.workers == "auto"
    assert spec.output == (tmp_path / "out.h5").resolve()
    assert spec.budget == {"steps": 50, "seconds": 20}
    assert spec.problem_options == {"n_var": 5}
    assert [v.path for v in spec.space.variables] == ["train.lr", "train.sampler.alpha"]
    cfg = spec.space.config({"train.lr": 1e-3, "train.sampler.alpha": 0.5})
    # [budget] goes into every trial's train table; [fixed] tables are kept; defaults fill in
    assert cfg["train"]["steps"] == 50 and cfg["train"]["seconds"] == 20
    assert cfg["train"]["epochs"] is None and cfg["train"]["n_prefs"] == 4
    assert cfg["hypernet"] == {"width": 32}
    assert cfg["train"]["sampler"]["alpha"] == 0.5 and cfg["train"]["sampler"]["name"]
    assert spec.text == BASE


def test_text_without_a_path_resolves_against_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = load_study(text=BASE)
    assert spec.path is None and spec.output == (tmp_path / "out.h5").resolve()


def test_dymu_method_takes_its_own_defaults():
    text = (ROOT / "studies" / "dymu_multimnist.toml").read_text()
    spec = load_study(text=text.replace("[objectives]\nnames", "[objectives]\n#names"))
    assert spec.method == "dymu" and spec.trial_method.name == "dymu"
    assert spec.objectives == ["hv", "cost"]
    assert set(spec.space.fixed) == {"dymu"}


def test_variation_option_chooses_the_operators(tmp_path):
    """``options.variation = "explore"``: uniform crossover and PM η 1; a typo is refused."""
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.crossover.ux import UX

    from hybridmoo.errors import ConfigError
    from hybridmoo.study.objectives import pymoo_algorithm

    f = tmp_path / "s.toml"
    f.write_text(BASE)
    plain = pymoo_algorithm(load_study(f), 2)
    f.write_text(BASE.replace("generations = 3", 'generations = 3\noptions = { variation = '
                                                  '"explore" }'))
    spec = load_study(f)
    explore = pymoo_algorithm(spec, 2)
    assert isinstance(plain.mating.crossover, SBX) and isinstance(explore.mating.crossover, UX)
    eta = explore.mating.mutation.eta
    assert float(getattr(eta, "value", eta)) == 1.0
    assert spec.algorithm_options == {"variation": "explore"}  # the spec itself is unchanged
    f.write_text(BASE.replace("generations = 3", 'generations = 3\noptions = { variation = '
                                                  '"explor" }'))
    with pytest.raises(ConfigError, match=r"variation = \"explor\" is not allowed\. Did you "
                                          r"mean 'explore'"):
        load_study(f)
