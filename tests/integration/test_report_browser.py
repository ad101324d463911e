"""The HTML report in a real headless Chromium (Debian's ``chromium``), driven over the DevTools protocol.

Built from a real local run (``auditor run`` on this machine) into which hostile strings
are injected (host names, addresses, errors, reasons, commands, outputs, banners), then
re-rendered with ``auditor report``. In the browser we assert on the DOM, take
screenshots at desktop and phone width, and record every JavaScript dialog, network
request, CSP violation and script exception: there must be none.

Without chromium these tests skip, unless AUDITOR_LAB_REQUIRED=1 (CI): then they fail.
Screenshots are kept in ``$AUDITOR_SCREENSHOTS`` when set (to look at them), else in tmp.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from auditor.results import validate

REPO = Path(__file__).resolve().parents[2]

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg/onload=alert(1)>",
    "</pre></style></script><script>alert(1)</script>",
    "javascript:alert(1)",
    '<iframe src="http://127.0.0.1:9/frame"></iframe>',
    '<link rel="stylesheet" href="http://127.0.0.1:9/x.css">',
    '<meta http-equiv="refresh" content="0;url=http://127.0.0.1:9/">',
    "<style>body{background:url(http://127.0.0.1:9/bg)}</style>",
    "{{ 7*7 }} ${7*7} %(n)s",
    '<img src="//127.0.0.1:9/beacon">',
]
VIETNAMESE = "Báo cáo kiểm tra an toàn thông tin"


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        reason = "chromium is not installed (apt-get install chromium)"
        if os.environ.get("AUDITOR_LAB_REQUIRED") == "1":
            pytest.fail(f"AUDITOR_LAB_REQUIRED=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return path


class Page:
    """One headless Chromium with one page, spoken to over CDP (websocket-client)."""

    def __init__(self, executable: str, profile: Path) -> None:
        import websocket

        self.proc = subprocess.Popen(
            [
                executable,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        url = self._devtools_url()
        self.ws = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        self.dialogs: list[str] = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.call(f"{domain}.enable")

    def _devtools_url(self) -> str:
        assert self.proc.stderr is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            match = re.search(r"DevTools listening on (ws://\S+)", line)
            if match:
                return match.group(1)
            if not line and self.proc.poll() is not None:
                break
        raise RuntimeError("chromium did not start its DevTools endpoint")

    def _handle(self, message: dict[str, Any]) -> None:
        self.events.append(message)
        if message.get("method") == "Page.javascriptDialogOpening":
            self.dialogs.append(message["params"].get("message", ""))
            self.next_id += 1  # dismiss it, or the page would hang; the reply is read as a stray message
            self.ws.send(
                json.dumps(
                    {
                        "id": self.next_id,
                        "sessionId": self.session,
                        "method": "Page.handleJavaScriptDialog",
                        "params": {"accept": False},
                    }
                )
            )

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if getattr(self, "session", None):
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == message["id"]:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._handle(reply)

    def pump(self, seconds: float) -> None:
        """Read events for a while (late timers, onerror handlers, refreshes)."""
        deadline = time.monotonic() + seconds
        self.ws.settimeout(0.1)
        try:
            while time.monotonic() < deadline:
                try:
                    self._handle(json.loads(self.ws.recv()))
                except Exception:  # websocket timeout: nothing arrived
                    continue
        finally:
            self.ws.settimeout(30)

    def wait_event(self, method: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(method)
            self.pump(0.2)

    def open(self, url: str, width: int = 1280, height: int = 900, mobile: bool = False) -> None:
        self.events.clear()
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        )
        self.call("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")
        self.pump(0.7)

    def js(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def screenshot(self, path: Path, full_page: bool = False) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", params)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def requests(self, document_url: str) -> list[str]:
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent" and e["params"]["request"]["url"] != document_url
        ]

    def blocked_by_csp(self) -> int:
        return sum(
            1
            for e in self.events
            if e.get("method") == "Network.loadingFailed" and e["params"].get("blockedReason") == "csp"
        )

    def problems(self) -> list[str]:
        """CSP violations, console errors and uncaught exceptions."""
        out = []
        for e in self.events:
            if e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] in ("error", "warning"):
                out.append(e["params"]["entry"]["text"])
            if e.get("method") == "Runtime.exceptionThrown":
                out.append(json.dumps(e["params"]["exceptionDetails"])[:300])
        return out

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def page(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    p = Page(chromium, tmp_path_factory.mktemp("chromium-profile"))
    yield p
    p.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = os.environ.get("AUDITOR_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        return Path(target)
    return tmp_path_factory.mktemp("screenshots")


def auditor(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def poison(document: dict[str, Any]) -> dict[str, Any]:
    """The real run, plus hosts whose every string from the host side is hostile."""
    doc = copy.deepcopy(document)
    template = doc["hosts"][0]
    for i, payload in enumerate(HOSTILE):
        host = copy.deepcopy(template)
        host["name"] = f"{payload}-{i}"
        host["address"] = payload
        host["error"] = None
        host["level"] = 1 + i % 5
        for r in host["results"]:
            if r["status"] in ("pass", "not_applicable"):
                continue
            r["status"] = "fail" if i % 3 else "error"
            r["reason"] = f"{payload} reason"
            for e in r["evidence"]:
                e.pop("shared", None)
                e["command"] = f"cat /etc/issue # {payload}"
                e["output"] = f"SSH-2.0-OpenSSH_9.2 {payload}\n{payload}\x1b[31m\x00 banner"
                e["stderr"] = payload
        doc["hosts"].append(host)
    down = copy.deepcopy(template)
    down.update(name=HOSTILE[1] + "-down", status="unreachable", error=HOSTILE[0], score=None, coverage=None)
    for r in down["results"]:
        r.update(status="error", reason=HOSTILE[0], evidence=[])
    down["plan_tasks"] = {t: "error" for t in down["plan_tasks"]}
    doc["hosts"].append(down)
    for record in doc.get("shared_evidence", {}).values():  # commands many results share reach the page too
        record["command"] = f"{record['command']} # {HOSTILE[2]}"
    doc["run"]["inventory"] = HOSTILE[3]
    from auditor import organisation  # the documents' verdicts too: attested by, reasons, files
    from auditor.catalog import load_catalog

    org = organisation.prepare(load_catalog(), {"evidence_dir": str(REPO / "evidence")}).section()
    attested = [r for r in org["results"] if r["evidence"]]
    for i, payload in enumerate(HOSTILE):
        r = attested[i % len(attested)]
        r["status"] = "fail"
        r["reason"] = f"{payload} org-reason-{i}"
        r["evidence"][0].update(file=payload, attested_by=payload)
    doc["organisation"] = org
    _waive_hostile(doc)
    return doc


def _waive_hostile(doc: dict[str, Any]) -> None:
    """Waived results and a waivers section whose every text is hostile: ids, approvers, justifications."""
    items = []
    for i, payload in enumerate(HOSTILE):
        host = next(h for h in doc["hosts"] if h["name"] == f"{payload}-{i}")
        failed = next((r for r in host["results"] if r["status"] in ("fail", "error")), None)
        if failed is not None:
            failed.update(waived_status=failed["status"], status="waived")
            failed["waiver"] = {"id": f"{payload}-W{i}", "type": "risk_accepted", "approved_by": payload,
                                "expires": "2027-01-01"}  # fmt: skip
        items.append({"id": f"{payload}-W{i}", "type": "risk_accepted", "checks": [payload], "hosts": [payload],
                      "justification": f"{payload} justification-{i}", "requested_by": payload, "approved_by": "B",
                      "approved_on": "2026-11-01", "expires": "2027-01-01", "state": "active", "waived": 1,
                      "matched": 1})  # fmt: skip
    doc["waivers"] = {"sources": [HOSTILE[0]], "as_of": "2026-12-07T00:00:00Z", "warn_days": 30,
                      "max_days": 365, "items": items, "expired": [items[0]["id"]], "expiring": [],
                      "unused": [items[1]["id"]]}  # fmt: skip


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A real run of this machine; the same run poisoned; both rendered in both languages by the CLI."""
    base = tmp_path_factory.mktemp("browser-run")
    proc = auditor("run", "--output", str(base / "real"), cwd=base)
    assert proc.returncode in (0, 1, 3), proc.stderr
    real = json.loads((base / "real" / "results.json").read_text(encoding="utf-8"))
    hostile = poison(real)
    validate(hostile)  # the poisoned run is still a valid results.json: the renderer must cope with it
    (base / "hostile.json").write_text(json.dumps(hostile, ensure_ascii=False), encoding="utf-8")
    out = {"results": base / "real" / "results.json"}
    for name, source in (("real", base / "real" / "results.json"), ("hostile", base / "hostile.json")):
        for lang in ("vi", "en"):
            target = base / f"{name}-{lang}.html"
            args = ["report", str(source), "--lang", lang, "--output", str(target)]
            if name == "hostile":
                args += ["--previous", str(base / "real" / "results.json")]
            proc = auditor(*args)
            assert proc.returncode == 0, proc.stderr
            out[f"{name}-{lang}"] = target
    return out


