"""Invite letters as people get them on paper: `member add … --letter`, `staff add … --letter`, read back with
pypdf. The Träger's letterhead, the date, the name, the code and its expiry, Telegram (@name, QR) and Matrix
(ID, matrix.to link, QR); staff get their own text; Arabic reads right to left, in logical order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from conversations.i18n import translator
from tests.support.cli import wegbegleiter

MARKS = re.compile("[\u2066-\u2069\u200e\u200f]")
MATRIX = {"MATRIX_HOMESERVER": "https://matrix.bruecke.example", "MATRIX_USER_ID": "@wegbegleiter:bruecke.example",
          "MATRIX_ACCESS_TOKEN": "not-used-here", "TELEGRAM_BOT_USERNAME": "BrueckeBot"}


def text_of(path: Path) -> str:
    return MARKS.sub("", "\n".join(page.extract_text() for page in PdfReader(path).pages))


ARABIC_WORD = re.compile("[\u0600-\u06ff]+")
RUNS = re.compile("[\u0600-\u06ff][\u0600-\u06ff\\s.,:;!?()«»]*|[^\u0600-\u06ff]+")


def logical_words(text: str) -> list[str]:
    """The Arabic words of a PDF's text in reading order. pypdf gives each line's runs as they stand on the
    page, left to right, each Arabic run in its own (logical) order: a right-to-left line's runs are read
    from the right, so they are reversed."""
    words: list[str] = []
    for line in text.splitlines():
        runs = RUNS.findall(line)
        if ARABIC_WORD.search(line):
            runs.reverse()
        for run in runs:
            words += ARABIC_WORD.findall(run)
    return words


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def org(tmp_path: Path) -> Path:
    assert wegbegleiter(tmp_path, "init").returncode == 0
    wegbegleiter(tmp_path, "org", "add", "Brücke e.V.", "--phone", "0391 555 0100", "--hours", "Mo–Fr 8:00–18:00")
    wegbegleiter(tmp_path, "org", "set", "1", "--address", r"Breiter Weg 12\n39104 Magdeburg")
    wegbegleiter(tmp_path, "case", "add", "Familie Yılmaz", "--reference", "F-2027-0001")
    return tmp_path


def test_the_family_letter_has_letterhead_date_code_expiry_telegram_and_matrix(org: Path) -> None:
    import json

    made = wegbegleiter(org, "member", "add", "F-2027-0001", "Ayşe", "--last-name", "Yılmaz", "--letter",
                        str(org / "ayse.pdf"), "--json", **MATRIX)
    data = json.loads(made.stdout)
    assert data["matrix_link"] == "https://matrix.to/#/@wegbegleiter:bruecke.example"
    assert data["expires_at"][:10] and re.search(r"[+-]\d\d:\d\d$", data["expires_at"])
    text = flat(text_of(org / "ayse.pdf"))
    tr = translator("de")
    for field in ("Brücke e.V.", "Breiter Weg 12", "39104 Magdeburg", "Telefon 0391 555 0100 (Mo–Fr 8:00–18:00)",
                  "Ihre Einladung zu Wegbegleiter", "Hallo Ayşe Yılmaz,", data["code"], "Telegram", "@BrueckeBot",
                  f"https://t.me/BrueckeBot?start={data['code'].replace('-', '')}", "Matrix (Element)",
                  "@wegbegleiter:bruecke.example", "https://matrix.to/#/@wegbegleiter:bruecke.example",
                  "Fragen? Rufen Sie uns an: 0391 555 0100"):
        assert field in text, field
    from datetime import date, datetime, timedelta

    today = date.today()
    assert tr.date(today, "long") in text  # the letter's date
    expires = datetime.fromisoformat(data["expires_at"])
    assert f"bis zum {tr.date(expires, 'long')}" in text and (expires.date() - today) <= timedelta(days=15)
    images = PdfReader(org / "ayse.pdf").pages[0].images
    assert len(images) == 2  # the two QR codes


def test_staff_get_a_letter_of_their_own(org: Path) -> None:
    wegbegleiter(org, "staff", "add", "Jana Weber", "--role", "fachkraft", "--letter", str(org / "jana.pdf"),
                 **MATRIX)
    text = flat(text_of(org / "jana.pdf"))
    assert "Ihr Zugang zu Wegbegleiter" in text and "Hallo Jana Weber," in text
    assert "Sozialdaten" in text and "Einladung" not in text and "Brücke e.V." in text
    assert "@wegbegleiter:bruecke.example" in text


def test_the_arabic_letter_reads_right_to_left_in_logical_order(org: Path) -> None:
    wegbegleiter(org, "member", "add", "F-2027-0001", "Ayşe", "--language", "ar", "--letter", str(org / "ar.pdf"),
                 **MATRIX)
    text = flat(text_of(org / "ar.pdf"))
    tr = translator("ar")
    intro = tr.gettext("{organisation} invites you to Wegbegleiter, the chat helper for your family help. "
                       "It reminds you of appointments and asks for your view. You decide what you write.")
    arabic_sentences = [s.strip() for s in re.split(r"(?<=\.)\s", intro) if s.strip()
                        and not re.search(r"[A-Za-z{}]", s)]
    assert len(arabic_sentences) == 2
    read = " ".join(logical_words(text_of(org / "ar.pdf")))
    for sentence in arabic_sentences:  # the catalog's sentences, word after word as an Arabic reader reads
        assert " ".join(ARABIC_WORD.findall(sentence)) in read, sentence
    assert tr.gettext("Your code") in text and "Ayşe" in text
    # Right-aligned: the short heading "Your code" starts far right (an A4 page is 595 pt wide), the German one
    # at the left margin.
    starts: dict[str, float] = {}

    def where(chunk, _cm, tm, _font, _size):  # type: ignore[no-untyped-def]
        starts.setdefault(MARKS.sub("", chunk).strip(), tm[4])

    PdfReader(org / "ar.pdf").pages[0].extract_text(visitor_text=where)
    assert starts[tr.gettext("Your code")] > 595 * 0.75
    # Shaped: Noto Sans Arabic is embedded and its joined forms are used, not the isolated letters.
    fonts = {str(f.get("/BaseFont")) for f in PdfReader(org / "ar.pdf").pages[0]["/Resources"]["/Font"].values()
             if f is not None for f in [f.get_object()]}
    assert any("NotoSansArabic" in f for f in fonts), fonts


def test_a_young_persons_letter_says_du(org: Path) -> None:
    from datetime import date

    young = date.today().replace(year=date.today().year - 14).isoformat()
    wegbegleiter(org, "member", "add", "F-2027-0001", "Emre", "--kind", "child", "--born", young, "--letter",
                 str(org / "emre.pdf"), **MATRIX)
    text = flat(text_of(org / "emre.pdf"))
    assert "Dein Code" in text and "schick deinen Code" in text and "Fragen? Ruf uns an" in text
    assert not re.search(r"\b(Sie|Ihnen|Ihr|Ihre)\b", text), text
