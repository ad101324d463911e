"""``win_usb_storage``: is USB mass storage blocked by configuration on a Windows host?

Blocked when any of these is set (registry, read with Get-ItemProperty):

* ``HKLM\\SYSTEM\\CurrentControlSet\\Services\\USBSTOR`` ``Start`` = 4: the USB mass-storage driver is
  disabled. A missing USBSTOR key is *not* blocked: Windows creates it, with Start=3, when the first
  stick is plugged in;
* ``HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\RemovableStorageDevices`` ``Deny_All`` = 1 (policy
  "All Removable Storage classes: Deny all access");
* the Removable Disks class ``{53f5630d-b6bf-11d0-94f2-00a0c91efb8b}`` with both ``Deny_Read`` and
  ``Deny_Write`` = 1;
* ``HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\DeviceInstall\\Restrictions`` ``DenyRemovableDevices``
  = 1 (device-installation policy: Windows refuses to install removable devices; a device installed
  before the policy keeps working, which the summary says).
"""

from __future__ import annotations

from typing import Any

from auditor.facts.base import RawOutput, register
from auditor.facts.winbase import PowerShellFact, json_object

_SNIPPET = r"""
$p = 'HKLM:\SYSTEM\CurrentControlSet\Services\USBSTOR'
$d = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\DeviceInstall\Restrictions'
$s = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\RemovableStorageDevices'
$k = Get-ItemProperty -Path "$s\{53f5630d-b6bf-11d0-94f2-00a0c91efb8b}" -ErrorAction SilentlyContinue
[pscustomobject]@{
  usbstor_present = (Test-Path $p)
  usbstor_start = (Get-ItemProperty -Path $p -ErrorAction SilentlyContinue).Start
  deny_removable_devices = (Get-ItemProperty -Path $d -ErrorAction SilentlyContinue).DenyRemovableDevices
  deny_all = (Get-ItemProperty -Path $s -ErrorAction SilentlyContinue).Deny_All
  removable_disk_deny_read = $k.Deny_Read
  removable_disk_deny_write = $k.Deny_Write
}
""".strip()


@register
class WinUsbStorageFact(PowerShellFact):
    name = "win_usb_storage"
    script = _SNIPPET

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        v = json_object(outputs[0], "reading the USB storage settings")
        blocked_by = []
        if v.get("usbstor_start") == 4:
            blocked_by.append("USBSTOR Start=4 (driver disabled)")
        if v.get("deny_all") == 1:
            blocked_by.append("RemovableStorageDevices Deny_All=1")
        if v.get("removable_disk_deny_read") == 1 and v.get("removable_disk_deny_write") == 1:
            blocked_by.append("Removable Disks Deny_Read=1 and Deny_Write=1")
        if v.get("deny_removable_devices") == 1:
            blocked_by.append("DeviceInstall DenyRemovableDevices=1 (new devices only)")
        start = v.get("usbstor_start")
        state = "USBSTOR key absent" if not v.get("usbstor_present") else f"USBSTOR Start={start}"
        return {
            "blocked": bool(blocked_by),
            "blocked_by": blocked_by,
            "usbstor_start": start,
            "summary": ("blocked by " + "; ".join(blocked_by))
            if blocked_by
            else f"not blocked ({state}, no deny policy)",
        }
