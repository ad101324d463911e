"""audit_rules: the loaded rules (auditctl -l) or, where the kernel does not answer, the rules augenrules
loads at boot, which can only fail or be unknown. Outputs captured on the logkeep lab hosts (auditctl refused
in a PID namespace) and on the lab machine's own kernel (auditing off, no rules)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import raw

from auditor.facts.audit_rules import TARGETS, AuditRulesFact, augenrules_lines, watched
from auditor.facts.base import FactUnreadable

DATA = Path(__file__).parent / "data/audit"


def _parse(name: str) -> dict:
    return AuditRulesFact().parse([raw((DATA / name).read_text())], {})


def test_rules_on_disk_that_nothing_loaded_are_never_a_pass():
    """rules.d/50-etc.rules watches /etc/ recursively (a grep for "-w /etc/passwd" misses it); auditctl
    says "Operation not permitted": 0 to 5 files watched, which the check can only call unknown."""
    value = _parse("etc-dir-watch.out")
    assert value["loaded"] is False
    assert value["watched_count"] == {"at_least": 0, "at_most": 5}
    assert "Operation not permitted" in value["summary"] and "/etc/audit/rules.d/50-etc.rules" in value["summary"]


def test_watches_augenrules_does_not_read_are_missing():
    """identity.rules.bak (not *.rules) and audit.rules (regenerated from rules.d) hold the watches."""
    value = _parse("bak-and-audit-rules.out")
    assert value["watched_count"] == 0 and value["watched"] == []
    assert "identity.rules.bak" not in value["summary"]


def test_loaded_rules_of_a_kernel_with_auditing_off():
    value = _parse("kernel-enabled-0-no-rules.out")
    assert value["loaded"] is True and value["watched_count"] == 0


def test_without_root_nothing_is_judged():
    with pytest.raises(FactUnreadable, match="cannot be read"):
        _parse("not-root.out")


@pytest.mark.parametrize(
    ("rules", "files"),
    [
        (["-w /etc/passwd -p wa -k identity"], ["/etc/passwd"]),
        (["-a always,exit -F arch=b64 -S all -F path=/etc/shadow -F perm=wa -k x"], ["/etc/shadow"]),
        (["-a exit,always -F dir=/etc -F perm=a"], sorted(TARGETS)),
        (["-w /etc/group -p r -k reads"], []),  # reads only: a change is not audited
        (["-a never,exit -F path=/etc/gshadow"], []),
        (["-w /etc/passwdx -p wa"], []),
        (["-w /etc/sudoers.d/ -p wa"], []),  # the directory, not /etc/sudoers
        (["-w /etc/passwd -p wa", "-e 0"], []),  # auditing off
    ],
)
def test_watched(rules, files):
    assert watched(rules) == files


def test_augenrules_moves_D_first_and_e_last():
    """-D anywhere clears nothing of what rules.d says: augenrules puts it first (its awk filter)."""
    lines = augenrules_lines(["-w /etc/passwd -p wa\n-e 2\n", "# comment\n-D\n-w /etc/shadow -p wa\n"])
    assert lines == ["-D", "-w /etc/passwd -p wa", "-w /etc/shadow -p wa", "-e 2"]
    assert watched(lines) == ["/etc/passwd", "/etc/shadow"]
