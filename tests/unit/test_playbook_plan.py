"""Planning a run: what is refused before any host is contacted (pure, no host)."""

from __future__ import annotations

import pytest

from auditor.catalog import load_catalog
from auditor.catalog.playbook import load_playbook, parse_cli_params, plan_run
from auditor.errors import InputError
from auditor.inventory import load_inventory


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def _inventory(tmp_path, text: str):
    path = tmp_path / "hosts.ini"
    path.write_text(text)
    return load_inventory(path)


def _book(tmp_path, catalog, text: str):
    path = tmp_path / "book.yaml"
    path.write_text(text)
    return load_playbook(str(path), catalog)


def test_a_play_naming_a_missing_group_is_refused_with_its_line(tmp_path, catalog):
    inv = _inventory(tmp_path, "[servers]\nweb1 log_server=10.0.0.9\n")
    book = _book(tmp_path, catalog, "name: t\nplays:\n  - hosts: [servers, severs]\n    checks: ['LNX-*']\n")
    with pytest.raises(InputError, match=r"book.yaml:3: plays\[0\].hosts\[1\]: 'severs' is no group or host"):
        plan_run(book, catalog, inv, {})


def test_an_empty_group_is_a_statement_not_a_typo(tmp_path, catalog):
    inv = _inventory(tmp_path, "[servers]\nweb1 log_server=10.0.0.9\n[mail]\n")
    book = _book(tmp_path, catalog, "name: t\nplays:\n  - hosts: [servers, mail]\n    checks: ['LNX-SSH-*']\n")
    assert [p.host.name for p in plan_run(book, catalog, inv, {})] == ["web1"]


def test_an_audit_of_no_host_is_refused(tmp_path, catalog):
    inv = _inventory(tmp_path, "[servers]\nweb1\n[mail]\n")
    book = _book(tmp_path, catalog, "name: t\nplays:\n  - hosts: [mail]\n    checks: ['LNX-*']\n")
    with pytest.raises(InputError, match="no host to audit"):
        plan_run(book, catalog, inv, {})


def test_an_audit_of_no_check_is_refused(tmp_path, catalog):
    inv = _inventory(tmp_path, "[servers]\nweb1 os=windows\n")
    book = _book(tmp_path, catalog, "name: t\nplays:\n  - hosts: [all]\n    checks: ['LNX-*']\n")
    with pytest.raises(InputError, match="no check"):
        plan_run(book, catalog, inv, {})


@pytest.mark.parametrize(
    ("inventory", "cli", "where"),
    [
        ("[s]\nh1 log_marker_wait=abc\n", [], r"hosts.ini:2: log_marker_wait: expected a number, got 'abc'"),
        ("[s]\nh1\n[s:vars]\nav_max_signature_age_days=soon\n", [], r"hosts.ini:4: av_max_signature_age_days"),
        ("[s]\nh1\n[all:vars]\nbackup_max_age_days=1e999\n", [], r"hosts.ini:4: backup_max_age_days: .*finite"),
        ("[s]\nh1 smtp_port=70000\n", [], r"hosts.ini:2: smtp_port: must be between 1 and 65535"),
        ("[s]\nh1 backup_paths=\"{'a': 1}\"\n", [], r"hosts.ini:2: backup_paths: expected text"),
        ("[s]\nh1\n", ["log_marker_wait=abc"], r"--param log_marker_wait: expected a number"),
        ("[s]\nh1\n", ["apt_lists_max_age_days=[1]"], r"--param apt_lists_max_age_days: expected a number"),
        ("[s]\nh1\n", ["tls_expiry_warn_days=true"], r"--param tls_expiry_warn_days: expected a number"),
    ],
)
def test_parameters_are_typed_and_the_bad_value_is_located(tmp_path, catalog, inventory, cli, where):
    inv = _inventory(tmp_path, inventory)
    book = load_playbook("baseline", catalog)
    params = {"log_server": "10.0.0.9", **parse_cli_params(cli)}
    with pytest.raises(InputError, match=where):
        plan_run(book, catalog, inv, params)


def test_a_bad_playbook_parameter_names_the_playbook_line(tmp_path, catalog):
    inv = _inventory(tmp_path, "[s]\nh1 log_server=10.0.0.9\n")
    book = _book(
        tmp_path,
        catalog,
        "name: t\nparams:\n  av_max_signature_age_days: 7\nlevels:\n  3:\n    av_max_signature_age_days: x\n"
        "plays:\n  - hosts: [all]\n    checks: ['LNX-*']\n    params: {log_retention_days: many}\n",
    )
    with pytest.raises(InputError, match=r"book.yaml:10: plays\[0\].params.log_retention_days"):
        plan_run(book, catalog, inv, {})
    inv = _inventory(tmp_path, "[s]\nh1 log_server=10.0.0.9 level=3\n")
    with pytest.raises(InputError, match=r"book.yaml:6: levels\[3\].av_max_signature_age_days"):
        plan_run(book, catalog, inv, {"log_retention_days": 90})


def test_cli_params_keep_text_yaml_would_turn_into_objects():
    assert parse_cli_params(["a=7", "b=2026-02-30", "c=2024-01-01", "d=[x, y]", "e="]) == {
        "a": 7,
        "b": "2026-02-30",
        "c": "2024-01-01",
        "d": ["x", "y"],
        "e": None,
    }
    with pytest.raises(InputError, match="not a parameter name"):
        parse_cli_params(["a b=1"])