def test_report_of_a_real_run_reads_right(page: Page, runs: dict[str, Path], shots: Path) -> None:
    real = json.loads(runs["results"].read_text(encoding="utf-8"))
    url = runs["real-vi"].as_uri()
    page.open(url)
    page.screenshot(shots / "report-vi-desktop.png")
    page.screenshot(shots / "report-vi-desktop-full.png", full_page=True)
    dom = page.js(
        """({lang: document.documentElement.lang, h1: document.querySelector('h1').textContent,
             score: document.getElementById('score').textContent,
             tasks: [...document.querySelectorAll('#plan-tasks tbody tr')].map(r => r.dataset.task),
             hosts: [...document.querySelectorAll('#hosts tbody tr .hn')].map(c => c.textContent),
             checks: [...document.querySelectorAll('#finding-list article')].map(a => a.dataset.check),
             firstOutput: (document.querySelector('.evidence-output') || {}).textContent})"""
    )
    assert dom["lang"] == "vi" and dom["h1"] == VIETNAMESE
    value = real["score"]["value"]
    assert dom["score"] == ("–" if value is None else f"{value:.1f}".replace(".", ","))  # Vietnamese decimal comma
    assert dom["tasks"] == sorted(real["plan_tasks"])
    assert dom["hosts"] == [h["name"] for h in real["hosts"]]
    failed = {r["check"] for h in real["hosts"] for r in h["results"] if r["status"] in ("fail", "error", "unknown")}
    assert set(dom["checks"]) == failed
    if failed:
        outputs = [e["output"] for h in real["hosts"] for r in h["results"] for e in r["evidence"]]
        assert any(o.startswith(dom["firstOutput"][:40]) for o in outputs)
    assert page.dialogs == [] and page.requests(url) == [] and page.problems() == []


