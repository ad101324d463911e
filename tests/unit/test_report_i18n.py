"""Message catalogs: every interface string is in both, translated, NFC, with the same placeholders."""

from __future__ import annotations

import re
import unicodedata

import pytest
from babel.messages.pofile import read_po

from auditor.report import i18n


def catalog(lang: str):
    with i18n.po_path(lang).open("rb") as fh:
        return read_po(fh, locale=lang)


def test_the_extractor_finds_the_templates_strings():
    ids = i18n.extract_messages()
    assert {"Information security audit report", "Pass", "Fail", "Plan tasks"} <= ids
    assert len(ids) > 80


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_string_is_translated(lang):
    cat = catalog(lang)
    entries = {m.id: m.string for m in cat if m.id}
    ids = i18n.extract_messages()
    assert sorted(ids - entries.keys()) == []  # missing
    assert sorted(entries.keys() - ids) == []  # stale
    assert [m for m, s in entries.items() if not s] == []
    assert not [m.id for m in cat if m.id and m.fuzzy]


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_placeholders_match(lang):
    for m in catalog(lang):
        if m.id:
            assert sorted(re.findall(r"%\(\w+\)s", m.id)) == sorted(re.findall(r"%\(\w+\)s", m.string)), m.id


def test_vietnamese_is_precomposed_and_says_the_right_words():
    t = i18n.translator("vi")
    for m in catalog("vi"):
        assert unicodedata.is_normalized("NFC", m.string), m.id
    assert t("Information security audit report") == "Báo cáo kiểm tra an toàn thông tin"
    assert (t("Pass"), t("Fail")) == ("Đạt", "Không đạt")
    assert i18n.translator("en")("Pass") == "Pass"


def test_numbers_follow_the_language():
    assert i18n.number(2950, "vi") == "2.950" and i18n.number(2950, "en") == "2,950"
    assert i18n.score_text(92.94, "vi") == "92,9" and i18n.score_text(None, "en") == "–"
    assert i18n.percent(0.8, "vi") == "80%"
