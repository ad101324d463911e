"""What the HTML report shows, computed from a results.json document (pure functions, no markup).

Every number on the page comes from here and from ``auditor.scoring``, so a test can
recompute it from the document. Host data stays data: nothing here produces HTML.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from auditor import scoring
from auditor.evidence import shown_excerpt
from auditor.report.evidence import evidence_of
from auditor.scoring import Score, natural_key, outlines

VERDICTS = ("fail", "error", "unknown", "pass", "not_applicable", "manual", "waived")
FINDING = ("fail", "error", "unknown")
SEVERITIES = ("critical", "high", "medium", "low")
WORST_HOSTS = 10
EVIDENCE_GROUPS_PER_CHECK = 20  # groups beyond this keep reason and hosts; the evidence is in results.json
DIFF_ROWS = 200

Doc = dict[str, Any]


def verdict_counts(verdicts: Iterable[str]) -> dict[str, int]:
    counts = Counter(verdicts)
    return {v: counts.get(v, 0) for v in VERDICTS}


@dataclass
class PlanTaskRow:
    task: str
    title: str
    hosts: dict[str, int]  # verdict -> hosts
    total: int
    score: Score

    @property
    def passed(self) -> int:
        return self.hosts["pass"]


def plan_task_rows(doc: Doc, titles: dict[str, str]) -> list[PlanTaskRow]:
    scores = scoring.by_plan_task(outlines(doc))
    rows = []
    for task, counts in sorted(doc["plan_tasks"].items()):
        hosts = {v: int(counts.get(v, 0)) for v in VERDICTS}
        rows.append(PlanTaskRow(task, titles.get(task, ""), hosts, int(counts["total"]), scores.get(task, _empty())))
    return rows


def _empty() -> Score:
    return Score(None, None, 0, 0)


@dataclass
class GroupRow:
    key: str
    title: str
    score: Score
    verdicts: dict[str, int]  # verdict -> results
    hosts: int = 0


def _result_counts(doc: Doc, key_of: Any) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Verdicts of the results under each key, and how many hosts have any."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    hosts: Counter[str] = Counter()
    for host in outlines(doc):
        keys: set[str] = set()
        for result in host["results"]:
            for key in key_of(host, result):
                counts[key][result["status"]] += 1
                keys.add(key)
        hosts.update(keys)
    return {k: verdict_counts(c.elements()) for k, c in counts.items()}, hosts


def domain_rows(doc: Doc, edition: str, names: dict[str, str]) -> list[GroupRow]:
    scores = scoring.by_domain(outlines(doc), edition)
    counts, _ = _result_counts(
        doc, lambda _h, r: {scoring.domain_of(c, edition) for c in r["iso27001"].get(edition, [])}
    )
    return [GroupRow(k, names.get(k, ""), s, counts[k]) for k, s in scores.items()]


def control_rows(doc: Doc, edition: str, titles: dict[str, str]) -> list[GroupRow]:
    scores = scoring.by_control(outlines(doc), edition)
    counts, _ = _result_counts(doc, lambda _h, r: set(r["iso27001"].get(edition, [])))
    return [GroupRow(k, titles.get(k, ""), s, counts[k]) for k, s in scores.items()]


def level_rows(doc: Doc) -> list[GroupRow]:
    scores = scoring.by_level(outlines(doc))
    counts, hosts = _result_counts(doc, lambda h, _r: {str(h.get("level") or scoring.UNSET_LEVEL)})
    return [GroupRow(k, "", s, counts[k], hosts[k]) for k, s in scores.items()]


@dataclass
class CheckRow:
    check: str
    title: dict[str, str]
    severity: str
    weight: int
    verdicts: dict[str, int]
    score: Score


def check_rows(doc: Doc) -> list[CheckRow]:
    """Every check with its weight: the method section, so a reader can recompute the score."""
    meta: dict[str, dict[str, Any]] = {}
    statuses: dict[str, Counter[str]] = defaultdict(Counter)
    for host in outlines(doc):
        for r in host["results"]:
            if r["check"] not in meta:
                meta[r["check"]] = {"title": r.get("title", {}), "severity": r["severity"]}
            statuses[r["check"]][r["status"]] += 1
    scores = scoring.by_check(outlines(doc))
    return [
        CheckRow(
            cid,
            meta[cid].get("title", {}),
            meta[cid]["severity"],
            scoring.weight(meta[cid]["severity"]),
            verdict_counts(statuses[cid].elements()),
            scores[cid],
        )
        for cid in sorted(meta, key=natural_key)
    ]


@dataclass
class HostRow:
    index: int
    host: dict[str, Any]  # the host's part of results.json without its results
    verdicts: dict[str, int]

    @property
    def findings(self) -> int:
        return sum(self.verdicts[v] for v in FINDING)


def host_rows(doc: Doc) -> list[HostRow]:
    return [
        HostRow(i, {k: v for k, v in h.items() if k != "results"}, verdict_counts(r["status"] for r in h["results"]))
        for i, h in enumerate(outlines(doc))
    ]


def worst_hosts(rows: list[HostRow], limit: int = WORST_HOSTS) -> list[HostRow]:
    """Lowest score first; a host that could not be audited (no score) counts as worst; ties: most findings."""

    def key(row: HostRow) -> tuple[float, int, str]:
        value = row.host.get("score")
        return (-1.0 if value is None else value, -row.findings, row.host["name"])

    candidates = [r for r in rows if r.findings or r.host["status"] != "reachable"]
    return sorted(candidates, key=key)[:limit]


@dataclass
class EvidenceExcerpt:
    command: str
    command_cut: int
    rc: int | None
    at: str
    output: str
    output_cut: int
    stderr: str
    stderr_cut: int


def evidence_excerpts(doc: Doc, result: dict[str, Any]) -> list[EvidenceExcerpt]:
    out = []
    for e in evidence_of(doc, result):
        command, command_cut = shown_excerpt(e["command"], chars=600, lines=8)
        output, output_cut = shown_excerpt(e["output"])
        stderr, stderr_cut = shown_excerpt(e.get("stderr", ""), chars=400, lines=6)
        out.append(EvidenceExcerpt(command, command_cut, e["rc"], e["at"], output, output_cut, stderr, stderr_cut))
    return out


@dataclass
class FindingGroup:
    status: str
    reason: str
    hosts: list[str]
    evidence_host: str
    evidence: list[EvidenceExcerpt] | None  # None: left out for size (see results.json)


@dataclass
class Finding:
    check: str
    title: dict[str, str]
    severity: str
    weight: int
    plan: list[str]
    iso27001: dict[str, list[str]]
    remediation: dict[str, str]
    groups: list[FindingGroup] = field(default_factory=list)

    @property
    def hosts(self) -> int:
        return sum(len(g.hosts) for g in self.groups)


def findings(doc: Doc, evidence_groups: int = EVIDENCE_GROUPS_PER_CHECK) -> list[Finding]:
    """Every failed/erroneous/undecided result, grouped by check, then by (verdict, reason).

    Hosts that fail a check for the same reason share one entry (names all listed); the
    evidence shown is the first such host's. A 3,176-host run stays readable this way.
    """
    by_check: dict[str, Finding] = {}
    # (verdict, reason) -> the index of its first host (whose evidence is shown) and every host's name
    members: dict[str, dict[tuple[str, str], tuple[int, list[str]]]] = defaultdict(dict)
    for index, host in enumerate(outlines(doc)):
        for r in host["results"]:
            if r["status"] not in FINDING:
                continue
            if r["check"] not in by_check:
                by_check[r["check"]] = Finding(
                    r["check"],
                    r.get("title", {}),
                    r["severity"],
                    scoring.weight(r["severity"]),
                    r["plan"],
                    r["iso27001"],
                    r.get("remediation", {}),
                )
            members[r["check"]].setdefault((r["status"], r["reason"]), (index, []))[1].append(host["name"])
    shown: dict[tuple[str, str, str], int] = {}  # (check, verdict, reason) -> the host whose evidence is shown
    for cid in by_check:
        ordered = sorted(members[cid].items(), key=lambda kv: (VERDICTS.index(kv[0][0]), -len(kv[1][1]), kv[0][1]))
        members[cid] = dict(ordered)
        shown.update({(cid, *key): first for key, (first, _) in ordered[:evidence_groups]})
    excerpts = _shown_evidence(doc, shown)
    for cid, finding in by_check.items():
        for (status, reason), (_, hosts) in members[cid].items():
            evidence = excerpts.get((cid, status, reason))
            finding.groups.append(FindingGroup(status, reason, hosts, hosts[0], evidence))
    return sorted(
        by_check.values(),
        key=lambda f: (min(VERDICTS.index(g.status) for g in f.groups), -f.weight, -f.hosts, f.check),
    )


def _shown_evidence(
    doc: Doc, shown: dict[tuple[str, str, str], int]
) -> dict[tuple[str, str, str], list[EvidenceExcerpt]]:
    """The evidence of the results ``shown`` names, read from their hosts once the groups are known:
    keeping every finding's evidence until then would hold them all at once."""
    out: dict[tuple[str, str, str], list[EvidenceExcerpt]] = {}
    for index in sorted(set(shown.values())):
        for r in doc["hosts"][index]["results"]:
            key = (r["check"], r["status"], r["reason"])
            if shown.get(key) == index and key not in out:
                out[key] = evidence_excerpts(doc, r)
    return out


