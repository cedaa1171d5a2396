"""A battery of malformed inputs: each ends in exit code 2 and one message, never a traceback.

Every case runs the real command line in-process (``hybridmoo.cli.main``), captures stderr and
asserts the exit code, the absence of a traceback, the words of the message (the key or file,
the value, what is allowed) and that nothing was written. A few run in a subprocess, as a user
would. Tables: study files, compare files, damaged HDF5 files, other command-line input.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import h5py
import pytest

from hybridmoo import store
from hybridmoo.cli import main

# A valid, tiny study: two trials of ten steps on a 3-variable ZDT1, every trial's weights kept.
BASE_STUDY = """\
[study]
name = "tiny"
seed = 0
output = "out.h5"

[problem]
name = "zdt1"
options = { n_var = 3 }

[algorithm]
name = "nsga2"
pop_size = 2
generations = 1
options = {}

[budget]
steps = 10

[resources]
cpus_per_trial = 1
workers = "auto"
retries = 0
keep_weights = "all"

[fixed.hypernet]
depth = 1

[fixed.train]
n_eval = 5
threads = 1

[search]
"hypernet.width" = { type = "int", low = 4, high = 8 }
"train.scalarization.name" = { type = "choice", values = ["tchebycheff", "linear", "pbi"] }
"""

CHOICE = ('"train.scalarization.name" = { type = "choice", values = '
          '["tchebycheff", "linear", "pbi"] }')
WIDTH = '"hypernet.width" = { type = "int", low = 4, high = 8 }'

# (id, [(old, new), ...] applied to BASE_STUDY, words the message must contain)
STUDY_CASES = [
    ("steps-string", [("steps = 10", 'steps = "50"')],
     ['budget.steps = "50" is invalid', "an integer", "without quotes: 50"]),
    ("steps-1e400", [("steps = 10", "steps = 1e400")],
     ["budget.steps = inf", "non-finite", "write a finite number"]),
    ("steps-float", [("steps = 10", "steps = 50.0")],
     ["budget.steps = 50.0", "an integer", "without a decimal point"]),
    ("steps-huge", [("steps = 10", "steps = 1000000000000")],
     ["budget.steps = 1000000000000", "an integer in [1, 1,000,000,000]"]),
    ("steps-zero", [("steps = 10", "steps = 0")], ["budget.steps = 0", "an integer in [1"]),
    ("seconds-nan", [("steps = 10", "seconds = nan")], ["budget.seconds = nan", "non-finite"]),
    ("seconds-negative", [("steps = 10", "seconds = -1.5")],
     ["budget.seconds = -1.5", "a finite number > 0"]),
    ("budget-unknown", [("steps = 10", "step = 10")], ["unknown key budget.step",
                                                         "Did you mean 'steps'"]),
    ("seed-negative", [("seed = 0", "seed = -1")],
     ["study.seed = -1", "an integer in [0, 4,294,967,295]"]),
    ("seed-huge", [("seed = 0", "seed = 1000000000000000000000000000000")],
     ["study.seed = 1000000000000000000000000000000", "[0, 4,294,967,295]"]),
    ("seed-float", [("seed = 0", "seed = 1.5")], ["study.seed = 1.5", "an integer"]),
    ("seed-bool", [("seed = 0", "seed = true")],
     ["study.seed = true", "true/false is not a number"]),
    ("pop-huge", [("pop_size = 2", "pop_size = 1000000000000000000000000000000")],
     ["algorithm.pop_size = 1000000000000000000000000000000", "[2, 100000]"]),
    ("pop-one", [("pop_size = 2", "pop_size = 1")], ["algorithm.pop_size = 1", "[2, 100000]"]),
    ("pop-string", [("pop_size = 2", 'pop_size = "8"')],
     ['algorithm.pop_size = "8"', "without quotes"]),
    ("generations-zero", [("generations = 1", "generations = 0")],
     ["algorithm.generations = 0", "an integer in [1"]),
    ("generations-bool", [("generations = 1", "generations = true")],
     ["algorithm.generations = true", "true/false"]),
    ("n_prefs-bool", [("n_eval = 5", "n_eval = 5\nn_prefs = true")],
     ["fixed.train.n_prefs = true", "an integer", "true/false is not a number"]),
    ("n_prefs-float", [("n_eval = 5", "n_eval = 5\nn_prefs = 4.0")],
     ["fixed.train.n_prefs = 4.0", "an integer"]),
    ("lr-inf", [("n_eval = 5", "n_eval = 5\nlr = inf")], ["fixed.train.lr = inf", "non-finite"]),
    ("fixed-train-typo", [("n_eval = 5", "n_eval = 5\nn_pref = 4")],
     ["unknown train option 'n_pref' in [fixed.train] of", "s.toml", "Did you mean 'n_prefs'"]),
    ("fixed-hypernet-typo", [("depth = 1", "depht = 1")],
     ["unknown hypernet option 'depht' in [fixed.hypernet]", "Did you mean 'depth'"]),
    ("fixed-hypernet-string", [("depth = 1", 'depth = "2"')],
     ['fixed.hypernet.depth = "2"', "an integer"]),
    ("fixed-steps", [("n_eval = 5", "n_eval = 5\nsteps = 100")],
     ["fixed.train.steps", "set by [budget]"]),
    ("sampler-alpha-negative",
     [("n_eval = 5", 'n_eval = 5\nsampler = { name = "dirichlet", alpha = -1.0 }')],
     ["alpha", "-1.0", "> 0"]),
    ("searched-alpha-negative",
     [(WIDTH, WIDTH + '\n"train.sampler.alpha" = { type = "real", low = -1.0, high = 2.0 }')],
     ["search.train.sampler.alpha = -1.0", "alpha", "> 0"]),
    ("algorithm-option-typo", [("options = {}", "options = { n_offspring = 4 }")],
     ["unknown key algorithm.options.n_offspring", "Did you mean 'n_offsprings'", "nsga2 takes"]),
    ("algorithm-option-operator", [("options = {}", 'options = { sampling = "lhs" }')],
     ["unknown key algorithm.options.sampling", "remove the key"]),
    ("algorithm-option-type", [("options = {}", "options = { eliminate_duplicates = 1 }")],
     ["algorithm.options.eliminate_duplicates = 1", "true or false"]),
    ("moead-option-range", [('name = "nsga2"', 'name = "moead"'),
                            ("options = {}", "options = { prob_neighbor_mating = 2.0 }")],
     ["algorithm.options.prob_neighbor_mating = 2.0", "≤ 1"]),
    ("choice-misspelled-middle", [(CHOICE, CHOICE.replace('"linear"', '"lineer"'))],
     ['search.train.scalarization.name = "lineer"', "Did you mean 'linear'"]),
    ("choice-activation-misspelled",
     [(WIDTH, WIDTH + '\n"hypernet.activation" = { type = "choice", values = '
       '["relu", "gelu", "tahn", "silu"] }')],
     ['search.hypernet.activation = "tahn"', "Did you mean 'tanh'"]),
    ("choice-wrong-type",
     [(WIDTH, WIDTH + '\n"train.n_prefs" = { type = "choice", values = [4, "8", 16] }')],
     ['search.train.n_prefs = "8"', "an integer"]),
    ("choice-bool", [(WIDTH, '"hypernet.width" = { type = "choice", values = [8, true] }')],
     ["search.hypernet.width = true", "true/false"]),
    ("choice-duplicate", [(CHOICE, CHOICE.replace('"pbi"', '"linear"'))],
     ['"linear" twice']),
    ("choice-empty", [(CHOICE, '"train.scalarization.name" = { type = "choice", values = [] }')],
     ["values = []", "non-empty list"]),
    ("real-on-int-field", [(WIDTH, '"hypernet.width" = { type = "real", low = 4, high = 8 }')],
     ["search.hypernet.width = 6.0", "hypernet.width = 6.0 is invalid", "an integer"]),
    ("range-quoted", [(WIDTH, '"hypernet.width" = { type = "int", low = "4", high = 8 }')],
     ['search.hypernet.width.low = "4"', "a finite number"]),
    ("range-inf", [(WIDTH, '"hypernet.width" = { type = "int", low = 4, high = inf }')],
     ["search.hypernet.width.high = inf", "non-finite"]),
    ("log-not-bool", [(WIDTH, '"hypernet.width" = { type = "int", low = 4, high = 8, '
                       'log = "yes" }')], ['search.hypernet.width.log = "yes"', "true or false"]),
    ("search-path-typo", [(WIDTH, '"train.n_pref" = { type = "int", low = 2, high = 8 }')],
     ["unknown train option 'n_pref'", "search.\"train.n_pref\"", "Did you mean 'n_prefs'"]),
    ("search-budget", [(WIDTH, '"train.steps" = { type = "int", low = 4, high = 8 }')],
     ["search.train.steps", "cannot be searched"]),
    ("cpus-zero", [("cpus_per_trial = 1", "cpus_per_trial = 0")],
     ["resources.cpus_per_trial = 0", "> 0"]),
    ("cpus-nan", [("cpus_per_trial = 1", "cpus_per_trial = nan")],
     ["resources.cpus_per_trial = nan", "non-finite"]),
    ("gpus-negative", [("cpus_per_trial = 1", "cpus_per_trial = 1\ngpus_per_trial = -1")],
     ["resources.gpus_per_trial = -1", "≥ 0"]),
    ("workers-zero", [('workers = "auto"', "workers = 0")],
     ["resources.workers = 0", 'or "auto"']),
    ("workers-word", [('workers = "auto"', 'workers = "many"')],
     ['resources.workers = "many"', 'or "auto"']),
    ("retries-float", [("retries = 0", "retries = 1.5")],
     ["resources.retries = 1.5", "an integer"]),
    ("keep-weights-typo", [('keep_weights = "all"', 'keep_weights = "al"')],
     ["resources.keep_weights = 'al'", "Did you mean 'all'"]),
    ("threads-zero", [("cpus_per_trial = 1", "cpus_per_trial = 1\nthreads_per_trial = 0")],
     ["resources.threads_per_trial = 0", "an integer in [1"]),
    ("output-number", [('output = "out.h5"', "output = 3")], ["study.output = 3", "file name"]),
    ("name-number", [('name = "tiny"', "name = 5")], ["study.name = 5", "a string"]),
    ("objectives-string", [("[algorithm]", '[objectives]\nnames = "hv"\n\n[algorithm]')],
     ['objectives.names = "hv"', "a list of"]),
    ("problem-option-nan", [("n_var = 3", "n_var = nan")],
     ["problem.options.n_var = nan", "non-finite"]),
    ("unknown-table", [("[problem]", "[problme]")], ["unknown table [problme]",
                                                      "Did you mean 'problem'"]),
    ("not-toml", [("[problem]", "[problem")], ["is not valid TOML"]),
]


def _run(argv: list[str], capsys) -> tuple[int, str]:
    code = main(argv)
    cap = capsys.readouterr()
    return code, cap.out + cap.err


def _assert_refused(code: int, text: str, words: list[str]) -> None:
    assert code == 2, text
    assert "Traceback" not in text, text
    assert text.count("error:") == 1, text  # one message
    for w in words:
        assert w in text, f"{w!r} not in: {text}"


def _study(tmp_path: Path, edits) -> Path:
    text = BASE_STUDY
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "s.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("edits", "words"), [c[1:] for c in STUDY_CASES],
                         ids=[c[0] for c in STUDY_CASES])
def test_bad_study_file_is_refused_before_anything_runs(edits, words, tmp_path, capsys):
    """Each malformed study file: exit 2, one message naming key, value and what is allowed;
    nothing written."""
    path = _study(tmp_path, edits)
    code, text = _run(["run", str(path), "--backend", "local", "--quiet"], capsys)
    _assert_refused(code, text, words)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]  # nothing written


BASE_DYMU = """\
[study]
seed = 0
method = "dymu"
output = "out.h5"
[problem]
name = "mtl_regression"
options = { n_tasks = 3, in_dim = 8, n_train = 256, n_test = 128 }
[objectives]
names = ["hv", "cost"]
[algorithm]
name = "nsga2"
pop_size = 2
generations = 1
[budget]
steps = 30
[fixed.dymu]
widths = [8, 8]
head_hidden = 8
[search]
"dymu.c" = { type = "real", low = 0.0, high = 1.0 }
"dymu.tree" = { type = "choice", values = ["learned", "shared"] }
"""

DYMU_CASES = [
    ("c-above-one", [("high = 1.0", "high = 2.0")], ["search.dymu.c = 2.0", "[0, 1]"]),
    ("tree-misspelled", [('"shared"', '"shard"')], ['search.dymu.tree = "shard"',
                                                    "Did you mean 'shared'"]),
    ("fixed-typo", [("head_hidden = 8", "head_hiden = 8")],
     ["unknown dymu option 'head_hiden' in [fixed.dymu]", "Did you mean 'head_hidden'"]),
    ("widths-bool", [("widths = [8, 8]", "widths = [8, true]")],
     ["fixed.dymu.widths = [8, true]", "a list of integers"]),
    ("stage-fractions-string", [("head_hidden = 8", 'head_hidden = 8\nstage_fractions = "half"')],
     ['dymu.stage_fractions = "half"', "three numbers"]),
]


@pytest.mark.parametrize(("edits", "words"), [c[1:] for c in DYMU_CASES],
                         ids=[c[0] for c in DYMU_CASES])
def test_bad_dymu_study_file(edits, words, tmp_path, capsys):
    """DYMU studies: the same checks over DymuConfig and the trial keys."""
    text = BASE_DYMU
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    (tmp_path / "s.toml").write_text(text)
    _assert_refused(*_run(["run", str(tmp_path / "s.toml"), "--backend", "local"], capsys),
                    words)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]


def test_the_base_study_is_valid():
    """The battery's base study passes, so each case fails for its own edit only."""
    from hybridmoo.studyfile import load_study

    spec = load_study(text=BASE_STUDY)
    assert spec.n_trials == 2 and spec.space.n_var == 2
    assert load_study(text=BASE_DYMU).method == "dymu"


