"""`wegbegleiter member import FILE.csv` and `wegbegleiter staff import FILE.csv`: a Träger set up in one go.

One process, one database session, a progress bar, and a line per row: who was added with which invite
code, what was skipped because it is there already (so a corrected file can simply be read again), and
what was wrong with a row (that row is left out; the others are added). ``--dry-run`` checks the file and
adds nothing. Column names may be English or German; the separator may be a comma, a semicolon (as
spreadsheet programs write it in Germany) or a tab.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cli import (
    CLI,
    _invite_output,
    emit,
    explain,
    fail_cleanly,
    json_option,
    load_app,
    member,
    parse_date,
    staff,
)
from bot.cli_language import t, tn
from conversations import admin, timeparse
from conversations.admin import AdminError
from storage.models import Case, StaffMember

MEMBER_COLUMNS = {
    "case": ("case", "fall", "aktenzeichen", "reference"),
    "case_title": ("case_title", "falltitel", "familie", "title"),
    "help_type": ("help_type", "hilfeart"),
    "fachkraft": ("fachkraft", "fachkraefte", "fachkräfte"),
    "first_name": ("first_name", "vorname"),
    "last_name": ("last_name", "nachname"),
    "kind": ("kind", "art"),
    "born": ("born", "geboren", "geburtsdatum"),
    "language": ("language", "sprache"),
    "email": ("email", "e-mail"),
}
MEMBER_REQUIRED = ("case", "first_name")
STAFF_COLUMNS = {
    "name": ("name",),
    "roles": ("roles", "role", "rollen", "rolle"),
    "email": ("email", "e-mail"),
    "phone": ("phone", "telefon"),
    "language": ("language", "sprache"),
}
STAFF_REQUIRED = ("name", "roles")
KINDS = {"parent": "parent", "elternteil": "parent", "eltern": "parent", "mutter": "parent", "vater": "parent",
         "adult": "adult", "erwachsen": "adult", "erwachsene": "adult", "erwachsener": "adult",
         "child": "child", "kind": "child", "jugendlich": "child", "jugendliche": "child", "jugendlicher": "child"}


Done = tuple[dict[str, Any], Any, str | None]  # the row's report entry, and the person added with their code


class RowProblem(Exception):
    """What is wrong with one row, already in the operator's language."""


@dataclass
class Report:
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, line: int, status: str, **data: Any) -> None:
        self.rows.append({"line": line, "status": status, **data})

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r["status"] == status)


def read_table(path: Path, columns: dict[str, tuple[str, ...]], required: tuple[str, ...]) -> list[dict[str, str]]:
    """The rows of a CSV file under our column names; a file we cannot read is one line naming the problem."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = path.read_text(encoding="cp1252")  # an older spreadsheet program's "CSV (Trennzeichen-getrennt)"
        except UnicodeDecodeError:
            raise AdminError("{path} is not a text file (save it as CSV, UTF-8)", path=str(path)) from None
    head = text.partition("\n")[0]
    delimiter = max((";", ",", "\t"), key=head.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise AdminError("{path} is empty: the first line names the columns, e.g. {columns}", path=str(path),
                         columns=",".join(required))
    alias = {a: name for name, aliases in columns.items() for a in aliases}
    names = [alias.get(h.strip().casefold()) for h in header]
    unknown = [h.strip() for h, n in zip(header, names, strict=True) if n is None and h.strip()]
    if unknown:
        raise AdminError("{path}: unknown column(s) {names}; known: {known}", path=str(path),
                         names=", ".join(unknown), known=", ".join(columns))
    missing = [r for r in required if r not in names]
    if missing:
        raise AdminError("{path}: the column(s) {names} are missing", path=str(path), names=", ".join(missing))
    rows = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue  # an empty line, e.g. at the end
        rows.append({n: v.strip() for n, v in zip(names, values, strict=False) if n})
    return rows


def _folded(text: str | None) -> str:
    return " ".join(admin.name_words(text or ""))


def _day(value: str) -> Any:
    try:
        return parse_date(value)
    except timeparse.TypedDateError as exc:
        raise RowProblem(explain(exc)) from None


def _staff_ids(session: Session, value: str) -> list[StaffMember]:
    found = []
    for token in re.split(r"[\s,]+", value.strip()):
        if not token:
            continue
        if not token.isdigit():
            raise RowProblem(t("the column fachkraft holds staff ids, e.g. 3 or 3 7 (got {value!r})", value=token))
        found.append(admin.staff_member(session, int(token)))
    return found


def _case_for(session: Session, now: Any, row: dict[str, str], org_id: int | None) -> tuple[Case, bool]:
    """The row's case, and whether this row created it (a reference not known yet, with case_title)."""
    reference = row.get("case", "")
    if not reference:
        raise RowProblem(t("the column case is empty"))
    existing = session.scalar(select(Case).where(Case.reference == reference))
    if existing is not None:
        return existing, False
    if not row.get("case_title"):
        return admin.find_case(session, reference), False  # a case id, or the one-line "no case …"
    case = admin.add_case(session, CLI, now, admin.organisation(session, org_id), row["case_title"], reference,
                          row.get("help_type") or None)
    for person in _staff_ids(session, row.get("fachkraft", "")):
        admin.assign(session, CLI, now, case, person, "fachkraft")
    return case, True


