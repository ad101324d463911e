"""One script per host: every snippet the playbook needs, once, between unforgeable markers.

The cost of an agentless audit is round trips, so a host gets exactly one exec; and, once that is
so, the processes the host forks (bench/README.md). Each snippet runs in a subshell (a fork, no
exec: no ``timeout`` or ``sh -c`` around it), with its stdout and stderr kept apart. One watchdog
per batch, ticking with ``sleep 1``, stops a snippet that outlives its time limit (after T to T + 1
seconds; a host without ``sleep`` has only the host's limit), and every process it started, so one
hung fact cannot sink the host: it freezes the snippet's process tree (SIGSTOP until every process
in it is stopped and no new one appears), then kills it, the snippet's own subshell last and only
once the rest is dead: when the batch sees a snippet end, marked ``timeout``, nothing it started
still runs. Markers carry a random nonce chosen per run: output from the host cannot forge a
boundary. The output comes back in one piece at the end: streamed, it would reach the client in many
small SSH packets, each one a wake-up of the client's threads (bench/README.md). Stderr goes through
a file per snippet, read only when something was written. A batch ended by a signal (HUP when the
connection drops) stops its running snippet (the tree the watchdog was killing too) and removes its
files: no output and no process stays on the host.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from auditor.facts.base import RawOutput, quote

# Begins every line a batch prints about its snippets (on Windows too), followed by the batch's nonce.
MARKER = "@@AUDITOR-"
STDERR_LIMIT = 64 * 1024
_END_LINE = re.compile(r"END (\d+) (\d+)( timeout)?")

_PRELUDE = """\
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH
LC_ALL=C; export LC_ALL; umask 077
_d=$(mktemp -d 2>/dev/null) || {{ _d=/tmp/.auditor.$$; mkdir -m 700 "$_d" || exit 70; }}
_now=$(date +%s)  # one clock reading a batch: snippets say "${{_now:-$(date +%s)}}"
_st() {{  # _t: state letter, _v: parent, of the process whose status file is $1 (both empty once it is gone)
  _t=; _v=
  {{ while read -r _k _x _; do case $_k in State:) _t=$_x;; PPid:) _v=$_x; break;; esac; done < "$1"; }} 2>/dev/null
}}
_tree() {{  # one pass over /proc: adds to _l (" PID PID ") the children of its processes; _z: one was not frozen
  _z=
  for _s in /proc/[0-9]*/status; do
    _st "$_s"; _p=${{_s#/proc/}}; _p=${{_p%/status}}
    case $_l in *" $_p "*) ;; *" $_v "*) _l="$_l$_p ";; *) continue;; esac
    case $_t in [TtZX]|"") ;; *) _z=1;; esac
  done
}}
_gone() {{  # has every process of the list $1 ended (a zombie at most)?
  for _p in $1; do _st "/proc/$_p/status"; case $_t in [ZX]|"") ;; *) return 1;; esac; done
}}
_hold() {{  # freezes snippet process $1; false when it ended on its own first (it did not time out)
  kill -STOP "$1" 2>/dev/null || return; _n=0  # (still running after 9999 looks: held all the same)
  until _st "/proc/$1/status"; case $_t in [Tt]) ;; [ZX]|"") return 1;; *) [ $((_n += 1)) -gt 9999 ];; esac; do :; done
}}
_stop() {{  # ends the processes of _l and their descendants, the first one last; $1: file to keep _l in
  # Frozen (SIGSTOP) until a pass finds nothing new after one that found them all stopped: a process stops
  # only once a fork it is in is done, and a list kept across passes keeps the children of one that ended.
  _f=; _y=1; _n=0
  while _tree; {{ [ "$_l" != "$_f" ] || [ "$_y" ]; }} && [ $((_n += 1)) -lt 99 ]; do
    _y=$_z; _f=$_l; echo "$_l" > "$1"; kill -STOP $_l 2>/dev/null
  done
  # The first (a snippet's subshell) dies last, once the others have: when the batch sees it end, its whole
  # tree is dead, and nothing (nor `_end` killing the watchdog) can come between two kills of the tree.
  _r=${{_l# }}; _r=${{_r%% *}}; _c=${{_l#" $_r "}}; _n=0
  [ -z "$_c" ] || kill -KILL $_c 2>/dev/null
  until _gone "$_c" || [ $((_n += 1)) -gt 9999 ]; do :; done
  kill -KILL "$_r" 2>/dev/null
}}
_watch() {{  # ages each running snippet (file p<id> holds its pid) in ticks of one second
  while sleep 1; do
    for _w in "$_d"/p*; do  # an empty p file is a snippet that ended (emptied, not removed: rm is an exec)
      _i=${{_w##*/p}}; read -r _p < "$_w" 2>/dev/null || continue
      eval "_a=\\$((\\${{_a$_i:-0}}+1)); _a$_i=\\$_a"
      # t<id> (the mark, then the tree) only once the snippet is frozen: one that ends on its own is not a timeout
      [ "$_a" -gt {timeout} ] && _hold "$_p" && _l=" $_p " && _stop "$_d/t$_i"
    done
  done
}}
_j=; _watch </dev/null >/dev/null 2>&1 & _wd=$!
_end() {{  # the watchdog, what still runs (only when a signal ends the batch), the files
  trap '' HUP INT TERM  # a second signal must not cut the cleanup short
  kill -KILL $_wd 2>/dev/null; wait $_wd 2>/dev/null  # not mid-kill: from here on only this shell stops anything
  _l=" "; for _p in $_j; do _l="$_l$_p "; done  # parallel: the snippets' jobs, one may not have written its p yet
  for _w in "$_d"/p*; do  # a running snippet, and the tree the watchdog was stopping (it may have killed some)
    read -r _p < "$_w" || continue; _l="$_l$_p "; read -r _x < "$_d/t${{_w##*/p}}" && _l="$_l$_x "
  done 2>/dev/null
  [ "$_l" = " " ] || _stop /dev/null
  rm -rf "$_d"
}}
trap _end EXIT
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM  # so that EXIT cleans up: no output stays
_run() {{
  printf '\\n{m} BEGIN %s\\n' "$1"
  ( eval "$2" ) </dev/null 2>"$_d/e$1" & echo $! > "$_d/p$1"; wait $! 2>/dev/null; _rc=$?; : > "$_d/p$1"
  printf '\\n{m} STDERR %s\\n' "$1"; [ -s "$_d/e$1" ] && head -c {err_limit} "$_d/e$1"
  [ -e "$_d/t$1" ] && _rc="124 timeout"
  printf '\\n{m} END %s %s\\n' "$1" "$_rc"
}}
"""


@dataclass(frozen=True)
class Batch:
    nonce: str
    snippets: list[str]  # index = snippet id
    script: str


def build(snippets: list[str], timeout: int = 30, nonce: str | None = None, parallel: bool = False) -> Batch:
    """The script for a list of distinct snippets (deduplicate before calling).

    ``parallel``: run the snippets at once, each into its own file, then print them in order. Lower
    latency for one host (a few more forks on it); the engine uses it when it has hosts to spare.
    """
    nonce = nonce or secrets.token_hex(8)
    lines = [_PRELUDE.format(timeout=int(timeout), m=MARKER + nonce, err_limit=STDERR_LIMIT)]
    runs = [f"_run {i} {quote(snippet)}" for i, snippet in enumerate(snippets)]
    if runs and parallel:
        # `wait` names the jobs: a bare `wait` would wait for the watchdog too, which never ends.
        lines += [f'{run} > "$_d/s{i}" & _j="$_j $!"' for i, run in enumerate(runs)]
        lines += ["wait $_j; _j=", "cat " + " ".join(f'"$_d/s{i}"' for i in range(len(runs)))]
    elif runs:
        lines += ["{", *runs, '} > "$_d/o"', 'cat "$_d/o"']
    return Batch(nonce=nonce, snippets=list(snippets), script="\n".join(lines) + "\n")


def split(batch: Batch, stdout: str) -> dict[int, RawOutput]:
    """Raw output per snippet id; snippets that never reached their END marker are absent.

    ``str.split`` on the marker, not a regular expression over the whole output (a quarter of the
    time); the nonce makes every occurrence of the marker one the batch printed.
    """
    parts = ("\n" + stdout).split(f"\n{MARKER}{batch.nonce} ")
    results: dict[int, RawOutput] = {}
    for begin, middle, end in zip(parts[1:], parts[2:], parts[3:], strict=False):
        head, _, out = begin.partition("\n")
        sid = head.removeprefix("BEGIN ")
        err_head, _, err = middle.partition("\n")
        end_line, newline, _ = end.partition("\n")
        done = _END_LINE.fullmatch(end_line)
        if done is None or done[1] != sid or err_head != f"STDERR {sid}" or not newline:
            continue
        results[int(sid)] = RawOutput(stdout=out, stderr=err, rc=int(done[2]), timed_out=bool(done[3]))
    return results