def test_every_choice_value_is_checked_not_only_the_corners():
    """A bad value in the middle of a long choice list (never at a corner of the space) is
    found; a good list passes."""
    from hybridmoo.studyfile import load_study

    good = ["tchebycheff", "linear", "pbi", "smooth_tchebycheff", "cosmos"]
    for i in range(len(good)):
        bad = list(good)
        bad[i] = "nope"
        text = BASE_STUDY.replace(CHOICE, '"train.scalarization.name" = { type = "choice", '
                                  f"values = {bad!r} }}".replace("'", '"'))
        with pytest.raises(Exception, match='scalarization.name = "nope"'):
            load_study(text=text)
    text = BASE_STUDY.replace(CHOICE, '"train.scalarization.name" = { type = "choice", '
                              f"values = {good!r} }}".replace("'", '"'))
    assert load_study(text=text).space.variables[1].values == tuple(good)


# ------------------------------------------------------------------------- files themselves
def test_binary_study_file(tmp_path, capsys):
    """A binary file (e.g. the .h5 given instead of the .toml) is named as such."""
    path = tmp_path / "s.toml"
    path.write_bytes(b"\x89HDF\r\n\x1a\n\x00\x00\x00binary")
    _assert_refused(*_run(["run", str(path), "--backend", "local"], capsys),
                    ["s.toml is a binary file", "not TOML"])


