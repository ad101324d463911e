"""``auditor report``: a stored results.json (validated against its schema) rendered again as html,
csv, junit or json, and written without following a link at the output path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from auditor import results as results_mod
from auditor.errors import InputError
from auditor.output import write_file
from auditor.report import RENDERERS
from auditor.yamlsource import read_source


def stored_results(path: str) -> dict[str, Any]:
    """A results.json from disk; InputError (exit 2) naming the file when it is no valid one."""
    try:
        document = json.loads(read_source(Path(path), InputError))
        results_mod.validate(document)
    except InputError:
        raise
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{path}: {exc}") from None
    except Exception as exc:  # jsonschema.ValidationError: its first line says what and where
        raise InputError(f"{path} does not follow {results_mod.SCHEMA_ID}: {exc}".splitlines()[0]) from None
    return document


def rerender(results_file: str, fmt: str, lang: str, previous: str | None, output: str) -> None:
    """The report of ``results_file`` (what changed since ``previous``, when given) written to ``output``."""
    document = stored_results(results_file)
    before = stored_results(previous) if previous else None
    text = RENDERERS[fmt](document, lang, before)
    write_file(Path(output), lambda fh: fh.write(text))  # a symlink at OUTPUT is replaced, never written through
