"""sysctl_effective and pam_limits on real outputs: /proc/sys read by the lab pair kernfalsepass /
kernfalsefail (tests/unit/data/sysctl), the boot's file order checked there against procps 4.0.2,
and systemd-sysctl --cat-config captured on a Debian machine."""

from __future__ import annotations

from pathlib import Path

from conftest import raw, tar_section

from auditor.facts.pam_limits import PamLimitsFact
from auditor.facts.sysctl_effective import SysctlEffectiveFact, normalize, procps_order
from auditor.model import Evidence, Fact, FactSpec, Verdict

DATA = Path(__file__).parent / "data/sysctl"
SYSCTL, LIMITS = SysctlEffectiveFact(), PamLimitsFact()
NET = {"keys": ["net.ipv4.ip_forward", "net.ipv4.conf.all.accept_redirects",
                "net.ipv4.conf.all.send_redirects", "net.ipv4.conf.all.accept_source_route"]}  # fmt: skip
LINKS = "fs.protected_fifos = 1\nfs.protected_regular = 2\n"


def _sysctl(running: str, files: dict[str, str], params: dict, reader: str = "@@procps\n") -> dict:
    out = (DATA / running).read_text() + reader
    return SYSCTL.parse([raw(out), raw(tar_section(files))], params)


def test_procps_order_as_sysctl_system_printed_it_in_the_lab() -> None:
    """``* Applying`` lines of kernfalsefail1: sorted by name across directories, /etc masks /usr/lib,
    /lib (a link to /usr/lib) adds nothing, /etc/sysctl.conf last."""
    paths = ["/etc/sysctl.d/60-host.conf", "/usr/local/lib/sysctl.d/50-nocore.conf", "/usr/lib/sysctl.d/50-router.conf",
             "/usr/lib/sysctl.d/99-protect-links.conf", "/lib/sysctl.d/99-protect-links.conf", "/etc/sysctl.conf",
             "/etc/sysctl.d/README.sysctl"]  # fmt: skip
    assert procps_order(paths) == [
        "/usr/local/lib/sysctl.d/50-nocore.conf", "/usr/lib/sysctl.d/50-router.conf", "/etc/sysctl.d/60-host.conf",
        "/usr/lib/sysctl.d/99-protect-links.conf", "/etc/sysctl.conf",
    ]  # fmt: skip
    masked = ["/etc/sysctl.d/99-protect-links.conf", "/usr/lib/sysctl.d/99-protect-links.conf"]
    assert procps_order(masked) == ["/etc/sysctl.d/99-protect-links.conf"]


def test_slash_keys() -> None:
    assert normalize("net/ipv4/ip_forward ") == "net.ipv4.ip_forward"
    assert normalize("net/ipv4/conf/eth0.1/rp_filter") == "net.ipv4.conf.eth0/1.rp_filter"


def test_all_zero_but_eth0_sends_redirects_and_a_later_file_forwards() -> None:
    value = _sysctl("falsepass.running.txt", {
        "/etc/sysctl.d/90-network.conf": "net.ipv4.ip_forward = 0\nnet.ipv4.conf.all.send_redirects = 0\n",
        "/etc/sysctl.d/99-zz-router.conf": "net.ipv4.ip_forward = 1\n",
        "/usr/lib/sysctl.d/99-protect-links.conf": LINKS,
    }, NET)  # fmt: skip
    assert value["running_hardened"] is False
    assert "send_redirects = 1 on eth0" in value["running_summary"]
    assert value["persisted_hardened"] is False
    assert "net.ipv4.ip_forward = 1 (/etc/sysctl.d/99-zz-router.conf:1)" in value["persisted_summary"]


def test_source_routing_needs_both_and_a_later_zero_wins() -> None:
    value = _sysctl("falsefail.running.txt", {
        "/usr/lib/sysctl.d/50-router.conf": "net.ipv4.ip_forward = 1\n",
        "/etc/sysctl.d/60-host.conf": "net/ipv4/ip_forward = 0\n" + "".join(
            f"net.ipv4.conf.{i}.{k} = 0\n" for i in ("all", "default") for k in ("accept_redirects", "send_redirects")
        ) + "net.ipv4.conf.all.accept_source_route = 1\nnet.ipv4.conf.default.accept_source_route = 0\n",
    }, NET)  # fmt: skip
    assert value["running_hardened"] is True, value["running_summary"]
    assert value["persisted_hardened"] is True, value["persisted_summary"]


