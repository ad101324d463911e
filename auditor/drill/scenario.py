"""Drill scenarios: playbooks/drills/NAME.yaml, checked with file:line:field before any host is touched.

```yaml
scenario: av-eicar
title: …            # and title_vi
proves: …           # and proves_vi: what a pass shows
hosts: all          # inventory hosts or groups (default all)
acts:
  - action: eicar-file           # an action type (auditor/drill/actions/)
    with: {}                     # its parameters
    observe: av-reports-detection
    window: 60                   # seconds the defence has to react
    cleanup: remove-file
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from auditor.drill.actions import REGISTRY
from auditor.errors import InputError
from auditor.paths import playbooks_dir
from auditor.yamlsource import YamlDoc, load_yaml

_TOP = {"scenario", "title", "title_vi", "proves", "proves_vi", "hosts", "acts"}
_ACT = {"action", "with", "observe", "window", "cleanup"}
MAX_WINDOW = 3600


class ScenarioError(InputError):
    pass


@dataclass
class Act:
    action: str
    params: dict[str, Any]
    observe: str
    window: float
    cleanup: str


@dataclass
class Scenario:
    name: str
    title: str
    title_vi: str
    proves: str
    proves_vi: str
    hosts: list[str]
    acts: list[Act]
    file: str = ""
    doc: YamlDoc | None = field(default=None, repr=False)


def drills_dir() -> Path:
    return playbooks_dir() / "drills"


def available() -> list[str]:
    return sorted(p.stem for p in drills_dir().glob("*.yaml"))


def load(name_or_file: str) -> Scenario:
    path = Path(name_or_file)
    if not (path.suffix in (".yaml", ".yml") and path.exists()):
        if name_or_file not in available():
            raise ScenarioError(f"unknown scenario {name_or_file!r}; built in: {', '.join(available())}")
        path = drills_dir() / f"{name_or_file}.yaml"
    return parse(load_yaml(path, ScenarioError))


def _text(doc: YamlDoc, data: dict[str, Any], key: str, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise doc.error(ScenarioError, [key], "expected non-empty text")
    return value.strip()


def parse(doc: YamlDoc) -> Scenario:
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error(ScenarioError, [], "a scenario is a mapping (scenario, title, acts, ...)")
    for key in data:
        if key not in _TOP:
            raise doc.error(ScenarioError, [key], f"unknown key (known: {', '.join(sorted(_TOP))})")
    name = _text(doc, data, "scenario")
    hosts = data.get("hosts", "all")
    hosts = [hosts] if isinstance(hosts, str) else hosts
    if not isinstance(hosts, list) or not hosts or not all(isinstance(h, str) and h for h in hosts):
        raise doc.error(ScenarioError, ["hosts"], "expected a host or group name, or a list of them")
    acts = data.get("acts")
    if not isinstance(acts, list) or not acts:
        raise doc.error(ScenarioError, ["acts"], "expected a non-empty list of acts")
    return Scenario(
        name=name,
        title=_text(doc, data, "title"),
        title_vi=_text(doc, data, "title_vi", required=False),
        proves=_text(doc, data, "proves"),
        proves_vi=_text(doc, data, "proves_vi", required=False),
        hosts=hosts,
        acts=[_act(doc, i, a) for i, a in enumerate(acts)],
        file=doc.file,
        doc=doc,
    )


def _act(doc: YamlDoc, i: int, data: Any) -> Act:
    where: list[str | int] = ["acts", i]
    if not isinstance(data, dict):
        raise doc.error(ScenarioError, where, "an act is a mapping (action, with, observe, window, cleanup)")
    for key in data:
        if key not in _ACT:
            raise doc.error(ScenarioError, [*where, key], f"unknown key (known: {', '.join(sorted(_ACT))})")
    for key in ("action", "observe", "window", "cleanup"):
        if key not in data:
            raise doc.error(ScenarioError, where, f"missing {key!r}")
    action = REGISTRY.get(str(data["action"]))
    if action is None:
        raise doc.error(ScenarioError, [*where, "action"], f"unknown action (known: {', '.join(sorted(REGISTRY))})")
    if data["observe"] not in action.observations:
        raise doc.error(ScenarioError, [*where, "observe"], f"{action.name} observes: {', '.join(action.observations)}")
    if data["cleanup"] not in action.cleanups:
        raise doc.error(
            ScenarioError, [*where, "cleanup"], f"{action.name} cleans up with: {', '.join(action.cleanups)}"
        )
    window = data["window"]
    if isinstance(window, bool) or not isinstance(window, int | float) or not 1 <= window <= MAX_WINDOW:
        raise doc.error(ScenarioError, [*where, "window"], f"expected seconds between 1 and {MAX_WINDOW}")
    params = data.get("with") or {}
    try:
        jsonschema.validate(params, action.params_schema)
    except jsonschema.ValidationError as exc:
        path = [*where, "with", *exc.absolute_path]
        raise doc.error(ScenarioError, path, exc.message) from None
    return Act(str(data["action"]), dict(params), str(data["observe"]), float(window), str(data["cleanup"]))
