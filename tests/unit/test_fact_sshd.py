"""sshd_effective on real `sshd -T` outputs (tests/unit/data/sshd)."""

from __future__ import annotations

import pytest
from conftest import raw, tar_section

from auditor.facts.base import FactUnreadable
from auditor.facts.sshd_effective import SshdEffectiveFact, match_overrides

FACT = SshdEffectiveFact()


def fact_outputs(captures, stem: str, files: dict[str, str] | None = None) -> list:
    """Its own snippet's output (sshd -T), then the host's archive holding these files."""
    out, _, _ = captures.run(stem)
    archive = tar_section({path: captures.text(rel) for path, rel in (files or {}).items()})
    return [raw("@@settings\n" + out), raw(archive)]


@pytest.mark.parametrize(
    ("stem", "root", "password"),
    [
        ("sshd/a_no_no", "no", "no"),
        ("sshd/b_include_first_wins", "yes", "no"),  # drop-in's "yes" is read before the main file's "no"
        ("sshd/c_prohibit_password", "without-password", "yes"),  # prohibit-password is not "no"
        ("sshd/d_debian_default", "without-password", "yes"),
    ],
)
def test_effective_settings(captures, stem, root, password):
    value = FACT.parse(fact_outputs(captures, stem), {})
    assert value["present"] is True
    assert value["permitrootlogin"] == root
    assert value["passwordauthentication"] == password


def test_match_block_loosening_is_reported(captures):
    files = {"/etc/ssh/sshd_config": "sshd/h_match_block.input.conf"}
    value = FACT.parse(fact_outputs(captures, "sshd/h_match_block_no_C", files), {})
    # sshd -T without -C shows the global "no"; the Match block says yes.
    assert value["permitrootlogin"] == "no"
    assert len(value["match_overrides"]["permitrootlogin"]) == 1
    assert "Match Address 10.0.0.0/8" in value["match_overrides"]["permitrootlogin"][0]
    assert len(value["match_overrides"]["passwordauthentication"]) == 1


def test_match_in_file_not_included_is_ignored():
    files = {
        "/etc/ssh/sshd_config": "PermitRootLogin no\n",
        "/etc/ssh/sshd_config.d/stray.conf": "Match User x\n PermitRootLogin yes\n",
    }
    assert match_overrides(files) == []
    files["/etc/ssh/sshd_config"] = "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\n"
    assert [o["setting"] for o in match_overrides(files)] == ["permitrootlogin"]


@pytest.mark.parametrize("stem", ["sshd/e_non_root", "sshd/f_syntax_error", "sshd/g_missing_privsep_dir"])
def test_failures_are_unreadable_not_values(captures, stem):
    out, err, rc = captures.run(stem)
    assert rc != 0
    with pytest.raises(FactUnreadable) as exc:
        FACT.parse([raw("@@settings\n" + out, rc, err), raw(tar_section({}))], {})
    assert err.strip().splitlines()[0][:40] in str(exc.value)


def test_absent_sshd():
    assert FACT.parse([raw("@@absent\n"), raw(tar_section({}))], {}) == {"present": False}


def test_access_lists_are_every_allow_line():
    settings = "port 22\nallowusers alice\nallowusers bob@10.0.0.0/8\nallowgroups admins\npermitrootlogin no\n"
    value = FACT.parse([raw("@@settings\n" + settings), raw(tar_section({}))], {})
    assert value["access_lists"] == ["allowusers alice", "allowusers bob@10.0.0.0/8", "allowgroups admins"]
    assert FACT.parse([raw("@@settings\nport 22\n"), raw(tar_section({}))], {})["access_lists"] == []


def test_an_unreadable_configuration_file_is_an_error_not_a_pass():
    """A Match block in a file sudo could not read would go unseen: no verdict from the rest."""
    denied = "tar: etc/ssh/sshd_config.d/x.conf: Cannot open: Permission denied\n"
    with pytest.raises(FactUnreadable, match=r"sshd_config\.d/x\.conf"):
        FACT.parse([raw("@@settings\nport 22\n"), raw(tar_section({}), 0, denied)], {})


def test_other_facts_files_in_the_shared_archive_are_not_its_own():
    """The host's archive holds every file-reading fact's files: a Match block in a file sshd never
    reads (an rsyslog file here) is not sshd's, and its own files are still found."""
    files = {"/etc/ssh/sshd_config": "Match User x\n PermitRootLogin yes\n",
             "/etc/rsyslog.d/sshd_config": "Match User y\n PasswordAuthentication yes\n"}  # fmt: skip
    value = FACT.parse([raw("@@settings\npermitrootlogin no\n"), raw(tar_section(files))], {})
    assert len(value["match_overrides"]["permitrootlogin"]) == 1
    assert value["match_overrides"]["passwordauthentication"] == []


def test_match_blocks_loosening_session_access_and_banner():
    """sshd 9.2 (lab base) accepts these in a Match block and `sshd -T -C addr=10.1.1.1,...` showed
    clientaliveinterval 0, allowusers *, banner none for such a connection; Ciphers, MACs,
    KexAlgorithms and LoginGraceTime it refuses there ("not allowed within a Match block")."""
    config = (
        "Include /etc/ssh/sshd_config.d/*.conf\nClientAliveInterval 300\nAllowUsers admin\n"
        "Banner /etc/ssh/legal-banner\nMatch Address 10.0.0.0/8\n  ClientAliveInterval 0\n"
        "  ClientAliveCountMax 0\n  AllowUsers *@10.* ops\n  AllowGroups wheel\n  Banner none\n"
        "Match User ops\n  ClientAliveInterval 600\n  Banner /etc/ssh/legal-banner\n"
    )
    found = match_overrides({"/etc/ssh/sshd_config": config}, {"banner": "/etc/ssh/legal-banner"})
    assert {(o["setting"], o["value"]) for o in found} == {
        ("clientaliveinterval", "0"), ("clientalivecountmax", "0"), ("allowusers", "*@10.* ops"), ("banner", "none"),
    }  # fmt: skip


def test_the_banner_is_the_file_sshd_names():
    settings = "port 22\nbanner /etc/legal/notice.txt\n"
    out = f"@@settings\n{settings}@@banner-text\n|Authorised use only.\n|@@absent\n"
    value = FACT.parse([raw(out), raw(tar_section({}))], {})
    assert value["banner_file"] == "read" and value["present"] is True
    assert value["banner_text"] == "Authorised use only.\n@@absent"  # file content cannot fake a section
    missing = FACT.parse([raw(f"@@settings\n{settings}@@banner-missing\n"), raw(tar_section({}))], {})
    assert missing["banner_file"] == "missing" and missing["banner_text"] == ""
    none = FACT.parse([raw("@@settings\nport 22\nbanner none\n"), raw(tar_section({}))], {})
    assert none["banner_file"] == "none"