def test_hostile_data_runs_nothing_and_loads_nothing(page: Page, runs: dict[str, Path], shots: Path) -> None:
    for lang in ("vi", "en"):
        url = runs[f"hostile-{lang}"].as_uri()
        page.open(url)
        page.screenshot(shots / f"hostile-{lang}.png", full_page=True)
        assert page.dialogs == [], page.dialogs
        assert page.requests(url) == []
        assert page.problems() == []
        dom = page.js(
            """({scripts: document.scripts.length, imgs: document.images.length,
                 frames: document.querySelectorAll('iframe,link,meta[http-equiv=refresh],object,embed').length,
                 names: [...document.querySelectorAll('#hosts .hn')].map(c => c.textContent),
                 reasons: [...document.querySelectorAll('.reason')].map(c => c.textContent),
                 outputs: [...document.querySelectorAll('.evidence-output')].map(c => c.textContent),
                 location: location.href})"""
        )
        org = page.js(
            """({rows: document.querySelectorAll('#organisation-table tbody tr[data-row]').length,
                 reasons: [...document.querySelectorAll('#organisation-table td.reason')].map(c => c.textContent)})"""
        )
        hostile_doc = json.loads((runs["results"].parent.parent / "hostile.json").read_text(encoding="utf-8"))
        assert org["rows"] == len(hostile_doc["organisation"]["results"])
        for i, payload in enumerate(HOSTILE):
            assert f"{payload} org-reason-{i}" in org["reasons"]
        assert dom["scripts"] == 1 and dom["imgs"] == 0 and dom["frames"] == 0
        assert dom["location"] == url  # no meta refresh, no navigation
        # Shown as text, exactly: escaped, not stripped.
        for i, payload in enumerate(HOSTILE):
            assert f"{payload}-{i}" in dom["names"]
            assert any(payload in reason for reason in dom["reasons"])
        assert any("<script>alert(1)</script>" in o for o in dom["outputs"])
        waivers = page.js(
            """({waived: document.querySelectorAll('#waived tbody tr').length,
                 justifications: [...document.querySelectorAll('#waiver-table td.reason')].map(c => c.textContent),
                 expired: document.getElementById('waivers-expired').textContent})"""
        )
        assert waivers["waived"] == sum(r["status"] == "waived" for h in hostile_doc["hosts"] for r in h["results"]) > 0
        for i, payload in enumerate(HOSTILE):
            assert f"{payload} justification-{i}" in waivers["justifications"]
        assert f"{HOSTILE[0]}-W0" in waivers["expired"]


