"""A small, independent implementation of the six baseline plan tasks' verdict rules, used by test_lab.py
to check that every profile's EXPECTED table is what its host really is (so a
verdict mismatch in test_verdicts.py points at the auditor, not at the lab)."""

from __future__ import annotations

import calendar
import json
import re
import time

IDS_PROCESSES = {
    "suricata", "snort", "zeek", "psad", "wazuh-agentd", "ossec-agentd", "crowdsec", "fail2ban-server",
}  # fmt: skip
MAX_AV_DAYS = 7

SCRIPT = r"""
S=""; sudo -n true 2>/dev/null && S="sudo -n"
echo "==AUTH"; $S /usr/sbin/sshd -T 2>&1; echo "rc=$?"
echo "==DPKG"; dpkg-query -W -f='${Package} ${Status}\n' clamav clamav-daemon 2>/dev/null
echo "==PROCS"; cat /proc/[0-9]*/comm 2>/dev/null | sort -u
echo "==CRON"; for f in /etc/crontab /etc/cron.d/* /etc/cron.daily/* /var/spool/cron/crontabs/*; do
  case "${f%/*}:${f##*/}" in /etc/cron.d:*[!A-Za-z0-9_-]*|/etc/cron.daily:*[!A-Za-z0-9_-]*) continue;; esac
  $S cat "$f" 2>/dev/null; done
C=/etc/clamav/clamd.conf
echo "==CLAMD"; s=$(awk '$1 == "LocalSocket" {print $2; exit}' $C 2>/dev/null); [ -S "$s" ] && perl -MIO::Socket -e \
  '$c = IO::Socket::UNIX->new(Peer => $ARGV[0]) or exit 1; print $c "zVERSION\0"; $/ = "\0"; $r = <$c>;' \
  -e 'chomp $r; print "$r\n"' "$s"
echo "==AVDB"; d=$(awk '$1 == "DatabaseDirectory" {print $2; exit}' $C 2>/dev/null)
for d in ${d:-/var/lib/clamav} /var/lib/clamav; do for f in $d/daily.cvd $d/daily.cld $d/daily.cud; do
  [ -f "$f" ] && echo "$d $(stat -c %Y "$f") $(head -c 512 "$f" | tr -d '\0' | tr -s ' ')"; done; echo "$d"; done
echo "==RSYSLOG"; d=$(mktemp -d); t="$d/conf"
  $S /usr/sbin/rsyslogd -N1 -o "$t" </dev/null >/dev/null 2>&1; echo "rc=$?"
  for f in $(sed -n 's/^##### BEGIN CONFIG: \(.*\) (put on stack)$/\1/p' "$t"); do $S cat "$f"; done; $S rm -rf "$d"
echo "==USB"; /usr/sbin/modprobe -n -v usb-storage 2>&1
echo "==USBGUARD"; $S usbguard get-parameter ImplicitPolicyTarget </dev/null 2>&1
echo "==NFT"; $S /usr/sbin/nft -j list ruleset 2>&1; echo "rc=$?"
"""


# The accounts a lookup by name finds, one lookup each (what login, su and sshd do): every name getent
# lists, and every name libnss-db's database holds (its own listing skips entries without an enumeration key).
ACCOUNTS_SCRIPT = r"""
S=""; sudo -n true 2>/dev/null && S="sudo -n"
{ getent passwd | cut -d: -f1; $S makedb -u /var/lib/misc/passwd.db 2>/dev/null | sed -n 's/^[.]\([^ ]*\) .*/\1/p'; } |
  sort -u | while IFS= read -r n; do
    getent passwd -- "$n" | head -n 1 | sed 's/^/P /'; $S getent shadow -- "$n" | head -n 1 | sed 's/^/S /'
  done
"""


