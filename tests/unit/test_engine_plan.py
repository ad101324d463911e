"""What the engine asks a host to run: deduplicated and merged snippets (pure, no host)."""

from __future__ import annotations

from auditor.catalog import load_catalog
from auditor.catalog.playbook import HostPlan, load_playbook
from auditor.engine import plan_work
from auditor.model import Host


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
