"""A complaint about the Jugendamt (issue 18): the family hears of the Jugendamt's own complaint route and the
Ombudsstelle (with its phone number) before writing, says whether it may be passed on, and the officer passes
it on by email, in the chat or in the console, through the same function and the same rule."""

from __future__ import annotations

from sqlalchemy import select

from conversations.complaints import forwarding
from storage.models import Organisation, OutboxMessage, StaffMember
from storage.models.complaints import Complaint
from tests.support.web import Browser

OFFICE = "beschwerde@jugendamt-magdeburg.example"
CONTACT = "Beschwerdestelle Jugendamt Magdeburg, Wilhelm-Höpfner-Ring 4 (Platzhalter)"
ACCOUNT = "Frau Dr. Schulz hat seit drei Monaten nicht zurückgerufen."


def set_jugendamt_route(app, *, email: str | None = OFFICE, contact: str | None = CONTACT) -> None:  # type: ignore[no-untyped-def]
    with app.sessions.begin() as session:
        org = session.scalar(select(Organisation).where(Organisation.name == "Brücke e.V."))
        own = {k: v for k, v in (("jugendamt_email", email), ("jugendamt_contact", contact)) if v}
        org.settings = {**(org.settings or {}), "complaints": own}


def complain_about_the_jugendamt(ayse, consent: str, *, anonymous: bool = False) -> list[str]:  # type: ignore[no-untyped-def]
    ayse.say("/beschwerde")
    told = ayse.press("Das Jugendamt")
    route = "\n".join(told)
    assert "eigenes Beschwerdeverfahren" in route and "bei der Leitung des Jugendamts" in route
    assert "Ombudsstelle Kinder- und Jugendhilfe Sachsen-Anhalt" in route and "☎ 0000 000000 (Platzhalter)" in route
    assert "nur an das Jugendamt weiter, wenn Sie einverstanden sind" in route
    assert "Bitte erzählen Sie" in told[-1]
    ayse.say(ACCOUNT)
    ayse.press("Das ist alles")
    question = ayse.press("Anonym" if anonymous else "Mit meinem Namen")[0]
    assert "Darf die Beschwerdestelle Ihre Beschwerde an die Beschwerdestelle des Jugendamts weitergeben?" in question
    offered = [c.label for c in ayse.last.choices]
    assert ("Ja, mit meinem Namen" in offered) is not anonymous and "Nein, nur an Brücke e.V." in offered
    ayse.press(consent)
    check = ayse.press("Ja, hier im Chat")[0]
    assert f"Weitergabe an das Jugendamt: {consent}" in check
    return ayse.press("Abschicken")


def test_the_family_learns_the_route_and_kerstin_passes_it_on_with_the_name(bot, codes, app):
    set_jugendamt_route(app)
    kerstin = bot.link("kerstin", codes["Kerstin"])
    ayse = bot.link("ayse", codes["Ayşe"])
    ack = complain_about_the_jugendamt(ayse, "Ja, mit meinem Namen")
    assert "B-2027-0001" in ack[0]

    new = "\n".join(kerstin.receive())
    assert "Weitergabe an das Jugendamt erlaubt: mit dem Namen der Person" in new
    question = kerstin.press("An das Jugendamt weitergeben")[0]
    assert OFFICE in question and "mit dem Namen der Person" in question
    done = kerstin.press("Jetzt weitergeben")[0]
    assert f"an {OFFICE} weitergegeben" in done and "An das Jugendamt weitergeben" not in str(kerstin.last.choices)
    told = ayse.receive()
    assert told == ["Ihre Beschwerde B-2027-0001 wurde an die Beschwerdestelle des Jugendamts weitergegeben, "
                    "mit Ihrem Namen."]
    with app.sessions() as session:
        mail = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "complaint.forwarded",
                                                          OutboxMessage.channel == "email"))
        assert mail.address == OFFICE and "B-2027-0001" in mail.subject and "Brücke e.V." in mail.subject
        assert ACCOUNT in mail.text and "Von: Ayşe Yılmaz" in mail.text and "Rückfragen: 0391 555 0100" in mail.text
        complaint = session.scalar(select(Complaint))
        assert complaint.forwarded_at is not None and complaint.forward_consent == "named"

    # Once: the old button, pressed again, sends nothing more.
    again = kerstin.say(payload=f"act:complaint_forward_send:{complaint.id}")[0]
    assert "bereits an das Jugendamt weitergegeben" in again
    with app.sessions() as session:
        assert len(session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "email",
                                                               OutboxMessage.kind == "complaint.forwarded")).all()) == 1