def test_non_utf8_study_file(tmp_path, capsys):
    """A Latin-1 file: the byte offset and how to fix it, no UnicodeDecodeError."""
    path = tmp_path / "s.toml"
    path.write_bytes(BASE_STUDY.replace('"tiny"', '"caf\xe9"').encode("latin-1"))
    _assert_refused(*_run(["run", str(path), "--backend", "local"], capsys),
                    ["is not UTF-8", "byte", "re-save it as UTF-8"])


def test_missing_and_folder_study_file(tmp_path, capsys):
    """A missing path and a folder given as the study file."""
    _assert_refused(*_run(["run", str(tmp_path / "nope.toml")], capsys), ["nope.toml not found"])
    _assert_refused(*_run(["run", str(tmp_path)], capsys), ["is not a file"])


def test_output_under_a_regular_file(tmp_path, capsys):
    """study.output below a regular file: refused before anything runs."""
    (tmp_path / "afile").write_text("x")
    path = _study(tmp_path, [('output = "out.h5"', 'output = "afile/sub/out.h5"')])
    _assert_refused(*_run(["run", str(path), "--backend", "local"], capsys),
                    ["study.output", "afile is a regular file, not a folder"])
    assert (tmp_path / "afile").read_text() == "x"


def test_output_is_a_folder(tmp_path, capsys):
    """study.output naming an existing folder."""
    (tmp_path / "d").mkdir()
    path = _study(tmp_path, [('output = "out.h5"', 'output = "d"')])
    _assert_refused(*_run(["run", str(path), "--backend", "local"], capsys),
                    ["study.output", "is a folder", "give a file name inside it"])


