"""Arrows point down (DESIGN.md principle 8): the import rules of src/lakeguard, read with ast.

Every ``import`` counts, at module level, inside functions and under ``TYPE_CHECKING`` alike:
a lazy or type-only import is still an arrow a reader has to follow.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from itertools import pairwise
from pathlib import Path

import pytest

import lakeguard

SRC = Path(lakeguard.__file__).parent
PYPROJECT = Path(__file__).parents[1] / "pyproject.toml"

# Lowest first; a module may import its own layer's shared parts and the layers below.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("config", "clock", "events", "errors"),
    ("bus",),
    ("store",),
    ("auth",),
    ("venue",),
    ("forces", "ingest"),
    ("incidents", "community", "security"),
    ("crowd", "patrol", "search"),
    ("notify", "reports"),
    ("api", "web"),
    ("twin",),
    ("cli", "demo"),
)
DOMAINS = frozenset(
    {"venue", "forces", "ingest", "incidents", "community", "security"}
    | {"crowd", "patrol", "search", "notify", "reports"}
)
# Modules that list every domain by design: the one explicit list of event types, and the
# tables and migrations Alembic reads. They sit above every layer; ALLOWED names who reads them.
REGISTRIES = ("lakeguard.domain_events", "lakeguard.store.tables", "lakeguard.store.migrations")
# A domain's (and auth's) views are the API's routers, and its cli.py is part of the CLI.
SHELLS = {"views": "api", "cli": "cli"}

# The functional core: every engine.py and the modules DESIGN.md and docs/architecture.md call
# pure. pyproject.toml's [tool.mypy] override checks the same list with --strict.
PURE_MODULES = frozenset(
    {
        "lakeguard.community.seed",
        "lakeguard.crowd.alerts",
        "lakeguard.crowd.estimator",
        "lakeguard.crowd.forecast",
        "lakeguard.forces.deployment",
        "lakeguard.forces.osmand",
        "lakeguard.incidents.metrics",
        "lakeguard.incidents.states",
        "lakeguard.incidents.whereabouts",
        "lakeguard.notify.rules",
        "lakeguard.patrol.compliance",
        "lakeguard.venue.geometry",
        "lakeguard.venue.network",
        "lakeguard.venue.reach",
        "lakeguard.venue.speed",
        "lakeguard.twin.beats",
        "lakeguard.twin.frame",
        "lakeguard.twin.incidents",
        "lakeguard.twin.itinerary",
        "lakeguard.twin.paths",
        "lakeguard.twin.routes",
        "lakeguard.twin.sensors",
        "lakeguard.twin.trips",
        "lakeguard.twin.units",
        "lakeguard.twin.visitors",
    }
)
# What an engine may not reach, directly or through the modules it imports.
IMPURE = ("sqlalchemy", "fastapi", "starlette", "lakeguard.store", "lakeguard.bus")

# Arrows that point up on purpose, or that others are straightening; each says why.
ALLOWED: frozenset[tuple[str, str]] = frozenset(
    {
        # event_types() gathers the domains' event types lazily, from the one explicit list.
        ("lakeguard.events", "lakeguard.domain_events"),
        # Settings validates the notify targets it reads (one discriminated union of configs).
        ("lakeguard.config", "lakeguard.notify.targets"),
        # The MQTT subscriber takes the API process's whole state (type only); a protocol of
        # what it reads, as notify/worker.py has, would drop this arrow.
        ("lakeguard.ingest.mqtt", "lakeguard.api.state"),
    }
)


@dataclass(frozen=True)
class Arrow:
    source: str
    target: str
    line: int

    def __str__(self) -> str:
        return f"{self.source}:{self.line} imports {self.target}"


@cache
def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imported(node: ast.Import | ast.ImportFrom, package: str) -> list[str]:
    """The names an import statement reads: a lakeguard member as its full name, else a module."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parts = package.split(".")
        anchor = parts[: len(parts) - node.level + 1]
        base = ".".join([*anchor, base] if base else anchor)
    if not base.startswith("lakeguard"):
        return [base]
    return [f"{base}.{alias.name}" for alias in node.names]


def _resolve(name: str) -> str:
    """The lakeguard module an imported name lives in (a package, a module, or its member)."""
    known = modules()
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name


