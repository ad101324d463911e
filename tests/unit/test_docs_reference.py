"""docs/reference.md says what the program does: its command section is every command's --help, its
parameter table is read from the playbooks and the checks, its exit codes are the run's.

After changing a command, an option or a parameter, write the generated sections again:

    /opt/auditor/bin/python3 -m tests.unit.test_docs_reference
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click
import yaml
from click.testing import CliRunner

from auditor import run as run_mod
from auditor.cli import cli

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs/reference.md"
WIDTH = 100
_TEMPLATE = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
_PARAMS_LIST = re.compile(r"params_(?:set|unset):\s*\[([^\]]*)\]")


def _paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name in sorted(group.commands):
        sub = group.commands[name]
        found += _paths(sub, (*prefix, name)) if isinstance(sub, click.Group) else [(*prefix, name)]
    return found


def commands_section() -> str:
    parts = []
    for path in _paths(cli):
        result = CliRunner().invoke(
            cli, [*path, "--help"], prog_name="auditor", terminal_width=WIDTH, max_content_width=WIDTH
        )
        assert result.exit_code == 0, result.output
        parts.append(f"### {' '.join(('auditor', *path))}\n\n```text\n{result.output.rstrip()}\n```\n")
    return "\n".join(parts)


def _check_chunks() -> dict[str, str]:
    """Each check's YAML text by id (the declarations as written, comments aside)."""
    chunks: dict[str, str] = {}
    for path in sorted((REPO / "controls/iso27001/checks").glob("*.yaml")):
        for chunk in re.split(r"(?m)^- (?=id:)", path.read_text(encoding="utf-8"))[1:]:
            ident = re.match(r"id:\s*(\S+)", chunk)
            assert ident, f"{path}: a check without an id"
            chunks[ident.group(1)] = chunk
    return chunks


def _default(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, list):
        return ", ".join(f"`{v}`" for v in value)
    return f"`{value}`"


def parameters_section() -> str:
    """Every parameter a playbook sets or a check reads, its defaults in each playbook and the checks that
    read it."""
    books = {
        p.stem: yaml.safe_load(p.read_text(encoding="utf-8"))
        for p in sorted((REPO / "playbooks").glob("*.yaml"), key=lambda p: (p.stem != "baseline", p.stem))
    }
    readers: dict[str, set[str]] = {}
    for ident, chunk in _check_chunks().items():
        names = set(_TEMPLATE.findall(chunk))
        for listed in _PARAMS_LIST.findall(chunk):
            names |= {n.strip() for n in listed.split(",") if n.strip()}
        for name in names:
            readers.setdefault(name, set()).add(ident)
    names = sorted(set(readers).union(*(book.get("params") or {} for book in books.values())))
    head = "| parameter | " + " | ".join(f"`{b}` playbook" for b in books) + " | read by |\n"
    rows = [head, "|---|" + "---|" * len(books) + "---|\n"]
    for name in names:
        defaults = []
        for book in books.values():
            params = book.get("params") or {}
            cell = _default(params.get(name)) if name in params else "–"
            levels = [str(level) for level, values in (book.get("levels") or {}).items() if name in values]
            defaults.append(cell + (f" (level {', '.join(levels)}: own value)" if levels else ""))
        checks = ", ".join(sorted(readers.get(name, ()))) or "the auditor's code, no check declaration"
        rows.append(f"| `{name}` | " + " | ".join(defaults) + f" | {checks} |\n")
    return "".join(rows)


SECTIONS = {"commands": commands_section, "parameters": parameters_section}


def _span(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- generated: {name} -->\n)(.*?)(<!-- end generated: {name} -->)", re.S)


def rendered(text: str) -> str:
    for name, make in SECTIONS.items():
        assert _span(name).search(text), f"docs/reference.md: no generated section {name!r}"
        text = _span(name).sub(lambda m, make=make: m.group(1) + make() + m.group(3), text)
    return text


def test_the_generated_sections_are_current() -> None:
    text = PAGE.read_text(encoding="utf-8")
    assert rendered(text) == text, (
        "docs/reference.md is stale: /opt/auditor/bin/python3 -m tests.unit.test_docs_reference"
    )


def test_every_command_has_its_section() -> None:
    text = PAGE.read_text(encoding="utf-8")
    for path in _paths(cli):
        assert f"### {' '.join(('auditor', *path))}\n" in text


def test_the_exit_codes_are_the_runs() -> None:
    text = PAGE.read_text(encoding="utf-8")
    table = text.split("\n## Exit codes\n", 1)[1].split("\n## ", 1)[0]
    documented = {int(code) for code in re.findall(r"^\| (\d) \|", table, re.M)}
    codes = {run_mod.EXIT_OK, run_mod.EXIT_FAILURES, run_mod.EXIT_BAD_INPUT, run_mod.EXIT_INCOMPLETE, run_mod.EXIT_BUSY}
    assert documented == codes


def test_a_parameter_row_names_its_checks() -> None:
    table = parameters_section()
    assert "| `av_max_signature_age_days` |" in table and "LNX-AV-SIGNATURES-FRESH" in table
    assert "| `allowed_ports` |" in table and "NET-ONLY-ALLOWED-PORTS" in table


if __name__ == "__main__":
    PAGE.write_text(rendered(PAGE.read_text(encoding="utf-8")), encoding="utf-8")
    sys.exit(0)