def _read_only(folder: Path, monkeypatch) -> None:
    """Make ``folder`` read-only (and, as root, where permissions do not bind, say so)."""
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    if os.access(folder, os.W_OK):  # root: the check must still refuse it
        import hybridmoo._config as cfg

        real = os.access
        monkeypatch.setattr(cfg.os, "access", lambda p, mode: False if Path(p) == folder
                            else real(p, mode))


def test_output_in_a_read_only_folder(tmp_path, capsys, monkeypatch):
    """study.output in a read-only folder: refused before anything runs."""
    ro = tmp_path / "ro"
    ro.mkdir()
    path = _study(tmp_path, [('output = "out.h5"', 'output = "ro/out.h5"')])
    _read_only(ro, monkeypatch)
    try:
        _assert_refused(*_run(["run", str(path), "--backend", "local"], capsys),
                        ["study.output", "ro is not writable"])
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)


def test_run_output_override_checked(tmp_path, capsys):
    """--output is checked like study.output and named as --output."""
    (tmp_path / "afile").write_text("x")
    path = _study(tmp_path, [])
    _assert_refused(*_run(["run", str(path), "--backend", "local", "--output",
                           str(tmp_path / "afile" / "o.h5")], capsys),
                    ["--output", "is a regular file"])


# ------------------------------------------------------------------------- compare files
BASE_COMPARE = """\
[compare]
name = "c"
seeds = 2
output = "c.h5"
report = "c.md"

[problem]
name = "zdt1"
options = { n_var = 4 }

[budget]
kind = "evaluations"
amount = 400

[[methods]]
name = "nsga2"
params = { pop_size = 20 }

[[methods]]
name = "hybridmoo"
params = { train = { n_prefs = 4 } }
"""

