"""The catalogs are complete and current: a family never sees a missing or broken translation."""

from __future__ import annotations

from babel.messages.pofile import read_po

from bot import i18n_tool
from conversations.i18n import catalog_dir


def test_every_catalog_is_complete_with_matching_placeholders():
    problems = i18n_tool.check()
    assert [str(p) for p in problems] == []


def test_the_template_lists_every_message_in_the_code(tmp_path, monkeypatch):
    committed = {m.id for m in read_po((catalog_dir() / "messages.pot").open("rb")) if m.id}
    monkeypatch.setattr(i18n_tool, "catalog_dir", lambda: tmp_path)
    fresh = {m.id for m in read_po(i18n_tool.extract().open("rb")) if m.id}
    assert fresh - committed == set(), "run `wegbegleiter i18n update` and translate the new messages"
