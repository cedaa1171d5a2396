"""The local Ray that hybridmoo starts listens on the loopback interface only.

Each test runs the real CLI (or the Python API) in a child process, so that Ray is started the
way a user starts it, lists the listening TCP sockets of the child's whole process tree with
psutil while the study runs (the driver, the GCS server, the raylet, the workers and Ray's
runtime-env agent all open some) and fails on any socket bound to a non-loopback address.
"""

from __future__ import annotations

import ipaddress
import subprocess
import sys
import textwrap
import time

import pytest

psutil = pytest.importorskip("psutil", reason="psutil lists the sockets (pip install psutil)")

STUDY = textwrap.dedent("""
    [study]
    output = "out.h5"
    [problem]
    name = "zdt1"
    options = { n_var = 4 }
    [algorithm]
    pop_size = 4
    generations = 3
    [budget]
    steps = 300
    [resources]
    retries = 0
    [fixed.train]
    n_eval = 11
    threads = 1
    [search]
    "hypernet.width" = { type = "int", low = 4, high = 32, log = true }
""")


def _listening(root: int) -> dict[tuple[str, int], str]:
    """Listening TCP sockets of the process ``root`` and its descendants: (ip, port) -> name."""
    try:
        procs = [psutil.Process(root)]
        procs += procs[0].children(recursive=True)
    except psutil.NoSuchProcess:
        return {}
    out = {}
    for p in procs:
        try:
            conns = p.net_connections(kind="tcp")
            name = p.name()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        for c in conns:
            if c.status == psutil.CONN_LISTEN:
                out[(c.laddr.ip, c.laddr.port)] = name
    return out


def _watch(cmd: list[str], cwd, env=None, seconds: float = 120) -> dict[tuple[str, int], str]:
    """Run ``cmd``, polling the sockets of its process tree until it exits; all sockets seen."""
    seen: dict[tuple[str, int], str] = {}
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + seconds
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            seen.update(_listening(proc.pid))
            time.sleep(0.25)
    finally:
        if proc.poll() is None:
            proc.kill()
        out = proc.communicate()[0]
    assert proc.returncode == 0, out
    return seen


def _is_loopback(ip: str) -> bool:
    """127.0.0.0/8, ::1 and IPv4-mapped loopback (``::ffff:127.0.0.1``); not ``0.0.0.0``/``::``."""
    addr = ipaddress.ip_address(ip.split("%")[0])
    mapped = getattr(addr, "ipv4_mapped", None)
    return (mapped or addr).is_loopback


def _not_loopback(seen: dict[tuple[str, int], str]) -> list[str]:
    return [f"{name} on {ip}:{port}" for (ip, port), name in seen.items() if not _is_loopback(ip)]


@pytest.mark.parametrize("ip, loopback", [("127.0.0.1", True), ("::1", True),
                                          ("::ffff:127.0.0.1", True), ("0.0.0.0", False),
                                          ("::", False), ("192.0.2.2", False)])
def test_loopback_check(ip, loopback):
    """The check the socket tests rely on: a wildcard or network address is not loopback."""
    assert _is_loopback(ip) is loopback


@pytest.mark.ray
def test_cli_run_starts_ray_on_loopback_only(tmp_path):
    """`hybridmoo run` (local Ray on demand): every socket of its process tree is 127.0.0.1."""
    (tmp_path / "s.toml").write_text(STUDY)
    seen = _watch([sys.executable, "-m", "hybridmoo", "run", "s.toml", "--num-cpus", "2"],
                  cwd=tmp_path)
    ray_procs = {n for n in seen.values() if "raylet" in n or "gcs" in n}
    assert ray_procs, f"no Ray process was seen listening: {seen}"  # the watch did watch
    assert not _not_loopback(seen), f"listening beyond loopback: {_not_loopback(seen)}"


@pytest.mark.ray
def test_api_after_user_imported_ray_binds_loopback_only(tmp_path):
    """A user who imported ray before calling the API still gets a loopback-only Ray."""
    (tmp_path / "s.toml").write_text(STUDY)
    code = ("import ray\nfrom hybridmoo.study import Study\n"
            "Study('s.toml', progress=False, num_cpus=2).run()\n")
    seen = _watch([sys.executable, "-c", code], cwd=tmp_path)
    assert any("raylet" in n for n in seen.values()), seen
    assert not _not_loopback(seen), f"listening beyond loopback: {_not_loopback(seen)}"
