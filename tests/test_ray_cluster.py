"""`hybridmoo run --address` and `compare --address` join an existing multi-node Ray cluster.

The cluster (``ray.cluster_utils.Cluster``: a head and a second node of one CPU each, both on
127.0.0.1) and the study run in a child process, so this test never touches the test session's
own Ray. Slow: starting two Ray nodes takes about 10 s.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import h5py
import pytest

STUDY = textwrap.dedent("""
    [study]
    output = "out.h5"
    [problem]
    name = "zdt1"
    options = { n_var = 4 }
    [algorithm]
    pop_size = 4
    generations = 1
    [budget]
    steps = 30
    [resources]
    retries = 0
    [fixed.train]
    n_eval = 11
    threads = 1
    [search]
    "hypernet.width" = { type = "int", low = 4, high = 32, log = true }
""")

COMPARE = textwrap.dedent("""
    [compare]
    seeds = 2
    output = "cmp.h5"
    report = "cmp.md"
    [problem]
    name = "zdt1"
    options = { n_var = 4 }
    [budget]
    kind = "evaluations"
    amount = 400
    [[methods]]
    name = "nsga2"
    params = { pop_size = 20 }
""")

DRIVER = textwrap.dedent("""
    import os, subprocess, sys
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # bind 127.0.0.1 only
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "node_ip_address": "127.0.0.1", "include_dashboard": False})
    cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1")
    code = 0
    try:
        for args in (["run", "s.toml"], ["compare", "c.toml"]):
            run = subprocess.run(
                [sys.executable, "-c", "import sys; from hybridmoo.cli import main; "
                 "sys.exit(main(sys.argv[1:]))", *args, "--address", cluster.address,
                 "--overwrite"], capture_output=True, text=True, timeout=240)
            print(run.stdout)
            print(run.stderr, file=sys.stderr)
            code = code or run.returncode
    finally:
        cluster.shutdown()
    sys.exit(code)
""")


@pytest.mark.slow
@pytest.mark.ray
def test_run_and_compare_join_an_existing_two_node_cluster(tmp_path):
    """With --address the study uses the cluster's two one-CPU nodes (one actor on each) and
    starts no Ray of its own; every trial is recorded. So does a comparison."""
    (tmp_path / "s.toml").write_text(STUDY)
    (tmp_path / "c.toml").write_text(COMPARE)
    out = subprocess.run([sys.executable, "-c", DRIVER], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert "2 actors × (1 CPU" in out.stdout + out.stderr
    with h5py.File(tmp_path / "out.h5") as f:
        assert len(f["trials"]) == 4
        assert all(f["trials"][k].attrs["status"] == "ok" for k in f["trials"])
    # the comparison's runs went to the same cluster (a Ray of its own would be one node)
    assert "2 runs on the Ray cluster at 127.0.0.1:" in out.stdout
    assert "cluster: 2 CPUs, 2 nodes" in out.stdout
    with h5py.File(tmp_path / "cmp.h5") as f:
        assert sorted(f["runs/nsga2"]) == ["000", "001"]
        assert all(g.attrs["status"] == "ok" for g in f["runs/nsga2"].values())