def register_by_check(findings: dict[tuple[str, str], dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """check -> host -> {"id", "open_days"}: what the failure section shows of the findings register."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for (host, check), f in findings.items():
        out.setdefault(check, {})[host] = {"id": f["id"], "open_days": f["open_days"]}
    return out


@dataclass
class Change:
    host: str
    check: str
    before: str
    after: str


@dataclass
class KeyChange:
    host: str
    before: str
    after: str


@dataclass
class Diff:
    previous_run: str
    previous_started: str
    score_before: float | None
    score_after: float | None
    coverage_before: float | None
    coverage_after: float | None
    worse: list[Change]
    better: list[Change]
    other: list[Change]
    hosts_added: list[str]
    hosts_removed: list[str]
    checks_added: int
    checks_removed: int
    host_keys_changed: list[KeyChange] = field(default_factory=list)

    @property
    def new_failures(self) -> list[Change]:
        return [c for c in self.worse if c.after == "fail"]

    @property
    def fixed(self) -> list[Change]:
        return [c for c in self.better if c.before == "fail"]

    @property
    def new_errors(self) -> list[Change]:
        undecided = ("error", "unknown")
        return [c for c in self.worse + self.other if c.after in undecided and c.before not in undecided]

    @property
    def score_delta(self) -> float | None:
        if self.score_before is None or self.score_after is None:
            return None
        return round(self.score_after - self.score_before, 1)


_RANK = {"pass": 0, "not_applicable": 0, "waived": 0, "manual": 1, "unknown": 2, "error": 2, "fail": 3}


def _statuses(doc: Doc) -> dict[tuple[str, str], str]:
    return {(h["name"], r["check"]): r["status"] for h in outlines(doc) for r in h["results"]}


def diff(previous: Doc, current: Doc) -> Diff:
    """What changed since ``previous``: score, hosts, and each host × check whose verdict moved."""
    before, after = _statuses(previous), _statuses(current)
    worse, better, other = [], [], []
    for key in sorted(before.keys() & after.keys()):
        old, new = before[key], after[key]
        if old == new:
            continue
        change = Change(key[0], key[1], old, new)
        if _RANK[new] > _RANK[old]:
            worse.append(change)
        elif _RANK[new] < _RANK[old]:
            better.append(change)
        else:
            other.append(change)
    old_hosts = {h["name"] for h in outlines(previous)}
    new_hosts = {h["name"] for h in outlines(current)}
    return Diff(
        previous_run=previous["run"]["id"],
        previous_started=previous["run"]["started"],
        score_before=previous["score"]["value"],
        score_after=current["score"]["value"],
        coverage_before=previous["score"]["coverage"],
        coverage_after=current["score"]["coverage"],
        worse=worse,
        better=better,
        other=other,
        hosts_added=sorted(new_hosts - old_hosts),
        hosts_removed=sorted(old_hosts - new_hosts),
        checks_added=len({k for k in after.keys() - before.keys() if k[0] in old_hosts}),
        checks_removed=len({k for k in before.keys() - after.keys() if k[0] in new_hosts}),
        host_keys_changed=_key_changes(previous, current),
    )


def _key_changes(previous: Doc, current: Doc) -> list[KeyChange]:
    """Hosts that presented another SSH key than in ``previous`` (a host seen without a key proves nothing)."""
    before = {h["name"]: h.get("host_key") for h in outlines(previous)}
    current_keys = [{"name": h["name"], "host_key": h.get("host_key")} for h in outlines(current)]
    return [
        KeyChange(h["name"], before[h["name"]], h["host_key"])
        for h in sorted(current_keys, key=lambda h: h["name"])
        if h.get("host_key") and before.get(h["name"]) and before[h["name"]] != h["host_key"]
    ]


# --- the organisation's documents (results.json "organisation") -----------------------------------------------

ORGANISATION_ORDER = ("fail", "error", "unknown", "pass", "manual", "waived", "not_applicable")


@dataclass(frozen=True)
class OrganisationRow:
    requirement: str
    kind: str
    title: str
    status: str
    reason: str
    documents: list[dict[str, Any]]
    evidence: list[dict[str, Any]]


def organisation_rows(doc: Doc, lang: str) -> list[OrganisationRow]:
    """Each requirement judged from attested documents, findings first (then in the document's order)."""
    section = doc.get("organisation") or {}
    rank = {status: i for i, status in enumerate(ORGANISATION_ORDER)}
    rows = [
        OrganisationRow(
            str(r.get("requirement", "")),
            str(r.get("kind", "")),
            str((r.get("title") or {}).get(lang) or (r.get("title") or {}).get("en") or ""),
            str(r.get("status", "unknown")),
            str(r.get("reason", "")),
            list(r.get("documents") or []),
            list(r.get("evidence") or []),
        )
        for r in section.get("results", [])
    ]
    return sorted(rows, key=lambda row: rank.get(row.status, len(rank)))
