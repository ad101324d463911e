"""Imports flow one way: no module of ``auditor`` imports one of a higher layer.

How the layers are defined: ``LAYERS`` lists them from the top (what a user calls) to the bottom
(what everything may use); each is a list of rooms, a room being a module or a package with
everything under it, and a module belongs to the room with the longest matching name. A module may
import its own layer and the layers below it, never one above. In a layer marked as peers, a room
may not import another room of the layer either: the engines and the renderers are called side by
side by the run and know nothing of each other.

Top to bottom: the command line calls the run (or a drill, installs a schedule of runs, packs finished
ones as evidence, states the applicability of Annex A from one); the run calls the engines (hosts, network probes,
attested documents) and the renderers (results.json, reports); the engines take the plans the
catalog made from playbooks and inventories, and read facts through the probes (transports, the
per-OS batches, fact types, network probes), whose facts the evaluation judges; the renderers show
what scoring computes. The catalog validates checks against what the probes can read (the fact and
network probe types) and the operators of the evaluation, so it sits above both. Small leaves (the
data model, evidence text, the YAML reader, addresses, clock, output files, errors) sit at the
bottom; the history store sits below what records into it and reads it, above the scoring of its trend.

Every import counts, wherever it stands (in a function, under ``TYPE_CHECKING``): each one is a
dependency of the importing module. A module that fits no room fails the test: a new room has to be
given its place here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import auditor

LAYERS: list[tuple[str, list[str], bool]] = [  # (name, rooms, whether its rooms must not import each other)
    # the `auditor` group and its commands (auditor.cli: one module per command group), the drill's commands
    ("command line", ["auditor.cli", "auditor.__main__", "auditor.drill.commands"], False),
    # what the command line starts: an audit, a schedule of audits, an evidence pack of finished ones
    (
        "run",
        [
            "auditor.run",
            "auditor.start",
            "auditor.input_check",
            "auditor.host_facts",
            "auditor.drift_notices",
            "auditor.attestations_check",
            "auditor.rerender",
            "auditor.schedule",
            "auditor.evidence_pack",
            "auditor.soa",
            "auditor.history.commands",
            "auditor.drill",
            "auditor.distributed",
            "auditor.spill",
        ],
        False,
    ),
    (
        "engines and renderers",
        [
            "auditor.engine",
            "auditor.network.phase",
            "auditor.network.plans",
            "auditor.organisation",
            "auditor.report",
            "auditor.results",
            "auditor.notify",
            "auditor.waivers",
        ],
        True,
    ),
    # the store of past runs: the run records into it, notices and reports read it; its trend is scored
    ("history", ["auditor.history"], False),
    ("catalog and playbooks", ["auditor.catalog"], False),
    ("inventory", ["auditor.inventory"], False),
    (
        "probes",
        [
            "auditor.transports",
            "auditor.facts",
            "auditor.network",
            "auditor.platforms",
            "auditor.batch",
            "auditor.winbatch",
        ],
        False,
    ),
    ("evaluation", ["auditor.evaluate"], False),
    ("scoring", ["auditor.scoring"], False),
    (
        "foundations and stores",
        [
            "auditor",  # the package itself: its version
            "auditor.model",
            "auditor.evidence",
            "auditor.yamlsource",
            "auditor.addresses",
            "auditor.clock",
            "auditor.output",
            "auditor.errors",
            "auditor.paths",
            "auditor.runlock",
        ],
        False,
    ),
]

PACKAGE = Path(auditor.__file__).parent
PACKAGE_NAME = "auditor"
CLI = "auditor.cli"


def module_names() -> dict[str, Path]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def room_of(module: str) -> str | None:
    # The package itself is a room of its own (its version), not a prefix of every module.
    rooms = [
        room
        for _, layer, _ in LAYERS
        for room in layer
        if module == room or (room != PACKAGE_NAME and module.startswith(room + "."))
    ]
    return max(rooms, key=len) if rooms else None


def rank_of(module: str) -> int:
    room = room_of(module)
    return next(i for i, (_, layer, _) in enumerate(LAYERS) if room in layer)


def imports_of(module: str, path: Path, known: set[str]) -> list[tuple[str, int]]:
    """(imported auditor module, line) for every import in the module's source."""
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # ``from auditor import batch`` imports the module auditor.batch, not the package.
                whole = f"{base}.{alias.name}"
                found.append((whole if whole in known else base, node.lineno))
    return [(name, line) for name, line in found if name == "auditor" or name.startswith("auditor.")]


def upward_imports() -> list[str]:
    modules = module_names()
    problems = []
    for module, path in modules.items():
        for imported, line in dict.fromkeys(imports_of(module, path, set(modules))):
            if room_of(imported) is None:
                continue  # reported once, as the module without a room
            here, there = rank_of(module), rank_of(imported)
            name, _, peers = LAYERS[here]
            where = f"{path.relative_to(PACKAGE.parent)}:{line}: {module} ({name}) imports {imported}"
            if there < here:
                problems.append(f"{where} ({LAYERS[there][0]}), a layer above it")
            elif there == here and peers and room_of(imported) != room_of(module):
                problems.append(f"{where}, a peer in its layer ({room_of(imported)})")
    return problems


def sibling_command_imports() -> list[str]:
    """Imports by which a module of auditor.cli reaches another one than common (only __init__ gathers them)."""
    modules = module_names()
    problems = []
    for module, path in modules.items():
        if not module.startswith(f"{CLI}."):
            continue
        for imported, line in dict.fromkeys(imports_of(module, path, set(modules))):
            if (imported == CLI or imported.startswith(f"{CLI}.")) and imported != f"{CLI}.common":
                problems.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {module} imports {imported}")
    return problems


def test_every_module_has_a_layer() -> None:
    homeless = [name for name in module_names() if room_of(name) is None]
    assert not homeless, f"modules in no layer (give their room a place in LAYERS): {homeless}"


def test_no_import_climbs_back_up_a_layer() -> None:
    problems = upward_imports()
    assert not problems, "imports that climb a layer:\n" + "\n".join(problems)


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    """The walk finds imports however they are written (relative, inside a function, of a submodule)."""
    source = "from __future__ import annotations\nfrom . import sub\ndef f():\n    from auditor.run import x\n"
    path = tmp_path / "m.py"
    path.write_text(source)
    known = {"auditor.run", "auditor.facts.m", "auditor.facts.sub"}
    assert imports_of("auditor.facts.m", path, known) == [("auditor.facts.sub", 2), ("auditor.run", 4)]
    assert rank_of("auditor.run") < rank_of("auditor.engine") < rank_of("auditor.facts.file")


def test_a_command_module_imports_no_other_one() -> None:
    """A command group's module shares only through auditor.cli.common: its commands move without the others."""
    problems = sibling_command_imports()
    assert not problems, "command modules importing each other:\n" + "\n".join(problems)
