"""The lab's command line: AUDITOR_LAB_NET picks its network, --cleanup touches only that lab (pure: no lab)."""

from __future__ import annotations

import pytest

from tests.lab.lab import BRIDGE_MARK, LabError, lab_mounts, parse_args


def test_cli_defaults_follow_auditor_lab_net(monkeypatch):
    monkeypatch.setenv("AUDITOR_LAB_NET", "14")
    args = parse_args(["--cleanup"])
    assert (args.bridge, args.subnet) == ("audlab14", "10.77.14.0/24")
    assert parse_args(["--bridge", "x1"]).bridge == "x1"  # explicit options still win
    monkeypatch.delenv("AUDITOR_LAB_NET")
    assert parse_args([]).bridge == "audlab0"
    for bad in ("abc", "255", "-1", "1 4"):
        monkeypatch.setenv("AUDITOR_LAB_NET", bad)
        with pytest.raises(LabError, match="AUDITOR_LAB_NET"):
            parse_args([])


def test_cleanup_unmounts_only_its_own_labs_overlays(tmp_path):
    labs = {}
    for name, bridge in (("a", "audlab14"), ("b", "audlab1"), ("c", "audlab141"), ("d", None)):
        lab = tmp_path / f"auditor-lab-{name}"
        (lab / "hosts" / "h1" / "root").mkdir(parents=True)
        if bridge:
            (lab / BRIDGE_MARK).write_text(bridge + "\n")
        labs[name] = f"{lab}/hosts/h1/root"
    mounts = "".join(f"overlay {target} overlay rw,lowerdir=/x 0 0\n" for target in labs.values())
    mounts += f"proc {labs['a']}/proc proc rw 0 0\noverlay /var/lib/docker/x/merged overlay rw 0 0\n"
    mine, unknown = lab_mounts("audlab14", mounts)
    assert mine == [labs["a"]]
    assert unknown == [labs["d"]]  # started by code without the mark: reported, never unmounted
    assert lab_mounts("audlab1", mounts)[0] == [labs["b"]]