COMPARE_CASES = [
    ("seeds-zero", [("seeds = 2", "seeds = 0")], ["compare.seeds = 0", "an integer in [1"]),
    ("seeds-bool", [("seeds = 2", "seeds = true")], ["compare.seeds = true", "true/false"]),
    ("seeds-string", [("seeds = 2", 'seeds = "3"')], ['compare.seeds = "3"', "without quotes"]),
    ("budget-kind-typo", [('kind = "evaluations"', 'kind = "evaluation"')],
     ['budget.kind = "evaluation"', "Did you mean 'evaluations'"]),
    ("budget-amount-inf", [("amount = 400", "amount = inf")], ["budget.amount = inf",
                                                               "non-finite"]),
    ("budget-amount-string", [("amount = 400", 'amount = "400"')],
     ['budget.amount = "400"', "without quotes"]),
    ("budget-amount-float", [("amount = 400", "amount = 400.5")],
     ["budget.amount = 400.5", "an integer"]),
    ("param-string", [("pop_size = 20", 'pop_size = "20"')],
     ['methods.nsga2.params.pop_size = "20"', "an integer"]),
    ("param-bool", [("pop_size = 20", "pop_size = true")],
     ["methods.nsga2.params.pop_size = true", "true/false"]),
    ("param-train-typo", [("n_prefs = 4", "n_pref = 4")],
     ["unknown train option 'n_pref'", "methods.hybridmoo.params.train", "Did you mean"]),
    ("param-train-type", [("n_prefs = 4", 'n_prefs = "4"')],
     ['methods.hybridmoo.params.train.n_prefs = "4"', "an integer"]),
    ("methods-not-tables", [("[compare]", 'methods = ["nsga2"]\n[compare]'),
                            ("[[methods]]\nname = \"nsga2\"\nparams = { pop_size = 20 }\n\n"
                             "[[methods]]\nname = \"hybridmoo\"\nparams = { train = { n_prefs = 4 "
                             "} }\n", "")],
     ['methods = "nsga2"', "a table"]),
    ("method-unknown", [('name = "nsga2"', 'name = "nsga22"')], ["nsga22"]),
    ("compare-output-number", [('output = "c.h5"', "output = 1")],
     ["compare.output = 1", "file name"]),
]


@pytest.mark.parametrize(("edits", "words"), [c[1:] for c in COMPARE_CASES],
                         ids=[c[0] for c in COMPARE_CASES])
def test_bad_compare_file_is_refused(edits, words, tmp_path, capsys):
    """Each malformed compare file: exit 2, one message, nothing written."""
    text = BASE_COMPARE
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "c.toml"
    path.write_text(text)
    _assert_refused(*_run(["compare", str(path), "--backend", "local", "--quiet"], capsys),
                    words)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml"]


def test_the_base_compare_file_is_valid():
    """The compare battery's base file passes."""
    from hybridmoo.compare import load_compare

    assert len(load_compare(text=BASE_COMPARE).methods) == 2


def test_compare_given_a_study_file(tmp_path, capsys):
    """`hybridmoo compare STUDY.toml` names the right command."""
    path = _study(tmp_path, [])
    _assert_refused(*_run(["compare", str(path)], capsys), ["is a study file", "hybridmoo run"])


def test_compare_output_under_a_regular_file(tmp_path, capsys):
    """compare.output below a regular file: refused before any run."""
    (tmp_path / "afile").write_text("x")
    path = tmp_path / "c.toml"
    path.write_text(BASE_COMPARE.replace('output = "c.h5"', 'output = "afile/c.h5"'))
    _assert_refused(*_run(["compare", str(path), "--backend", "local"], capsys),
                    ["compare.output", "afile is a regular file"])


def test_non_utf8_compare_file(tmp_path, capsys):
    """A compare file in Latin-1."""
    path = tmp_path / "c.toml"
    path.write_bytes(BASE_COMPARE.replace('"c"', '"\xe9"').encode("latin-1"))
    _assert_refused(*_run(["compare", str(path)], capsys), ["c.toml is not UTF-8"])


# ------------------------------------------------------------------------- damaged HDF5 files
@pytest.fixture(scope="module")
def study_h5(tmp_path_factory) -> Path:
    """A real two-trial study file (every trial's weights kept), written once."""
    d = tmp_path_factory.mktemp("study")
    (d / "s.toml").write_text(BASE_STUDY)
    assert main(["run", str(d / "s.toml"), "--backend", "local", "--quiet"]) == 0
    return d / "out.h5"


def _copy(src: Path, tmp_path: Path, damage=None) -> Path:
    dst = tmp_path / "study.h5"
    shutil.copyfile(src, dst)
    if damage is not None:
        with h5py.File(dst, "a") as f:
            damage(f)
    return dst


def _no_trials(f):
    del f["trials"]


def _no_fronts(f):
    for g in f["trials"].values():
        del g["front"]


def _bad_problem_json(f):
    f.attrs["problem"] = "{not json"


def _bad_objectives_json(f):
    f.attrs["objectives"] = "[hv, n_params"


def _no_study_text(f):
    del f.attrs["study_text"]


def _bad_study_text(f):
    f.attrs["study_text"] = "[study\nthis is not toml"


def _other_format(f):
    f.attrs["format"] = "something-else"


def _newer_version(f):
    f.attrs["format_version"] = 99


