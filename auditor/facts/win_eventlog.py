"""``win_eventlog``: size of the Security/System/Application logs and whether events leave the host.

Logs: ``Get-WinEvent -ListLog`` (EventLogConfiguration: ``LogName``, ``IsEnabled``,
``MaximumSizeInBytes``, ``LogMode`` Circular/AutoBackup/Retain). Forwarding: Windows Event
Forwarding subscription managers set by policy
(``HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\EventLog\\EventForwarding\\SubscriptionManager``, values
like ``Server=http://wec.example:5985/wsman/SubscriptionManager/WEC,Refresh=60``), and known
forwarding agents running as services (NXLog, Winlogbeat, Wazuh/OSSEC, Splunk UF, Snare, Fluent Bit).
An agent's own destination is not read, so a running agent only satisfies the check without a
``log_server`` parameter.
"""

from __future__ import annotations

import re
from typing import Any

from auditor.facts.base import RawOutput, register
from auditor.facts.winbase import PowerShellFact, as_list, enum_name, json_object

AGENTS = ["nxlog", "winlogbeat", "WazuhSvc", "OssecSvc", "SplunkForwarder", "Snare", "fluent-bit"]
_SNIPPET = (
    "$logs = foreach ($n in 'Security','System','Application') { try { Get-WinEvent -ListLog $n -ErrorAction Stop | "
    "Select-Object LogName, IsEnabled, MaximumSizeInBytes, @{n='LogMode';e={[string]$_.LogMode}}, FileSize } "
    "catch { [pscustomobject]@{LogName = $n; Error = $_.Exception.Message} } }\n"
    "$sm = Get-ItemProperty 'HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\EventLog\\EventForwarding\\"
    "SubscriptionManager' -ErrorAction SilentlyContinue\n"
    "$subs = @(if ($sm) { $sm.PSObject.Properties | Where-Object { $_.Name -notlike 'PS*' } | "
    "ForEach-Object { [string]$_.Value } })\n"
    "$agents = @(Get-Service -Name " + ",".join(f"'{a}'" for a in AGENTS) + " -ErrorAction SilentlyContinue | "
    "Select-Object Name, DisplayName, @{n='Status';e={[string]$_.Status}})\n"
    "[pscustomobject]@{logs = @($logs); subscription_managers = $subs; agents = $agents}"
)
_SERVER = re.compile(r"(?i)Server=(?:https?://)?([^:/,\s]+)")
_MODES = {0: "Circular", 1: "AutoBackup", 2: "Retain"}
_STATUS = {
    1: "Stopped",
    2: "StartPending",
    3: "StopPending",
    4: "Running",
    5: "ContinuePending",
    6: "PausePending",
    7: "Paused",
}


@register
class WinEventlogFact(PowerShellFact):
    name = "win_eventlog"
    script = _SNIPPET

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        v = json_object(outputs[0], "reading the event log settings")
        logs: dict[str, dict[str, Any]] = {}
        for log in as_list(v.get("logs")):
            name = str(log.get("LogName"))
            if log.get("Error"):
                logs[name] = {"error": str(log["Error"])}
                continue
            size = log.get("MaximumSizeInBytes")
            logs[name] = {
                "enabled": log.get("IsEnabled") is True,
                "max_mb": round(size / 1048576, 1) if isinstance(size, int) else None,
                "mode": enum_name(log.get("LogMode"), _MODES),
            }
        security = logs.get("Security", {})
        managers = [str(s) for s in as_list(v.get("subscription_managers")) if s]
        servers = [m.group(1).lower() for s in managers for m in [_SERVER.search(s)] if m]
        running = [
            str(a.get("Name")) for a in as_list(v.get("agents")) if enum_name(a.get("Status"), _STATUS) == "Running"
        ]
        targets = servers + [f"agent {a}" for a in running]
        return {
            "logs": logs,
            "security_enabled": security.get("enabled") if "error" not in security else None,
            "security_max_mb": security.get("max_mb"),
            "security_error": security.get("error"),
            "subscription_servers": servers,
            "agents_running": running,
            "forwarding_targets": targets,
            "summary": (
                f"Security log: {security.get('max_mb')} MB, {'enabled' if security.get('enabled') else 'disabled'}"
                if "error" not in security and security
                else f"Security log unreadable: {security.get('error', 'not listed')}"
            )
            + f"; forwarding: {', '.join(targets) if targets else 'none'}",
        }