def test_anonymous_without_the_name_and_no_means_no(bot, codes, app):
    set_jugendamt_route(app, contact=None)
    kerstin = bot.link("kerstin", codes["Kerstin"])
    olga = bot.link("olga", codes["Olga"], "Deutsch")
    olga.say("/beschwerde")
    route = "\n".join(olga.press("Das Jugendamt"))
    assert "Ihre Fachkraft kann Ihnen sagen, wie Sie die Beschwerdestelle des Jugendamts erreichen" in route
    olga.say(ACCOUNT)
    olga.press("Das ist alles")
    olga.press("Anonym")
    olga.press("Ja, ohne meinen Namen")
    olga.press("Ja, hier im Chat")
    olga.press("Abschicken")
    kerstin.receive()
    kerstin.press("An das Jugendamt weitergeben")
    kerstin.press("Jetzt weitergeben")
    assert "ohne Ihren Namen" in olga.receive()[0]
    with app.sessions() as session:
        mail = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "complaint.forwarded"))
        assert "Die Person möchte nicht namentlich genannt werden." in mail.text
        assert "Olga" not in mail.text and "Petrenko" not in mail.text and ACCOUNT in mail.text

    # A second complaint, and this time "No": no button, and the function refuses too.
    olga.say("/beschwerde")
    olga.press("Das Jugendamt")
    olga.say("Noch etwas.")
    olga.press("Das ist alles")
    olga.press("Mit meinem Namen")
    olga.press("Nein, nur an Brücke e.V.")
    olga.press("Ja, hier im Chat")
    olga.press("Abschicken")
    new = "\n".join(kerstin.receive())
    assert "Weitergabe an das Jugendamt erlaubt: nein" in new
    assert "An das Jugendamt weitergeben" not in str(kerstin.last.choices)
    with app.sessions.begin() as session:
        second = session.scalar(select(Complaint).where(Complaint.reference == "B-2027-0002"))
        officer = session.scalar(select(StaffMember).where(StaffMember.name == "Kerstin Braun"))
        result = forwarding.forward(session, app.services, second, officer, app.services.clock.now())
        assert result == forwarding.Forwarded.NOT_ALLOWED and second.forwarded_at is None
    forged = kerstin.say(payload=f"act:complaint_forward:{second.id}")[0]
    assert "Dieser Knopf gilt nicht mehr" in forged


def test_without_an_address_nothing_is_sent_and_the_officer_is_told(bot, codes, app):
    kerstin = bot.link("kerstin", codes["Kerstin"])
    ayse = bot.link("ayse", codes["Ayşe"])
    complain_about_the_jugendamt(ayse, "Ja, ohne meinen Namen")
    kerstin.receive()
    answer = kerstin.press("An das Jugendamt weitergeben")[0]
    assert "keine Adresse der Beschwerdestelle des Jugendamts eingestellt (JUGENDAMT_COMPLAINTS_EMAIL)" in answer
    with app.sessions() as session:
        assert session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "complaint.forwarded")) is None


def test_the_console_passes_it_on_through_the_same_function(bot, codes, app):
    from tests.bot.web.conftest import link_in
    from tests.support.harness import Bot
    from tests.support.web import serving

    with serving(app) as (served, base):
        set_jugendamt_route(served)
        staff_bot = Bot(served)
        ayse = staff_bot.link("ayse", codes["Ayşe"])
        complain_about_the_jugendamt(ayse, "Ja, mit meinem Namen")
        kerstin = staff_bot.link("kerstin", codes["Kerstin"])
        browser = Browser(base)
        browser.sign_in(link_in(kerstin.say("/web")))
        with served.sessions() as session:
            complaint_id = session.scalar(select(Complaint.id))
        page = browser.get(f"/complaints/{complaint_id}").text
        assert "An das Jugendamt weitergeben" in page and OFFICE in page
        sent = browser.post(f"/complaints/{complaint_id}/forward")
        assert sent.status_code == 303
        done = browser.get(sent.headers["location"]).text
        assert "wurde an die Beschwerdestelle des Jugendamts weitergegeben" in done
        assert "Jetzt weitergeben" not in done and "An das Jugendamt weitergegeben:" in done
        again = browser.post(f"/complaints/{complaint_id}/forward", csrf=browser.csrf("/signout"))
        assert again.status_code == 403 or "nicht (noch einmal)" in browser.get(again.headers["location"]).text
        assert "mit Ihrem Namen" in ayse.receive()[0]
        with served.sessions() as session:
            assert len(session.scalars(select(OutboxMessage).where(
                OutboxMessage.kind == "complaint.forwarded", OutboxMessage.channel == "email")).all()) == 1
