"""Problems named by import path: the registry, study files, Ray workers, the shipped examples."""

from __future__ import annotations

import shutil
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from hybridmoo import problems, store
from hybridmoo.cli import main
from hybridmoo.errors import ConfigError, UnknownNameError
from hybridmoo.study import Study
from hybridmoo.studyfile import load_study
from hybridmoo.usercode import user_runtime_env

EXAMPLES = Path(__file__).resolve().parents[1] / "studies" / "examples"

MODULE = '''
import torch
from hybridmoo.problems import from_function

def make_problem(n_var=2, scale=1.0):
    def f(x):
        return torch.stack([scale * (x ** 2).sum(-1), ((x - 1) ** 2).sum(-1)], -1)
    return from_function(f, n_var, 2, -1.0, 2.0, ref_point=[9.0 * scale, 9.0], name="sq")
'''


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """A module with a unique name in a folder that is not on sys.path."""
    name = f"userprob_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(MODULE)
    yield name, tmp_path
    sys.modules.pop(name, None)
    if str(tmp_path) in sys.path:
        sys.path.remove(str(tmp_path))


def _study(tmp_path: Path, name: str, extra: str = "", steps: int = 30) -> Path:
    p = tmp_path / "study.toml"
    p.write_text(textwrap.dedent(f"""
        [study]
        name = "user"
        output = "out.h5"
        [problem]
        name = "{name}:make_problem"
        options = {{ n_var = 3 }}
        [algorithm]
        name = "nsga2"
        pop_size = 2
        generations = 1
        [budget]
        steps = {steps}
        [fixed.train]
        n_eval = 20
        eval_every = 10
        [search]
        "hypernet.width" = {{ type = "int", low = 8, high = 16 }}
        {extra}
    """))
    return p


def test_import_path_builds_the_users_problem(user_module, monkeypatch):
    name, folder = user_module
    monkeypatch.syspath_prepend(str(folder))
    p = problems.get(f"{name}:make_problem", n_var=4, scale=2.0)
    assert p.n_var == 4 and p.ref_point.tolist() == [18.0, 9.0]
    assert p.options == {"n_var": 4, "scale": 2.0}


@pytest.mark.parametrize("path, words", [
    ("no_such_module_xyz:make", "cannot be imported"),
    ("json:no_such_factory", "has no 'no_such_factory'"),
    ("json:__doc__", "not a callable"),
    (":make", "module and factory both named"),
    ("json:dumps", "must return"),
])
def test_import_path_errors_name_path_and_module(path, words):
    with pytest.raises(UnknownNameError) as info:
        problems.get(path, obj={})
    assert words in str(info.value) and repr(path) in str(info.value)


def test_factory_that_fails_names_the_options(user_module, monkeypatch):
    name, folder = user_module
    monkeypatch.syspath_prepend(str(folder))
    with pytest.raises(UnknownNameError, match="unexpected keyword|no option"):
        problems.get(f"{name}:make_problem", colour="red")


def test_study_file_finds_the_module_beside_it(user_module):
    name, folder = user_module
    spec = load_study(_study(folder, name))
    assert spec.problem == f"{name}:make_problem"
    assert spec.runtime_env == {"working_dir": str(folder.resolve())}


def test_runtime_env_is_checked():
    with pytest.raises(ConfigError, match="working_dirr"):
        user_runtime_env({"working_dirr": "."}, "zdt1", ".")
    with pytest.raises(ConfigError, match="is not a folder"):
        user_runtime_env({"working_dir": "nope"}, "zdt1", ".")
    with pytest.raises(ConfigError, match="expected a table"):
        user_runtime_env("x", "zdt1", ".")
    assert user_runtime_env(None, "zdt1", ".") is None  # a shipped problem ships nothing
    assert user_runtime_env(None, "zdt1", ".", working_dir=".") == {
        "working_dir": str(Path(".").resolve())}


def test_local_study_on_a_users_problem(user_module):
    name, folder = user_module
    res = Study(_study(folder, name), backend="local", progress=False).run()
    assert len(res.trials) == 2 and res.failed == 0
    data = store.read_study(res.path) if hasattr(store, "read_study") else None
    assert data is None or data


