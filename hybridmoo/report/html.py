"""``hybridmoo report FILE``: one self-contained HTML page for a study, train or comparison file.

The page holds everything a colleague needs, with no file beside it and no request to the
network: the figures embedded as base64 PNG (``data:`` URIs), the tables, the study's (or
comparison's) settings, the machine and hybridmoo version that wrote the page and the file, and
the commands that reproduce it. ``hybridmoo compare`` writes the comparison's page beside its
Markdown report (``NAME.html``).
"""

from __future__ import annotations

import base64
import datetime as _dt
import html as _html
import json
import os
import re
from pathlib import Path

from hybridmoo import __version__

__all__ = ["compare_page", "markdown", "page", "study_page", "table", "write_report"]

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1200px;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;border-bottom:2px solid #0072B2;padding-bottom:.2em}
h2{font-size:1.25em;margin-top:1.6em;color:#0072B2}
table{border-collapse:collapse;font-size:.85em;margin:.6em 0;display:block;overflow-x:auto}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:right;white-space:nowrap}
th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}
tr:nth-child(even) td{background:#fafafa}
pre{background:#f6f6f6;border:1px solid #ddd;padding:.7em;overflow-x:auto;font-size:.85em}
code{background:#f3f3f3;padding:0 .2em}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85em;color:#555}
.meta{color:#555;font-size:.9em}
"""


def _e(text) -> str:
    return _html.escape(str(text), quote=True)


def _inline(text: str) -> str:
    """Markdown inline markup (``code``, **bold**) on escaped text."""
    out = _e(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)


def table(headers: list[str], rows: list[list], *, caption: str | None = None) -> str:
    """An HTML table of ``rows`` (lists of cells, already formatted)."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_inline(str(c))}</td>" for c in r) + "</tr>"
                   for r in rows)
    cap = f"<caption>{_e(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def image(png: bytes, alt: str, caption: str | None = None) -> str:
    """A figure with the PNG embedded as a ``data:`` URI."""
    data = base64.b64encode(png).decode("ascii")
    cap = f"<figcaption>{_inline(caption)}</figcaption>" if caption else ""
    return (f'<figure><img alt="{_e(alt)}" src="data:image/png;base64,{data}">{cap}'
            "</figure>")


def markdown(lines: list[str], images: dict[str, bytes]) -> str:
    """The Markdown that hybridmoo's reports use (headings, pipe tables, lists, images,
    paragraphs) as HTML; ``![alt](NAME.png)`` takes the PNG ``images[NAME.png]``.

    Raises:
        KeyError: an image the report names is not in ``images``.
    """
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        if not line:
            i += 1
            continue
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{_inline(line[level:].strip())}</h{level}>")
            i += 1
        elif line.startswith("|"):
            block = []
            while i < len(lines) and lines[i].startswith("|"):
                block.append([c.strip() for c in lines[i].strip().strip("|").split("|")])
                i += 1
            body = [r for r in block[1:] if not all(set(c) <= set("-: ") for c in r)]
            out.append(table(block[0], body))
        elif m := re.fullmatch(r"!\[([^\]]*)\]\(([^)]+)\)", line.strip()):
            out.append(image(images[m.group(2)], m.group(1)))
            i += 1
        elif line.startswith("- "):
            items = []
            while i < len(lines) and lines[i].startswith("- "):
                items.append(f"<li>{_inline(lines[i][2:])}</li>")
                i += 1
            out.append("<ul>" + "".join(items) + "</ul>")
        else:
            para = []
            while i < len(lines) and lines[i].strip() and not lines[i].startswith(("#", "|",
                                                                                   "- ", "![")):
                para.append(_inline(lines[i].rstrip()))
                i += 1
            out.append("<p>" + "<br>".join(para) + "</p>")
    return "\n".join(out)


def page(title: str, body: str) -> str:
    """A complete HTML document: ``title``, inline CSS, ``body`` (no external resource)."""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>\n{body}\n"
            "</body></html>\n")


def _rel(path) -> str:
    """``path`` relative to the working directory where it lies below it."""
    try:
        return os.path.relpath(Path(path).resolve(), Path.cwd())
    except ValueError:  # another drive
        return str(path)


def _written(machine: str) -> str:
    now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    return (f"<p class=\"meta\">Page written {now} by hybridmoo {_e(__version__)} on "
            f"{_e(machine)}.</p>")


def _commands(cmds: list[tuple[str, str]]) -> str:
    return "<h2>Reproduce</h2>" + "".join(f"<p>{_e(what)}</p><pre>{_e(cmd)}</pre>"
                                          for what, cmd in cmds)


def compare_page(spec, lines: list[str], images: dict[str, bytes], machine: str) -> str:
    """The page of a comparison: its Markdown report (``lines``, images from ``images``),
    the compare file and the commands."""
    src = _rel(spec.path) if spec.path else "COMPARE.toml"
    body = [markdown(lines, images), _written(machine),
            "<h2>Compare file</h2>" + (f"<p>{_e(src)}</p>" if spec.path else "")
            + f"<pre>{_e(spec.text)}</pre>",
            _commands([
                ("Redraw this report and its figures from the stored runs (nothing reruns):",
                 f"hybridmoo compare {src} --report-only"),
                ("Only this page:", f"hybridmoo report {_rel(spec.output)}"),
                ("Run every method and seed again (overwrites the runs):",
                 f"hybridmoo compare {src} --overwrite"),
                ("The runs as tables:", f"hybridmoo export {_rel(spec.output)} --what traces "
                 "--format csv"),
            ])]
    return page(f"{spec.name}: comparison report", "\n".join(body))


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _trial_rows(records: list[dict], keys: list[str]) -> list[list[str]]:
    return [[_fmt(r.get(k, "")) for k in keys] for r in records]


def study_page(data, images: dict[str, bytes], machine: str) -> str:
    """The page of a study or train file (:class:`~hybridmoo.analysis.StudyData`): summary,
    figures, outer front and trial tables, settings, commands."""
    from hybridmoo.report.study_figures import reference

    recs = data.trial_records()
    ok = [r for r in recs if r["status"] == "ok"]
    front = data.outer_front_ids()
    _, ref_hv = reference(data)
    info = data.problem_info
    name = str(data.attrs.get("study_name") or data.path.stem)
    kind = "study" if data.kind == "study" else "train"
    best = max(ok, key=lambda r: r["hv"]) if ok else None
    summary = [["file", _rel(data.path)], ["kind", kind],
               ["problem", f"{info['name']} {json.dumps(info.get('options', {}))}"],
               ["objectives", ", ".join(info.get("obj_names") or [])],
               ["trials", f"{len(ok)} finished, {len(recs) - len(ok)} failed"],
               ["best HV", f"{best['hv']:.6g} (trial {best['trial_id']})" if best else "—"],
               ["reference front HV", f"{ref_hv:.6g}" if ref_hv is not None else "—"]]
    if kind == "study":
        summary += [["outer objectives", ", ".join(data.objective_names)],
                    ["outer front", ", ".join(map(str, front)) or "—"],
                    ["study wall time (s)", _fmt(float(data.attrs.get("wall_time", "nan")))]]
    summary += [["written by", f"hybridmoo {data.attrs.get('hybridmoo_version', '?')}, "
                 f"{data.attrs.get('created', '')}"]]
    body = [f"<h1>{_e(name)}: {kind} report</h1>", _written(machine),
            "<h2>Summary</h2>", table(["", ""], summary)]
    captions = {"fronts": "Learned fronts, one panel per trial, against the reference front "
                "(grey) and the study front (black) where there is one.",
                "traces": "HV of the held-out evaluation during training.",
                "outer": "Final HV against the other outer objective; the outer Pareto front "
                "highlighted, zoomed on the right."}
    body.append("<h2>Figures</h2>")
    for key, png in images.items():
        body.append(image(png, f"{name} {key}", captions.get(key)))
    values = sorted({k for r in recs for k in r if "." in k and not k.startswith("outer.")})
    outer_keys = sorted({k for r in recs for k in r if k.startswith("outer.")})
    keys = ["trial_id", "generation", "status", "hv", "n_params", "steps", "train_time",
            *outer_keys, *values]
    if kind == "study":
        body += ["<h2>Outer front</h2>",
                 table(keys, _trial_rows([r for r in recs if r["trial_id"] in front], keys))]
    body += ["<h2>Trials</h2>", table(keys, _trial_rows(recs, keys))]
    if kind == "study":
        body.append("<h2>Study file</h2><pre>" + _e(data.attrs.get("study_text", "")) + "</pre>")
        cmds = [("Redraw this page:", f"hybridmoo report {_rel(data.path)}"),
                ("The figures as PNG files:", f"hybridmoo plot {_rel(data.path)}"),
                ("Run the study again (save the study file above as study.toml):",
                 f"hybridmoo run study.toml --output {_rel(data.path)} --overwrite"),
                ("Continue it (more generations: raise them in the stored study file):",
                 f"hybridmoo resume {_rel(data.path)}")]
    else:
        t = data.trial(ok[0]["trial_id"] if ok else data.trial_ids()[0])
        body.append("<h2>Settings</h2><pre>" + _e(json.dumps(
            {"problem": info, "hypernet": t.hypernet, "train": t.train, "seed": t.seed},
            indent=2, default=str)) + "</pre>")
        opts = " ".join(f"-o {k}={json.dumps(v)}" for k, v in info.get("options", {}).items())
        cmds = [("Redraw this page:", f"hybridmoo report {_rel(data.path)}"),
                ("Train again (other settings as listed above, via --set / --hypernet):",
                 f"hybridmoo train {info['name']} {opts} --seed {t.seed} --steps {t.steps} "
                 f"--out {_rel(data.path)} --overwrite".replace("  ", " "))]
    body.append(_commands(cmds))
    return page(f"{name}: {kind} report", "\n".join(body))


def write_report(path, out=None) -> Path:
    """Write the HTML page of a study, train or comparison file; returns its path.

    Args:
        path: the HDF5 file (``hybridmoo run``, ``train`` or ``compare`` output).
        out: the page to write (default: the file's name with ``.html``).

    Raises:
        StoreError: the file is missing, not a hybridmoo file, or has no finished trial/run.
    """
    from hybridmoo import store
    from hybridmoo.compare import _machine

    path = Path(path)
    out = Path(out) if out else path.with_suffix(".html")
    kind = store.file_kind(path)
    if kind == "compare":
        text = _compare_page(path, out)
    else:
        from hybridmoo.analysis import StudyData
        from hybridmoo.errors import StoreError
        from hybridmoo.report.palette import png_bytes
        from hybridmoo.report.study_figures import study_figures

        data = StudyData(path)
        if not any(r["status"] == "ok" for r in data.trial_records()):
            raise StoreError(f"{path}: no finished trial to report yet")
        images = {k: png_bytes(f) for k, f in study_figures(data).items()}
        text = study_page(data, images, _machine())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return out


def _compare_page(path: Path, out: Path) -> str:
    """A comparison's page, from the compare file stored in its HDF5 file."""
    from hybridmoo import problems, store
    from hybridmoo.compare import _machine, _report, load_compare, load_runs

    with store.open_checked(path) as f:
        text = str(f.attrs.get("study_text", ""))
    spec = load_compare(text=text)
    spec.output = path.resolve()
    spec.report = out.with_suffix(".md")
    lines, figures = _report(spec, load_runs(spec),
                             problems.get(spec.problem, **spec.problem_options))
    from hybridmoo.report.palette import png_bytes

    images = {f"{spec.report.stem}_{k}.png": png_bytes(f) for k, f in figures.items()}
    return compare_page(spec, lines, images, _machine())
