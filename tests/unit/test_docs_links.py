"""Every link between the project's pages leads somewhere: the file exists, and the heading an anchor names
is in it (anchors as GitHub makes them from headings)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), REPO / "tests/lab/README.md",
         REPO / "bench/README.md"]  # fmt: skip
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6} (.+?)\s*$", re.M)
_FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def anchor(heading: str) -> str:
    """GitHub's: lower case, punctuation but '-' and '_' dropped, each space a '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {anchor(h) for h in _HEADING.findall(_FENCE.sub("", page.read_text(encoding="utf-8")))}


def links(page: Path) -> list[str]:
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    return [t for t in _LINK.findall(text) if not re.match(r"[a-z]+:", t)]


def test_the_slug_is_githubs() -> None:
    assert anchor("PT-AV: anti-virus (ClamAV) — what it uses") == "pt-av-anti-virus-clamav--what-it-uses"
    assert anchor("Cron jobs (`cron_jobs` fact)") == "cron-jobs-cron_jobs-fact"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_links_lead_somewhere(page: Path) -> None:
    broken = []
    for target in links(page):
        path, _, fragment = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target}: no {dest.relative_to(REPO) if dest.is_relative_to(REPO) else dest}")
        elif fragment and dest.suffix == ".md" and fragment not in anchors(dest):
            broken.append(f"{target}: no heading #{fragment} in {dest.relative_to(REPO)}")
    assert not broken, broken


def test_every_page_is_in_the_index() -> None:
    """docs/README.md is the index: a page nobody can find from it is as good as missing."""
    index = REPO / "docs/README.md"
    listed = {(index.parent / target.partition("#")[0]).resolve() for target in links(index)}
    pages = {p.resolve() for p in (REPO / "docs").glob("*.md")} - {index.resolve()}
    assert not pages - listed, sorted(p.name for p in pages - listed)
    readme_links = {(REPO / target.partition("#")[0]).resolve() for target in links(REPO / "README.md")}
    assert index.resolve() in readme_links, "README.md does not link to docs/README.md"


def test_the_anchors_checked_are_the_pages_headings() -> None:
    """The check above is no pretence: a heading of a page is an anchor, a made-up one is not."""
    page = REPO / "docs/first-audit.md"
    assert "5-audit" in anchors(page) and "no-such-heading" not in anchors(page)