def test_a_fresh_process_finds_the_users_module_where_the_study_ran(user_module, tmp_path):
    """predict/show in a new process, from another folder, import the user's module from the
    folder recorded with the study; once the module is gone from there, the error names it."""
    import subprocess

    name, folder = user_module
    res = Study(_study(folder, name), backend="local", progress=False).run()
    assert store.read_trial(res.path, 0, weights=False).problem["import_folder"] == \
        str(folder.resolve())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "hybridmoo", *args], cwd=elsewhere,
                              capture_output=True, text=True, timeout=120)

    out = cli("predict", str(res.path), "-p", "0.5,0.5")
    assert out.returncode == 0, out.stderr
    assert "f1 = " in out.stdout and "f2 = " in out.stdout
    assert cli("show", str(res.path)).returncode == 0
    module = folder / f"{name}.py"
    module.rename(folder / "kept_aside.txt")  # the user's code moved away
    try:
        out = cli("predict", str(res.path), "-p", "0.5,0.5")
        assert out.returncode == 2
        assert "cannot be imported" in out.stderr
        assert f"The study imported it from {folder.resolve()}." in out.stderr
        assert "Traceback" not in out.stderr
    finally:
        (folder / "kept_aside.txt").rename(module)


@pytest.mark.ray
def test_ray_workers_import_the_users_module(user_module, ray_cluster):
    """The driver has the folder on sys.path; the workers only through runtime_env."""
    name, folder = user_module
    res = Study(_study(folder, name), backend="ray", progress=False).run()
    assert res.failed == 0, [t.error for t in res.trials]


@pytest.mark.parametrize("example", ["fonseca", "truss", "multitask"])
def test_shipped_examples_run(example, tmp_path, capsys):
    for f in EXAMPLES.glob(f"{example}.*"):
        shutil.copy(f, tmp_path / f.name)
    toml = tmp_path / f"{example}.toml"
    text = toml.read_text().replace("pop_size = 4", "pop_size = 2").replace(
        "generations = 2", "generations = 1").replace("steps = 300", "steps = 40").replace(
        '"../../runs/', '"')
    toml.write_text(text)
    try:
        assert main(["run", str(toml), "--backend", "local", "--quiet"]) == 0
    finally:
        sys.modules.pop(example, None)
    out = capsys.readouterr().out
    assert "2 trials, 0 failed" in out


def test_black_box_example_predicts_what_it_trained(tmp_path, capsys):
    """The truss example (a black box: zero-order gradients, the "clip" bound mapping), rebuilt
    from the stored study by import path, generates the points of its stored front."""
    from hybridmoo.analysis import load

    for f in EXAMPLES.glob("truss.*"):
        shutil.copy(f, tmp_path / f.name)
    toml = tmp_path / "truss.toml"
    toml.write_text(toml.read_text().replace("pop_size = 4", "pop_size = 2").replace(
        "generations = 2", "generations = 1").replace("steps = 300", "steps = 40").replace(
        '"../../runs/', '"').replace('keep_weights = "front"', 'keep_weights = "all"'))
    try:
        assert main(["run", str(toml), "--backend", "local", "--quiet"]) == 0
        data = load(tmp_path / "truss.h5")
        tid = data.trial_ids()[0]
        r = data.trial(tid)
        assert r.ok and r.hypernet["bounds"] == "auto"
        net = data.hypernetwork(tid)
        got = [data.predict(tid, r.prefs[i])["objectives"] for i in (0, len(r.prefs) - 1)]
    finally:
        sys.modules.pop("truss", None)
    assert net.net.bounds == "clip"
    assert got[0] == pytest.approx(r.F[0], rel=1e-4) and got[1] == pytest.approx(r.F[-1],
                                                                                  rel=1e-4)