def test_phone_width_has_no_page_wide_scroll(page: Page, runs: dict[str, Path], shots: Path) -> None:
    page.open(runs["hostile-vi"].as_uri(), width=390, height=844, mobile=True)
    page.screenshot(shots / "hostile-vi-phone.png")
    widths = page.js("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1] + 1, widths  # wide tables scroll inside their box, the page does not


def test_both_languages_with_diacritics(page: Page, runs: dict[str, Path], shots: Path) -> None:
    page.open(runs["real-vi"].as_uri())
    text_vi = page.js("document.body.innerText")
    page.open(runs["real-en"].as_uri())
    page.screenshot(shots / "report-en-desktop.png")
    text_en = page.js("document.body.innerText")
    for phrase in (VIETNAMESE, "Nhiệm vụ theo kế hoạch", "Cách tính điểm", "Độ bao phủ", "Trọng số"):
        assert phrase in text_vi
    assert "Information security audit report" in text_en and "Plan tasks" in text_en
    assert VIETNAMESE not in text_en and "Information security audit report" not in text_vi


def test_sorting_script_runs_under_the_policy(page: Page, runs: dict[str, Path]) -> None:
    page.open(runs["hostile-en"].as_uri())
    before = page.js("[...document.querySelectorAll('#hosts tbody .hn')].map(c => c.textContent)")
    page.js("document.querySelector('#hosts thead th').click()")
    after = page.js("[...document.querySelectorAll('#hosts tbody .hn')].map(c => c.textContent)")
    assert after == sorted(before, key=lambda s: s) or after != before  # our hashed script ran
    assert page.js("document.querySelector('#hosts thead th').getAttribute('aria-sort')") == "ascending"
    page.js(
        "const i = document.querySelector('[data-filter=hosts] input'); i.value = 'onerror';"
        "i.dispatchEvent(new Event('input'))"
    )
    visible = page.js("[...document.querySelectorAll('#hosts tbody tr:not(.hidden) .hn')].map(c => c.textContent)")
    assert visible and all("onerror" in name for name in visible)
    assert page.problems() == []


def test_statement_of_applicability_in_the_browser(page: Page, runs: dict[str, Path], shots: Path) -> None:
    """The SoA of the real run, with an applicability file whose texts are hostile: shown as text, nothing runs."""
    base = runs["results"].parent.parent
    applicability = base / "applicability.yaml"
    exclusion = " ".join(HOSTILE)
    applicability.write_text(
        json.dumps({"soa": {"edition": "2022", "version": HOSTILE[1], "owner": HOSTILE[0], "approver": HOSTILE[2],
                            "date": "2026-11-15"},
                    "controls": [{"id": "7.5", "applicable": False, "exclusion": exclusion}]}),
        encoding="utf-8",
    )  # fmt: skip
    for lang in ("vi", "en"):
        target = base / f"soa-{lang}.html"
        proc = auditor("soa", "--results", str(runs["results"]), "--edition", "2022", "--applicability",
                       str(applicability), "--format", "html", "--lang", lang, "--output", str(target))  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        url = target.as_uri()
        page.open(url)
        page.screenshot(shots / f"soa-{lang}.png", full_page=True)
        dom = page.js(
            """({rows: document.querySelectorAll('#soa-table tbody tr[data-row]').length,
                 excluded: document.querySelector('#soa-table tr[data-control="7.5"] td.reason').textContent,
                 about: document.getElementById('soa-about').textContent,
                 scripts: document.scripts.length, imgs: document.images.length, location: location.href})"""
        )
        assert dom["rows"] == 93 and dom["excluded"] == exclusion
        assert HOSTILE[0] in dom["about"] and dom["scripts"] == 1 and dom["imgs"] == 0 and dom["location"] == url
        page.js(
            "const s = document.querySelector('[data-filter=soa-table] select'); s.value = 'excluded';"
            "s.dispatchEvent(new Event('change'))"
        )
        shown = page.js(
            "[...document.querySelectorAll('#soa-table tbody tr:not(.hidden)')].map(r => r.dataset.control)"
        )
        assert shown == ["7.5"]  # our hashed script runs under the policy
        assert page.dialogs == [] and page.requests(url) == [] and page.problems() == []


def test_the_harness_sees_dialogs_requests_and_csp_violations(page: Page, tmp_path: Path) -> None:
    """The detectors above can fail: an unescaped page trips every one of them."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><p>x</p><script>alert(1)</script><img src="http://127.0.0.1:9/beacon">')
    page.open(bad.as_uri())
    assert page.dialogs == ["1"]
    assert any(u.startswith("http://127.0.0.1:9/") for u in page.requests(bad.as_uri()))
    from auditor.report.html import assets

    locked = tmp_path / "locked.html"
    locked.write_text(
        f'<!DOCTYPE html><meta http-equiv="Content-Security-Policy" content="{assets()["csp"]}">'
        '<script>alert(2)</script><img src="http://127.0.0.1:9/beacon">'
    )
    page.dialogs.clear()
    page.open(locked.as_uri())
    # Our policy stops both: no dialog, and the load is cut by the CSP (Chromium still reports the attempt).
    assert page.dialogs == []
    attempted = page.requests(locked.as_uri())
    assert attempted == ["http://127.0.0.1:9/beacon"]
    assert page.blocked_by_csp() == len(attempted)
    assert any("Content Security Policy" in p for p in page.problems())


@pytest.mark.lab
def test_report_built_from_lab_results(lab: Any, page: Page, shots: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "lab"
        proc = auditor(
            "run", "--inventory", str(lab.inventory), "--known-hosts", str(lab.known_hosts), "--output", str(out)
        )
        assert proc.returncode in (1, 3), proc.stderr
        document = json.loads((out / "results.json").read_text(encoding="utf-8"))
        url = (out / "report.html").as_uri()
        page.open(url)
        page.screenshot(shots / "lab-vi.png", full_page=True)
        dom = page.js(
            """({hosts: [...document.querySelectorAll('#hosts .hn')].map(c => c.textContent),
                 pt: Object.fromEntries([...document.querySelectorAll('#plan-tasks tbody tr')]
                      .map(r => [r.dataset.task, r.querySelector('.pt-hosts').textContent]))})"""
        )
        assert sorted(dom["hosts"]) == sorted(h["name"] for h in document["hosts"])
        for task, counts in document["plan_tasks"].items():
            assert dom["pt"][task] == f"{counts.get('pass', 0)} / {counts['total']} máy tính"
        assert page.dialogs == [] and page.requests(url) == [] and page.problems() == []
