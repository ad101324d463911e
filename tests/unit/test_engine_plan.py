"""What the engine asks a host to run: deduplicated and merged snippets (pure, no host)."""

from __future__ import annotations

from auditor.catalog import load_catalog
from auditor.catalog.playbook import load_playbook
from auditor.engine import plan_work
from auditor.model import Host, HostPlan


def test_package_facts_share_one_dpkg_query_and_sshd_runs_once():
    catalog = load_catalog()
    checks = [c for c in catalog.checks.values() if c.applies.get("os") == "linux" and c.id.startswith("LNX-")]
    params = {**load_playbook("baseline", catalog).params, "log_server": "10.0.0.2"}
    work = plan_work(HostPlan(Host(name="h", address="10.0.0.1"), checks, params))
    package_types = [s for s in work.specs.values() if s.type == "package"]
    assert len(package_types) > 1
    assert sum("dpkg-query" in s for s in work.snippets) == 1
    assert sum("sshd -T" in s for s in work.snippets) == 1
    assert len(work.snippets) == len(set(work.snippets))


def test_hosts_with_the_same_checks_and_parameters_share_one_work_plan():
    from dataclasses import replace

    from auditor.engine import _work_of

    catalog = load_catalog()
    checks = [c for c in catalog.checks.values() if c.id.startswith("LNX-")]
    params = {**load_playbook("baseline", catalog).params, "log_server": "10.0.0.2"}
    first = _work_of(HostPlan(Host(name="a", address="10.0.0.1"), checks, dict(params)))
    assert _work_of(HostPlan(Host(name="b", address="10.0.0.2"), list(checks), dict(params))) is first
    other = _work_of(HostPlan(Host(name="c", address="10.0.0.3"), checks, {**params, "log_server": "10.0.0.9"}))
    assert other is not first
    # Another catalog's checks under the same ids (a test, a reloaded catalog) get their own plan.
    changed = [replace(c, facts={}) if c.id == checks[0].id else c for c in checks]
    assert _work_of(HostPlan(Host(name="d", address="10.0.0.4"), changed, dict(params))) is not first


def test_a_fact_served_by_a_shared_grep_shows_its_own_equivalent_command_as_evidence():
    from dataclasses import replace

    from auditor.facts import REGISTRY
    from auditor.model import FactSpec

    catalog = load_catalog()
    checks = [c for c in catalog.checks.values() if c.id.startswith("LNX-")]
    # The catalog reads most configuration through the programs now: two greps of its own besides.
    greps_of = {"issue": ("/etc/issue*", "[Aa]uthori[sz]ed"), "motd": ("/etc/motd", "[Mm]onitored")}
    checks += [replace(checks[0], id=f"TEST-GREP-{name.upper()}",
                       facts={name: FactSpec("config_grep", {"paths": [path], "pattern": pattern})})
               for name, (path, pattern) in greps_of.items()]  # fmt: skip
    params = {**load_playbook("baseline", catalog).params, "log_server": "10.0.0.2"}
    work = plan_work(HostPlan(Host(name="h", address="10.0.0.1"), checks, params))
    greps = [key for key, spec in work.specs.items() if spec.type == "config_grep"]
    assert len(greps) > 1 and len({i for key in greps for i in work.spec_snippets[key]}) == 1  # one grep ran
    for key in greps:
        own = REGISTRY["config_grep"].snippets(work.specs[key].params)[0]
        assert work.commands[key].startswith(own + "\n# ") and "shared" in work.commands[key]
    # Not repeated: a few hundred characters a fact, not the shared snippet's thousands.
    assert all(len(work.commands[key]) < 1000 for key in greps)


def test_facts_that_read_files_share_one_archive_and_name_their_own_files_as_evidence():
    from auditor.facts import REGISTRY
    from auditor.facts.base import files_snippet

    catalog = load_catalog()
    checks = [c for c in catalog.checks.values() if c.id.startswith("LNX-")]
    params = {**load_playbook("baseline", catalog).params, "log_server": "10.0.0.2"}
    work = plan_work(HostPlan(Host(name="h", address="10.0.0.1"), checks, params))
    readers = {key: spec for key, spec in work.specs.items() if REGISTRY[spec.type].files(spec.params)}
    from auditor.facts.syslog_forwarding import RSYSLOG_SNIPPET

    expected = {
        "sshd_effective",
        "syslog_forwarding",
        "sudo_logging",
        "sysctl_effective",
        "pam_limits",
        "accounts",
        "pam_lockout",
        "cron_jobs",
    }
    assert {s.type for s in readers.values()} >= expected
    # one archive a host (rsyslog's own reading tars, besides, the files rsyslogd -N1 names: no pattern has them)
    assert sum("tar -C /" in s for s in work.snippets if s != RSYSLOG_SNIPPET) == 1
    archive = {work.spec_snippets[key][-1] for key in readers}
    assert len(archive) == 1 and "tar -C /" in work.snippets[archive.pop()]  # given last to each reader
    for key, spec in readers.items():
        own = files_snippet(REGISTRY[spec.type].files(spec.params))
        assert own + "  # its files, from one archive shared" in work.commands[key]
        assert "/etc/logrotate.conf" not in work.commands[key] or spec.type == "logrotate"
