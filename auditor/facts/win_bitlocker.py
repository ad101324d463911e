"""``win_bitlocker``: BitLocker protection of the volumes (``Get-BitLockerVolume``: ``MountPoint``,
``VolumeType`` OperatingSystem/Data, ``ProtectionStatus`` On/Off/Unknown, ``VolumeStatus``,
``EncryptionPercentage``, ``EncryptionMethod``; enums cast to text by the snippet). Needs an
administrator; a host without the BitLocker feature has no such cmdlet (the fact is then unreadable,
never "protected").
"""

from __future__ import annotations

from typing import Any

from auditor.facts.base import FactUnreadable, RawOutput, register
from auditor.facts.winbase import PowerShellFact, json_items

_SNIPPET = (
    "Get-BitLockerVolume -ErrorAction Stop | Select-Object MountPoint, "
    "@{n='VolumeType';e={[string]$_.VolumeType}}, @{n='ProtectionStatus';e={[string]$_.ProtectionStatus}}, "
    "@{n='VolumeStatus';e={[string]$_.VolumeStatus}}, EncryptionPercentage, "
    "@{n='EncryptionMethod';e={[string]$_.EncryptionMethod}}"
)


@register
class WinBitlockerFact(PowerShellFact):
    name = "win_bitlocker"
    script = _SNIPPET

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        volumes = [
            {
                "mount_point": str(v.get("MountPoint")),
                "type": str(v.get("VolumeType")),
                "protected": str(v.get("ProtectionStatus")) in ("On", "1"),
                "status": str(v.get("VolumeStatus")),
                "percent": v.get("EncryptionPercentage"),
                "method": str(v.get("EncryptionMethod")),
            }
            for v in json_items(outputs[0], "Get-BitLockerVolume")
        ]
        os_volume = next((v for v in volumes if v["type"] in ("OperatingSystem", "0")), None)
        if os_volume is None:
            raise FactUnreadable("Get-BitLockerVolume listed no operating-system volume")
        unprotected = [v["mount_point"] for v in volumes if not v["protected"]]
        return {
            "volumes": volumes,
            "os_volume_protected": os_volume["protected"],
            "unprotected": unprotected,
            "summary": "; ".join(
                f"{v['mount_point']} {v['type']}: protection {'On' if v['protected'] else 'Off'}, {v['status']}"
                f" {v['percent']}% {v['method']}"
                for v in volumes
            ),
        }
