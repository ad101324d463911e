"""One PowerShell 5.1 script per Windows host: the analogue of ``auditor.batch`` for ``os: windows``.

The SSH command is a short fixed bootstrap, ``powershell -NoProfile -NonInteractive -EncodedCommand
<base64 UTF-16LE>``, that reads the real script from stdin (base64 of UTF-8, so no code page can
mangle it, and nothing of it shows in the process list) and runs it. Each snippet travels base64-encoded
too (no quoting problem can reach PowerShell), runs in its own runspace with a time limit, and what it
returns is printed as ``ConvertTo-Json`` (always an array) between the same nonce markers as the sh
batch, so ``batch.split`` reads it. A snippet past its limit is stopped and reported with exit 124,
marked ``timeout``; a terminating error gives exit 1 with the message on the snippet's stderr.

Verified on constructed samples only, not on a real Windows host (see README).
"""

from __future__ import annotations

import base64
import secrets

from auditor import batch
from auditor.batch import Batch
from auditor.facts.base import RawOutput

OUTPUT_LIMIT = 4 * 1024 * 1024  # per snippet, characters of JSON kept

_BOOTSTRAP = (
    "$ProgressPreference='SilentlyContinue';"
    "$b=[Console]::In.ReadToEnd();"
    "$s=[Text.Encoding]::UTF8.GetString([Convert]::FromBase64String(($b -replace '\\s','')));"
    "& ([scriptblock]::Create($s))"
)

_PRELUDE = """\
$ErrorActionPreference = 'Continue'
$ProgressPreference = 'SilentlyContinue'
[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false
$m = '{marker}'
function _run([string]$id, [string]$b64, [int]$limit) {{
  $code = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($b64))
  $ps = [powershell]::Create()
  [void]$ps.AddScript($code)
  $h = $ps.BeginInvoke()
  $rc = 0; $out = ''; $err = ''; $to = ''
  if ($h.AsyncWaitHandle.WaitOne($limit * 1000)) {{
    try {{
      $r = $ps.EndInvoke($h)
      $out = ConvertTo-Json -InputObject @($r) -Depth 6 -Compress
    }} catch {{ $rc = 1; $err = $_.Exception.Message }}
    if ($ps.Streams.Error.Count -gt 0) {{
      $err = ($err + "`n" + (($ps.Streams.Error | ForEach-Object {{ $_.ToString() }}) -join "`n")).Trim()
    }}
    $ps.Dispose()
  }} else {{
    [void]$ps.BeginStop($null, $null); $rc = 124; $to = ' timeout'; $err = "timed out after $limit s"
  }}
  if ($out.Length -gt {out_limit}) {{ $out = $out.Substring(0, {out_limit}) }}
  [Console]::Out.Write("`n$m BEGIN $id`n" + $out + "`n$m STDERR $id`n" + $err + "`n$m END $id $rc$to`n")
  [Console]::Out.Flush()
}}
"""


def shell_command() -> str:
    """The command the SSH transport executes on a Windows host (the script itself comes on stdin)."""
    encoded = base64.b64encode(_BOOTSTRAP.encode("utf-16-le")).decode("ascii")
    return f"powershell -NoProfile -NonInteractive -EncodedCommand {encoded}"


def build(snippets: list[str], timeout: int = 30, nonce: str | None = None) -> Batch:
    """The script for distinct PowerShell snippets; ``Batch.script`` is what goes on stdin (base64)."""
    nonce = nonce or secrets.token_hex(8)
    lines = [_PRELUDE.format(marker=batch.MARKER + nonce, out_limit=OUTPUT_LIMIT)]
    for i, snippet in enumerate(snippets):
        encoded = base64.b64encode(snippet.encode("utf-8")).decode("ascii")
        lines.append(f"_run '{i}' '{encoded}' {int(timeout)}")
    source = "\n".join(lines) + "\n"
    payload = base64.b64encode(source.encode("utf-8")).decode("ascii")
    # 76-character lines: a stdin reader never sees one huge line.
    wrapped = "\n".join(payload[i : i + 76] for i in range(0, len(payload), 76)) + "\n"
    return Batch(nonce=nonce, snippets=list(snippets), script=wrapped)


def source_of(built: Batch) -> str:
    """The PowerShell text inside a built batch (for tests and for showing what runs)."""
    return base64.b64decode("".join(built.script.split())).decode("utf-8")


def split(built: Batch, stdout: str) -> dict[int, RawOutput]:
    """Raw output per snippet id (Windows line ends normalised first)."""
    return batch.split(built, stdout.replace("\r\n", "\n"))