def evaluate_accounts(output: str) -> dict[str, str]:
    """Only root has UID 0, and no password pam_unix would check is empty, among the accounts
    ACCOUNTS_SCRIPT looked up by name (the passwd field unless it is "x", else the shadow field)."""
    entries = [(line[:1], line[2:].split(":")) for line in output.splitlines() if line[:2] in ("P ", "S ")]
    passwd = {f[0]: f for kind, f in entries if kind == "P" and len(f) >= 7}
    shadow = {f[0]: f for kind, f in entries if kind == "S" and len(f) >= 9}
    uid0 = {name for name, f in passwd.items() if f[2] == "0"}
    empty = {name for name, f in passwd.items() if (shadow[name][1] if f[1] == "x" and name in shadow else f[1]) == ""}
    return {
        "LNX-ACCOUNTS-ONLY-ROOT-UID0": "pass" if uid0 == {"root"} else "fail",
        "LNX-ACCOUNTS-NO-EMPTY-PASSWORD": "fail" if empty else "pass",
    }


def sections(output: str) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    current = ""
    for line in output.splitlines():
        if line.startswith("==") and line[2:].isupper():
            current = line[2:]
            out[current] = []
        elif current:
            out[current].append(line)
    return {k: "\n".join(v) for k, v in out.items()}


def _rc(text: str) -> int:
    m = re.search(r"^rc=(\d+)$", text, re.M)
    return int(m.group(1)) if m else -1


def evaluate(output: str, log_server: str, now: float | None = None) -> dict[str, str]:
    s = sections(output)
    now = time.time() if now is None else now
    procs = set(s.get("PROCS", "").split())
    v: dict[str, str] = {}

    auth = s.get("AUTH", "")
    if _rc(auth) != 0:
        v["PT-AUTH"] = "error"
    else:
        conf = dict(line.split(" ", 1) for line in auth.splitlines() if " " in line)
        ok = conf.get("permitrootlogin") == "no" and conf.get("passwordauthentication") == "no"
        v["PT-AUTH"] = "pass" if ok else "fail"

    # dpkg: installed (wanted or held), no error flag; clamd.conf: first value wins; cron skips dotted names.
    installed = re.search(r" (install|hold) ok installed$", s.get("DPKG", ""), re.M) is not None
    cron = any(
        re.search(r"\bclamd?scan\b", line) and not line.lstrip().startswith("#")
        for line in s.get("CRON", "").splitlines()
    )
    loaded = re.match(r"ClamAV [^/]+/\d+/(.+)$", s.get("CLAMD", "").strip())
    if loaded:  # what the running clamd has loaded (lab hosts: UTC)
        built = calendar.timegm(time.strptime(" ".join(loaded.group(1).split()), "%a %b %d %H:%M:%S %Y"))
        fresh: bool | None = (now - built) / 86400 <= MAX_AV_DAYS
    elif "clamd" in procs:
        fresh = None  # it runs and does not say: the files may not be what it loaded
    else:  # every folder a scanner loads must hold a fresh database
        newest: dict[str, float] = {}
        for line in s.get("AVDB", "").splitlines():
            folder, _, rest = line.partition(" ")
            if not rest:
                newest.setdefault(folder, float("inf"))
                continue
            mtime, header = rest.split(" ", 1)
            last = header.strip().split(":")[-1]
            built = float(last) if header.startswith("ClamAV-VDB:") and last.isdigit() else float(mtime)
            newest[folder] = min(newest.get(folder, float("inf")), (now - built) / 86400)
        fresh = bool(newest) and max(newest.values()) <= MAX_AV_DAYS
    if fresh is None:
        v["PT-AV"] = "error" if installed and ("clamd" in procs or cron) else "fail"
    else:
        v["PT-AV"] = "pass" if installed and ("clamd" in procs or cron) and fresh else "fail"

    ls = re.escape(log_server)
    rule = re.compile(rf"^\s*[^#\s].*(@@?\[?{ls}\]?(:\d+)?\s*$|omfwd.*target=\"{ls}\")")
    # the files rsyslog itself says it reads (rsyslogd -N1 -o), and only a configuration it accepts whole
    rsyslog = s.get("RSYSLOG", "")
    forwards = _rc(rsyslog) == 0 and any(rule.search(line) for line in rsyslog.splitlines())
    v["PT-LOG"] = "pass" if "rsyslogd" in procs and forwards else "fail"

    usb = s.get("USB", "")
    blocked = re.search(r"^install (\S*/)?(true|false)(\s|$)", usb, re.M)
    # USBGuard: the running daemon's own answer, never its configuration file
    guarded = "usbguard-daemon" in procs and re.search(r"^(block|reject)$", s.get("USBGUARD", ""), re.M)
    v["PT-USB"] = "pass" if blocked or guarded else "fail"

    nft = s.get("NFT", "")
    if _rc(nft) != 0:
        v["PT-FIREWALL"] = "error"
    else:
        v["PT-FIREWALL"] = "pass" if _nft_effective(nft.rsplit("\nrc=", 1)[0]) else "fail"

    v["PT-IDS"] = "pass" if procs & IDS_PROCESSES else "fail"
    return v


