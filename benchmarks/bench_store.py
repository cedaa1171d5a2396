"""Write cost per trial of the study file, journal (now) against whole-file backup (before).

Writes studies of ``--sizes`` trials (default 10, 100, 1,000) with ``keep_weights = "all"``
payloads: every trial carries a hypernetwork state dict of ``--params`` float32 parameters (four
tensors), a 100-point front (prefs, F, X with 30 variables) and a 50-point trace. For each trial
it times :func:`hybridmoo.store.write_trial` and counts the bytes that reach the disk (file size
growth of the study file and the journal; for the old scheme also the ``FILE.h5.bak`` copy taken
after every trial). It then times recovery on the finished file in three states: clean (no
crash), stopped mid-write (the dirty mark set: every group read and compared with its journal
copy), and damaged (the file rebuilt from the journal).

The old scheme (``write_trial`` straight into the file, then ``shutil.copyfile`` of the whole
file to ``FILE.h5.bak``, as hybridmoo did before the journal) is run at ``--old-sizes``; at the
other sizes its bytes are computed from the measured file sizes (a 1,000-trial run would copy
about 500 times the final file).

    python benchmarks/bench_store.py [--sizes 10 100 1000] [--params 262144] [--old-sizes 10 100]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from hybridmoo import journal, store
from hybridmoo.train import TrialResult

ROOT = Path(__file__).resolve().parents[1]


def payload(n_params: int, seed: int) -> TrialResult:
    """A trial result with ``n_params`` float32 weights in four tensors."""
    rng = np.random.default_rng(seed)
    sizes = [n_params // 2, n_params // 4, n_params // 8]
    sizes.append(n_params - sum(sizes))
    state = {f"layers.{i}.weight": rng.standard_normal(s).astype(np.float32)
             for i, s in enumerate(sizes)}
    return TrialResult(
        status="ok", error="", problem={"name": "zdt1", "options": {"n_var": 30}},
        hypernet={"width": 100, "depth": 2}, train={"steps": 1000, "lr": 1e-3},
        extra={}, seed=seed, prefs=rng.random((100, 2)), F=rng.random((100, 2)),
        X=rng.random((100, 30)), trace={k: rng.random(50) for k in
                                        ("steps", "seconds", "samples", "hv", "igd", "loss")},
        ref_point=np.full(2, 11.0), hv=float(rng.random()), igd=float(rng.random()),
        n_params=n_params, n_target_params=30, wall_time=60.0, train_time=59.0, steps=1000,
        device="cpu", state_dict=state)


def disk_bytes(path: Path) -> int:
    """Bytes of the study file, its journal and its backup."""
    n = path.stat().st_size if path.exists() else 0
    j = journal.journal_dir(path)
    if j.exists():
        n += sum(p.stat().st_size for p in j.rglob("*") if p.is_file())
    bak = store.backup_path(path)
    return n + (bak.stat().st_size if bak.exists() else 0)


def old_backup(path: Path) -> None:
    """The scheme before the journal: copy the whole file to FILE.h5.bak after every trial."""
    tmp = Path(f"{path}.bak.tmp")
    shutil.copyfile(path, tmp)
    os.replace(tmp, store.backup_path(path))


def run(n: int, scheme: str, results: list[TrialResult], folder: Path) -> dict:
    """Write n trials under a scheme ("journal" or "old"); per-trial seconds and bytes."""
    path = folder / f"{scheme}_{n}.h5"
    store.create(path, kind="study", problem={"name": "zdt1"}, overwrite=True)
    if scheme == "journal":
        store.begin_journal(path)
    secs, written, sizes = [], [], []
    for tid in range(n):
        r = results[tid % len(results)]
        grow0 = path.stat().st_size + sum(p.stat().st_size
                                          for p in journal.entries(path).values())
        t0 = time.perf_counter()
        store.write_trial(path, r, trial_id=tid, generation=tid // 10, node="bench",
                          attrs={"values": {"hypernet.width": 100}})
        if scheme == "old":
            old_backup(path)
        secs.append(time.perf_counter() - t0)
        grow1 = path.stat().st_size + sum(p.stat().st_size
                                          for p in journal.entries(path).values())
        copied = store.backup_path(path).stat().st_size if scheme == "old" else 0
        written.append(grow1 - grow0 + copied)
        sizes.append(path.stat().st_size)
    row = {"n": n, "scheme": scheme, "secs": np.array(secs), "bytes": np.array(written),
           "sizes": np.array(sizes), "file": path.stat().st_size, "disk": disk_bytes(path)}
    if scheme == "journal":
        row.update(recovery_times(path))
    for p in folder.iterdir():  # free the disk before the next size
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    return row


def recovery_times(path: Path) -> dict:
    """Seconds of store.recover on the file: clean, stopped mid-write, damaged."""
    out = {}
    t0 = time.perf_counter()
    assert store.recover(path) is None
    out["rec_clean"] = time.perf_counter() - t0
    (journal.journal_dir(path) / "dirty").write_text("0\n")  # as a crash mid-write leaves it
    t0 = time.perf_counter()
    msg = store.recover(path)
    out["rec_dirty"] = time.perf_counter() - t0
    assert msg and "nothing lost" in msg, msg
    with open(path, "r+b") as fh:  # the superblock overwritten: unreadable
        fh.write(bytes(4096))
    t0 = time.perf_counter()
    msg = store.recover(path)
    out["rec_rebuild"] = time.perf_counter() - t0
    assert msg and "rebuilt" in msg, msg
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    ap.add_argument("--old-sizes", type=int, nargs="*", default=[10, 100])
    ap.add_argument("--params", type=int, default=262_144,
                    help="float32 weights per trial (PHN-size: 3.3M, about 13 MB)")
    ap.add_argument("--dir", default=None, help="where to write (default: a temporary folder)")
    ap.add_argument("--out", default=str(ROOT / "results" / "store_write.md"))
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench_store_", dir=args.dir))
    results = [payload(args.params, s) for s in range(4)]
    rows = []
    try:
        for n in args.sizes:
            for scheme in ("journal", "old"):
                if scheme == "old" and n not in args.old_sizes:
                    continue
                row = run(n, scheme, results, folder)
                rows.append(row)
                print(f"{scheme:7s} {n:5d} trials: {row['secs'].mean():.4f} s/trial, "
                      f"{row['bytes'].mean() / 1e6:.2f} MB/trial", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    write_table(rows, args)


def fmt_b(b: float) -> str:
    """Bytes in MB or GB."""
    return f"{b / 1e9:.1f} GB" if b >= 1e9 else f"{b / 1e6:.2f} MB"


def write_table(rows: list[dict], args) -> None:
    """Print the table and write it to --out."""
    cmd = (f"python benchmarks/bench_store.py --sizes {' '.join(map(str, args.sizes))} "
           f"--old-sizes {' '.join(map(str, args.old_sizes))} --params {args.params}")
    trial_mb = next(r["bytes"].mean() for r in rows if r["scheme"] == "journal") / 2e6
    lines = [
        "# Study file: write cost per trial, journal against whole-file backup",
        "",
        f"Command: `{cmd}`  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores shared with other jobs, "
        f"Linux {platform.release()}, Python {platform.python_version()}, local disk "
        "(virtual machine); numbers vary with the other jobs on it.  ",
        f"Settings: `keep_weights = \"all\"`, {args.params:,} float32 weights a trial (four "
        f"tensors) plus a 100-point front and a 50-point trace: about {trial_mb:.2f} MB a trial "
        "in the file. Scaled down from a PHN-size hypernetwork (3.3M parameters, ~13 MB) for "
        "this 2-core machine; both schemes' bytes scale linearly with the trial size.",
        "",
        "Seconds are the wall time of one `store.write_trial` (journal: entry written and "
        "`fsync`-ed, copied into the study file, file `fsync`-ed; old: the write, then "
        "`shutil.copyfile` of the whole file to `FILE.h5.bak`, no `fsync`). Bytes are the growth "
        "of the study file and its journal plus, for the old scheme, the backup copy. "
        "First / last: mean over the first and the last 10 % of the trials.",
        "",
        "| trials | scheme | s/trial first | s/trial last | s/trial mean | bytes/trial first "
        "| bytes/trial last | bytes written, whole study | file |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        k = max(1, r["n"] // 10)
        lines.append(
            f"| {r['n']:,} | {r['scheme']} | {r['secs'][:k].mean():.4f} | "
            f"{r['secs'][-k:].mean():.4f} | {r['secs'].mean():.4f} | "
            f"{fmt_b(r['bytes'][:k].mean())} | {fmt_b(r['bytes'][-k:].mean())} | "
            f"{fmt_b(r['bytes'].sum())} | {fmt_b(r['file'])} |")
        if r["scheme"] == "journal" and r["n"] not in args.old_sizes:
            # each trial: its growth of the file, then the whole file copied
            per = np.diff(np.concatenate([[0], r["sizes"]])) + r["sizes"]
            lines.append(
                f"| {r['n']:,} | old (computed) | – | – | – | {fmt_b(per[:k].mean())} | "
                f"{fmt_b(per[-k:].mean())} | {fmt_b(per.sum())} | {fmt_b(r['file'])} |")
    lines += [
        "",
        "Recovery (`store.recover`) of the finished journaled file: clean (no crash: the "
        "file opened and every journaled group found), stopped mid-write (the dirty mark "
        "set: every object read, every group's SHA-256 compared with its journal copy), and "
        "damaged (superblock overwritten: rebuilt from the journal's base and entries, the "
        "damaged file kept).",
        "",
        "| trials | clean (s) | stopped mid-write (s) | damaged, rebuilt (s) "
        "| disk while running |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if r["scheme"] == "journal":
            lines.append(f"| {r['n']:,} | {r['rec_clean']:.3f} | {r['rec_dirty']:.2f} | "
                         f"{r['rec_rebuild']:.2f} | {fmt_b(r['disk'])} |")
    lines += [
        "",
        "The journal keeps a second copy of every group until the study finishes (disk while "
        "running: about twice the file), and writes each trial twice; the old scheme wrote "
        "the whole file after every trial, so its bytes per trial grow with the study.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
