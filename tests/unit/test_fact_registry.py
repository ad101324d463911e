"""A fact type is found by its name: ``facts/<type>.py`` holds the type of that name and nothing else."""

from __future__ import annotations

from pathlib import Path

import auditor.facts
from auditor.facts import REGISTRY


def test_each_fact_type_lives_in_the_module_of_its_name() -> None:
    misplaced = {
        name: type(fact).__module__
        for name, fact in REGISTRY.items()
        if type(fact).__module__ != f"auditor.facts.{name}"
    }
    assert not misplaced, f"fact types not in auditor/facts/<type>.py: {misplaced}"


def test_each_fact_module_is_imported_by_the_registry() -> None:
    """A module named like a type that is not imported registers nothing: its checks would not load."""
    folder = Path(auditor.facts.__file__).parent
    helpers = {"__init__", "base", "winbase", "ere", "firewall_rules"}  # shared code, no type of their own
    modules = {p.stem for p in folder.glob("*.py")} - helpers
    assert modules == set(REGISTRY)