def _nft_effective(text: str) -> bool:
    """A new TCP connection to an arbitrary port from an arbitrary address, arriving on eth0, is dropped by
    some input base chain -- for IPv4 and for IPv6 (every lab host has a link-local address)."""
    items = json.loads(text)["nftables"] if text.strip() else []
    chains = {}
    rules: dict[tuple[str, str, str], list[list[dict[str, object]]]] = {}
    for item in items:
        if "chain" in item:
            c = item["chain"]
            chains[(c["family"], c["table"], c["name"])] = c
        elif "rule" in item:
            r = item["rule"]
            rules.setdefault((r["family"], r["table"], r["chain"]), []).append(r["expr"])

    def verdict(key: tuple[str, str, str], family: str, depth: int = 0) -> str | None:
        for expr in rules.get(key, []):
            if not all(_matches(e, family) for e in expr):
                continue
            kind = next(iter(expr[-1])) if expr else ""
            if kind in ("accept", "drop", "reject"):
                return "drop" if kind == "reject" else kind
            if kind in ("jump", "goto") and depth < 8:
                target = expr[-1][kind]["target"]  # type: ignore[index]
                sub = verdict((key[0], key[1], target), family, depth + 1)
                if sub is not None or kind == "goto":
                    return sub
        return None

    def closed(family: str) -> bool:
        inputs = [k for k, c in chains.items() if c.get("hook") == "input" and c["family"] in (family, "inet")]
        return any((verdict(k, family) or chains[k].get("policy", "accept")) == "drop" for k in inputs)

    return closed("ip") and closed("ip6")


def _matches(expr: dict[str, object], family: str) -> bool:
    """Does this expression let the probe through? Statements do; a match only when it covers the probe."""
    kind, value = next(iter(expr.items()))
    if kind != "match":
        return kind in ("counter", "log", "comment", "accept", "drop", "reject", "jump", "goto")
    m = value if isinstance(value, dict) else {}
    left, right, op = m.get("left", {}), m.get("right"), m.get("op")
    payload, meta, ct = left.get("payload", {}), left.get("meta", {}), left.get("ct", {})
    if payload.get("protocol") in ("ip", "ip6"):
        whole = isinstance(right, dict) and right.get("prefix", {}).get("len") == 0
        return payload["protocol"] == family and payload.get("field") == "saddr" and whole and op == "=="
    if payload.get("protocol") == "tcp" and payload.get("field") == "dport":
        lo, hi = right.get("range", (None, None)) if isinstance(right, dict) else (right, right)
        return op == "!=" or (lo is not None and lo <= 1 and hi == 65535)
    if meta.get("key") == "l4proto":
        return right == "tcp"
    if meta.get("key") in ("iif", "iifname"):
        return (right in ("eth0", "eth*")) == (op == "==")
    if ct.get("key") == "state":
        states = right if isinstance(right, list) else right.get("set", [right]) if isinstance(right, dict) else [right]
        return "new" in states
    return False