# (id, damage, argv after the file, words)
H5_CASES = [
    ("no-trials-show", _no_trials, ["show"], ["/trials group", "is damaged", "rerun the study"]),
    ("no-trials-plot", _no_trials, ["plot"], ["/trials group", "is damaged"]),
    ("no-trials-predict", _no_trials, ["predict", "-p", "0.5,0.5"], ["/trials group"]),
    ("no-trials-export", _no_trials, ["export"], ["/trials group", "is damaged"]),
    ("no-trials-export-trials", _no_trials, ["export", "--what", "trials"], ["/trials group"]),
    ("no-trials-resume", _no_trials, ["resume", "--backend", "local"],
     ["/trials group", "no backup", "hybridmoo run STUDY.toml --overwrite"]),
    ("no-fronts-export", _no_fronts, ["export"], ["has no 'front'", "is damaged"]),
    ("no-fronts-plot", _no_fronts, ["plot"], ["has no 'front'"]),
    ("no-fronts-predict", _no_fronts, ["predict", "-p", "0.5,0.5"], ["has no 'front'"]),
    ("no-fronts-show", _no_fronts, ["show"], ["has no 'front'"]),
    ("bad-json-show", _bad_problem_json, ["show"], ["'problem' is not valid JSON", "{not json"]),
    ("bad-json-predict", _bad_problem_json, ["predict", "-p", "0.5,0.5"],
     ["'problem' is not valid JSON"]),
    ("bad-json-resume", _bad_problem_json, ["resume", "--backend", "local"],
     ["'problem' is not valid JSON", "rerun"]),
    ("bad-objectives-json-show", _bad_objectives_json, ["show"],
     ["'objectives' is not valid JSON"]),
    ("no-study-text-resume", _no_study_text, ["resume", "--backend", "local"],
     ["'study_text'", "missing"]),
    ("bad-study-text-resume", _bad_study_text, ["resume", "--backend", "local"],
     ["'study_text'", "not valid TOML"]),
    ("other-format-show", _other_format, ["show"], ["not written by hybridmoo"]),
    ("newer-version-show", _newer_version, ["show"], ["format version 99", "Upgrade"]),
]


@pytest.mark.parametrize(("damage", "argv", "words"), [c[1:] for c in H5_CASES],
                         ids=[c[0] for c in H5_CASES])
def test_damaged_study_file(damage, argv, words, study_h5, tmp_path, capsys):
    """Each damaged study file: a StoreError naming the file, what is damaged and what to do;
    nothing written beside it."""
    path = _copy(study_h5, tmp_path, damage)
    cmd, rest = argv[0], argv[1:]
    code, text = _run([cmd, str(path), *rest], capsys)
    _assert_refused(code, text, [str(path), *words])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.h5"]


def test_damaged_study_with_a_backup_is_restored_by_resume(study_h5, tmp_path, capsys):
    """The message points at the backup, and `resume` restores it (no trial lost)."""
    path = _copy(study_h5, tmp_path, _no_trials)
    shutil.copyfile(study_h5, tmp_path / "study.h5.bak")
    code, text = _run(["show", str(path)], capsys)
    _assert_refused(code, text, ["/trials group", "a backup exists", f"hybridmoo resume {path}"])
    code, text = _run(["resume", str(path), "--backend", "local", "--quiet"], capsys)
    assert code == 0, text
    assert "restored the backup" in text
    assert store.list_trials(path) == ([0, 1], [])
    assert (tmp_path / "study.h5.corrupt").exists()  # the damaged file is kept


@pytest.mark.parametrize(("content", "words"), [
    (b"", ["not a readable HDF5 file"]),
    (b"hello, I am text\n", ["not a readable HDF5 file"]),
], ids=["empty", "text"])
@pytest.mark.parametrize("cmd", ["show", "export", "plot"])
def test_not_an_hdf5_file(content, words, cmd, tmp_path, capsys):
    """An empty or text file given as a study's HDF5 file."""
    path = tmp_path / "x.h5"
    path.write_bytes(content)
    _assert_refused(*_run([cmd, str(path)], capsys), [str(path), *words])


def test_truncated_study_file(study_h5, tmp_path, capsys):
    """A study file cut short (a full disk, a copy interrupted)."""
    path = tmp_path / "cut.h5"
    path.write_bytes(study_h5.read_bytes()[:2000])
    _assert_refused(*_run(["show", str(path)], capsys), ["cut.h5", "truncated or corrupt"])


def test_resume_on_a_train_file_names_the_right_command(tmp_path, capsys):
    """`resume` of a `hybridmoo train --out` file says there is nothing to resume."""
    path = tmp_path / "t.h5"
    store.create(path, kind="train", problem={"name": "zdt1", "options": {"n_var": 3}})
    _assert_refused(*_run(["resume", str(path)], capsys),
                    ["holds one training run", "nothing to resume", "hybridmoo train"])


def test_resume_on_a_compare_file_and_on_a_toml(tmp_path, capsys):
    """`resume` of a compare output or of a TOML file names the right command."""
    path = tmp_path / "c.h5"
    store.create(path, kind="compare", problem={"name": "zdt1"})
    _assert_refused(*_run(["resume", str(path)], capsys), ["hybridmoo compare COMPARE.toml "
                                                            "--resume"])
    toml = _study(tmp_path, [])
    _assert_refused(*_run(["resume", str(toml)], capsys), [f"hybridmoo run {toml} --resume"])


def test_damaged_compare_file(tmp_path, capsys):
    """A compare output with a broken root attribute."""
    path = tmp_path / "c.h5"
    store.create(path, kind="compare", problem={"name": "zdt1"})
    with h5py.File(path, "a") as f:
        f.attrs["problem"] = "{oops"
    _assert_refused(*_run(["show", str(path)], capsys), ["'problem' is not valid JSON",
                                                          "hybridmoo compare"])