def test_redirects_not_set_in_any_file_stay_on_after_reboot() -> None:
    value = _sysctl("falsefail.running.txt", {"/etc/sysctl.d/60-host.conf": "net.ipv4.ip_forward = 0\n"}, NET)
    assert value["persisted_hardened"] is False
    assert "accept_redirects = 1 (kernel default)" in value["persisted_summary"]


def test_a_pattern_that_the_two_programs_order_differently_is_unknown() -> None:
    files = {"/etc/sysctl.d/10-all.conf": "net.ipv4.conf.*.send_redirects = 0\n"}
    value = _sysctl("falsefail.running.txt", files, {"keys": ["net.ipv4.conf.all.send_redirects"]})
    assert value["persisted_hardened"] is None


def test_an_unreadable_running_value_is_unknown() -> None:
    out = "@@running\ngrep: /proc/sys/fs/suid_dumpable: No such file or directory\n@@procps\n"
    value = SYSCTL.parse([raw(out), raw(tar_section({}))], {"keys": ["fs.suid_dumpable"]})
    assert value["running_hardened"] is None


def test_systemd_reads_its_own_files_not_sysctl_conf() -> None:
    """With systemd, /etc/sysctl.conf counts only through a sysctl.d link (--cat-config shows it)."""
    cat = (DATA / "machine.cat-config.txt").read_text()
    reader = "@@systemd\n" + cat + "# /etc/sysctl.d/90-nocore.conf\nfs.suid_dumpable = 0\n@@rc 0\n"
    files = {"/etc/sysctl.conf": "fs.suid_dumpable = 2\n"}  # in the archive, but systemd-sysctl does not read it
    value = _sysctl("falsefail.running.txt", files, {"keys": ["fs.suid_dumpable"]}, reader)
    assert value["persisted_hardened"] is True, value["persisted_summary"]
    assert value["boot_reader"] == "systemd"


def _limits(files: dict[str, str]) -> dict:
    return LIMITS.parse([raw(""), raw(tar_section(files))], {"item": "core"})


def test_a_later_limits_file_undoes_the_zero() -> None:
    """kernfalsepass1: its SSH login's ``ulimit -Hc`` is unlimited."""
    value = _limits({"/etc/security/limits.conf": "#*               soft    core            0\n",
                     "/etc/security/limits.d/90-nocore.conf": "* hard core 0\n",
                     "/etc/security/limits.d/99-debug.conf": "# dumps\n* hard core unlimited\n"})  # fmt: skip
    assert value["zero"] is False and "99-debug.conf:2" in value["summary"]


def test_dash_type_and_trailing_comment_set_the_hard_limit() -> None:
    """kernfalsefail1: its SSH login's ``ulimit -Hc`` is 0."""
    value = _limits({"/etc/security/limits.d/90-nocore.conf": "*   -   core   0   # soft and hard\n"})
    assert value["zero"] is True


def test_no_entry_is_not_restricted() -> None:
    assert _limits({"/etc/security/limits.conf": "# nothing\n"})["zero"] is False


# --- USBGuard: the running daemon's own answer, never its file --------------------------------------------


def _usb_verdict(policy: Fact) -> tuple:
    from auditor.catalog import load_catalog
    from auditor.evaluate import judge

    facts = {
        "usb": _fact("kernel_module", {"blocked_effective": False, "summary": "modprobe would load usb-storage"}),
        "usbguard": _fact("process", {"running": ["usbguard-daemon"]}),
        "usbguard_policy": policy,
    }
    return judge(load_catalog().checks["LNX-USB-STORAGE-BLOCKED"], facts, {})


def _fact(type_name: str, value: dict | None, error: str | None = None) -> Fact:
    return Fact(FactSpec(type_name, {}), value, error, Evidence("sample", 0, "", "2026-11-23T12:00:00Z"))


def test_usbguard_that_cannot_be_asked_is_not_a_pass() -> None:
    status, reason = _usb_verdict(_fact("command", None, "command failed (exit 1): IPC connection refused"))
    assert status == Verdict.ERROR, reason


def test_usbguard_judged_on_its_answer() -> None:
    status, _ = _usb_verdict(_fact("command", {"lines": ["allow"], "rc": 0}))
    assert status == Verdict.FAIL
    status, _ = _usb_verdict(_fact("command", {"lines": ["block"], "rc": 0}))
    assert status == Verdict.PASS
