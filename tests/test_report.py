"""Report figures and HTML pages (hybridmoo.report): open each figure and check what can be
checked — axis labels, legend entries, panels, titles, p values — and that the HTML pages hold
every table and image and make no external request."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from hybridmoo.report import compare_figures as cf  # noqa: E402
from hybridmoo.report.fronts import FrontPanel, front_figure  # noqa: E402
from hybridmoo.report.palette import method_styles, plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "results" / "quickstart.h5"


def _run(hv_final: float, seed: int, rng, m: int = 2, rate: float = 3.0):
    t = np.linspace(0.0, 10.0, 30)
    hv = hv_final * (1 - np.exp(-rate * t))
    F = np.sort(rng.random((12, m)), axis=0)
    return SimpleNamespace(trace={"seconds": t, "hv": hv}, hv=float(hv[-1]), F=F, seed=seed)


@pytest.fixture
def rows():
    rng = np.random.default_rng(0)
    spec = [("nsga2", "evolutionary", 0.80), ("smsemoa", "evolutionary", 0.82),
            ("ls", "gradient", 0.60), ("pcgrad", "gradient", 0.62), ("psl", "psl", 0.85),
            ("hybridmoo", "psl", 0.86)]
    return [{"label": lab, "family": fam,
             "runs": [_run(v + 0.01 * s, s, rng) for s in range(3)]} for lab, fam, v in spec]


def _close_all():
    plt().close("all")


def test_styles_are_distinct_and_families_share_a_hue(rows):
    """Every method gets its own (colour, line style, marker); a family's methods share the
    hue of their first member or a shade of it, hybridmoo apart."""
    styles = method_styles([(r["label"], r["family"]) for r in rows])
    looks = {(s.color, str(s.linestyle), s.marker) for s in styles.values()}
    assert len(looks) == len(rows)
    assert len({str(s.linestyle) for s in (styles["nsga2"], styles["smsemoa"])}) == 2
    assert styles["nsga2"].color == styles["smsemoa"].color  # shade changes from the 4th on
    assert styles["hybridmoo"].color != styles["psl"].color  # hybridmoo is its own family


def test_hv_over_time_one_legend_entry_per_method_and_winner_in_title(rows):
    fig = cf.hv_over_time(rows, name="toy", seeds=3, ref_hv=0.9)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [r["label"] for r in rows] + ["reference front HV"]
    assert "hybridmoo" in ax.get_title()  # the best median final HV
    assert ax.get_xlabel().startswith("wall-clock time") and ax.get_ylabel() == "hypervolume"
    # the curves rise within the first tenth of the run: a log time axis
    assert ax.get_xscale() == "log"
    # the legend sits outside the axes (right of them)
    fig.canvas.draw()
    assert ax.get_legend().get_window_extent().x0 >= ax.get_window_extent().x1
    _close_all()


def test_hv_over_time_linear_axis_for_slow_curves(rows):
    rng = np.random.default_rng(0)
    for r in rows:
        r["runs"] = [_run(0.8, s, rng, rate=0.05) for s in range(3)]
    assert cf.hv_over_time(rows, name="toy", seeds=3).axes[0].get_xscale() == "linear"
    _close_all()


def test_final_hv_sorted_with_exact_mannwhitney(rows):
    from scipy.stats import mannwhitneyu

    fig = cf.final_hv(rows, name="toy")
    left, right = fig.axes
    ticks = [t.get_text() for t in left.get_yticklabels()]
    med = {r["label"]: np.median([x.hv for x in r["runs"]]) for r in rows}
    assert ticks == sorted(med, key=med.get)  # best on top
    notes = {a.get_text() for a in right.texts}
    p = mannwhitneyu([x.hv for x in rows[0]["runs"]], [x.hv for x in rows[-1]["runs"]],
                     alternative="two-sided", method="exact").pvalue
    assert "best" in notes and f"p = {p:.2g}" in notes
    assert p == pytest.approx(0.1)  # 3 against 3: the smallest exact two-sided p
    assert any("exact Mann–Whitney U" in t.get_text() for t in fig.texts)
    _close_all()


@pytest.mark.parametrize("m", [2, 3, 4])
def test_front_small_multiples_panels_and_labels(rows, m):
    rng = np.random.default_rng(1)
    names = [f"loss_{k}" for k in range(m)]
    styles = method_styles([(r["label"], r["family"]) for r in rows])
    panels = [FrontPanel(r["label"], rng.random((10, m)), styles[r["label"]]) for r in rows]
    ref = rng.random((50, m))
    fig = front_figure(panels, names, title="toy", reference=ref, ref_point=np.full(m, 1.1))
    axes = fig.axes
    if m == 2:
        assert len(axes) == len(rows)
        assert all(a.get_xlabel() == names[0] and a.get_ylabel() == names[1] for a in axes)
        assert [a.get_title() for a in axes] == [r["label"] for r in rows]
    elif m == 3:
        assert len(axes) == 4 * len(rows)  # a 3-D view and three projections per method
        views = [a for a in axes if a.name == "3d"]
        assert len(views) == len(rows)
        assert all((a.get_xlabel(), a.get_ylabel(), a.get_zlabel()) == tuple(names)
                   for a in views)
        flat = [(a.get_xlabel(), a.get_ylabel()) for a in axes if a.name != "3d"]
        assert flat[:3] == [(names[0], names[1]), (names[0], names[2]), (names[1], names[2])]
    else:
        assert len(axes) == len(rows)
        assert all([t.get_text() for t in a.get_xticklabels()] == names for a in axes)
    # shared axes: every 2-D panel has the same limits
    flat = [a for a in axes if a.name != "3d"]
    if m == 2:
        assert len({a.get_xlim() for a in flat}) == 1 and len({a.get_ylim() for a in flat}) == 1
    _close_all()


@pytest.fixture
def quickstart(tmp_path):
    if not QUICKSTART.exists():
        pytest.skip("results/quickstart.h5 is not in this checkout")
    dst = tmp_path / "qs.h5"
    shutil.copy(QUICKSTART, dst)
    from hybridmoo.analysis import StudyData

    return StudyData(dst)


def test_study_figures(quickstart):
    from hybridmoo.report import study_figures as sf

    figs = sf.study_figures(quickstart)
    assert set(figs) == {"fronts", "traces", "outer"}
    front_ids = quickstart.outer_front_ids()
    fr = figs["fronts"]
    assert len(fr.axes) == len(front_ids)
    assert all((a.get_xlabel(), a.get_ylabel()) == ("f1", "f2") for a in fr.axes)
    legend = [t.get_text() for t in fr.legends[0].get_texts()]
    assert legend[0] == "reference front" and legend[1].startswith("study front (HV ")
    tr = figs["traces"].axes[0]
    texts = [t.get_text() for t in tr.get_legend().get_texts()]
    assert all(texts) and f"on the outer front ({len(front_ids)} trials)" in texts
    assert tr.get_title().endswith("HV traces of 24 trials")
    left, right = figs["outer"].axes
    ys = [r["hv"] for r in quickstart.outer_front_records()]
    lo, hi = right.get_ylim()
    assert lo <= min(ys) and max(ys) <= hi and hi - lo < 2 * (max(ys) - min(ys)) + 1e-3
    assert right.yaxis.get_major_formatter().get_offset() == ""  # no "+0.536" offset
    fig_legend = [t.get_text() for t in figs["outer"].legends[0].get_texts()]
    assert all(fig_legend) and "on the outer front (4 trials)" in fig_legend
    _close_all()


def test_study_front_pools_non_dominated_trial_points(quickstart, monkeypatch):
    import moocore

    from hybridmoo import store
    from hybridmoo.errors import StoreError
    from hybridmoo.report.study_figures import study_front

    F, label = study_front(quickstart, n=20)  # the kept networks' study front
    assert F.shape == (20, 2) and label.startswith("study front (HV ")
    np.testing.assert_array_equal(F, quickstart.study_front(20).F)

    def no_weights(*args, **kwargs):
        raise StoreError("no kept weights")

    monkeypatch.setattr(quickstart, "study_front", no_weights)  # the stored fronts instead
    F, label = study_front(quickstart, n=20)
    assert F.shape == (20, 2) and label.startswith("study front (HV ")
    pooled = np.vstack([store.read_trial(quickstart.path, t, weights=False).F
                        for t in quickstart.trial_ids()])
    assert moocore.is_nondominated(F).all()
    # every point is a point of some trial, and none is dominated by any pooled point
    assert all((np.abs(pooled - f).max(axis=1) == 0).any() for f in F)
    both = np.vstack([F, pooled])
    assert moocore.is_nondominated(both)[: len(F)].all()


def test_train_file_plot_says_one_trial(tmp_path):
    import hybridmoo
    from hybridmoo import store
    from hybridmoo.analysis import StudyData
    from hybridmoo.report import study_figures as sf

    r = hybridmoo.train("zdt1", problem_options={"n_var": 4}, steps=20, n_eval=11, seed=0)
    path = store.create(tmp_path / "t.h5", kind="train", problem=r.problem)
    store.write_trial(path, r, trial_id=0)
    figs = sf.study_figures(StudyData(path))
    assert set(figs) == {"fronts", "traces"}
    ax = figs["traces"].axes[0]
    assert ax.get_title().endswith("HV trace of 1 trial")
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[0].startswith("trial 0 (final HV") and all(texts)
    assert len(figs["fronts"].axes) == 1
    _close_all()


def _check_page(html: str, n_images: int) -> None:
    imgs = re.findall(r'<img [^>]*src="([^"]+)"', html)
    assert len(imgs) == n_images
    for src in imgs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html)
    assert "<link" not in html and "<script" not in html


def test_report_page_of_a_study(quickstart, tmp_path):
    from hybridmoo.cli import main

    out = tmp_path / "page.html"
    assert main(["report", str(quickstart.path), "--out", str(out)]) == 0
    html = out.read_text()
    _check_page(html, 3)
    for heading in ("Summary", "Figures", "Outer front", "Trials", "Study file", "Reproduce"):
        assert f"<h2>{heading}</h2>" in html
    assert html.count("<table>") == 3
    for tid in quickstart.trial_ids():
        assert f"<tr><td>{tid}</td>" in html
    assert "hybridmoo resume" in html and "[study]" in html
    # an existing page is kept unless --overwrite
    assert main(["report", str(quickstart.path), "--out", str(out)]) != 0
    assert main(["report", str(quickstart.path), "--out", str(out), "--overwrite"]) == 0


def test_compare_report_only_writes_the_html_page(tmp_path, capsys):
    """--report-only on a committed comparison writes the Markdown, three PNGs and one HTML
    page holding the table (every method), every figure and the compare file."""
    src = ROOT / "results" / "compare" / "zdt1.h5"
    if not src.exists():
        pytest.skip("results/compare/zdt1.h5 is not in this checkout")
    from hybridmoo.cli import main

    shutil.copy(src, tmp_path / "z.h5")
    text = (ROOT / "studies" / "compare_zdt1.toml").read_text()
    text = re.sub(r'output = "[^"]+"', 'output = "z.h5"', text)
    text = re.sub(r'report = "[^"]+"', 'report = "z.md"', text)
    (tmp_path / "c.toml").write_text(text)
    assert main(["compare", str(tmp_path / "c.toml"), "--report-only"]) == 0
    for name in ("z.md", "z_hv.png", "z_final.png", "z_fronts.png", "z.html"):
        assert (tmp_path / name).stat().st_size > 1000, name
    html = (tmp_path / "z.html").read_text()
    _check_page(html, 3)
    md = (tmp_path / "z.md").read_text()
    labels = re.findall(r"^\| (\S+)", md, flags=re.M)[2:]
    assert len(labels) == 11
    for lab in labels:
        assert f"<td>{lab}" in html
    assert "<h2>Compare file</h2>" in html and "--report-only" in html
    # hybridmoo report FILE gives the same page from the HDF5 file alone
    assert main(["report", str(tmp_path / "z.h5"), "--out", str(tmp_path / "r.html")]) == 0
    _check_page((tmp_path / "r.html").read_text(), 3)


def test_report_refuses_a_missing_file(tmp_path, capsys):
    from hybridmoo.cli import main

    assert main(["report", str(tmp_path / "nope.h5")]) != 0
    assert "nope.h5" in capsys.readouterr().err


def test_matplotlib_is_imported_lazily():
    code = ("import sys, hybridmoo, hybridmoo.report, hybridmoo.plots, hybridmoo.compare; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"