def _import(rows: list[dict[str, str]], label: str, as_json: bool, dry_run: bool, letters: Path | None,
            one: Callable[[Any, Session, dict[str, str]], Done]) -> Report:
    """Run ``one`` for every row, each row in a transaction of its own: a wrong row leaves no trace and
    does not hold up the others. ``--dry-run``: all rows in one transaction, rolled back (later rows see
    what earlier ones would add, e.g. a new case)."""
    report = Report()
    app = load_app()
    if letters and not dry_run:
        letters.mkdir(parents=True, exist_ok=True)
    dry = app.sessions() if dry_run else None
    with click.progressbar(rows, label=label, file=sys.stderr, hidden=as_json, show_pos=True) as bar:
        for number, row in enumerate(bar, start=2):
            session = dry or app.sessions()
            try:
                entry, person, code = one(app, session, row)
                if letters and person is not None and not dry_run:
                    slug = "-".join(admin.name_words(entry["name"])) or str(person.id)
                    entry["letter"] = _invite_output(app, session, person, code,
                                                     letters / f"{number:04d}-{slug}.pdf")["letter"]
                if dry is None:
                    session.commit()
            except (RowProblem, AdminError, ValueError, OSError) as exc:
                if dry is None:
                    session.rollback()
                report.add(number, "error", problem=str(exc) if isinstance(exc, (RowProblem, OSError))
                           else explain(exc))
                continue
            finally:
                if dry is None:
                    session.close()
            report.add(number, **entry)
    if dry is not None:
        dry.rollback()
        dry.close()
    return report


def _summary(report: Report, dry_run: bool) -> str:
    total = len(report.rows)
    lines = [tn("{count} row: {added} added, {skipped} already there, {errors} with errors",
                "{count} rows: {added} added, {skipped} already there, {errors} with errors", total, count=total,
                added=report.count("added"), skipped=report.count("skipped"), errors=report.count("error"))]
    if dry_run:
        lines.append(t("Checked only (--dry-run): nothing was added."))
    elif report.count("error"):
        lines.append(t("The rows with errors were left out: correct them and read the file again "
                       "(what was added is then skipped)."))
    return "\n".join(lines)


def _row_line(r: dict[str, Any], dry_run: bool) -> str:
    prefix = t("Line {line}:", line=r["line"])
    if r["status"] == "error":
        return prefix + " " + t("error – {problem}", problem=r["problem"])
    if r["status"] == "skipped":
        return prefix + " " + t("skipped – {reason}", reason=r["reason"])
    who = f"{r['name']} ({r['case']})" if r.get("case") else r["name"]
    if dry_run:
        return prefix + " " + t("{who} – would be added", who=who)
    text = prefix + " " + t("{who} – invite code {code}", who=who, code=r["code"])
    return text + (f" – {r['letter']}" if r.get("letter") else "")


def _finish(report: Report, as_json: bool, dry_run: bool) -> None:
    emit({"dry_run": dry_run, "rows": report.rows, "added": report.count("added"),
          "skipped": report.count("skipped"), "errors": report.count("error")},
         lambda: "\n".join([*(_row_line(r, dry_run) for r in report.rows), _summary(report, dry_run)]), as_json)
    if report.count("error"):
        sys.exit(1)


def _import_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--org", "org_id", type=int, help="Organisation id (default: the first).")(func)
    func = click.option("--dry-run", is_flag=True, help="Check every row and report; add nothing.")(func)
    return click.option("--letters", type=click.Path(file_okay=False, path_type=Path),
                        help="Also write an invite letter (PDF) for everyone added into this folder.")(func)


