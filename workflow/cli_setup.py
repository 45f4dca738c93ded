"""Setting ``duban`` up: which database a command opens (a URL or a plain file path), whether it may create
it, and the checks ``duban party add --contact`` makes on where notices go.

A plain path in ``--db`` or ``DUBAN_DB`` (``duban.db``, ``./x.db``, ``/srv/duban/duban.db``) is a SQLite file;
anything with ``://`` is a database URL (``sqlite:///duban.db``, ``postgresql+psycopg://user@host/db``).
With no setting at all the database is ``./duban.db``: a command that would create it says so on stderr,
and a command that only reads (:data:`READERS`) refuses a database file that does not exist instead of
creating an empty one.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from workflow import office
from workflow.channels import _EMAIL, Settings
from workflow.cli_errors import CommandFailed
from workflow.errors import ValidationError
from workflow.notify import UNIT_ROLES
from workflow.store import reading

if TYPE_CHECKING:
    from workflow.engine import Engine

__all__ = ["CONTACT_KEYS", "DEFAULT_DB", "READERS", "check_contacts", "database_url", "opening", "set_office"]

DEFAULT_DB = "sqlite:///duban.db"
#: Commands that only read: on a database file that is not there they say so, and create nothing.
READERS = frozenset(
    {
        "show",
        "list",
        "deadlines",
        "party list",
        "audit verify",
        "audit export",
        "calendar check",
        "calendar list",
        "notices",
        "daemons",
        "report followup",
        "definitions show",
    }
)
#: The --contact keys each party role's notices are addressed by (:func:`workflow.notify.resolve`).
CONTACT_KEYS: dict[str, tuple[str, ...]] = {"unit": UNIT_ROLES, "deputy": ("address",), "leader": ("address",)}
_ELSEWHERE = {
    "deputy": "a deputy's address is the deputy's own: duban party add deputy NAME --contact address=…",
    "office": "the office's address is office_address in the settings (DUBAN_OFFICE_ADDRESS)",
    "supervising_leader": "a leader's address is the leader's own: duban party add leader NAME --contact address=…",
}


def database_url(text: str | None, option: str = "--db") -> str:
    """The database URL for *text*: a URL as given, a plain path as its SQLite file, none as ``./duban.db``."""
    if text is None or not text.strip():
        return DEFAULT_DB
    text = text.strip()
    if "://" in text or text.startswith("sqlite:"):
        return text
    path = Path(text).expanduser()
    if path.is_dir():
        raise ValidationError(option, f"{text} is a folder; name the database file in it, e.g. {path / 'duban.db'}")
    if not path.parent.is_dir():
        raise ValidationError(
            option, f"{text}: there is no folder {path.parent}; create it, or name a file in a folder that exists"
        )
    return f"sqlite:///{path}"


def _sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (None for another database or an in-memory one)."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.query.get("mode") == "memory" or str(parsed.database).startswith("file:"):
        return None
    return Path(str(parsed.database))


def opening(obj: dict[str, Any], command: str) -> None:
    """Before *command* (``show``, ``party list``) opens ``obj["db"]``: a reader refuses a missing database
    file; a writer about to create ``./duban.db`` for want of any setting says so on stderr."""
    path = _sqlite_file(obj["db"])
    if path is None or path.exists():
        return
    if command in READERS:
        hint = "run duban init to create it" if obj.get("db_source") is None else "check the path, or run duban init"
        raise CommandFailed(
            f"the database {path} does not exist; {hint}, or choose another with --db PATH or DUBAN_DB",
            obj.get("db_source") or "--db",
            exit_code=2,
        )
    if obj.get("db_source") is None:
        print(
            f"note: creating the database {path.absolute()} (no --db or DUBAN_DB given; choose another with "
            "--db PATH or DUBAN_DB=PATH)",
            file=sys.stderr,
        )


def _address_problem(address: str) -> str | None:
    """Why *address* is not somewhere a notice can go (mail, an http(s) URL, file:FOLDER), or None."""
    if address.startswith(("http://", "https://")):
        host = re.match(r"https?://([^/?#\s]+)", address)
        return None if host and " " not in address else "is not a whole http(s) URL"
    if address.startswith("file:"):
        return None if address.removeprefix("file:").strip() else "names no folder after file:"
    if _EMAIL.match(address):
        return None
    return "is not a mail address (name@example.cn), an http(s):// URL or file:FOLDER"


def check_contacts(role: str, contacts: dict[str, str], option: str = "--contact") -> None:
    """Refuse, naming *option*, a contact key the notices to a *role* party never read, or an address
    a notice cannot go to; the message lists the keys allowed."""
    allowed = CONTACT_KEYS.get(role)
    if allowed is None:
        return  # the role itself is refused by add_party
    for key, address in contacts.items():
        if key not in allowed:
            elsewhere = f"; {_ELSEWHERE[key]}" if key in _ELSEWHERE else ""
            raise ValidationError(
                option, f"{key!r} is not a contact of a {role}; keys: {', '.join(allowed)}{elsewhere}"
            )
        if problem := _address_problem(address.strip()):
            raise ValidationError(option, f"{key}={address!r} {problem}")


def set_office(eng: Engine, name: str | None, settings_file: Path | None) -> tuple[str, str]:
    """``duban init``'s office: store *name* (``--office-name``) or else an ``office_name`` the settings give
    as the office's; returns the name notices are signed with and a line that says so and why."""
    given = Settings.load(settings_file).office_name
    explicit = given if given != office.DEFAULT_NAME else None
    if name is not None or explicit:
        office.store_name(
            eng.db, name if name is not None else str(explicit), "--office-name" if name else "office_name"
        )
    with reading(eng.db) as conn:
        stored = office.stored_name(conn)
    if explicit and stored and explicit != stored:
        return explicit, f"notices are signed by: {explicit} (office_name in the settings; the database holds {stored})"
    if explicit or stored:
        return str(explicit or stored), f"notices are signed by: {explicit or stored}"
    default = office.DEFAULT_NAME
    return default, f"notices are signed by: {default} (the default; set yours with duban init --office-name NAME)"
