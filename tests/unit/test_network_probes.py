"""The network probe registry: check YAML is validated against it, a probe's required parameters reach the
plan's missing-parameter check, its optional ones keep their defaults, and every bound value is vetted."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from auditor.catalog import load_catalog
from auditor.catalog.playbook import load_playbook, plan_run
from auditor.errors import CatalogError, InputError, PlaybookError
from auditor.evaluate import params_used
from auditor.facts.base import TEMPLATE
from auditor.inventory import load_inventory
from auditor.network import params as netparams
from auditor.network import phase
from auditor.network.probes import REGISTRY
from auditor.paths import controls_dir

CHECK = """\
- id: NET-TST
  title: {en: One, vi: Một}
  iso27001: {"2013": [A.12.4.1], "2022": ["8.15"]}
  plan: [PT-LOG]
  severity: high
  applies: {probe: network}
  facts:
    marker: {log_marker: {server: "{{ central_logs }}", wait: "{{ marker_wait }}"}}
  expect: {fact: marker.found, eq: true}
  remediation: {en: Fix, vi: Sửa}
- id: NET-TST-PORTAL
  title: {en: Two, vi: Hai}
  iso27001: {"2013": [A.14.1.2], "2022": ["8.26"]}
  plan: [PT-PORTAL-CHANNEL]
  severity: high
  applies: {probe: network}
  facts:
    web: {portal_http: {url: "{{ intranet_url }}"}}
  expect: {fact: web.hsts, eq: true}
  remediation: {en: Fix, vi: Sửa}