# One-line help texts: a msgid with line breaks does not survive the union merge of the catalogs.
@member.command("import", help=(
    "Add many family members from a CSV file, each with an invite code. Columns (English or German): case (Fall), "
    "first_name (Vorname), and optionally last_name (Nachname), kind (Art: parent, adult, child), born (geboren), "
    "language (Sprache), email. A case that does not exist yet is created when the row gives case_title (Familie), "
    "and optionally help_type (Hilfeart) and fachkraft (staff ids)."))
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_import_options
@json_option
@fail_cleanly
def member_import(csv_file: Path, letters: Path | None, dry_run: bool, org_id: int | None, as_json: bool) -> None:
    rows = read_table(csv_file, MEMBER_COLUMNS, MEMBER_REQUIRED)

    def one(app: Any, session: Session, row: dict[str, str]) -> Done:
        now = app.services.clock.now()
        case, case_created = _case_for(session, now, row, org_id)
        first, last = row.get("first_name", ""), row.get("last_name") or None
        if not first:
            raise RowProblem(t("the column first_name is empty"))
        name = " ".join(p for p in (first, last) if p)
        same = [m for m in case.members if (_folded(m.first_name), _folded(m.last_name)) == (_folded(first),
                                                                                            _folded(last))]
        if same:
            return {"status": "skipped", "name": name, "case": case.reference, "id": same[0].id,
                    "reason": t("{name} is already in {case}", name=name, case=case.reference)}, None, None
        kind = KINDS.get((row.get("kind") or "parent").casefold())
        if kind is None:
            raise RowProblem(t("kind must be parent, adult or child (got {value!r})", value=row["kind"]))
        person = admin.add_member(session, CLI, now, case, first, last, kind, _day(row.get("born", "")),
                                  (row.get("language") or "de").strip(), row.get("email") or None)
        code = admin.invite(session, CLI, now, person, app.settings.invite_ttl_days)
        return {"status": "added", "id": person.id, "name": person.display_name, "case": case.reference,
                "code": code, "case_created": case_created}, person, code

    report = _import(rows, t("Importing family members"), as_json, dry_run, letters, one)
    _finish(report, as_json, dry_run)


@staff.command("import", help=(
    "Add many staff members from a CSV file, each with an invite code. Columns (English or German): name, roles "
    "(Rollen: fachkraft, fallfuehrend, gespraechsfuehrung, beschwerde, leitung, admin; several separated by "
    "spaces), and optionally email, phone (Telefon), language (Sprache). Someone with the same name or email is "
    "skipped."))
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_import_options
@json_option
@fail_cleanly
def staff_import(csv_file: Path, letters: Path | None, dry_run: bool, org_id: int | None, as_json: bool) -> None:
    rows = read_table(csv_file, STAFF_COLUMNS, STAFF_REQUIRED)
    known: dict[str, int] = {}  # folded names and emails of everyone there (read once, not per row) → id

    def one(app: Any, session: Session, row: dict[str, str]) -> Done:
        now = app.services.clock.now()
        if not known:
            for other in session.scalars(select(StaffMember)):
                known.update({k: other.id for k in (_folded(other.name), (other.email or "").casefold()) if k})
            known.setdefault("", 0)  # read once even when there is nobody yet
        name = row.get("name", "")
        if not name:
            raise RowProblem(t("the column name is empty"))
        email = row.get("email") or None
        other = known.get(_folded(name)) or (known.get(email.casefold()) if email else None)
        if other:
            return {"status": "skipped", "name": name, "id": other,
                    "reason": t("{name} is there already (staff member {id})", name=name, id=other)}, None, None
        roles = [r for r in re.split(r"[\s,;]+", row.get("roles", "").casefold()) if r]
        person = admin.add_staff(session, CLI, now, admin.organisation(session, org_id), name, roles, email,
                                 row.get("phone") or None, (row.get("language") or "de").strip())
        code = admin.invite(session, CLI, now, person, app.settings.invite_ttl_days)
        session.flush()
        known.update({k: person.id for k in (_folded(name), (email or "").casefold()) if k})
        return {"status": "added", "id": person.id, "name": person.name, "roles": roles, "code": code}, person, code

    report = _import(rows, t("Importing staff members"), as_json, dry_run, letters, one)
    _finish(report, as_json, dry_run)

