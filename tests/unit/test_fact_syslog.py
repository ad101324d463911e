"""syslog_forwarding on real configurations validated by rsyslogd -N1 / syslog-ng -s (tests/unit/data)."""

from __future__ import annotations

import pytest
from conftest import raw, tar_section

from auditor.facts.base import FactUnreadable
from auditor.facts.syslog_forwarding import SyslogForwardingFact, rsyslog_targets, syslog_ng_targets

FACT = SyslogForwardingFact()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("legacy_tcp_hostname", [("logs.example.org", 514, "tcp")]),
        ("legacy_udp_default_port", [("10.0.0.5", 514, "udp")]),
        ("legacy_ipv6_tcp_auth", [("2001:db8::5", 6514, "tcp")]),
        ("legacy_octet_counting", [("10.0.0.5", 514, "tcp")]),
        ("legacy_compress_octet_template", [("10.0.0.5", 514, "tcp")]),
        ("conditional_programname_legacy_action", [("10.0.0.5", 514, "tcp")]),
        ("property_filter_legacy", [("10.0.0.5", 514, "tcp")]),
        ("rainer_single_line", [("10.0.0.5", 514, "tcp")]),
        ("rainer_multi_line", [("10.0.0.5", 514, "tcp")]),
        ("rainer_capitalised_single_line", [("logs.example.org", 6514, "tcp")]),
        ("rainer_udp_default", [("10.0.0.5", 514, "udp")]),
        ("conditional_programname_rainer_action", [("10.0.0.5", 514, "tcp")]),
        # Traps: nothing is forwarded.
        ("commented_legacy", []),
        ("commented_rainer", []),
        ("commented_rainer_block_comment", []),
        ("rainer_in_ruleset", []),  # a ruleset no input uses never sees a message
        ("debian_default_rsyslog", []),
    ],
)
def test_rsyslog_targets(captures, name, expected):
    assert captures.run(f"rsyslog/{name}.validate")[2] == 0, "the config must be valid rsyslog"
    found = [
        (t["host"], t["port"], t["protocol"])
        for t in rsyslog_targets("/etc/rsyslog.conf", captures.text(f"rsyslog/{name}.conf"))
    ]
    assert found == expected


def test_ruleset_bound_to_an_input_counts():
    text = 'input(type="imtcp" port="514" ruleset="fwd")\nruleset(name="fwd") {\n action(type="omfwd" target="a")\n}\n'
    assert [t["host"] for t in rsyslog_targets("/etc/rsyslog.conf", text)] == ["a"]


_dump = tar_section


def test_only_included_files_count(captures):
    main = captures.text("rsyslog/debian_default_rsyslog.conf")
    forward = captures.text("rsyslog/rsyslog.d/60-forward.conf")
    value = FACT.parse([raw(_dump({"/etc/rsyslog.conf": main, "/etc/rsyslog.d/60-forward.conf": forward}))], {})
    assert value["target_hosts"] == ["10.0.0.5"]
    # The same rule in a file the include glob does not match is not configuration.
    value = FACT.parse(
        [raw(_dump({"/etc/rsyslog.conf": main, "/etc/rsyslog.d/60-forward.conf.disabled": forward}))], {}
    )
    assert value["target_hosts"] == []
    assert value["files_ignored"] == ["/etc/rsyslog.d/60-forward.conf.disabled"]


def test_rainerscript_include(captures):
    main = captures.text("rsyslog/include_rainerscript_optional.conf")
    value = FACT.parse([raw(_dump({"/etc/rsyslog.conf": main, "/etc/rsyslog.d/x.conf": "*.* @@10.1.1.1\n"}))], {})
    assert value["target_hosts"] == ["10.1.1.1"]


@pytest.mark.parametrize(
    ("name", "hosts"),
    [
        ("network_tcp_minimal", ["10.0.0.5"]),
        ("debian_default_plus_network_tcp", ["10.0.0.5"]),
        ("legacy_tcp_udp_drivers", ["10.0.0.5", "10.0.0.6", "logs.example.org"]),
        ("network_defined_not_used", []),  # a destination no log path uses sends nothing
        ("network_commented_out", []),
        ("debian_default_syslog-ng", []),
    ],
)
def test_syslog_ng(captures, name, hosts):
    assert captures.run(f"syslog-ng/{name}.validate")[2] == 0
    targets = syslog_ng_targets({"/etc/syslog-ng/syslog-ng.conf": captures.text(f"syslog-ng/{name}.conf")})
    assert sorted({t["host"] for t in targets}) == hosts


def test_unreadable_config_without_targets_is_unreadable():
    stderr = "tar: etc/rsyslog.conf: Cannot open: Permission denied\ntar: Exiting with failure status\n"
    with pytest.raises(FactUnreadable, match=r"/etc/rsyslog\.conf"):
        FACT.parse([raw("@@tar\n", 0, stderr)], {})


# rsyslog's own reading: ``rsyslogd -N1 -o`` run by the fact's snippet on a bookworm lab host (8.2302).
def _own(captures, stem: str, archive: dict[str, str] | None = None) -> dict:
    from auditor.facts.syslog_forwarding import SyslogForwardingFact

    out, err = captures.text(f"rsyslog/{stem}.out"), captures.text(f"rsyslog/{stem}.stderr")
    return SyslogForwardingFact().parse([raw(out, stderr=err), raw(tar_section(archive or {}))], {})


def test_rsyslogd_follows_an_include_outside_rsyslog_d(captures):
    """include(file="/etc/rsyslog.extra/*.conf") from 50-fwd.conf: rsyslog reads x.conf, which names other.example."""
    value = _own(captures, "n1_include_outside")
    assert value["reading"] == "rsyslogd -N1"
    assert "/etc/rsyslog.extra/x.conf" in value["files_read"]
    assert {"10.77.25.2", "loghost.example", "other.example"} <= set(value["target_hosts"])


def test_a_file_rsyslog_does_not_read_counts_for_nothing(captures):
    """fwd.conf.disabled is in rsyslog.d (the host's archive has it) but rsyslog does not read it."""
    value = _own(captures, "n1_not_included", {"/etc/rsyslog.d/fwd.conf.disabled": "*.* @@10.77.25.2:514\n"})
    assert value["target_hosts"] == []
    assert "/etc/rsyslog.d/fwd.conf.disabled" in value["files_ignored"]


def test_a_forwarding_rule_rsyslog_reports_as_an_error_is_not_a_pass(captures):
    """action(... bogus="1"): rsyslogd -N1 says "parameter 'bogus' not known" and creates no action."""
    with pytest.raises(FactUnreadable, match=r"70-bad\.conf:1"):
        _own(captures, "n1_error")


def test_no_rsyslogd_falls_back_to_the_files():
    from auditor.facts.syslog_forwarding import SyslogForwardingFact

    files = {"/etc/rsyslog.conf": "$IncludeConfig /etc/rsyslog.d/*.conf\n", "/etc/rsyslog.d/a.conf": "*.* @h1\n"}
    value = SyslogForwardingFact().parse([raw("@@no-rsyslogd\n"), raw(tar_section(files))], {})
    assert value["target_hosts"] == ["h1"] and value["reading"] == "the files rsyslog.conf includes"
