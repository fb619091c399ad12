"""`make run` installs requirements/base.txt only: every third-party module the running code
imports must come from a package pinned there or from one of their own dependencies. (The
analytics backfill imported ``rich``, which only the dev tools brought in, and ``make run``
failed on a new machine while the suite, with the dev tools installed, passed.)"""

from __future__ import annotations

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_DIRS = ("apps", "config", "scripts")


def _pinned() -> dict[str, set[str]]:
    """The packages base.txt pins, by normalised name, with the extras it asks for."""
    pinned: dict[str, set[str]] = {}
    for line in (ROOT / "requirements" / "base.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            pinned[_norm(requirement.name)] = set(requirement.extras)
    return pinned


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _installable_closure() -> set[str]:
    """Every distribution installing base.txt brings: the pins and, transitively, what they
    require (an optional extra's requirements only when that extra is asked for)."""
    todo = list(_pinned().items())
    seen: set[str] = set()
    while todo:
        name, extras = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for text in requires:
            requirement = Requirement(text)
            marker = requirement.marker
            wanted = marker is None or any(
                marker.evaluate({"extra": extra}) for extra in (extras or {""})
            )
            if wanted:
                todo.append((_norm(requirement.name), set(requirement.extras)))
    return seen


def _imported_top_modules() -> set[str]:
    """Top-level modules imported by the platform's running code (tests excluded)."""
    modules: set[str] = set()
    for folder in RUNTIME_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            if "tests" in path.relative_to(ROOT).parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    modules.add(node.module.split(".")[0])
    return modules


def test_every_runtime_import_is_installed_by_base_txt() -> None:
    ours = {"apps", "config", "scripts", "loadtests", "tests", "manage"}
    distributions = metadata.packages_distributions()
    closure = _installable_closure()
    missing = {}
    for module in sorted(_imported_top_modules() - ours - set(sys.stdlib_module_names)):
        owners = {_norm(name) for name in distributions.get(module, [])}
        assert owners, f"{module} is imported but no installed package provides it"
        if not owners & closure:
            missing[module] = sorted(owners)
    assert missing == {}, f"imported at run time, not installed by requirements/base.txt: {missing}"
