"""The nouns of the auditor: checks, hosts, host plans, facts, evidence, verdicts and results.

Plain dataclasses, no behaviour beyond small derived values, so that every other
module (catalog, engine, evaluation, renderers) speaks the same language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from auditor.errors import InputError


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"  # the probe broke: unreachable, permission denied, timeout, unparseable
    UNKNOWN = "unknown"  # the probe ran but the facts do not decide the question
    NOT_APPLICABLE = "not_applicable"
    MANUAL = "manual"  # a person must supply evidence
    WAIVED = "waived"


UNDECIDED = frozenset({Verdict.ERROR, Verdict.UNKNOWN})


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True)
class FactSpec:
    """One fact a check asks for: a registered fact type with its parameters."""

    type: str
    params: dict[str, Any]

    @property
    def key(self) -> str:
        """Identity used to collect a fact once per host however many checks ask for it."""
        import json

        return self.type + ":" + json.dumps(self.params, sort_keys=True, default=str)


@dataclass(frozen=True)
class Check:
    id: str
    title: dict[str, str]  # language -> text
    iso27001: dict[str, list[str]]  # edition ("2013", "2022") -> control ids
    plan: list[str]
    severity: Severity
    applies: dict[str, Any]
    facts: dict[str, FactSpec]  # local name -> spec
    expect: Any
    remediation: dict[str, str]
    description: dict[str, str] = field(default_factory=dict)
    when: dict[str, Any] | None = None  # precondition: not_applicable when it fails
    source: str = ""  # "file:line" where the check is declared


@dataclass
class Host:
    name: str
    address: str
    port: int = 22
    user: str | None = None
    key_file: str | None = None
    become: bool = False
    os: str = "linux"
    transport: str = "ssh"  # "ssh" or "local"
    groups: list[str] = field(default_factory=list)
    level: int | None = None  # security level 1-5 under Decree 85/2016
    vars: dict[str, Any] = field(default_factory=dict)  # non-connection variables: check parameters


class ParamSource(Protocol):
    """Where the parameters of a run's hosts were set (playbook, level, inventory, --param)."""

    def error(self, host: Host, name: str, problem: str) -> InputError:
        """The error for a bad value of parameter ``name`` of ``host``, naming the source that set it."""
        ...


@dataclass
class HostPlan:
    """What one host is audited for: its checks, and the parameters they get on it."""

    host: Host
    checks: list[Check]
    params: dict[str, Any]
    origin: ParamSource | None = field(default=None, repr=False, compare=False)  # to name a bad value's source


@dataclass(slots=True)  # thousands per run: no __dict__ each
class Evidence:
    command: str
    rc: int | None
    output: str
    at: str  # ISO 8601 UTC
    stderr: str = ""
    duration_ms: float | None = None
    # The run this evidence's output is a part of (one nmap scan of every target, whose command and
    # whole output every host's evidence shares): results.json stores it once, not once per host.
    source: Evidence | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"command": self.command, "rc": self.rc, "output": self.output, "at": self.at}
        if self.stderr:
            d["stderr"] = self.stderr
        if self.duration_ms is not None:
            d["duration_ms"] = round(self.duration_ms, 1)
        return d


@dataclass(slots=True)  # thousands per run: no __dict__ each
class Fact:
    """A fact as read from a host: its parsed value, or why it could not be read."""

    spec: FactSpec
    value: dict[str, Any] | None
    error: str | None
    evidence: Evidence

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(slots=True)  # thousands per run: no __dict__ each
class CheckResult:
    check: Check
    status: Verdict
    reason: str
    evidence: list[Evidence]
    # Set when an active waiver covers a result that did not pass: status is then WAIVED, and these keep
    # the verdict it had and which waiver excused it ({id, type, approved_by, expires}).
    waived_status: Verdict | None = None
    waiver: dict[str, str] | None = None

    def to_dict(self, evidence: Callable[[Evidence], dict[str, Any]] = Evidence.to_dict) -> dict[str, Any]:
        d = {
            "check": self.check.id,
            "title": self.check.title,
            "status": str(self.status),
            "severity": str(self.check.severity),
            "iso27001": self.check.iso27001,
            "plan": self.check.plan,
            "reason": self.reason,
            "remediation": self.check.remediation,
            "evidence": [evidence(e) for e in self.evidence],
        }
        if self.waived_status is not None:
            d["waived_status"] = str(self.waived_status)
            d["waiver"] = self.waiver
        return d


@dataclass(slots=True)  # thousands per run: no __dict__ each
class HostResult:
    host: Host
    status: str  # reachable | unreachable | error | aborted
    error: str | None
    results: list[CheckResult]
    started: str
    finished: str
