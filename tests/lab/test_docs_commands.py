"""The commands the documentation shows, run as written against lab servers: a page that lies fails here.

The convention (docs/README.md, "Commands that are tested"): a fenced block whose info string says
``tested`` is run; ``sh tested`` runs each line with ``sh -c`` and expects exit 0, or one of the codes of
``exit=N[,N]``; ``LANG tested file=NAME`` writes the block to NAME first. A page's blocks run in order (the
pages side by side), in one folder of their own that starts with ``hosts.ini`` (docs/first-audit.md's),
``known_hosts`` for it and a copy of ``evidence/`` whose attestations are as old today as on the day they
were written; HOME is that folder, ``auditor`` is this checkout's and the history store is the page's own.
The documentation addresses 192.0.2.10 and .11 stand for the two lab servers (web01, db01), 192.0.2.50 for
the lab's log server, and ``~/.ssh/audit`` for the lab's key.
Blocks without the mark (Windows, real agency addresses, commands run on the servers themselves) are
counted, not run."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import traceback
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import example_evidence
from tests.lab.helpers import module_lab
from tests.lab.lab import Lab, host_name

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FIRST_AUDIT = REPO / "docs/first-audit.md"
PROFILES = ("compliant", "noncompliant")  # web01, db01
COMMAND_TIMEOUT = 600
PAGE_THREADS = 3

_FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)
_DOC_ADDRESS = re.compile(r"\b192\.0\.2\.(\d{1,3})\b")
_OPTION = re.compile(r"(file|exit)=(\S+)")


@dataclass
class Block:
    page: Path
    line: int
    lang: str
    tested: bool
    text: str
    file: str | None = None
    exits: tuple[int, ...] = (0,)

    def where(self) -> str:
        shown = self.page.relative_to(REPO) if self.page.is_relative_to(REPO) else self.page
        return f"{shown}:{self.line}"


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    found = []
    for match in _FENCE.finditer(text):
        words = match.group(1).split()
        line = text.count("\n", 0, match.start()) + 1
        block = Block(page, line, words[0] if words else "", "tested" in words[1:], match.group(2))
        for word in words[1:]:
            option = _OPTION.fullmatch(word)
            if word == "tested":
                continue
            assert option, f"{block.where()}: unknown word {word!r} in the fence (tested, file=NAME, exit=N,N)"
            if option.group(1) == "file":
                block.file = option.group(2)
            else:
                block.exits = tuple(int(n) for n in option.group(2).split(","))
        assert not (block.tested and block.lang != "sh" and block.file is None), (
            f"{block.where()}: a tested {block.lang} block needs file=NAME"
        )
        found.append(block)
    return found


def tally() -> dict[str, tuple[int, int]]:
    """Per page with command blocks: (tested, not tested) shell blocks."""
    counts = {}
    for page in PAGES:
        shell = [b for b in blocks(page) if b.lang == "sh"]
        if shell:
            counts[str(page.relative_to(REPO))] = (sum(b.tested for b in shell), sum(not b.tested for b in shell))
    return counts


def test_the_fences_follow_the_convention() -> None:
    counts = tally()  # the assertions in blocks() name any block that does not follow it
    print("\nshell blocks per page (tested, not tested):")
    for page, (tested, untested) in counts.items():
        print(f"  {page:<45} {tested:>3} tested {untested:>3} not")
    assert counts["docs/first-audit.md"][0] >= 5, counts


def test_a_misspelt_mark_is_refused(tmp_path: Path) -> None:
    """A block whose mark the test cannot read must not pass as "not tested"."""
    page = tmp_path / "page.md"
    page.write_text("```sh tested exits=1\nauditor validate\n```\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="unknown word 'exits=1'"):
        blocks(page)
    page.write_text("```ini tested\n[servers]\n```\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="needs file=NAME"):
        blocks(page)


@dataclass
class DocsLab:
    lab: Lab
    addresses: dict[str, str]  # documentation address -> lab address
    key: Path


@pytest.fixture(scope="module")
def docs_lab() -> Iterator[DocsLab]:
    with module_lab(PROFILES, "d", ".192/26") as the_lab:
        web, db = (the_lab.host(host_name(p)).address for p in PROFILES)
        yield DocsLab(the_lab, {"192.0.2.10": web, "192.0.2.11": db, "192.0.2.50": the_lab.log_server}, the_lab.key)


def substituted(block: Block, docs: DocsLab) -> str:
    def address(match: re.Match[str]) -> str:
        written = match.group(0)
        assert written in docs.addresses, (
            f"{block.where()}: {written} stands for no lab host ({sorted(docs.addresses)})"
        )
        return docs.addresses[written]

    return _DOC_ADDRESS.sub(address, block.text.replace("~/.ssh/audit", str(docs.key)))


def _folder(docs: DocsLab, where: Path) -> dict[str, str]:
    """A page's folder: the first audit's inventory, known_hosts for it, the example evidence; the environment,
    with a history store of the page's own (``auditor findings`` must see this page's runs alone)."""
    where.mkdir()
    inventory = next(b for b in blocks(FIRST_AUDIT) if b.tested and b.file == "hosts.ini")
    (where / "hosts.ini").write_text(substituted(inventory, docs), encoding="utf-8")
    docs.lab.write_known_hosts(where / "known_hosts")
    example_evidence(where / "evidence")
    bin_dir = where.parent / f"{where.name}-bin"
    bin_dir.mkdir()
    (bin_dir / "auditor").write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m auditor "$@"\n')
    (bin_dir / "auditor").chmod(0o755)
    store = f"sqlite:///{where.parent / 'history.db'}"
    return {**os.environ, "HOME": str(where), "PATH": f"{bin_dir}:{os.environ['PATH']}", "AUDITOR_DB": store}


def run_page(docs: DocsLab, page: Path, where: Path) -> str | None:
    """Every tested block of PAGE in order, in its folder WHERE: None, or what the first command that did not
    exit as the page says printed."""
    env = _folder(docs, where)
    for block in (b for b in blocks(page) if b.tested):
        text = substituted(block, docs)
        if block.file is not None:
            (where / block.file).write_text(text, encoding="utf-8")
            continue
        for command in (line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")):
            proc = subprocess.run(
                ["sh", "-c", command], cwd=where, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
            )
            if proc.returncode not in block.exits:
                return (
                    f"{block.where()}: {command!r} exited {proc.returncode}, the page says {block.exits}\n"
                    f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
                )
    return None


def weight(page: Path) -> int:
    """A rough cost of PAGE's tested commands, to start the longest pages first: an audit weighs three."""
    lines = [line for b in blocks(page) if b.tested and b.file is None for line in b.text.splitlines()]
    return sum(3 if line.startswith("auditor run ") else 1 for line in lines if line.strip())


TESTED_PAGES = [p for p in PAGES if any(b.tested for b in blocks(p))]


@pytest.fixture(scope="module")
def page_failures(docs_lab: DocsLab, tmp_path_factory: pytest.TempPathFactory) -> dict[Path, str | None]:
    """Each tested page's run (``run_page``), pages side by side: each has its own folder and history store,
    their commands only read the two servers, and most of their time is spent waiting (process start, SSH)."""

    def run(page: Path) -> str | None:
        try:
            return run_page(docs_lab, page, tmp_path_factory.mktemp(page.stem) / "work")
        except Exception:  # a timeout, a documentation address with no lab host: that page's failure
            return traceback.format_exc()

    with ThreadPoolExecutor(max_workers=PAGE_THREADS) as pool:
        started = {page: pool.submit(run, page) for page in sorted(TESTED_PAGES, key=weight, reverse=True)}
        return {page: future.result() for page, future in started.items()}


@pytest.mark.parametrize("page", TESTED_PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_the_pages_commands_work(page_failures: dict[Path, str | None], page: Path) -> None:
    failure = page_failures[page]
    assert failure is None, failure
