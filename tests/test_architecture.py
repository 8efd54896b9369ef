"""The layers hold: importing the code location does nothing, the domain packages know nothing of Dagster or
of the wiring, and no module imports itself back through others."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "orchestration"
# The Dagster layer: the code location, its wiring, and the two command-line drivers that run its jobs.
DAGSTER_LAYER = (
    "orchestration.definitions",
    "orchestration.defs",
    "orchestration.backfill",
    "orchestration.checks",
)

# Run in a fresh interpreter: record every process started, every file opened under the repository's data
# and dbt folders, and every DuckDB connection, while the code location is imported.
IMPORT_PROBE = """
import json, sys
events = []
watched = (sys.argv[1] + "/data", sys.argv[1] + "/dbt_project")

def audit(event, args):
    if event in ("subprocess.Popen", "os.system", "os.posix_spawn", "os.exec", "os.fork"):
        events.append(f"{event} {args[:2]!r}")
    elif event == "open" and isinstance(args[0], (str, bytes)) and str(args[0]).startswith(watched):
        events.append(f"open {args[0]}")

import dagster, dagster_dbt  # what importing the libraries does is theirs (croniter runs `file` at import)
import duckdb
real_connect = duckdb.connect
duckdb.connect = lambda *a, **k: events.append(f"duckdb.connect {a!r}") or real_connect(*a, **k)
sys.addaudithook(audit)
import orchestration.definitions
print(json.dumps(events))
"""


def modules() -> dict[str, Path]:
    """Dotted name -> file of every module of the orchestration package."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports_of(path: Path, name: str, known: dict[str, Path]) -> set[str]:
    """The modules ``path`` imports, anywhere in it (functions too), resolved to known module names or kept
    as written for third-party ones."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in known else base)
    return found


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(path, name, known) for name, path in known.items()}


def in_dagster_layer(name: str) -> bool:
    return any(name == layer or name.startswith(layer + ".") for layer in DAGSTER_LAYER)


@pytest.mark.e2e  # a Python process of its own that imports everything (~18 s)
def test_importing_the_code_location_does_no_io_and_starts_no_process():
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GIGAFACTORY_")}
    probe = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE, str(REPO)],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert json.loads(probe.stdout.strip().splitlines()[-1]) == []


def test_domain_packages_import_neither_dagster_nor_the_wiring():
    offenders = {
        name: sorted(
            imported
            for imported in imported_names
            if imported.split(".")[0] in ("dagster", "dagster_dbt", "dagster_duckdb")
            or in_dagster_layer(imported)
        )
        for name, imported_names in import_graph().items()
        if not in_dagster_layer(name)
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_wiring_uses_no_private_dagster_module():
    private = {
        name: sorted(i for i in imported if i.startswith(("dagster._", "dagster_dbt._")))
        for name, imported in import_graph().items()
        if in_dagster_layer(name)
    }
    assert {name: found for name, found in private.items() if found} == {}


def test_no_module_imports_itself_back():
    graph = {
        name: {i for i in imported if i.startswith("orchestration")}
        for name, imported in import_graph().items()
    }
    cycles, state = [], {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = "open"
        for other in sorted(graph.get(name, ())):
            if state.get(other) == "open":
                cycles.append(path[path.index(other) :] + [other] if other in path else [name, other])
            elif other not in state:
                visit(other, [*path, other])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []
