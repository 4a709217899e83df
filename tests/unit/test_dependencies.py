"""The product runs on its runtime dependencies alone (`pip install .`, no extras), and each one is used."""

from __future__ import annotations

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("bot", "handlers", "jobs", "storage", "config", "sandbox", "slack_emulator")
OURS = {*SHIPPED, "loopbot", "wiring"}
# Declared, and used without an import of their own name.
USED_WITHOUT_IMPORT = {
    "psycopg": "SQLAlchemy loads it for postgresql+psycopg:// URLs",
    "tzdata": "zoneinfo reads its zones where the system has none",
}


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def runtime_closure() -> set[str]:
    """The distributions `pip install .` brings: the declared requirements and theirs, no extras of ours."""
    seen: set[str] = set()
    todo = [(Requirement(r), "") for r in metadata.requires("loopbot") or []]
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        name = _name(req.name)
        if name in seen:
            continue
        seen.add(name)
        for sub in metadata.requires(name) or []:
            todo += [(Requirement(sub), e) for e in ("", *req.extras)]
    return seen


def third_party_imports() -> set[str]:
    found: set[str] = set()
    files = [p for top in SHIPPED for p in (ROOT / top).rglob("*.py")]
    for path in [*files, ROOT / "loopbot.py", ROOT / "wiring.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found - OURS - set(sys.stdlib_module_names) - {"__future__"}


def test_every_module_the_product_imports_comes_with_pip_install_dot() -> None:
    closure, dists = runtime_closure(), metadata.packages_distributions()
    missing = {
        module: dists.get(module)
        for module in third_party_imports()
        if not any(_name(d) in closure for d in dists.get(module, []))
    }
    assert not missing, f"imported by the product but not a runtime dependency: {missing}"


def test_every_declared_dependency_is_used() -> None:
    dists = metadata.packages_distributions()
    imported = {_name(d) for m in third_party_imports() for d in dists.get(m, [])}
    declared = {
        _name(r.name)
        for r in map(Requirement, metadata.requires("loopbot") or [])
        if r.marker is None or r.marker.evaluate({"extra": ""})
    }
    unused = declared - imported - set(USED_WITHOUT_IMPORT)
    assert not unused, f"declared but never imported: {sorted(unused)}"
