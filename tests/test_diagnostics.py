"""Collapse detection: a forced collapse warns (result, train(), CLI, HDF5); a good front not."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from hybridmoo import diagnostics, problems, store
from hybridmoo.cli import main
from hybridmoo.diagnostics import CollapseWarning, check_collapse, collapse_report
from hybridmoo.train import train

RUN = {"steps": 300, "eval_every": 300, "n_eval": 50, "threads": 1, "lr": 3e-3}


def test_check_collapse_on_hand_made_fronts():
    """One point repeated, a tiny cluster and a spread front, against the documented thresholds."""
    ideal, nadir, ref = np.zeros(2), np.ones(2), np.full(2, 1.1)
    one = np.tile([[0.0, 1.0]], (50, 1))
    c = check_collapse(one, ideal=ideal, nadir=nadir, ref_point=ref)
    assert c is not None and c.n_distinct == 1 and c.reason == "distinct+spread"
    t = np.linspace(0, 1, 50)
    good = np.stack([t, 1 - np.sqrt(t)], axis=1)
    assert check_collapse(good, ideal=ideal, nadir=nadir, ref_point=ref) is None
    # all points inside 0.5 % of the range in each objective: spread collapse, though distinct
    tiny = np.stack([0.3 + 0.005 * t, 0.5 - 0.005 * t], axis=1)
    c = check_collapse(tiny, ideal=ideal, nadir=nadir, ref_point=ref)
    assert c is not None and "spread" in c.reason and c.n_distinct > 2
    # the same cluster is a genuine front when the objectives' ranges are 100× smaller
    assert check_collapse(tiny, ideal=[0.3, 0.49], nadir=[0.31, 0.5], ref_point=ref) is None
    # the two ends of 50 points (≤ 5 % distinct) collapse, three points (6 %) do not;
    # too few points or NaN are not judged
    ends = np.repeat([[0.0, 1.0], [1.0, 0.0]], [25, 25], axis=0)
    assert check_collapse(ends, ideal=ideal, nadir=nadir, ref_point=ref).reason == "distinct"
    three = np.repeat([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]], [20, 20, 10], axis=0)
    assert check_collapse(three, ideal=ideal, nadir=nadir, ref_point=ref) is None
    assert check_collapse(one[:3], ideal=ideal, nadir=nadir) is None
    assert check_collapse(np.full((10, 2), np.nan)) is None
    # without known points the reference box gives the range
    assert check_collapse(one, ref_point=ref) is not None
    assert check_collapse(good, ref_point=ref) is None


def test_report_names_the_likely_causes_first():
    """The configuration decides which cause is listed first."""
    one = np.tile([[0.0, 1.0]], (20, 1))
    lin = collapse_report(one, train={"scalarization": {"name": "linear"}, "lr": 1e-3,
                                      "normalize": "auto"}, ideal=[0, 0], nadir=[1, 1])
    assert lin["causes"][0].startswith("linear scalarisation")
    assert "collapsed: 1 distinct point(s) of 20" in lin["warning"]
    raw = collapse_report(one, train={"scalarization": {"name": "tchebycheff"}, "lr": 1e-3,
                                      "normalize": "none"}, ideal=[0, 0], nadir=[2000, 0.01])
    assert raw["causes"][0].startswith("objectives on different scales")
    assert "2e+05x" in raw["causes"][0]
    hot = collapse_report(one, train={"scalarization": {"name": "tchebycheff"}, "lr": 0.5,
                                      "normalize": "auto"}, ideal=[0, 0], nadir=[1, 1])
    assert hot["causes"][0].startswith("learning rate too high")
    assert set(lin) >= {"n_points", "n_distinct", "spread", "reason", "causes", "warning"}


def test_linear_on_zdt2_warns_and_tchebycheff_does_not():
    """Forced collapse: linear scalarisation on ZDT2's concave front."""
    p = problems.get("zdt2", n_var=5)
    with pytest.warns(CollapseWarning, match="linear scalarisation on a concave front"):
        bad = train(p, seed=0, scalarization={"name": "linear"}, **RUN)
    assert bad.ok and bad.warnings and bad.extra["collapse"]["n_distinct"] <= 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", CollapseWarning)
        good = train(p, seed=0, **RUN)
    assert good.ok and good.warnings == [] and "collapse" not in good.extra
    assert good.hv > bad.hv


def test_cli_train_and_show_print_the_warning(tmp_path, capsys):
    """`hybridmoo train` prints the warning; the HDF5 trial keeps it; `show` prints it again."""
    out = tmp_path / "lin.h5"
    rc = main(["train", "zdt2", "-o", "n_var=5", "--steps", "200", "--scalarization", "linear",
               "--n-eval", "30", "--quiet", "--out", str(out)])
    assert rc == 0
    err = capsys.readouterr().err
    assert "warning: the learned front collapsed" in err and "linear scalarisation" in err
    attrs = store.read_trial_attrs(out)[0]
    assert attrs["extra"]["collapse"]["warning"] in err
    assert main(["show", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "trial 0 warning:" in shown and "collapsed" in shown
    assert diagnostics.SPREAD_FRACTION == 0.01  # documented threshold
