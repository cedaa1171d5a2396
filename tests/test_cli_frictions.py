"""The new user's frictions of issue 14 (part 5): fast --help/--version, descriptions and
defaults, negative preferences, broken pipes, nothing-to-do resumes, no silent overwrites,
progress lines, the ETA."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hybridmoo import export as export_mod
from hybridmoo.cli import EXPORT_FORMATS, EXPORT_WHAT, build_parser, main
from hybridmoo.study import Study, _ProgressUI, remaining_time

STUDY = """
[study]
name = "frictions"
seed = 0
output = "out.h5"
[problem]
name = "zdt1"
options = { n_var = 3 }
[objectives]
names = ["hv", "n_params"]
[algorithm]
name = "nsga2"
pop_size = 2
generations = 2
[budget]
steps = 10
[fixed.train]
n_prefs = 2
n_eval = 5
eval_every = 5
[search]
"hypernet.width" = { type = "int", low = 4, high = 16 }
"""


@pytest.fixture(scope="module")
def study_file(tmp_path_factory):
    d = tmp_path_factory.mktemp("frictions")
    (d / "s.toml").write_text(STUDY)
    Study(d / "s.toml", backend="local", progress=False).run()
    return d / "out.h5"


def test_version_and_help_import_nothing_heavy():
    """--version and --help load neither torch nor pandas nor h5py (measured: ~1.05 s before,
    ~0.04 s after on the 2-core machine)."""
    code = ("import sys; from hybridmoo.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('torch', 'pandas', 'h5py', 'ray') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_every_subcommand_has_a_description_and_shows_defaults(capsys):
    parser = build_parser()
    sub = next(a for a in parser._actions if hasattr(a, "choices") and a.choices)
    for name, p in sub.choices.items():
        assert p.description, name
        with pytest.raises(SystemExit):
            main([name, "--help"])
        text = capsys.readouterr().out
        assert p.description.split()[0] in text, name
        for action in p._actions:
            if action.option_strings and action.default not in (None, False, [], "==SUPPRESS=="):
                assert "default" in (action.help or "") or \
                    f"(default: {action.default})" in " ".join(text.split()), (name, action.dest)


def test_export_choices_agree_with_the_library():
    assert EXPORT_FORMATS == export_mod.FORMATS and EXPORT_WHAT == export_mod.WHAT


def test_negative_preference_is_a_value_not_a_flag(study_file, capsys):
    """-p -0.2,1.2 reaches the library (which refuses it), instead of argparse's error."""
    import hybridmoo

    tid = str(hybridmoo.load(study_file).outer_front_ids()[0])
    assert main(["predict", str(study_file), "--trial", tid, "-p", "-0.2,1.2"]) == 2
    assert "preference components must be finite and ≥ 0, got [-0.2, 1.2]" in \
        capsys.readouterr().err


@pytest.mark.parametrize("command", [["problems"], ["show", "FILE"],
                                     ["predict", "FILE", "--trial", "TID", "-p", "0.2,0.8"]])
def test_broken_pipe_exits_quietly(study_file, command):
    """Output into a pipe whose reader has gone (`hybridmoo ... | head`): no traceback, and an
    exit status of a stopped writer (141 = 128 + SIGPIPE; 1 where rich stops by itself)."""
    import hybridmoo

    tid = str(hybridmoo.load(study_file).outer_front_ids()[0])
    command = [{"FILE": str(study_file), "TID": tid}.get(c, c) for c in command]
    proc = subprocess.Popen([sys.executable, "-m", "hybridmoo", *command],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader goes away at once
    err = proc.stderr.read().decode()
    assert proc.wait() in (1, 141), err
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


def test_resume_of_a_finished_study_has_nothing_to_do(study_file, capsys, monkeypatch):
    """`resume` of a finished study says so and starts no backend (no Ray)."""
    import hybridmoo.backends as backends

    def boom(*a, **k):
        raise AssertionError("a backend was started")

    monkeypatch.setattr(backends, "get_backend", boom)
    assert main(["resume", str(study_file)]) == 0
    out = capsys.readouterr().out
    assert "nothing to do — the study has finished all 4 trials" in out
    assert f"hybridmoo show {study_file}" in out and f"hybridmoo export {study_file}" in out
    assert main(["run", str(study_file.parent / "s.toml"), "--resume"]) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_export_and_plot_never_overwrite_without_flag(study_file, tmp_path, capsys):
    out = tmp_path / "f.csv"
    assert main(["export", str(study_file), "--out", str(out)]) == 0
    out.write_text("mine")
    assert main(["export", str(study_file), "--out", str(out)]) == 2
    assert f"{out} already exists; pass --overwrite" in capsys.readouterr().err
    assert out.read_text() == "mine"
    assert main(["export", str(study_file), "--out", str(out), "--overwrite"]) == 0
    assert out.read_text() != "mine"
    assert main(["plot", str(study_file), "--out-dir", str(tmp_path)]) == 0
    png = tmp_path / "out_fronts.png"
    before = png.read_bytes()
    png.write_bytes(b"x")
    assert main(["plot", str(study_file), "--out-dir", str(tmp_path)]) == 2
    assert "already exist(s); pass --overwrite" in capsys.readouterr().err
    assert png.read_bytes() == b"x"
    assert main(["plot", str(study_file), "--out-dir", str(tmp_path), "--overwrite"]) == 0
    assert png.read_bytes()[:8] == before[:8]


def test_remaining_time_counts_rounds_of_workers():
    """Generations wait for all their trials: 8 per generation on 2 workers are 4 rounds."""
    assert remaining_time(10.0, 0, 24, 8, 2) == 120.0
    assert remaining_time(10.0, 5, 24, 8, 2) == 20.0 + 80.0
    assert remaining_time(10.0, 8, 24, 8, 1) == 160.0
    assert remaining_time(10.0, 24, 24, 8, 2) == 0.0


def test_progress_lines_estimate_eta_and_generations():
    ui = _ProgressUI(False, 8, "test", workers=2, pop_size=4, budget={"seconds": 5})
    ui.estimate()
    assert "8 trials to run (2 generations of 4) on 2 workers: at most about 20 s" in ui.lines[0]
    ui.update(done=1, hv=0.5, seconds=3.0)
    assert "first trial done after 3 s" in ui.lines[1]
    assert ui.eta() == remaining_time(3.0, 1, 8, 4, 2)
    for _ in range(3):
        ui.update(done=1, hv=0.7, seconds=5.0)
    ui.generation(1, 2)
    assert ui.lines[-1].startswith("generation 1/2  evaluations 4/8  best HV 0.7  elapsed ")
    assert "ETA 9 s" in ui.lines[-1]  # mean 4.5 s × 2 rounds


def test_study_prints_one_line_per_generation_and_next_steps(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(STUDY)
    assert main(["run", str(tmp_path / "s.toml"), "--backend", "local"]) == 0
    cap = capsys.readouterr()
    assert "4 trials to run (2 generations of 2) on 1 worker" in cap.err
    for g in (1, 2):
        assert f"generation {g}/2  evaluations {2 * g}/4  best HV" in cap.err
    assert "next steps: hybridmoo show" in cap.out and "out.h5" in cap.out
