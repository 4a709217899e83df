"""The house rules of docs/architecture.md, checked on the source: imports run one way, files stay small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers", "jobs", "storage", "config", "sandbox", "slack_emulator")
SOURCES = sorted(
    p
    for top in (*PACKAGES, "tests", "bench")
    for p in (ROOT / top).rglob("*.py")
    if "migrations" not in p.parts
) + [ROOT / "loopbot.py", ROOT / "wiring.py"]
MAX_LINES = 400


def imports(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def reaches(names: set[str], prefix: str) -> bool:
    return any(n == prefix or n.startswith(prefix + ".") for n in names)


# (files under this prefix, must not import this prefix, why)
RULES = [
    ("config", "storage", "config is the bottom layer"),
    ("storage", "bot", "storage is below the core"),
    ("bot", "slack_sdk", "the core is free of Slack"),
    ("bot", "slack_bolt", "the core is free of Slack"),
    ("bot", "handlers", "handlers sit on the core"),
    ("bot", "jobs", "jobs sit on the core"),
    ("bot", "wiring", "only the CLI, the sandbox and benchmarks build the parts"),
    ("handlers", "jobs", "handlers and jobs never import each other"),
    ("jobs", "handlers", "handlers and jobs never import each other"),
    ("handlers", "wiring", "the composition root is outermost"),
    ("jobs", "wiring", "the composition root is outermost"),
    ("slack_emulator", "bot", "the emulator stands for Slack, not for Loopbot"),
]


@pytest.mark.parametrize(("inside", "forbidden", "why"), RULES)
def test_imports_run_one_way(inside: str, forbidden: str, why: str) -> None:
    core_not_slack = inside == "bot" and forbidden in ("slack_sdk", "slack_bolt")
    broken = []
    for path in SOURCES:
        name = module(path)
        if not reaches({name}, inside):
            continue
        if core_not_slack and reaches({name}, "bot.slack"):
            continue  # the Slack edge lives in bot/slack
        if reaches(imports(path), forbidden):
            broken.append(name)
    assert not broken, f"{', '.join(broken)} import {forbidden}: {why}"


def test_the_core_outside_the_slack_edge_never_imports_it() -> None:
    broken = [
        module(p)
        for p in SOURCES
        if reaches({module(p)}, "bot")
        and not reaches({module(p)}, "bot.slack")
        and reaches(imports(p), "bot.slack")
    ]
    assert not broken, f"{', '.join(broken)} import bot.slack: the core never depends on its edge"


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in SOURCES
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"split these (a module past {MAX_LINES} lines is two modules): {long}"
