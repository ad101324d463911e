"""The HTML report without a browser: escaping, policy, no external URL, numbers, both languages."""

from __future__ import annotations

import copy
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from auditor.report import RENDERERS
from auditor.report import html as html_mod
from auditor.report.html import assets, csp_hash, render_html
from auditor.report.view import diff, findings, host_rows, worst_hosts

FIXTURE = Path(__file__).parent / "data" / "report" / "results.json"
HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def doc() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text of script/style elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.raw: dict[str, list[str]] = {"script": [], "style": []}
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in = tag if tag in self.raw else None

    def handle_data(self, data):
        if self._in:
            self.raw[self._in].append(data)

    def handle_endtag(self, tag):
        self._in = None


def parse(html: str) -> Elements:
    p = Elements()
    p.feed(html)
    return p


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_host_data_is_text_never_markup(doc, lang):
    html = render_html(doc, lang)
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    elements = parse(html)
    assert [t for t, _ in elements.tags if t in ("script", "img", "iframe", "object", "embed", "link", "base")] == [
        "script"
    ]
    assert not [(t, a) for t, a in elements.tags for name in a if name.startswith("on")]
    assert (
        "\x00" not in html
    )  # NUL from a host's output is not passed through raw... (escaped by the browser otherwise)


def test_no_external_reference_anywhere(doc):
    html = render_html(doc, "vi", previous=doc)
    elements = parse(html)
    for tag, attrs in elements.tags:
        for name in ("src", "href", "action", "xlink:href", "srcset", "poster", "data"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), (tag, name, value)
    css = "".join(elements.raw["style"])
    assert "url(" not in css and "@import" not in css
    assert not re.search(r"https?://|//[a-z0-9]", css + "".join(elements.raw["script"]))
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)


