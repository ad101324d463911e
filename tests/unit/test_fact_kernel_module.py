"""kernel_module on real `modprobe -n -v usb-storage` outputs (tests/unit/data/modprobe)."""

from __future__ import annotations

import pytest
from conftest import raw

from auditor.facts.base import FactUnreadable
from auditor.facts.kernel_module import KernelModuleFact

FACT = KernelModuleFact()


def parse(captures, stem: str, loaded: str = "", builtin: str = "") -> dict:
    out, err, rc = captures.run(stem)
    text = f"@@probe\n{out}{err}@@rc {rc}\n@@loaded\n{loaded}@@builtin\n{builtin}"
    return FACT.parse([raw(text)], {"name": "usb-storage"})


@pytest.mark.parametrize(
    ("stem", "blocked"),
    [
        ("modprobe/nomoddir.install_false", True),
        ("modprobe/nomoddir.install_true", True),
        ("modprobe/nomoddir.install_underscore_false", True),
        ("modprobe/nomoddir.blacklist_install_false", True),
        # A kernel that lacks the module today is not "blocked by configuration".
        ("modprobe/nomoddir.blacklist_only", False),
        ("modprobe/nomoddir.empty", False),
        # With the module present, a blacklist line alone still lets an explicit load through.
        ("modprobe/fakemod.blacklist_only", False),
        ("modprobe/fakemod.empty", False),
        ("modprobe/fakemod.blacklist_install_false", True),
    ],
)
def test_blocked_only_by_install_directive(captures, stem, blocked):
    value = parse(captures, stem)
    assert value["blocked_effective"] is blocked
    assert value["summary"]


def test_blacklist_only_with_module_present_would_load(captures):
    value = parse(captures, "modprobe/fakemod.blacklist_only")
    assert value["would_load"] is True
    assert "would load" in value["summary"]


def test_loaded_module_is_not_blocked(captures):
    value = parse(captures, "modprobe/nomoddir.install_false", loaded="usb_storage 81920 0 - Live 0x0\n")
    assert value["blocked"] is True
    assert value["blocked_effective"] is False


def test_modprobe_missing_is_unreadable():
    with pytest.raises(FactUnreadable, match="modprobe not found"):
        FACT.parse([raw("", 127, "modprobe not found\n")], {"name": "usb-storage"})


def test_other_modprobe_failure_is_unreadable():
    with pytest.raises(FactUnreadable):
        FACT.parse(
            [raw("@@probe\nmodprobe: ERROR: could not parse config\n@@rc 1\n@@loaded\n@@builtin\n")],
            {"name": "usb-storage"},
        )