# ------------------------------------------------------------------------- predictions
PREDICT_CASES = [
    ("pref-nan", ["-p", "nan,1"], ["finite and ≥ 0"]),
    ("pref-words", ["-p", "a,b"], ["comma-separated numbers"]),
    ("pref-length", ["-p", "0.2,0.3,0.5"], ["3 components", "2 objectives"]),
    ("pref-sum", ["-p", "0.2,0.2"], ["must sum to 1"]),
    ("trial-missing", ["--trial", "99", "-p", "0.5,0.5"], ["no trial 99", "0-1"]),
    ("c-out-of-range", ["-p", "0.5,0.5", "--c", "2"], ["--c 2.0", "[0, 1]"]),
    ("c-nan", ["-p", "0.5,0.5", "--c", "nan"], ["--c nan", "[0, 1]"]),
    ("c-on-hypernet", ["-p", "0.5,0.5", "--c", "0.5"], ["DYMU trials only"]),
]


@pytest.mark.parametrize(("argv", "words"), [c[1:] for c in PREDICT_CASES],
                         ids=[c[0] for c in PREDICT_CASES])
def test_bad_prediction_input(argv, words, study_h5, capsys):
    """Each bad `predict` input: exit 2 and one message."""
    _assert_refused(*_run(["predict", str(study_h5), *argv], capsys), words)


def test_predict_save_under_a_regular_file(study_h5, tmp_path, capsys):
    """--save below a regular file: refused before anything is computed."""
    (tmp_path / "afile").write_text("x")
    _assert_refused(*_run(["predict", str(study_h5), "-p", "0.5,0.5", "--save",
                           str(tmp_path / "afile" / "p.pt")], capsys),
                    ["--save", "afile is a regular file"])


def test_predict_save_in_a_read_only_folder(study_h5, tmp_path, capsys, monkeypatch):
    """--save into a read-only folder: refused, nothing written."""
    ro = tmp_path / "ro"
    ro.mkdir()
    _read_only(ro, monkeypatch)
    try:
        _assert_refused(*_run(["predict", str(study_h5), "-p", "0.5,0.5", "--save",
                               str(ro / "p.pt")], capsys), ["--save", "is not writable"])
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)


def test_predict_save_creates_missing_folders(study_h5, tmp_path, capsys):
    """--save into folders that do not exist yet creates them (documented)."""
    import torch

    out = tmp_path / "new" / "deeper" / "p.pt"
    code, text = _run(["predict", str(study_h5), "-p", "0.5,0.5", "--save", str(out)], capsys)
    assert code == 0, text
    assert set(torch.load(out)) and "wrote" in text


# ------------------------------------------------------------------------- other commands
def test_export_bad_trials_and_out(study_h5, tmp_path, capsys):
    """export --trials must be ids; --out below a regular file is refused."""
    _assert_refused(*_run(["export", str(study_h5), "--trials", "a,b"], capsys),
                    ["--trials 'a,b'", "comma-separated trial ids"])
    (tmp_path / "afile").write_text("x")
    _assert_refused(*_run(["export", str(study_h5), "--out", str(tmp_path / "afile" / "x.csv")],
                          capsys), ["--out", "afile is a regular file"])


def test_plot_out_dir_is_a_file(study_h5, tmp_path, capsys):
    """plot --out-dir naming a regular file."""
    (tmp_path / "afile").write_text("x")
    _assert_refused(*_run(["plot", str(study_h5), "--out-dir", str(tmp_path / "afile")], capsys),
                    ["--out-dir", "afile is a regular file"])


@pytest.mark.parametrize(("argv", "words"), [
    (["-o", "n_var=nan"], ["--option", "non-finite"]),
    (["--seconds", "inf"], ["train.seconds = inf", "a finite number"]),
    (["--set", "n_prefs=true"], ["train.n_prefs = true", "true/false"]),
    (["--set", 'steps="50"'], ['train.steps = "50"', "without quotes"]),
    (["--set", "sampler={name='dirichlet',alpha=-1.0}"], ["alpha", "> 0"]),
    (["--seed", "-1"], ["--seed = -1", "[0, 4,294,967,295]"]),
    (["--seed", "1000000000000000000000000000000"], ["--seed = 1000000000000000000000000000000"]),
], ids=["option-nan", "seconds-inf", "n_prefs-bool", "steps-string", "alpha-negative",
        "seed-negative", "seed-huge"])
def test_bad_train_input(argv, words, tmp_path, capsys):
    """`hybridmoo train` refuses bad values before training."""
    _assert_refused(*_run(["train", "zdt1", "--out", str(tmp_path / "t.h5"), *argv], capsys),
                    words)
    assert not (tmp_path / "t.h5").exists()


