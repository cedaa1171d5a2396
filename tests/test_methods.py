"""hybridmoo.methods: the registry and the TrialMethod protocol.

The outer loop knows a trial method only through the protocol: a method of the user's own,
named by import path in a study file, runs a whole study (search space, payloads, records,
analysis) without any change to hybridmoo.
"""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest

from hybridmoo import methods
from hybridmoo.errors import ConfigError, UnknownNameError

TOY = '''
import numpy as np

from hybridmoo import metrics
from hybridmoo.errors import ConfigError
from hybridmoo.methods import TrialMethod
from hybridmoo.record import TrialResult
from hybridmoo.space import SearchSpace, Variable, flatten_search, probe_space


class Shifted(TrialMethod):
    """A linear front f2 = 1 - f1 pushed away from the origin by `toy.shift`."""

    name = "shifted"
    summary = "a shifted linear front"
    tables = ("toy",)
    default_objectives = ("hv",)

    def build_space(self, doc, budget, problem, where):
        variables = []
        for path, spec in flatten_search(doc["search"]).items():
            if not path.startswith("toy."):
                raise ConfigError(f"search.{path}: a shifted study searches 'toy.shift'")
            variables.append(Variable.from_spec(path, spec))
        space = SearchSpace(variables, {"toy": dict(doc.get("fixed", {}).get("toy", {}))})

        def check(cfg):
            if cfg["toy"]["shift"] < 0:
                raise ConfigError("toy.shift must be >= 0")

        probe_space(space, where, check)
        return space

    def trial_payload(self, spec, config, seed, warm=None):
        return {"problem": spec.problem, "toy": dict(config["toy"]), "seed": seed,
                "n": int(spec.budget["steps"])}

    def run(self, payload, cache):
        t = np.linspace(0.0, 1.0, payload["n"])
        F = np.stack([t, 1.0 - t], axis=1) + payload["toy"]["shift"]
        ref = np.array([2.0, 2.0])
        hv = metrics.hypervolume(F, ref)
        trace = {k: np.array([1.0]) for k in ("steps", "seconds", "samples", "evaluations")}
        trace.update(hv=np.array([hv]), igd=np.array([np.nan]), loss=np.array([np.nan]))
        return TrialResult(status="ok", problem={"name": payload["problem"]},
                           hypernet={}, train=dict(payload["toy"]), seed=payload["seed"],
                           prefs=np.stack([1.0 - t, t], axis=1), F=F, X=None, trace=trace,
                           ref_point=ref, hv=hv, igd=float("nan"), n_params=0,
                           n_target_params=0, wall_time=0.0, train_time=0.0, steps=1,
                           device="cpu")

    def front_columns(self, record, i):
        return {"shift": float(record.train["shift"])}
'''

STUDY = '''
[study]
seed = 3
output = "toy.h5"
method = "toy_methods:Shifted"
[problem]
name = "zdt1"
[objectives]
names = ["hv"]
[algorithm]
name = "nsga2"
pop_size = 4
generations = 2
[budget]
steps = 11
[resources]
keep_weights = "none"
retries = 0
[fixed.toy]
note = "from the fixed table"
[search]
"toy.shift" = { type = "real", low = 0.0, high = 1.0 }
'''


def test_builtin_methods_are_registered():
    assert methods.names()[:2] == ("hypernet", "dymu")
    assert methods.get("hypernet").hypernetwork and not methods.get("dymu").hypernetwork
    assert methods.get("dymu").objectives.keys() == {"cost", "flops"}
    assert set(methods.get("hypernet").tables) == {"hypernet", "train"}


def test_unknown_method_suggests_the_closest():
    with pytest.raises(UnknownNameError, match=r"'dymo' is not allowed\. Did you mean 'dymu'"):
        methods.get("dymo")


def test_import_path_errors_name_what_failed(tmp_path, monkeypatch):
    (tmp_path / "not_methods.py").write_text("x = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(UnknownNameError, match="module 'no_such_mod' could not be imported"):
        methods.get("no_such_mod:M")
    with pytest.raises(UnknownNameError, match="has no attribute 'M'"):
        methods.get("not_methods:M")
    with pytest.raises(UnknownNameError, match="not a hybridmoo.methods.TrialMethod"):
        methods.get("not_methods:x")
    assert "not_methods:x" not in methods.names()


@pytest.fixture
def toy_study(tmp_path, monkeypatch):
    """A study folder with a user's TrialMethod module beside its study file."""
    (tmp_path / "toy_methods.py").write_text(textwrap.dedent(TOY))
    (tmp_path / "toy.toml").write_text(STUDY)
    yield tmp_path
    sys.modules.pop("toy_methods", None)
    methods.base._LOADED.pop("toy_methods:Shifted", None)
    methods.base._REGISTRY.pop("toy_methods:Shifted", None)
    if str(tmp_path) in sys.path:
        sys.path.remove(str(tmp_path))


def test_a_users_method_runs_a_whole_study(toy_study):
    """Study file → search space → payloads → records → analysis, all through the protocol."""
    import hybridmoo
    from hybridmoo.study import run_study
    from hybridmoo.studyfile import load_study

    spec = load_study(toy_study / "toy.toml")
    assert spec.trial_method.name == "shifted" and spec.objectives == ["hv"]
    run_study(toy_study / "toy.toml", backend="local", progress=False)
    data = hybridmoo.load(toy_study / "toy.h5")
    ids = data.trial_ids()
    assert len(ids) == 8
    for tid in ids:
        r = data.trial(tid)
        assert r.ok and r.method == "toy_methods:Shifted"
        assert r.train["note"] == "from the fixed table"  # its own [fixed.toy] table
        shift = r.train["shift"]
        # the stored front is the method's own: the line shifted by the searched value
        np.testing.assert_allclose(r.F.sum(axis=1), 1.0 + 2 * shift)
    rows = data.front_records(ids[:1])
    assert {row["shift"] for row in rows} == {data.trial(ids[0]).train["shift"]}
    # the best trial is the least shifted one (HV falls as the front moves away)
    best = max(ids, key=lambda t: data.trial(t).hv)
    assert data.trial(best).train["shift"] == min(data.trial(t).train["shift"] for t in ids)


def test_a_users_method_validates_its_own_space(toy_study):
    """The method's build_space probes its space: a bad searched range is refused up front."""
    from hybridmoo.studyfile import load_study

    bad = toy_study / "bad.toml"
    bad.write_text((toy_study / "toy.toml").read_text().replace("low = 0.0", "low = -1.0"))
    with pytest.raises(ConfigError, match=r"toy\.shift = -1.*toy.shift must be >= 0"):
        load_study(bad)


def test_fixed_tables_belong_to_the_method(toy_study):
    """A user's method takes its own [fixed.*] tables; another method's is named, a typo gets
    the closest of ours."""
    from hybridmoo.studyfile import load_study

    text = (toy_study / "toy.toml").read_text()
    bad = toy_study / "bad.toml"
    bad.write_text(text.replace("[fixed.toy]", "[fixed.train]"))
    with pytest.raises(ConfigError, match=r"\[fixed.train\] configures hypernetwork trials: "
                                          r"set study.method = \"hypernet\""):
        load_study(bad)
    bad.write_text(text.replace("[fixed.toy]", "[fixed.tyo]"))
    with pytest.raises(ConfigError, match=r"unknown key fixed.tyo .*Did you mean 'toy'"):
        load_study(bad)
