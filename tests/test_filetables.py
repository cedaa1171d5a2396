"""hybridmoo.filetables: the [problem], [budget] and schema checks study and compare files share."""

from __future__ import annotations

import sys
import textwrap

import pytest

from hybridmoo.compare import load_compare
from hybridmoo.errors import ConfigError
from hybridmoo.filetables import check_schema, load_budget, load_problem
from hybridmoo.record import Budget

COMPARE = """
[compare]
seeds = 1
output = "c.h5"
report = "c.md"
[problem]
name = "{problem}"
options = {{ n_var = 4 }}
[budget]
{budget}
[[methods]]
name = "nsga2"
params = {{ pop_size = 8 }}
"""


def test_study_budget_takes_any_limits():
    b = load_budget({"steps": 50, "seconds": 2.5}, "s.toml")
    assert b == Budget(steps=50, seconds=2.5) and b.kinds == ("steps", "seconds")


@pytest.mark.parametrize("table", [{"seconds": 3}, {"kind": "seconds", "amount": 3}])
def test_compare_budget_in_either_form(table):
    assert load_budget(table, "c.toml", single=True) == Budget("seconds", 3)


@pytest.mark.parametrize(("table", "single", "words"), [
    ({}, False, r"\[budget\] in s.toml is empty"),
    ({"step": 5}, False, r"unknown key budget.step .*Did you mean 'steps'"),
    ({"steps": 5.5}, False, r"budget.steps = 5.5"),
    ({"seconds": 0}, False, r"budget.seconds = 0"),
    ({"steps": 10**10}, False, r"budget.steps"),
    ({"steps": 5, "seconds": 2}, True, r"one limit"),
    ({"kind": "seconds", "amount": 3, "steps": 4}, True, r"kind/amount and steps"),
    ({"kind": "epochs", "amount": 3}, True, r"budget.kind = \"epochs\" is not allowed"),
])
def test_bad_budgets_name_the_key(table, single, words):
    kinds = ("seconds", "steps", "evaluations") if single else \
        ("steps", "seconds", "epochs", "evaluations")
    with pytest.raises(ConfigError, match=words):
        load_budget(table, "s.toml", single=single, kinds=kinds)


def test_schema_names_unknown_tables_and_keys():
    schema = {"a": {"x"}, "m": {"name"}}
    with pytest.raises(ConfigError, match=r"unknown table \[b\] in f.toml"):
        check_schema({"b": {}}, schema, (), "f.toml")
    with pytest.raises(ConfigError, match=r"unknown key a.y in f.toml.*Allowed keys in \[a\]: x"):
        check_schema({"a": {"y": 1}}, schema, (), "f.toml")
    with pytest.raises(ConfigError, match=r"array of tables"):
        check_schema({"m": {"name": "x"}}, schema, (), "f.toml", arrays=("m",))
    with pytest.raises(ConfigError, match=r"has no \[a\] table"):
        check_schema({}, schema, ("a",), "f.toml")
    check_schema({"a": {"x": 1}, "m": [{"name": "n"}]}, schema, ("a",), "f.toml", arrays=("m",))


@pytest.fixture
def user_problem(tmp_path):
    (tmp_path / "my_probs.py").write_text(textwrap.dedent("""
        import torch
        from hybridmoo.problems import from_function

        def make(n_var=3):
            def f(x):
                return torch.stack([(x ** 2).sum(-1), ((x - 1) ** 2).sum(-1)], dim=-1)
            return from_function(f, n_var, 2, -1.0, 2.0, ref_point=[10.0, 10.0], name="sq")
    """))
    yield tmp_path
    sys.modules.pop("my_probs", None)
    if str(tmp_path) in sys.path:
        sys.path.remove(str(tmp_path))


def test_import_path_problem_beside_a_compare_file(user_problem):
    """A compare file names a problem by import path as a study file does: the file's folder is
    searched, options are keyword arguments, and the folder is shipped to Ray workers."""
    f = user_problem / "c.toml"
    f.write_text(COMPARE.format(problem="my_probs:make", budget="evaluations = 200"))
    spec = load_compare(f)
    assert spec.problem == "my_probs:make" and spec.problem_options == {"n_var": 4}
    assert spec.budget == Budget("evaluations", 200)
    assert spec.runtime_env == {"working_dir": str(user_problem.resolve())}
    assert spec.output.name == "c.h5"
    name, options, problem = load_problem({"name": "my_probs:make"}, user_problem, "c.toml")
    assert problem.n_var == 3 and options == {}


def test_import_path_errors_in_a_compare_file(user_problem):
    f = user_problem / "c.toml"
    f.write_text(COMPARE.format(problem="my_probs:nope", budget="seconds = 1"))
    with pytest.raises(ConfigError, match=r"problem: .*nope"):
        load_compare(f)