"""


@pytest.fixture
def catalog_root(tmp_path: Path) -> Path:
    root = tmp_path / "controls"
    shutil.copytree(controls_dir(), root)
    for f in (root / "iso27001" / "checks").glob("*.yaml"):
        f.unlink()
    return root


def load(root: Path, text: str):  # type: ignore[no-untyped-def]
    (root / "iso27001" / "checks" / "test.yaml").write_text(text)
    return load_catalog(root)


def plans(root: Path, tmp_path: Path, text: str, **params: object):  # type: ignore[no-untyped-def]
    catalog = load(root, text)
    playbook = tmp_path / "net.yaml"
    playbook.write_text("name: net\nplays:\n  - hosts: [all]\n    checks: ['NET-*']\n")
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("web ansible_host=10.0.0.5\n")
    return plan_run(load_playbook(str(playbook), catalog), catalog, load_inventory(inventory), dict(params))


def test_registry_holds_every_probe_type_with_its_parameters() -> None:
    assert list(REGISTRY) == [
        "exposure",
        "https_portal",
        "portal_http",
        "smtp",
        "mailbox",
        "log_marker",
        "file_server",
    ]
    for kind in REGISTRY.values():
        properties = kind.params_schema["properties"]
        assert all(schema is TEMPLATE for schema in properties.values()), kind.name  # bound, never literal
        assert set(kind.params_schema["required"]) <= set(properties) and set(kind.parsers) <= set(properties)


def test_project_checks_bind_every_parameter_their_probe_declares() -> None:
    for check in load_catalog().checks.values():
        for spec in check.facts.values():
            if spec.type in REGISTRY:
                assert set(spec.params) == set(REGISTRY[spec.type].params_schema["properties"]), check.id


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("{log_marker: {", "{log_markr: {", 8, "unknown network fact type 'log_markr' (known: exposure, "),
        (
            'wait: "{{ marker_wait }}"',
            "wait: 30",
            8,
            "wait: 30 is not of type 'string'",
        ),  # a literal would pass no gate
        ('wait: "{{ marker_wait }}"', 'wiat: "{{ marker_wait }}"', 8, "unknown key 'wiat'"),
        ('server: "{{ central_logs }}", ', "", 8, "'server' is a required property"),
    ],
)
def test_check_yaml_errors_name_file_and_line(catalog_root: Path, old: str, new: str, line: int, message: str) -> None:
    assert old in CHECK
    with pytest.raises(CatalogError) as exc:
        load(catalog_root, CHECK.replace(old, new, 1))
    assert f"test.yaml:{line}:" in str(exc.value) and message in str(exc.value), str(exc.value)


def test_a_required_probe_parameter_is_reported_missing(catalog_root: Path, tmp_path: Path) -> None:
    with pytest.raises(PlaybookError, match=r"check NET-TST needs parameter\(s\) central_logs for host web"):
        plans(catalog_root, tmp_path, CHECK)


def test_an_optional_probe_parameter_left_unset_keeps_the_default(catalog_root: Path, tmp_path: Path) -> None:
    (plan,) = plans(catalog_root, tmp_path, CHECK, central_logs="logs1")  # no marker_wait, no intranet_url
    marker, web = (phase.probe_of(spec, plan.params) for c in plan.checks for spec in c.facts.values())
    assert marker.params == {"server": "logs1"} and web.params == {}
    (plan,) = plans(catalog_root, tmp_path, CHECK, central_logs="logs1", marker_wait=5, intranet_url="https://i/")
    marker, web = (phase.probe_of(spec, plan.params) for c in plan.checks for spec in c.facts.values())
    assert marker.params == {"server": "logs1", "wait": 5} and web.params == {"url": "https://i/"}


@pytest.mark.parametrize(
    ("param", "value", "problem"),
    [
        ("intranet_url", "http://i/", "https://"),
        ("intranet_url", "https://-oProxyCommand=x/", "intranet_url"),
        ("central_logs", "-x", "central_logs"),
        ("marker_wait", "9999", "marker_wait"),
    ],
)
def test_a_value_bound_under_another_name_is_vetted_by_its_probe(
    catalog_root: Path, tmp_path: Path, param: str, value: str, problem: str
) -> None:
    """A check may bind a probe parameter to a run parameter the gate does not know by name: the probe's
    own parser refuses it before any contact, naming the parameter and where it was set."""
    params = {"central_logs": "logs1", param: value}
    with pytest.raises(InputError) as exc:
        netparams.check_all(plans(catalog_root, tmp_path, CHECK, **params))
    text = str(exc.value)
    assert text.startswith(f"--param {param}: ") and text.endswith("(host web)") and problem in text, text


def test_the_registry_imports_nothing_above_the_catalog_nor_a_probe_client() -> None:
    """The catalog imports the registry on every start: no import may climb back to the catalog, engine or
    network phase, nor load a client (TLS, SSH, nmap) a run without NET-* checks never uses."""
    code = (
        "import sys; import auditor.network.probes; "
        "print(' '.join(m for m in sys.modules if m.startswith(('auditor.', 'paramiko', 'cryptography', 'nmap'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert "auditor.network.probes.file_server" in loaded
    for above in ("auditor.catalog", "auditor.engine", "auditor.network.phase", "auditor.network.params"):
        assert above not in loaded
    clients = ("auditor.network.tls", "auditor.network.mail", "auditor.network.scan", "auditor.transports")
    assert not [m for m in loaded if m.startswith(clients) or not m.startswith("auditor.")], loaded


def test_the_gate_parses_each_named_parameter_as_every_probe_bound_to_it_does() -> None:
    """The gate parses the project's network parameters for every host, by name: with the very parser of
    each probe parameter the project's checks bind them to (one parser per name, so none is looser)."""
    bound: dict[str, set[tuple[str, str]]] = {}
    for check in load_catalog().checks.values():
        for spec in check.facts.values():
            for key, template in spec.params.items() if spec.type in REGISTRY else ():
                for name in params_used(template):
                    bound.setdefault(name, set()).add((spec.type, key))
    assert set(netparams.BY_NAME) == set(bound)
    for name, (kind, key) in netparams.BY_NAME.items():
        parser = REGISTRY[kind].parsers[key]
        assert all(REGISTRY[t].parsers[k] is parser for t, k in bound[name]), name
