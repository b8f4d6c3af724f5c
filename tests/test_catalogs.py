"""The catalogs are complete and current: a family never sees a missing or broken translation."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from bot import i18n_tool
from conversations.clock import berlin
from conversations.i18n import SOURCE_LANGUAGE, Translator, available_languages, catalog_dir, translator


def test_every_catalog_is_complete_with_matching_placeholders():
    problems = i18n_tool.check()
    assert [str(p) for p in problems] == []


def test_the_template_lists_every_message_in_the_code(tmp_path, monkeypatch):
    committed = {m.id for m in read_po((catalog_dir() / "messages.pot").open("rb")) if m.id}
    monkeypatch.setattr(i18n_tool, "catalog_dir", lambda: tmp_path)
    fresh = {m.id for m in read_po(i18n_tool.extract().open("rb")) if m.id}
    assert fresh - committed == set(), "run `wegbegleiter i18n update` and translate the new messages"
    youth = {m.id for m in read_po((catalog_dir() / "youth.pot").open("rb")) if m.id}
    fresh_youth = {m.id for m in read_po((tmp_path / "youth.pot").open("rb")) if m.id}
    assert fresh_youth - youth == set(), "run `wegbegleiter i18n update` and give the new messages their du-form"
    assert fresh_youth <= fresh and 0 < len(fresh_youth) < len(fresh)  # staff-only files are left out


# --- every message in every language, with real values --------------------------------------------------
TELEGRAM_LIMIT = 4096
FREE_TEXT = ("Am Dienstag war niemand da, weil Leyla krank war. Ich habe um 8 Uhr angerufen, aber keiner ging ran. "
             "Bitte nicht als Absage zählen. ") * 3  # what a parent writes: a few sentences


def sample_values(tr: Translator) -> Samples:
    """A realistic value for every placeholder name the code uses, formatted for the reader."""
    when = berlin(2027, 3, 16, 10, 0)
    hours = tr.gettext("{hours} h").format(hours=tr.number(2.5))
    people = {"name": "Ayşe Yılmaz", "names": "Jana Weber, Tobias Klein", "leader": "Sabine Roth",
              "team": "Jana Weber und Tobias Klein", "child": "Leyla", "who": "Olga Petrenko",
              "first": "Jana Weber", "last": "Tobias Klein"}
    places = {"org": "Brücke e.V.", "organisation": "Brücke e.V.", "case": "Familie Yılmaz", "title": "Familie Yılmaz",
              "ref": "F-2026-0001", "reference": "B-2027-0003", "phone": "0391 555 0100",
              "ombudsstelle": "Ombudschaft Jugendhilfe Sachsen-Anhalt, 0391 123 4567, www.ombudschaft-jugendhilfe.de",
              "bot": "WegbegleiterBot", "channel": "Telegram", "link": "https://wegbegleiter.example/a/Zx81Qk-2fA"}
    times = {"date": tr.date(when), "when": tr.when(when), "take_up": tr.date(when), "answer": FREE_TEXT[:60],
             "month": tr.month(when), "example": "16.03.2027",
             "appointment": tr.when(when) + ", " + tr.gettext("Home visit")}
    numbers = {key: tr.number(12) for key in ("count", "n", "total", "weeks", "minutes", "percent", "limit", "size")}
    amounts = {key: hours for key in ("hours", "used", "billable", "budget", "remaining")}
    words = {"help": "hilfe", "command": "/fragebogen", "mydata": "meine_daten", "unlink": "abmelden",
             "language": "Türkçe", "kind": tr.gettext("Home visit"), "level": tr.gettext("Goal (Handlungsziel)"),
             "status": tr.gettext("in progress"), "outcome": tr.gettext("took place")}
    free = {key: FREE_TEXT for key in ("remark", "wish", "goal", "about", "resolution", "action", "phrase",
                                         "reason", "answers")}
    return Samples({**people, **places, **times, **numbers, **amounts, **words, **free})


class Samples(dict):  # type: ignore[type-arg]
    """A placeholder name not listed yet (a new message) gets a sentence a parent might have written."""

    def __missing__(self, key: str) -> str:
        return FREE_TEXT[:120]


@pytest.mark.parametrize("lang", available_languages())
def test_every_message_renders_in_every_language_with_real_values(lang):
    tr = translator(lang)
    values = sample_values(tr)
    with (catalog_dir() / "messages.pot").open("rb") as fh:
        template = read_po(fh)
    catalog = None
    if lang != SOURCE_LANGUAGE:
        with (catalog_dir() / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
            catalog = read_po(fh, locale=lang)
    failures = []
    # Russian and Ukrainian months stand alone in the nominative ("март 2027"): "в март 2027" is wrong (it
    # would need "в марте"), so messages say "за {month}" or put the month after a colon.
    month_after_preposition = (re.compile(rf"(?<!\w)(в|во|у|уві)\s+{re.escape(values['month'])}")
                               if tr.locale.language in ("ru", "uk") else None)
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            texts = [(message.id[0], tr.ngettext(*message.id, n)) for n in (0, 1, 2, 3, 5, 11, 21, 101)]
        else:
            texts = [(message.id, tr.gettext(message.id))]
        for msgid, text in texts:
            entry = catalog.get(message.id) if catalog is not None else None
            if catalog is not None and (entry is None or not entry.string or text == msgid != entry.string):
                failures.append(f"missing at run time: {msgid[:60]!r}")
                continue
            fields = i18n_tool.placeholders(msgid)
            try:
                rendered = text.format_map(values) if fields else text
            except (KeyError, IndexError, ValueError) as broken:
                failures.append(f"broken placeholder {broken!r}: {text[:60]!r}")
                continue
            shown = tr.display(rendered)
            if len(shown) > TELEGRAM_LIMIT:
                failures.append(f"{len(shown)} characters: {msgid[:60]!r}")
            if fields and re.search(r"\{[a-z_]*\}", shown):
                failures.append(f"placeholder left in text: {shown[:60]!r}")
            if "e.V.." in shown:  # a name ending in a full stop takes the sentence's full stop
                failures.append(f"second full stop after the organisation's name: {shown[:80]!r}")
            if month_after_preposition and month_after_preposition.search(shown):
                failures.append(f"a preposition before a month in the nominative: {shown[:80]!r}")
    assert failures == []


@pytest.mark.parametrize("lang", [lang for lang in available_languages() if lang in i18n_tool.FORMAL_ADDRESS])
def test_every_family_message_says_du_to_a_young_reader(lang):
    """A young person (du, sen, ти, ты, the Arabic singular) never meets the polite address, in any message
    a family member can see: the youth catalog first, the adult one where the message has no address."""
    young, grown_up = Translator(lang, youth=True), translator(lang)
    values = sample_values(young)
    with (catalog_dir() / "youth.pot").open("rb") as fh:
        template = read_po(fh)
    polite, du = [], 0
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            texts = [(young.ngettext(*message.id, n), grown_up.ngettext(*message.id, n)) for n in (1, 2, 5, 21)]
        else:
            texts = [(young.gettext(message.id), grown_up.gettext(message.id))]
        for text, adult in texts:
            rendered = text.format_map(values) if i18n_tool.placeholders(text) else text
            if found := i18n_tool.formal_words(lang, text):
                polite.append(f"{found}: {rendered[:70]!r}")
            du += text != adult
    assert polite == []
    assert du > 100  # the youth catalog is really read, not the adult one


def test_the_check_wants_a_du_form_where_the_adult_says_sie(tmp_path, monkeypatch):
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    def po(path, entries, locale=None):
        catalog = Catalog(locale=locale)
        for msgid, text in entries.items():
            catalog.add(msgid, text)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            write_po(fh, catalog)

    ids = ("Please send the code.", "Thank you.", "Your appointment: {date}")
    po(tmp_path / "messages.pot", dict.fromkeys(ids, ""))
    po(tmp_path / "youth.pot", dict.fromkeys(ids, ""))
    po(tmp_path / "de" / "LC_MESSAGES" / "messages.po", {
        ids[0]: "Bitte schicken Sie den Code.", ids[1]: "Danke.", ids[2]: "Ihr Termin: {date}"}, "de")
    po(tmp_path / "de" / "LC_MESSAGES" / "youth.po", {
        ids[0]: "", ids[1]: "", ids[2]: "Ihr Termin: {date}"}, "de")  # one missing, one still polite
    monkeypatch.setattr(i18n_tool, "catalog_dir", lambda: tmp_path)
    found = {(p.msgid, p.what.split(":")[0]) for p in i18n_tool.check()}
    assert found == {("Please send the code.", "no du-form for a young reader"),
                     ("Your appointment: {date}", "polite address in the du-form")}


def test_the_check_catches_a_gap_a_fuzzy_entry_and_a_broken_placeholder(tmp_path, monkeypatch):
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    template = Catalog()
    for msgid in ("Hello {name}, welcome!", "Please choose one of the buttons.", "Budget: {hours}", "Yes"):
        template.add(msgid)
    catalog = Catalog(locale="tr")
    catalog.add("Hello {name}, welcome!", "Merhaba {isim}, hoş geldiniz!")  # placeholder translated by mistake
    catalog.add("Please choose one of the buttons.", "Lütfen düğmelerden birini seçin.", flags=["fuzzy"])
    catalog.add("Budget: {hours}", "Bütçe: {hours}")  # fine; "Yes" is missing
    (tmp_path / "tr" / "LC_MESSAGES").mkdir(parents=True)
    with (tmp_path / "messages.pot").open("wb") as fh:
        write_po(fh, template)
    with (tmp_path / "tr" / "LC_MESSAGES" / "messages.po").open("wb") as fh:
        write_po(fh, catalog)
    monkeypatch.setattr(i18n_tool, "catalog_dir", lambda: tmp_path)
    found = {(p.msgid, p.what.split(" (")[0]) for p in i18n_tool.check()}
    assert found == {("Hello {name}, welcome!", "placeholders differ"),
                     ("Please choose one of the buttons.", "fuzzy"), ("Yes", "missing")}
