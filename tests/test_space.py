"""hybridmoo.space: variables, encoding, probes and the study-file table helpers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hybridmoo.errors import ConfigError
from hybridmoo.space import (
    SearchSpace,
    Variable,
    check_fixed_table,
    check_search_path,
    flatten_search,
    probe_space,
    set_path,
)
from hybridmoo.train import TrainConfig


def _space() -> SearchSpace:
    return SearchSpace([
        Variable.from_spec("hypernet.width", {"type": "int", "low": 16, "high": 256,
                                              "log": True}),
        Variable.from_spec("train.lr", {"type": "real", "low": 1e-4, "high": 1e-2, "log": True}),
        Variable.from_spec("train.scalarization.name",
                           {"type": "choice", "values": ["ls", "tchebycheff", "pbi"]}),
    ], {"hypernet": {"depth": 2}, "train": {"steps": 10}})


def test_decode_covers_each_integer_and_choice_with_equal_or_log_shares():
    """Uniform u hits every choice with share 1/n and every log-int with share ∝ log((k+1)/k)."""
    sp = _space()
    u = np.linspace(0.0, 1.0, 30_001)[:, None] * np.ones((1, 3))
    vals = [sp.values(row) for row in u]
    names = [v["train.scalarization.name"] for v in vals]
    for n in ("ls", "tchebycheff", "pbi"):
        assert names.count(n) / len(names) == pytest.approx(1 / 3, abs=1e-3)
    widths = np.array([v["hypernet.width"] for v in vals])
    assert widths.min() == 16 and widths.max() == 256
    share16 = np.mean(widths == 16)
    assert share16 == pytest.approx(math.log(17 / 16) / math.log(257 / 16), abs=2e-3)
    lrs = np.array([v["train.lr"] for v in vals])
    assert lrs.min() == pytest.approx(1e-4) and lrs.max() == pytest.approx(1e-2)
    # log scale: the median of a uniform u is the geometric mean of the bounds
    assert np.median(lrs) == pytest.approx(1e-3, rel=1e-3)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3))
def test_decode_encode_decode_is_stable(u):
    """A decoded configuration re-encodes to a point that decodes to the same configuration."""
    sp = _space()
    v = sp.values(np.array(u))
    again = sp.values(sp.encode(v))
    assert again["hypernet.width"] == v["hypernet.width"]
    assert again["train.scalarization.name"] == v["train.scalarization.name"]
    assert again["train.lr"] == pytest.approx(v["train.lr"], rel=1e-9)


def test_config_merges_searched_values_into_the_fixed_tables():
    sp = _space()
    cfg = sp.config({"hypernet.width": 32, "train.lr": 1e-3, "train.scalarization.name": "pbi"})
    assert cfg == {"hypernet": {"depth": 2, "width": 32},
                   "train": {"steps": 10, "lr": 1e-3, "scalarization": {"name": "pbi"}}}
    with pytest.raises(KeyError):  # every searched path needs a value
        sp.config({"hypernet.width": 64})
    assert "width" not in sp.fixed["hypernet"]  # the fixed tables are not modified


def test_set_path_creates_nested_tables():
    cfg: dict = {}
    set_path(cfg, "train.sampler.alpha", 0.5)
    assert cfg == {"train": {"sampler": {"alpha": 0.5}}}


def test_probes_include_every_choice_and_both_ends():
    sp = _space()
    seen = [sp_values for _, cfg in sp.probes() for sp_values in [cfg]]
    names = {c["train"]["scalarization"]["name"] for c in seen}
    widths = {c["hypernet"]["width"] for c in seen}
    assert names == {"ls", "tchebycheff", "pbi"} and {16, 256} <= widths


@pytest.mark.parametrize(("spec", "words"), [
    ({"type": "real", "low": 1.0, "high": 0.5}, "low"),
    ({"type": "int", "low": 0, "high": 10, "log": True}, "log"),
    ({"type": "choice", "values": []}, "values"),
    ({"type": "normal", "low": 0, "high": 1}, "type"),
])
def test_bad_variable_specs_name_the_path(spec, words):
    with pytest.raises(ConfigError, match=words) as e:
        Variable.from_spec("train.lr", spec)
    assert "train.lr" in str(e.value)


def test_flatten_search_joins_nested_tables():
    flat = flatten_search({"train": {"lr": {"type": "real", "low": 0.1, "high": 1},
                                     "sampler": {"alpha": {"type": "real", "low": 0.1,
                                                           "high": 2}}},
                           "hypernet.width": {"type": "int", "low": 1, "high": 4}})
    assert set(flat) == {"train.lr", "train.sampler.alpha", "hypernet.width"}


def test_table_helpers_name_key_value_and_file():
    with pytest.raises(ConfigError, match=r"n_pref.*study\.toml.*Did you mean 'n_prefs'"):
        check_fixed_table("train", {"n_pref": 4}, TrainConfig, "study.toml")
    with pytest.raises(ConfigError, match=r"study\.toml: fixed\.train\.lr = \"fast\" is invalid"):
        check_fixed_table("train", {"lr": "fast"}, TrainConfig, "study.toml")
    assert check_fixed_table("train", {"lr": 0.01}, TrainConfig, "s") == {"lr": 0.01}
    with pytest.raises(ConfigError, match=r"unknown train option 'lrr'.*Did you mean 'lr'"):
        check_search_path("train.lrr", TrainConfig, "train", "study.toml")
    check_search_path("train.lr", TrainConfig, "train", "study.toml")


def test_probe_space_names_the_value_that_fails():
    sp = _space()

    def check(cfg):
        if cfg["train"]["scalarization"]["name"] == "pbi":
            raise ConfigError("pbi is not welcome here")

    with pytest.raises(ConfigError, match=r"study\.toml: .*pbi.*gives an invalid trial"):
        probe_space(sp, "study.toml", check)
