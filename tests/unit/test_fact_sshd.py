"""sshd_effective on real `sshd -T` outputs (tests/unit/data/sshd)."""

from __future__ import annotations

import pytest
from conftest import raw, tar_section

from auditor.facts.base import FactUnreadable
from auditor.facts.sshd import SshdEffectiveFact, match_overrides

FACT = SshdEffectiveFact()


def fact_output(captures, stem: str, files: dict[str, str] | None = None) -> str:
    out, _, _ = captures.run(stem)
    return "@@settings\n" + out + tar_section({path: captures.text(rel) for path, rel in (files or {}).items()})


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
    value = FACT.parse([raw(fact_output(captures, stem))], {})
    assert value["present"] is True
    assert value["permitrootlogin"] == root
    assert value["passwordauthentication"] == password


def test_match_block_loosening_is_reported(captures):
    files = {"/etc/ssh/sshd_config": "sshd/h_match_block.input.conf"}
    value = FACT.parse([raw(fact_output(captures, "sshd/h_match_block_no_C", files))], {})
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
        FACT.parse([raw("@@settings\n" + out, rc, err)], {})
    assert err.strip().splitlines()[0][:40] in str(exc.value)


def test_absent_sshd():
    assert FACT.parse([raw("@@absent\n")], {}) == {"present": False}


def test_access_lists_are_every_allow_line():
    settings = "port 22\nallowusers alice\nallowusers bob@10.0.0.0/8\nallowgroups admins\npermitrootlogin no\n"
    value = FACT.parse([raw("@@settings\n" + settings + "@@tar\n")], {})
    assert value["access_lists"] == ["allowusers alice", "allowusers bob@10.0.0.0/8", "allowgroups admins"]
    assert FACT.parse([raw("@@settings\nport 22\n@@tar\n")], {})["access_lists"] == []
