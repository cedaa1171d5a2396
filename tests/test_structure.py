"""The package's shape, checked from its source with ``ast``: no import cycles, ray only under
``backends/``, h5py only in the store, no method-name string tests outside the registry, and no
module over the size a reader can hold in mind."""

from __future__ import annotations

import ast
import graphlib
import re
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "hybridmoo"
MAX_LINES = 700


def _modules() -> dict[str, Path]:
    out = {}
    for f in sorted(PKG.rglob("*.py")):
        parts = f.relative_to(PKG.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


MODULES = _modules()


def _imported(name: str, path: Path) -> list[str]:
    """Absolute names of everything ``name`` imports (module- or function-level)."""
    is_pkg = path.name == "__init__.py"
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base if is_pkg else base[:-1]
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            subs = [f"{mod}.{a.name}" for a in node.names]
            # `from pkg import module` depends on that module only; `from pkg import name` on pkg
            out += [t for t in subs if t in MODULES]
            if any(t not in MODULES for t in subs):
                out.append(mod)
    return out


def _graph() -> dict[str, set[str]]:
    graph = {}
    for name, path in MODULES.items():
        deps = set()
        for target in _imported(name, path):
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                deps.add(target)
        graph[name] = deps
    return graph


def test_the_scan_sees_the_package():
    graph = _graph()
    assert "hybridmoo.store" in graph and "hybridmoo.errors" in graph["hybridmoo.store"]
    assert len(graph) > 40


def test_no_import_cycle():
    try:
        tuple(graphlib.TopologicalSorter(_graph()).static_order())
    except graphlib.CycleError as e:
        pytest.fail(f"import cycle among hybridmoo modules: {' -> '.join(e.args[1])}")


def test_cycle_detection_works_on_a_cycle():
    with pytest.raises(graphlib.CycleError):
        tuple(graphlib.TopologicalSorter({"a": {"b"}, "b": {"a"}}).static_order())


@pytest.mark.parametrize("lib, home", [("ray", "hybridmoo.backends"), ("h5py", "hybridmoo.store")])
def test_heavy_library_stays_home(lib, home):
    outside = sorted(
        name for name, path in MODULES.items()
        if not (name == home or name.startswith(home + "."))
        and any(t == lib or t.startswith(lib + ".") for t in _imported(name, path))
    )
    assert outside == [], f"{lib} imported outside {home}: {outside}"


_NAME_TEST = re.compile(
    r"""\b(method|kind)\s*(==|!=|\bin\b)\s*[\(\[{]?\s*["'](dymu|hypernet)["']""")


def test_no_method_name_tests_outside_the_registry():
    found = [name for name, path in MODULES.items()
             if not name.startswith("hybridmoo.methods") and _NAME_TEST.search(path.read_text())]
    assert found == [], f"string tests of a method's name outside hybridmoo.methods: {found}"


def test_no_module_too_long():
    long = {name: path.read_text().count("\n") for name, path in MODULES.items()}
    long = {k: v for k, v in long.items() if v > MAX_LINES}
    assert long == {}, f"modules over {MAX_LINES} lines: {long}"