def test_multitask_example_predicts_from_the_stored_study(tmp_path, capsys):
    """The multi-task example end to end: a study of the user's network (checkpoint = "best"
    on its validation split), then `predict` rebuilds it from the file by import path."""
    from hybridmoo.analysis import load

    for f in EXAMPLES.glob("multitask.*"):
        shutil.copy(f, tmp_path / f.name)
    toml = tmp_path / "multitask.toml"
    toml.write_text(toml.read_text().replace("pop_size = 4", "pop_size = 2").replace(
        "generations = 2", "generations = 1").replace('"../../runs/', '"').replace(
        'keep_weights = "front"', 'keep_weights = "all"'))
    try:
        assert main(["run", str(toml), "--backend", "local", "--quiet"]) == 0
        data = load(tmp_path / "multitask.h5")
        tid = data.trial_ids()[0]
        r = data.trial(tid)
        assert r.ok and r.problem["kind"] == "data" and "checkpoint_step" in r.extra
        assert r.problem["split_sizes"] == {"train": 265, "val": 88, "test": 89}
        both = [data.predict(tid, p)["objectives"] for p in ([1.0, 0.0], [0.0, 1.0])]
    finally:
        sys.modules.pop("multitask", None)
    # the preferences steer the generated network: each end favours its own task
    assert both[0][0] < both[1][0] and both[1][1] < both[0][1]
    # and the objectives are those of the trained front's end points
    assert both[0] == pytest.approx(r.F[0], rel=1e-4) and both[1] == pytest.approx(r.F[-1],
                                                                                    rel=1e-4)


@pytest.mark.ray
def test_cli_ships_the_module_to_a_ray_it_starts(user_module, tmp_path):
    """The user's path: `hybridmoo run` starts a local Ray whose job runtime_env carries the
    study's folder; the workers run in other processes, where only that makes the module
    importable."""
    import os
    import subprocess

    name, folder = user_module
    study = _study(folder, name, steps=20)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-m", "hybridmoo", "run", str(study), "--quiet",
                           "--num-cpus", "1"], capture_output=True, text=True, env=env,
                          cwd=tmp_path.parent, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "2 trials, 0 failed" in proc.stdout


MODEL_MODULE = '''
import torch
import torch.nn.functional as F
from torch import nn

from hybridmoo.problems import from_model


class Heads(nn.Module):
    def __init__(self, hidden=4):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(3, hidden), nn.Tanh())
        self.a = nn.Linear(hidden, 1)
        self.b = nn.Linear(hidden, 1)

    def forward(self, x):
        z = self.trunk(x)
        return self.a(z).squeeze(-1), self.b(z).squeeze(-1)


def make_problem(hidden=4):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(240, 3, generator=g)
    y1, y2 = X[:, 0] + X[:, 1], X[:, 1] - X[:, 2]
    split = lambda a, b: (X[a:b], (y1[a:b], y2[a:b]))
    return from_model(Heads(hidden), split(0, 160), split(160, 200), split(200, 240),
                      losses=[F.mse_loss, F.mse_loss], name="two_heads", batch_size=32)
'''

CLUSTER_DRIVER = textwrap.dedent("""
    import os, subprocess, sys
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # bind 127.0.0.1 only
    from ray.cluster_utils import Cluster

    study = sys.argv[1]
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "node_ip_address": "127.0.0.1", "include_dashboard": False})
    cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1")
    try:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        run = subprocess.run(
            [sys.executable, "-c", "import sys; from hybridmoo.cli import main; "
             "sys.exit(main(sys.argv[1:]))", "run", study, "--address", cluster.address,
             "--overwrite"], capture_output=True, text=True, timeout=240, env=env)
        print(run.stdout)
        print(run.stderr, file=sys.stderr)
    finally:
        cluster.shutdown()
    sys.exit(run.returncode)
""")