def test_train_out_under_a_regular_file(tmp_path, capsys):
    """train --out below a regular file: refused before training, not after."""
    (tmp_path / "afile").write_text("x")
    _assert_refused(*_run(["train", "zdt1", "--steps", "100000", "--out",
                           str(tmp_path / "afile" / "t.h5")], capsys),
                    ["--out", "afile is a regular file"])


# ------------------------------------------------------------------------- as a user runs it
def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hybridmoo.cli", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd)


@pytest.mark.parametrize(("content", "words"), [
    (b"\x00\x01\x02binary", ["is a binary file"]),
    (BASE_STUDY.replace("seed = 0", "seed = -1").encode(), ["study.seed = -1"]),
    (BASE_STUDY.replace("steps = 10", "steps = 1e400").encode(), ["budget.steps = inf"]),
], ids=["binary", "seed-negative", "steps-1e400"])
def test_subprocess_bad_study_no_traceback(content, words, tmp_path):
    """In a real process: exit status 2, the message on stderr, no traceback."""
    (tmp_path / "s.toml").write_bytes(content)
    out = _cli("run", "s.toml", "--backend", "local", cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    for w in words:
        assert w in out.stderr


def test_subprocess_damaged_h5_no_traceback(study_h5, tmp_path):
    """`show` of a file without /trials, in a real process."""
    path = _copy(study_h5, tmp_path, _no_trials)
    out = _cli("show", str(path), cwd=tmp_path)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "/trials group" in out.stderr


def test_damaged_unfinished_study_points_at_its_journal(tmp_path, capsys):
    """An unfinished (journaled) study whose /trials was lost: the message says the journal
    holds the trials, and `resume` restores them."""
    (tmp_path / "s.toml").write_text(BASE_STUDY)
    env = {**os.environ, "HYBRIDMOO_FAULT": "finish"}  # dies after every trial is recorded
    out = subprocess.run([sys.executable, "-m", "hybridmoo.cli", "run", "s.toml", "--backend",
                          "local", "--quiet"], capture_output=True, text=True, timeout=300,
                         cwd=tmp_path, env=env)
    assert out.returncode == 97, out.stderr
    path = tmp_path / "out.h5"
    with h5py.File(path, "a") as f:
        _no_trials(f)
    code, text = _run(["show", str(path)], capsys)
    _assert_refused(code, text, ["/trials group", "journal holds every recorded trial",
                                 f"hybridmoo resume {path}"])
    code, text = _run(["resume", str(path), "--backend", "local", "--quiet"], capsys)
    assert code == 0, text
    assert store.list_trials(path) == ([0, 1], [])


@pytest.mark.parametrize("which", ["study", "compare"])
def test_any_bad_value_of_any_key_is_a_clear_error(which):
    """Every `key = value` line of the base files, with each of eleven bad values in turn:
    loading either passes or raises a hybridmoo error — never another exception."""
    import re

    from hybridmoo.compare import load_compare
    from hybridmoo.errors import HybridMooError
    from hybridmoo.studyfile import load_study

    base, load = (BASE_STUDY, load_study) if which == "study" else (BASE_COMPARE, load_compare)
    bad_values = ['"x"', "true", "-1", "0", "1e400", "nan", "[1]", "{ a = 1 }", '""', "1.5", "[]"]
    lines = base.splitlines()
    refused = 0
    for i, line in enumerate(lines):
        m = re.match(r'^("?[\w.]+"?) = (.*)$', line)
        if not m:
            continue
        for bad in bad_values:
            text = "\n".join([*lines[:i], f"{m.group(1)} = {bad}", *lines[i + 1:]])
            try:
                load(text=text)
            except HybridMooError as exc:
                refused += 1
                assert str(exc), (line, bad)
            except Exception as exc:  # noqa: BLE001 - the point of the test
                pytest.fail(f"{line!r} -> {bad}: {type(exc).__name__}: {exc}")
    assert refused > 50  # most substitutions are refused


def test_any_part_of_a_study_file_deleted_is_a_clear_error(study_h5, tmp_path, capsys):
    """Delete each object of the file, each root attribute and each attribute of trial 0 in
    turn: show, export and predict exit 0 (the part was optional) or 2 with a message — never
    a traceback."""
    targets: list[tuple[str, str, str]] = []
    with h5py.File(study_h5) as f:
        f.visit(lambda name: targets.append(("obj", name, "")))
        targets += [("attr", "/", k) for k in f.attrs]
        targets += [("attr", "trials/000000", k) for k in f["trials/000000"].attrs]
    refused = 0
    for kind, name, attr in targets:
        path = _copy(study_h5, tmp_path)
        with h5py.File(path, "a") as f:
            if kind == "obj":
                if name not in f:  # below a group deleted in an earlier round? (fresh copy)
                    continue
                del f[name]
            else:
                del f[name].attrs[attr]
        for argv in (["show"], ["export", "--overwrite"], ["predict", "-p", "0.5,0.5",
                                                           "--trial", "0"]):
            code, text = _run([argv[0], str(path), *argv[1:]], capsys)
            assert code in (0, 2) and "Traceback" not in text, (kind, name, attr, argv, text)
            refused += code == 2
    assert refused > 20
