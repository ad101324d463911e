"""Hostile YAML inputs: alias bombs and deep nesting are refused with one line (exit 2), fast.

yaml.safe_load still expands aliases, and libyaml's composer recurses in C for every nesting level:
an inventory or playbook of a few KB could hang the auditor for hours or crash it with SIGSEGV.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from auditor.errors import InventoryError
from auditor.inventory import load_inventory
from auditor.yamlsource import parse_yaml


def _laughs(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels + 1)]
    return "vars:\n  " + "\n  ".join(lines) + "\nhosts:\n  h1: {address: 127.0.0.1}\n"


def test_an_alias_bomb_inventory_is_refused_at_once(tmp_path):
    path = tmp_path / "inv.yaml"
    path.write_text(_laughs(6))  # 1.1 million values in 500 bytes: walked in full, this took 20 s and passed
    started = time.monotonic()
    with pytest.raises(InventoryError, match="aliases expand"):
        load_inventory(path)
    assert time.monotonic() - started < 5


def test_a_billion_laughs_does_not_hang():
    started = time.monotonic()
    with pytest.raises(InventoryError, match="aliases expand"):
        parse_yaml(_laughs(9), "inv.yaml", InventoryError)
    assert time.monotonic() - started < 5


def test_aliases_that_expand_a_little_are_fine():
    doc = parse_yaml("a: &a {k: [1, 2]}\nb: *a\nc: [*a, *a]\n", "x.yaml")
    assert doc.data["c"] == [{"k": [1, 2]}, {"k": [1, 2]}]


def test_a_big_document_is_not_a_bomb_for_its_size(monkeypatch):
    from auditor import yamlsource

    monkeypatch.setattr(yamlsource, "MAX_NODES", 100)
    hosts = "".join(f"  h{i}: {{address: 10.0.0.{i}, groups: [g]}}\n" for i in range(200))  # 1,600 nodes written out
    doc = parse_yaml(f"vars: &v {{a: 1}}\nmore: *v\nhosts:\n{hosts}", "big.yaml", InventoryError)
    assert len(doc.data["hosts"]) == 200
    with pytest.raises(InventoryError, match="aliases expand"):  # while 150 values from one alias are too many
        parse_yaml("a: &a [" + ", ".join(["x"] * 50) + "]\nb: [*a, *a, *a]\n", "x.yaml", InventoryError)


def test_duplicate_keys_inside_an_alias_are_still_found():
    with pytest.raises(InventoryError, match="duplicate key 'k'"):
        parse_yaml("a: &a {k: 1, k: 2}\nb: [*a, *a]\n", "x.yaml", InventoryError)


@pytest.mark.parametrize(
    "nesting", ["[" * 60000 + "]" * 60000, "{a: " * 60000 + "}" * 60000], ids=["flow-seq", "flow-map"]
)
def test_deep_nesting_is_refused_not_a_crash(tmp_path, nesting):
    path = tmp_path / "inv.yaml"
    path.write_text(f"vars: {{x: {nesting}}}\nhosts:\n  h1: {{address: 127.0.0.1}}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "auditor", "validate", "-i", str(path)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-500:])  # was -11: SIGSEGV in libyaml's composer
    # Ours, or libyaml's own limit where the installed libyaml has one: either way a line, not a crash.
    assert "nested deeper than" in proc.stderr or "maximum nesting depth" in proc.stderr, proc.stderr


def test_a_value_the_safe_constructor_refuses_is_named_by_its_line() -> None:
    """YAML reads 2027-02-30 as a date and the constructor refuses it: the error names that line."""
    from auditor.errors import InputError
    from auditor.yamlsource import parse_yaml

    with pytest.raises(InputError) as caught:
        parse_yaml("findings:\n  - id: F-1\n    due: 2027-02-30\n", "findings.yaml")
    assert (caught.value.file, caught.value.line) == ("findings.yaml", 3)
    assert "invalid YAML value" in caught.value.message
