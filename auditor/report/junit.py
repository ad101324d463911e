"""JUnit XML for CI systems: one ``testsuite`` per host, one ``testcase`` per host × check.

``fail`` is a ``<failure>``, ``error``/``unknown`` an ``<error>``, ``not_applicable``/``manual``/
``waived`` a ``<skipped>``. Host output may hold bytes XML 1.0 cannot carry (NUL, escape
sequences): they are replaced by U+FFFD so the file always parses.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from typing import Any

from auditor.evidence import shown_excerpt
from auditor.report.evidence import evidence_of
from auditor.report.i18n import check_language

_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
SKIPPED = ("not_applicable", "manual", "waived")


def xml_text(value: Any) -> str:
    return _NOT_XML.sub("\ufffd", "" if value is None else str(value))


def _evidence_text(document: dict[str, Any], result: dict[str, Any]) -> str:
    parts = []
    for e in evidence_of(document, result):
        output, cut = shown_excerpt(e["output"], chars=4000, lines=80)
        more = f"\n… {cut} more characters in results.json" if cut else ""
        parts.append(f"$ {e['command']}\n[rc={e['rc']} at {e['at']}]\n{output}{more}")
    return "\n\n".join(parts)


def testcase(document: dict[str, Any], host: dict[str, Any], result: dict[str, Any], lang: str) -> ET.Element:
    title = result.get("title", {}).get(lang) or result.get("title", {}).get("en", "")
    case = ET.Element(
        "testcase",
        {
            "classname": xml_text(host["name"]),
            "name": xml_text(f"{result['check']}: {title}" if title else result["check"]),
        },
    )
    status, reason = result["status"], xml_text(result["reason"])
    if status == "fail":
        ET.SubElement(case, "failure", {"message": reason, "type": result["severity"]}).text = xml_text(
            result.get("remediation", {}).get(lang) or result.get("remediation", {}).get("en", "")
        )
    elif status in ("error", "unknown"):
        ET.SubElement(case, "error", {"message": reason, "type": status}).text = reason
    elif status == "waived":
        waiver = result.get("waiver") or {}
        why = (
            f"waived ({result.get('waived_status', '?')}) by {waiver.get('id', '?')}, {waiver.get('type', '?')}, "
            f"approved by {waiver.get('approved_by', '?')}, expires {waiver.get('expires', '?')}: {result['reason']}"
        )
        ET.SubElement(case, "skipped", {"message": xml_text(why)})
    elif status in SKIPPED:
        ET.SubElement(case, "skipped", {"message": xml_text(f"{status}: {result['reason']}")})
    evidence = _evidence_text(document, result)
    if evidence:
        ET.SubElement(case, "system-out").text = xml_text(evidence)
    return case


def testsuite(document: dict[str, Any], host: dict[str, Any], lang: str) -> ET.Element:
    counts = Counter(r["status"] for r in host["results"])
    suite = ET.Element(
        "testsuite",
        {
            "name": xml_text(host["name"]),
            "hostname": xml_text(host["address"]),
            "tests": str(len(host["results"])),
            "failures": str(counts["fail"]),
            "errors": str(counts["error"] + counts["unknown"]),
            "skipped": str(sum(counts[s] for s in SKIPPED)),
            "timestamp": xml_text(host.get("started", document["run"]["started"])),
        },
    )
    if host.get("error"):
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", {"name": "host_error", "value": xml_text(host["error"])})
    suite.extend(testcase(document, host, r, lang) for r in host["results"])
    return suite


def render_junit(results: dict[str, Any], lang: str = "vi", previous: dict[str, Any] | None = None) -> str:
    check_language(lang)
    run = results["run"]
    root = ET.Element("testsuites", {"name": xml_text(f"auditor {run['playbook']} {run['id']}")})
    suites = [testsuite(results, h, lang) for h in results["hosts"]]
    for attr in ("tests", "failures", "errors", "skipped"):
        root.set(attr, str(sum(int(s.get(attr, "0")) for s in suites)))
    root.extend(suites)
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
