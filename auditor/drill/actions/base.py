"""What an action type is: act on a host, observe the defence's reaction, clean up.

An action type is code (one module each, registered by name); a scenario's YAML only chooses one
and gives its parameters. Every script an action sends to a host travels on stdin (never on a
command line), and every value in it is quoted and checked so that no command reads it as an option.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from auditor.evidence import redact
from auditor.facts.base import quote
from auditor.model import Host
from auditor.transports import ConnectOptions, HostError, Transport, open_transport, sudo_refusal

OUTPUT_EXCERPT = 4000  # characters of a command's output kept as evidence
CLEANUP_ATTEMPTS = 3  # connections tried for a cleanup, the first one included


def now_iso() -> str:
    """A drill timeline's time: UTC to the hundredth of a second (acts and observations follow each other fast)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


@dataclass
class Step:
    """One command run on a host (or from the drill source), as evidence."""

    command: str  # as shown: what ran, with anything that must not be stored replaced by a description
    rc: int | None
    output: str
    at: str
    phase: str

    def as_dict(self) -> dict[str, Any]:
        # What a host printed is masked before it is recorded, as a run's evidence is.
        output = redact(self.output)
        return {"phase": self.phase, "command": self.command, "rc": self.rc, "output": output, "at": self.at}


@dataclass
class Outcome:
    status: str  # pass | fail | error
    reason: str
    details: dict[str, Any] = field(default_factory=dict)


class DrillError(Exception):
    """The drill could not act or could not observe: the act's verdict is ``error`` with this reason."""


class HostShell:
    """Scripts run on one host over the run's transport; reconnects for a cleanup after a lost connection."""

    def __init__(self, host: Host, connect: ConnectOptions, log: list[Step], events: list[dict[str, Any]]):
        self.host = host
        self.connect = connect
        self.log = log
        self.events = events
        self._transport: Transport | None = None

    def event(self, phase: str, text: str) -> None:
        self.events.append({"at": now_iso(), "host": self.host.name, "phase": phase, "event": text})

    def _open(self) -> Transport:
        if self._transport is None:
            transport = open_transport(self.host, self.connect)
            transport.connect()
            self._transport = transport
        return self._transport

    def close(self) -> None:
        if self._transport is not None:
            try:
                self._transport.close()
            finally:
                self._transport = None

    def run(self, script: str, phase: str, timeout: float = 60.0, shown: str | None = None) -> Step:
        """Run ``script``; HostError when the host cannot be reached or sudo refuses."""
        at = now_iso()
        try:
            result = self._open().run(script, timeout)
        except HostError:
            self.close()
            raise
        refused = sudo_refusal(result)
        if refused:
            raise HostError(f"{self.host.name}: {refused}")
        output = (result.stdout + (("\n" + result.stderr) if result.stderr.strip() else "")).strip()
        step = Step(shown if shown is not None else script.strip(), result.rc, output[:OUTPUT_EXCERPT], at, phase)
        self.log.append(step)
        return step

    def run_cleanup(self, script: str, timeout: float = 60.0, shown: str | None = None) -> Step:
        """A cleanup script, retried on a new connection when the first one is lost."""
        last: HostError | None = None
        for attempt in range(CLEANUP_ATTEMPTS):
            try:
                return self.run(script, "cleanup", timeout, shown)
            except HostError as exc:
                last = exc
                self.event("cleanup", f"cleanup attempt {attempt + 1} failed: {exc.reason}")
                time.sleep(1.0 + attempt)
        assert last is not None
        raise last


@dataclass
class ActContext:
    host: Host
    shell: HostShell
    params: dict[str, Any]  # the act's `with`, then the host's inventory variables and --param values
    window: float  # seconds the defence has to react
    source: Any = None  # the drill source (auditor.drill.source.DrillSource) for actions that need one
    inventory_hosts: list[Host] = field(default_factory=list)  # e.g. to find the log server among them
    state: dict[str, Any] = field(default_factory=dict)  # what the cleanup needs to undo

    def remove_made(self, key: str, prefix: str, remove: str, nothing: str) -> tuple[bool, str]:
        """Remove what the act made: the path mktemp answered (``state[key]``), or, the answer lost, every
        path of this act's token under ``prefix``; (whether none is left, what the host said)."""
        if "token" not in self.state:
            return True, nothing
        target = quote(self.state[key]) if key in self.state else f"{prefix}{self.state['token']}.*"
        step = self.shell.run_cleanup(
            f"{remove} -- {target}; left=removed; for f in {target}; do [ -e \"$f\" ] && left='still there'; "
            'done; echo "$left"\n'
        )
        return step.output.strip().endswith("removed"), step.output.strip()


class ActionType(ABC):
    name: ClassVar[str]
    title: ClassVar[str]
    observations: ClassVar[tuple[str, ...]]  # what the YAML may name as `observe`
    cleanups: ClassVar[tuple[str, ...]]  # what the YAML may name as `cleanup`
    params_schema: ClassVar[dict[str, Any]] = {"type": "object", "additionalProperties": False}
    needs_source: ClassVar[bool] = False
    needs_inventory: ClassVar[bool] = False

    @abstractmethod
    def describe(self, host: Host, params: dict[str, Any], window: float) -> list[str]:
        """What the act will do to ``host``, for ``drill plan`` (changes nothing; contacts nothing)."""

    @abstractmethod
    def act(self, ctx: ActContext) -> None:
        """Do it; record in ``ctx.state`` what the cleanup needs before each change. DrillError: could not act."""

    @abstractmethod
    def observe(self, ctx: ActContext) -> Outcome:
        """The defence's reaction within ``ctx.window``. DrillError: could not observe."""

    @abstractmethod
    def cleanup(self, ctx: ActContext) -> tuple[bool, str]:
        """Undo what ``act`` did (even half of it): (done, what was found)."""


REGISTRY: dict[str, ActionType] = {}
_A = TypeVar("_A", bound=type[ActionType])


def register(cls: _A) -> _A:
    REGISTRY[cls.name] = cls()
    return cls