def test_policy_allows_only_our_own_style_and_script(doc):
    html = render_html(doc, "en")
    elements = parse(html)
    (meta,) = [a for t, a in elements.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    policy = dict(d.strip().split(" ", 1) for d in meta["content"].split(";"))
    assert policy["default-src"] == "'none'" and policy["img-src"] == "'none'" and policy["base-uri"] == "'none'"
    (script,) = elements.raw["script"]
    (style,) = elements.raw["style"]
    assert policy["script-src"] == csp_hash(script) and policy["style-src"] == csp_hash(style)
    assert "unsafe-inline" not in meta["content"] and "nonce" not in meta["content"]
    # The policy is the first thing in <head> after the charset: nothing loads before it applies.
    assert [t for t, _ in elements.tags][:3] == ["html", "head", "meta"] and elements.tags[3][0] == "meta"
    assert assets()["csp"] == meta["content"]


def test_template_never_marks_data_safe():
    source = (Path(__file__).parents[2] / "auditor" / "report" / "templates" / "report.html.j2").read_text()
    template = re.sub(r"\{#.*?#\}", "", source, flags=re.S)
    assert "|safe" not in template.replace(" ", "") and "autoescape false" not in template


def test_first_page_numbers(doc):
    html = render_html(doc, "vi")
    assert f'id="score">{doc["score"]["value"]:.1f}'.replace(".", ",") in html
    # "PT-AV: n / N máy tính", Vietnamese number format, from the plan-task counts
    counts = doc["plan_tasks"]["PT-AV"]
    assert f"{counts.get('pass', 0)} / {counts['total']} máy tính" in html
    en = render_html(doc, "en")
    assert f"{counts.get('pass', 0)} / {counts['total']} hosts" in en
    assert f'id="score">{doc["score"]["value"]:.1f}' in en


def test_vietnamese_and_english_words():
    doc = json.loads(FIXTURE.read_text(encoding="utf-8"))
    vi, en = render_html(doc, "vi"), render_html(doc, "en")
    assert '<html lang="vi">' in vi and '<html lang="en">' in en
    for phrase in ("Báo cáo kiểm tra an toàn thông tin", "Không đạt", "Đạt", "Độ bao phủ", "Cách khắc phục"):
        assert phrase in vi
    for phrase in ("Information security audit report", "Fail", "Coverage", "Remediation"):
        assert phrase in en
    assert "Báo cáo" not in en and "Information security audit report" not in vi


def test_every_failed_check_has_reason_evidence_and_remediation(doc):
    html = render_html(doc, "en")
    failed = {(h["name"], r["check"]) for h in doc["hosts"] for r in h["results"] if r["status"] in ("fail", "error")}
    shown = {(host, f.check) for f in findings(doc) for g in f.groups for host in g.hosts}
    assert failed <= shown
    for f in findings(doc):
        assert f'data-check="{f.check}"' in html
    assert "SSH-2.0-OpenSSH_9.2p1 Debian-2" in html  # web01's evidence excerpt
    assert "Set &#34;PermitRootLogin no&#34;" in html or "PermitRootLogin" in html


def test_worst_hosts_put_the_unaudited_and_lowest_first(doc):
    names = [r.host["name"] for r in worst_hosts(host_rows(doc))]
    assert names[0] == "down01" or names[1] == "down01"
    assert "db01" not in names[:2]


def test_diff_against_a_previous_run(doc):
    previous = copy.deepcopy(doc)
    previous["run"]["id"] = "fixture-0"
    web = next(h for h in previous["hosts"] if h["name"] == "web01")
    web["results"][2]["status"] = "pass"  # it passed last time: now it fails
    web["results"][0]["status"] = "fail"  # it failed last time: now it passes
    previous["hosts"] = [h for h in previous["hosts"] if h["name"] != "db01"]
    d = diff(previous, doc)
    assert [(c.host, c.check) for c in d.worse] == [("web01", web["results"][2]["check"])]
    assert [(c.host, c.check) for c in d.better] == [("web01", web["results"][0]["check"])]
    assert d.hosts_added == ["db01"] and d.hosts_removed == []
    html = render_html(doc, "vi", previous=previous)
    assert 'id="changes"' in html and 'id="diff-worse">1<' in html and "fixture-0" in html
    assert 'id="changes"' not in render_html(doc, "vi")


def test_report_works_without_optional_fields(doc):
    """A results.json of the first schema (no scores, generator, inventory, level) still renders."""
    old = copy.deepcopy(doc)
    for key in ("scores", "generator"):
        old.pop(key)
    old["run"].pop("inventory")
    for h in old["hosts"]:
        h.pop("level"), h.pop("coverage")
    assert "<!DOCTYPE html>" in RENDERERS["html"](old, "en", None)


def test_unknown_language_is_refused(doc):
    with pytest.raises(ValueError):
        render_html(doc, "fr")


def _render_with_cache(doc: dict, cache, monkeypatch) -> str:
    monkeypatch.setattr(html_mod, "_template_cache", lambda: cache)
    html_mod.environment.cache_clear()
    try:
        return render_html(doc, "en")
    finally:
        html_mod.environment.cache_clear()


def test_compiled_template_cache_never_changes_or_breaks_the_report(doc, tmp_path, monkeypatch):
    """Cold, warm, corrupt or vanished: the cache changes how fast the template loads, not the report."""
    expected = _render_with_cache(doc, None, monkeypatch)
    cache = html_mod._CompiledTemplates(str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir(mode=0o700)
    assert _render_with_cache(doc, cache, monkeypatch) == expected  # cold: compiles and stores
    stored = list((tmp_path / "cache").iterdir())
    assert stored, "the compiled template was not stored"
    assert _render_with_cache(doc, cache, monkeypatch) == expected  # warm: loaded
    for path in stored:  # truncated after jinja2's header: marshal cannot read it
        path.write_bytes(path.read_bytes()[:40])
    assert _render_with_cache(doc, cache, monkeypatch) == expected
    for path in (tmp_path / "cache").iterdir():
        path.unlink()
    (tmp_path / "cache").rmdir()  # gone between runs: nothing to load, nowhere to store
    assert _render_with_cache(doc, cache, monkeypatch) == expected


def _with_organisation(doc: dict, evidence_dir: Path) -> dict:
    """The fixture run with the organisation section of the example evidence folder, one requirement made hostile."""
    from auditor import organisation
    from auditor.catalog import load_catalog

    section = organisation.prepare(load_catalog(), {"evidence_dir": str(evidence_dir)}).section()
    failed = next(r for r in section["results"] if r["evidence"])
    failed["status"] = failed["evidence"][0]["status"] = "fail"
    failed["reason"] = failed["evidence"][0]["reason"] = "hash mismatch " + HOSTILE
    failed["evidence"][0]["attested_by"] = HOSTILE
    return {**copy.deepcopy(doc), "organisation": section}


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_organisation_verdicts_are_shown_beside_the_hosts(doc, example_evidence_dir, lang):
    document = _with_organisation(doc, example_evidence_dir)
    html = render_html(document, lang)
    assert 'id="organisation"' in html
    heading = {"vi": "Tài liệu và xác nhận", "en": "Documents and attestations"}[lang]
    assert f"<h2>{heading}</h2>" in html
    section = html[html.index('id="organisation"') : html.index('id="findings"')]
    rows = re.findall(r'<tr data-row data-st="(\w+)">', section)
    assert len(rows) == len(document["organisation"]["results"])
    assert rows[0] == "fail" and "pass" in rows  # findings first, then the attested documents that pass
    for r in document["organisation"]["results"]:
        assert f"<code>{r['requirement']}</code>" in section
        if r["status"] == "pass":  # the evidence an officer checks: file and hash
            e = r["evidence"][0]
            assert f"<code>{e['file']}</code>" in section and e["sha256"] in section
    assert HOSTILE not in html and "hash mismatch &lt;script&gt;alert(1)&lt;/script&gt;" in section


def test_no_organisation_section_without_documents(doc):
    assert 'id="organisation"' not in render_html(doc, "en")
