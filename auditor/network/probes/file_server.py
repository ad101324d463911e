"""``file_server``: the file server at ``url`` answers and lists a folder with the auditor's credentials
(``key``: a private key file). Each (server, key) is listed once a run, whichever hosts ask."""

from __future__ import annotations

import os
from typing import Any

from auditor import addresses
from auditor.model import Host
from auditor.network.probes.base import Later, ProbeType, Reading, Run, Target, params_schema, readable_file, register


def _server_url(value: Any) -> addresses.Url:
    try:
        return addresses.url(value, ("sftp", "smb", "ftps"), allow_user=True)
    except addresses.AddressError as exc:
        raise addresses.AddressError(f"{exc} (expected sftp://[user@]host[:port]/path)") from None


@register
class FileServer(ProbeType):
    name = "file_server"
    params_schema = params_schema(["url"], ["key"])
    parsers = {"url": _server_url, "key": readable_file}

    def contacts(self, host: Host, params: dict[str, Any]) -> dict[str, str]:
        return {"url": _server_url(params["url"]).host} if "url" in params else {}

    def probe(self, target: Target) -> Later | None:
        return Later() if "url" in target.params else None  # listed once per server, after every host's probes

    def finish(self, later: list[tuple[Target, Later]], run: Run) -> dict[str, Reading]:
        from auditor.network import fileserver

        if run.stop.is_set():
            return {}
        reports: dict[tuple[str, str | None], fileserver.FileServerReport] = {}
        out: dict[str, Reading] = {}
        for target, _ in later:
            url, key = str(target.params["url"]), target.params.get("key")
            key = os.path.expanduser(str(key)) if key else None
            if (url, key) not in reports:
                reports[(url, key)] = fileserver.probe(url, key, run.connect, run.timeout)
            report = reports[(url, key)]
            command = f"sftp listing of {url}" + (f" with key {key}" if key else "")
            if report.listed is None:
                out[target.host.name] = Reading(None, report.error or "no answer", command, report.transcript, None)
                continue
            value = {
                "answered": report.answered,
                "listed": report.listed,
                "entries": len(report.entries),
                "detail": report.error or f"{len(report.entries)} entries",
            }
            out[target.host.name] = Reading(value, None, command, report.transcript)
        return out