@pytest.mark.slow
@pytest.mark.ray
def test_users_model_trains_on_a_two_node_cluster_from_a_temporary_folder(tmp_path):
    """A from_model factory in a module that exists only in a temporary folder, shipped by
    [resources] runtime_env.working_dir to a two-node Ray cluster (one CPU each, 127.0.0.1):
    a 2-actor study of the user's multi-task network finishes, every trial ok. The cluster and
    the study run in child processes (started elsewhere, no PYTHONPATH), so the workers can
    import the module only through runtime_env, and the session's own Ray is untouched."""
    import subprocess

    name = f"usermodel_{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "user_code"
    folder.mkdir()
    (folder / f"{name}.py").write_text(MODEL_MODULE)
    study = _study(folder, name, steps=40, extra="")
    study.write_text(study.read_text().replace('{ n_var = 3 }', '{ hidden = 4 }')
                     .replace('[fixed.train]', '[fixed.train]\ncheckpoint = "best"\nthreads = 1\n'
                              'n_prefs = 4\n')
                     .replace('[search]', '[resources]\nruntime_env = { working_dir = "." }\n'
                              'keep_weights = "all"\nretries = 0\n[search]')
                     .replace('pop_size = 2', 'pop_size = 4'))
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    out = subprocess.run([sys.executable, "-c", CLUSTER_DRIVER, str(study)], cwd=elsewhere,
                         capture_output=True, text=True, timeout=400)
    text = out.stdout + out.stderr
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert "2 actors × (1 CPU" in text and "cluster: 2 CPUs, 2" in text
    trials = [store.read_trial(folder / "out.h5", t, weights=False) for t in range(4)]
    assert all(r.ok for r in trials), [r.error for r in trials]
    assert {r.problem["import_path"] for r in trials} == {f"{name}:make_problem"}
    # every trial chose its best-validation checkpoint; a searched configuration may learn a
    # front outside the reference box (HV 0, as trial 2 of this seed does), the study may not
    assert all("checkpoint_step" in r.extra and r.hv >= 0 for r in trials)
    assert max(r.hv for r in trials) > 0


def test_gradient_baselines_compare_on_the_users_model(tmp_path, capsys):
    """`hybridmoo compare` on the multi-task example (a from_model problem named by import
    path): Pareto set learning (PHN-LS, hybridmoo) and one-network-per-preference methods
    (linear scalarisation, MT2O) all train the user's two-head network."""
    for f in EXAMPLES.glob("multitask.py"):
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "c.toml").write_text(textwrap.dedent("""
        [compare]
        seeds = 1
        output = "cmp.h5"
        report = "cmp.md"
        [problem]
        name = "multitask:make_problem"
        [budget]
        kind = "steps"
        amount = 20
        [[methods]]
        name = "phn_ls"
        params = { n_eval = 3 }
        [[methods]]
        name = "hybridmoo"
        params = { n_eval = 3 }
        [[methods]]
        name = "ls"
        params = { n_prefs = 3 }
        [[methods]]
        name = "mt2o"
        params = { n_models = 3 }
    """))
    try:
        assert main(["compare", str(tmp_path / "c.toml"), "--backend", "local"]) == 0
    finally:
        sys.modules.pop("multitask", None)
    out = capsys.readouterr().out
    for method in ("phn_ls", "hybridmoo", "ls", "mt2o"):
        line = next(x for x in out.splitlines() if f"] {method} seed 0:" in x)
        assert "HV" in line and "failed" not in line, line


@pytest.mark.ray
def test_compare_ships_the_users_module_to_ray_workers(user_module, ray_cluster, capsys):
    """A compare file naming a problem by import path: the driver finds the module beside the
    file and the Ray workers get the file's folder as their working_dir."""
    name, folder = user_module
    (folder / "c.toml").write_text(textwrap.dedent(f"""
        [compare]
        seeds = 1
        output = "cmp.h5"
        report = "cmp.md"
        [problem]
        name = "{name}:make_problem"
        [budget]
        kind = "steps"
        amount = 20
        [[methods]]
        name = "hybridmoo"
        params = {{ n_eval = 5 }}
        [[methods]]
        name = "nsga2"
        params = {{ pop_size = 8 }}
    """))
    from hybridmoo.compare import load_compare

    spec = load_compare(folder / "c.toml")
    assert spec.runtime_env == {"working_dir": str(folder.resolve())}
    assert main(["compare", str(folder / "c.toml"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "failed" not in out, out