@cache
def imports_of(module: str) -> tuple[tuple[str, int], ...]:
    """Every name ``module`` imports, with its line: lakeguard modules resolved, others as read."""
    path = modules()[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for name in _imported(node, package):
                target = _resolve(name) if name.startswith("lakeguard") else name
                if target and target != module:
                    found.append((target, node.lineno))
    return tuple(found)


def top(module: str) -> str:
    """The top-level package or module under lakeguard."""
    return module.split(".")[1]


def layer_of(module: str) -> int:
    """The layer a module sits in, counted from the bottom."""
    if module.startswith(REGISTRIES):
        return len(LAYERS)
    name = top(module)
    last = module.rpartition(".")[2]
    if (name in DOMAINS or name == "auth") and module.count(".") == 2 and last in SHELLS:
        name = SHELLS[last]
    for index, names in enumerate(LAYERS):
        if name in names:
            return index
    raise AssertionError(f"{module} is in no layer of DESIGN.md principle 8")


def arrows() -> Iterator[Arrow]:
    """Every import of one lakeguard module by another, but the arrows allowed on purpose."""
    for module in sorted(modules()):
        if module == "lakeguard":
            continue
        for target, line in imports_of(module):
            if target.startswith("lakeguard.") and (module, target) not in ALLOWED:
                yield Arrow(module, target, line)


def test_every_module_is_in_a_layer() -> None:
    assert {top(m) for m in modules() if m != "lakeguard"} <= {
        name for names in LAYERS for name in names
    } | {"domain_events"}
    for module in modules():
        if module != "lakeguard":
            layer_of(module)


def test_every_allowed_arrow_is_still_there() -> None:
    """An exception outlives its import by no commit: drop it from ALLOWED with the import."""
    for source, target in ALLOWED:
        assert target in {t for t, _ in imports_of(source)}, (source, target)


def test_arrows_point_down() -> None:
    upward = [str(a) for a in arrows() if layer_of(a.target) > layer_of(a.source)]
    assert upward == []


def test_domains_in_one_layer_do_not_import_each_other() -> None:
    sideways = [
        str(a)
        for a in arrows()
        if top(a.source) in DOMAINS
        and top(a.target) in DOMAINS
        and top(a.source) != top(a.target)
        and layer_of(a.source) == layer_of(a.target)
    ]
    assert sideways == []


def test_venue_imports_no_other_domain() -> None:
    found = [
        str(a)
        for a in arrows()
        if top(a.source) == "venue" and top(a.target) in DOMAINS - {"venue"}
    ]
    assert found == []


def test_domains_do_not_import_their_clients() -> None:
    clients = ("web", "twin", "cli", "demo")
    found = [str(a) for a in arrows() if top(a.source) in DOMAINS and top(a.target) in clients]
    assert found == []


def engines() -> list[str]:
    return sorted({m for m in modules() if m.rpartition(".")[2] == "engine"} | set(PURE_MODULES))


def reach(module: str) -> dict[str, list[str]]:
    """Every name ``module`` imports directly or through lakeguard modules, with one path."""
    paths: dict[str, list[str]] = {module: [module]}
    todo = [module]
    while todo:
        current = todo.pop()
        for target, _ in imports_of(current):
            if target in paths:
                continue
            paths[target] = [*paths[current], target]
            if target in modules():
                todo.append(target)
    return paths


def test_the_engine_list_names_modules_that_exist() -> None:
    assert set(PURE_MODULES) <= set(modules())
    assert len(engines()) > len(PURE_MODULES)


@pytest.mark.parametrize("engine", engines())
def test_an_engine_reaches_no_database_web_framework_or_bus(engine: str) -> None:
    impure = [
        " -> ".join(path)
        for name, path in reach(engine).items()
        if any(name == banned or name.startswith(f"{banned}.") for banned in IMPURE)
        and not any(pair in ALLOWED for pair in pairwise(path))
    ]
    assert impure == []


def test_mypy_checks_every_engine_strictly() -> None:
    overrides = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["mypy"]["overrides"]
    strict = [p for o in overrides if o.get("strict") for p in o["module"]]
    lax = [m for m in engines() if not any(fnmatchcase(m, pattern) for pattern in strict)]
    assert lax == []
