"""Sign-in without passwords: a single-use link, valid for ten minutes, to the person's chat or email.

Staff ask for it with ``/web`` in the chat (or the menu entry), or by typing their email address on the
console's sign-in page. The page answers the same whether or not the address is known, so it reveals
nobody's address. Only the link's hash is stored; opening the link (GET) shows a button, and only the
button's POST uses it up, so a mail scanner or a chat's link preview cannot spend it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from conversations import authz
from conversations.authz import Principal
from conversations.context import Context, Services, audit
from conversations.i18n import N_, Translator, translator
from conversations.messages import Reply
from conversations.outbox import enqueue
from conversations.registry import REGISTRY, Audience, Command
from storage.models import StaffMember
from storage.models.console import ConsoleSignIn

LINK_LIFETIME = timedelta(minutes=10)
# More than this many links per person within LINK_LIFETIME: the next request sends nothing (someone
# typing a colleague's address again and again must not flood her inbox).
MAX_OPEN_LINKS = 3
PATH = "/signin/"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}{PATH}{token}"


def issue(session: Session, staff: StaffMember, now: datetime, via: str) -> str | None:
    """A new sign-in token for ``staff``; None if they may not use the console or asked too often."""
    if not authz.may_use_console(Principal(staff=staff)):
        return None
    recent = session.scalar(select(func.count(ConsoleSignIn.id)).where(
        ConsoleSignIn.staff_id == staff.id, ConsoleSignIn.created_at > now - LINK_LIFETIME)) or 0
    if recent >= MAX_OPEN_LINKS:
        return None
    token = secrets.token_urlsafe(32)
    session.add(ConsoleSignIn(token_hash=token_hash(token), staff_id=staff.id, via=via, created_at=now,
                              expires_at=now + LINK_LIFETIME))
    audit(session, at=now, actor=f"staff:{staff.id}", action="console.link_issued", object_type="staff_member",
          object_id=staff.id, via=via)
    return token


def valid_link(session: Session, token: str, now: datetime) -> ConsoleSignIn | None:
    """The unused, unexpired link of an active staff member, or None (without saying which it was)."""
    link = session.scalar(select(ConsoleSignIn).where(ConsoleSignIn.token_hash == token_hash(token)))
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    return link if authz.may_use_console(Principal(staff=link.staff)) else None


def redeem(session: Session, token: str, now: datetime) -> StaffMember | None:
    """Use the link up (once) and return whom it signs in."""
    link = valid_link(session, token, now)
    if link is None:
        return None
    link.used_at = now
    audit(session, at=now, actor=f"staff:{link.staff_id}", action="console.signed_in", object_type="staff_member",
          object_id=link.staff_id, via=link.via)
    return link.staff


def link_text(tr: Translator, url: str) -> str:
    return tr.gettext("Your sign-in link for the Wegbegleiter console. It works once, for 10 minutes, and only "
                      "for you: please do not pass it on.\n\n{link}").format(link=url)


def request_by_email(session: Session, services: Services, address: str) -> None:
    """The sign-in page's form: a link by email, if the address belongs to active staff. Says nothing back."""
    address = address.strip()
    if not address or "@" not in address or len(address) > 200:
        return
    now = services.clock.now()
    people = session.scalars(select(StaffMember).where(
        func.lower(StaffMember.email) == address.casefold(), StaffMember.active.is_(True))).all()
    for staff in people:
        token = issue(session, staff, now, "email")
        if token is None or staff.email is None:
            continue
        tr = translator(staff.language)
        enqueue(session, channel="email", address=staff.email, now=now, language=tr.lang, kind="console.sign_in",
                reply=Reply(link_text(tr, link_url(services.settings.public_base_url, token))),
                subject=tr.gettext("Your sign-in link for the Wegbegleiter console"))


def send_link(ctx: Context, _arg: str) -> None:
    """``/web`` in the chat: the link comes as the answer, in this chat."""
    staff = ctx.staff
    assert staff is not None  # the command is for staff
    token = issue(ctx.session, staff, ctx.now, ctx.incoming.channel)
    if token is None:
        ctx.say(ctx._("You asked for several links in the last minutes. Please use the newest one, or try again "
                      "in 10 minutes."))
    else:
        ctx.say(link_text(ctx.tr, link_url(ctx.services.settings.public_base_url, token)))
    ctx.resume()


REGISTRY.command(Command("web", {"de": "web", "en": "web"}, N_("Open the console in the browser"), send_link,
                         Audience.STAFF, in_menu=True, aliases=("konsole", "console")))
