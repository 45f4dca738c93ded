"""Delivering the outbox: mail (SMTP), webhooks (HTTP POST of JSON, signed), and a folder.

Channel settings come from the environment or a TOML file, never from the definitions. Delivery is
at least once: a notice is claimed with a lease, sent, then marked sent; a process that dies in
between leaves the lease to expire and the notice is sent again with the same idempotency key, which
the mail's Message-ID and the webhook's ``webhook-id`` and ``X-Duban-Idempotency-Key`` headers carry
to the receiver. Delivery means delivered: each attempt (connect, send, answer) has one deadline
(``timeout_seconds``), a batch stops before an attempt could outlast the notices' lease, a redirect
is a failure, and a permanent refusal fails the notice at once with an incident while a temporary
one is retried with backoff and jitter (:mod:`workflow.mail`, :mod:`workflow.webhook`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import random
import re
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import sqlalchemy as sa

from workflow.attempt import Deadline, PermanentError
from workflow.errors import ValidationError
from workflow.mail import Mailer, build_message
from workflow.store import TABLES, claim, reading
from workflow.webhook import post

__all__ = ["PermanentError", "Settings", "dispatch", "incidents", "outbox", "send"]

_NOTICE, _INCIDENT = TABLES["duban_notice"], TABLES["duban_incident"]
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
# What ends a line somewhere: in a header it would start a header of its own.
_LINE_BREAK = re.compile("[\r\n\x00\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_SECRETS = ("webhook_secret",)


@dataclass(frozen=True)
class Settings:
    """Where notices go and how hard to try. ``DUBAN_<NAME>`` environment variables or a TOML file.
    The repr (and so any log of it) never shows the webhook secret or the SMTP password."""

    smtp_url: str | None = None  # smtp://user:password@host:port?starttls=1, or smtps://… (TLS, port 465)
    mail_from: str = "duban@localhost"  # the Message-ID's domain is this address's
    webhook_secret: str | None = dataclasses.field(default=None, repr=False)
    ca_file: str | None = None  # CA certificates trusted besides the system's (TLS to SMTP and webhooks)
    outbox_dir: str | None = None  # offline: every notice is written to this folder instead of sent
    office_address: str | None = None  # the office's own address, for escalations to the office
    office_name: str = "人大常委会办公室"  # who signs the notices
    max_attempts: int = 8
    backoff_seconds: float = 60.0  # doubled after each failed attempt
    backoff_jitter: float = 0.2  # each delay is lengthened by up to this fraction, at random
    lease_seconds: float = 300.0  # a claimed notice not marked by then is claimed again
    timeout_seconds: float = 20.0  # one whole attempt: connect, send and the answer

    def __post_init__(self) -> None:
        if self.smtp_url and urlparse(self.smtp_url).scheme not in ("smtp", "smtps"):
            raise ValidationError("smtp_url", f"must start with smtp:// or smtps://, not {self._masked_url()!r}")
        if _LINE_BREAK.search(self.mail_from):
            raise ValidationError("mail_from", "must be one line")
        for name in ("max_attempts", "backoff_seconds", "lease_seconds", "timeout_seconds"):
            if not getattr(self, name) > 0:
                raise ValidationError(name, f"must be more than 0, not {getattr(self, name)!r}")
        if not 0 <= self.backoff_jitter <= 1:
            raise ValidationError("backoff_jitter", f"must be between 0 and 1, not {self.backoff_jitter!r}")
        if self.timeout_seconds >= self.lease_seconds:
            raise ValidationError(
                "timeout_seconds",
                f"an attempt ({self.timeout_seconds:g} s) must end well within the lease "
                f"(lease_seconds, {self.lease_seconds:g} s), or a notice still being sent is claimed again",
            )

    def _masked_url(self) -> str | None:
        url = urlparse(self.smtp_url or "")
        if not url.password:
            return self.smtp_url
        return url._replace(netloc=url.netloc.replace(f":{url.password}@", ":***@")).geturl()

    def __repr__(self) -> str:
        shown = [f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.name not in ("smtp_url", *_SECRETS)]
        secret = ", webhook_secret='***'" if self.webhook_secret else ""
        return f"Settings(smtp_url={self._masked_url()!r}, {', '.join(shown)}{secret})"

    @classmethod
    def load(cls, path: str | Path | None = None) -> Settings:
        """Settings from a TOML file ([duban] table or top level), overridden by DUBAN_* variables."""
        values: dict[str, Any] = {}
        if path is not None:
            with open(path, "rb") as handle:
                data = tomllib.load(handle)
            values.update(data.get("duban", data))
        for f in fields(cls):
            env = os.environ.get(f"DUBAN_{f.name.upper()}")
            if env is not None:
                values[f.name] = env
        known = {f.name: f for f in fields(cls)}
        for name, value in list(values.items()):
            if name not in known:
                raise ValidationError(name, f"not a setting; settings: {', '.join(known)}")
            if known[name].type in ("int", "float") and isinstance(value, str):
                try:
                    values[name] = int(value) if known[name].type == "int" else float(value)
                except ValueError:
                    raise ValidationError(name, f"must be a number, not {value!r}") from None
        return cls(**values)


class Senders:
    """What one dispatch batch delivers through: the attempt deadline, and one SMTP connection."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.deadline = Deadline(settings.timeout_seconds)
        self.mailer = Mailer(settings, self.deadline)

    def __enter__(self) -> Senders:
        return self

    def __exit__(self, *exc: object) -> None:
        self.mailer.close()

    def send(self, notice: dict[str, Any], now: dt.datetime) -> None:
        """Deliver one outbox row within a fresh attempt deadline; raises PermanentError, or another
        exception (retried) on failure."""
        self.deadline.start()
        settings = self.settings
        _check_headers(notice)
        if settings.outbox_dir:
            return _to_folder(notice, Path(settings.outbox_dir))
        channel = notice["channel"]
        if channel == "webhook":
            return post(notice, settings, self.deadline)
        if channel == "file":
            return _to_folder(notice, Path(notice["address"].removeprefix("file:")))
        if not _EMAIL.match(notice["address"]):
            raise PermanentError(f"malformed mail address {notice['address']!r}")
        if not settings.smtp_url:
            raise PermanentError("no SMTP server configured (DUBAN_SMTP_URL)")
        self.mailer.send(build_message(notice, settings, now))


def send(notice: dict[str, Any], settings: Settings, now: dt.datetime | None = None) -> None:
    """Deliver one outbox row (over a connection of its own); raises PermanentError or another
    exception (retried) on failure."""
    with Senders(settings) as senders:
        senders.send(notice, now or dt.datetime.now(dt.UTC))


def _check_headers(notice: dict[str, Any]) -> None:
    """Refuse a notice whose header values span lines: a line break would forge headers of its own."""
    labels = (("recipient name", "recipient"), ("address", "address"), ("subject", "subject"), ("key", "key"))
    for label, name in labels:
        value = str(notice.get(name) or "")
        if _LINE_BREAK.search(value):
            raise PermanentError(
                f"the {label} {value!r} has a line break, which would start a header of its own: "
                "correct it in the party record, then queue the notice again"
            )


def _to_folder(notice: dict[str, Any], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^\w.-]+", "_", notice["key"])[:150]
    text = (
        f"To: {notice['recipient']} <{notice['address']}>\nSubject: {notice['subject']}\n"
        f"X-Duban-Idempotency-Key: {notice['key']}\n\n{notice['body_text']}"
    )
    (folder / f"{notice['id']:06d}-{safe}.txt").write_text(text, encoding="utf-8")


def dispatch(
    db: sa.Engine, now: dt.datetime, settings: Settings, limit: int = 100, jitter: Callable[[], float] = random.random
) -> dict[str, int]:
    """Claim due notices (one statement), send them over one connection per channel, and record each
    outcome. Never raises for a delivery failure: it becomes a retry (after backoff, lengthened by up
    to ``backoff_jitter`` of itself with *jitter* in [0, 1)), a failed notice or a dead one with an
    incident. Notices whose attempt could outlast their lease are put back unsent (``deferred``)."""
    lease = now + dt.timedelta(seconds=settings.lease_seconds)
    due = sa.or_(
        sa.and_(_NOTICE.c.status == "queued", _NOTICE.c.next_attempt_at <= now),
        sa.and_(_NOTICE.c.status == "sending", _NOTICE.c.lease_until <= now),
    )
    order = (_NOTICE.c.next_attempt_at, _NOTICE.c.id)
    with db.begin() as conn:
        values = {"status": "sending", "lease_until": lease, "attempts": _NOTICE.c.attempts + 1}
        claimed = [dict(row) for row in claim(conn, _NOTICE, due, order, limit, values)]
    counts = {"claimed": len(claimed), "sent": 0, "retry": 0, "failed": 0, "dead": 0, "deferred": 0}
    started = time.monotonic()
    with Senders(settings) as senders:
        for index, notice in enumerate(claimed):
            if index and time.monotonic() - started + settings.timeout_seconds >= settings.lease_seconds:
                counts["deferred"] = _put_back(db, claimed[index:], lease)
                break
            outcome, error = _attempt(senders, notice, now, settings)
            counts[outcome] += 1
            _record(db, notice, outcome, error, now, settings, jitter)
    return counts


def _attempt(senders: Senders, notice: dict[str, Any], now: dt.datetime, settings: Settings) -> tuple[str, str]:
    try:
        senders.send(notice, now)
    except PermanentError as exc:
        return "failed", str(exc)[:500]
    except Exception as exc:  # a delivery failure of any kind is retried, never raised
        error = (str(exc) or type(exc).__name__)[:500]
        return ("dead" if notice["attempts"] >= settings.max_attempts else "retry"), error
    return "sent", ""


def _record(
    db: sa.Engine,
    notice: dict[str, Any],
    outcome: str,
    error: str,
    now: dt.datetime,
    settings: Settings,
    jitter: Callable[[], float],
) -> None:
    values: dict[str, Any] = {"status": "sent", "sent_at": now, "lease_until": None}
    if outcome != "sent":
        delay = settings.backoff_seconds * 2 ** (notice["attempts"] - 1)
        delay *= 1 + settings.backoff_jitter * jitter()  # receivers that failed together are not retried together
        values = {
            "status": {"retry": "queued"}.get(outcome, outcome),
            "lease_until": None,
            "last_error": error,
            "next_attempt_at": now + dt.timedelta(seconds=delay),
        }
    with db.begin() as conn:
        conn.execute(
            sa.update(_NOTICE).where(_NOTICE.c.id == notice["id"], _NOTICE.c.status == "sending").values(**values)
        )
        if outcome in ("failed", "dead"):
            conn.execute(
                sa.insert(_INCIDENT).values(
                    item_id=notice["item_id"],
                    notice_id=notice["id"],
                    kind=f"notice_{outcome}",
                    message=f"{notice['type']} to {notice['recipient']} <{notice['address']}>: {error}",
                    at=now,
                )
            )


def _put_back(db: sa.Engine, notices: list[dict[str, Any]], lease: dt.datetime) -> int:
    """Return claimed notices not attempted to the queue, due as they were (if the lease is still ours)."""
    with db.begin() as conn:
        for notice in notices:
            conn.execute(
                sa.update(_NOTICE)
                .where(_NOTICE.c.id == notice["id"], _NOTICE.c.status == "sending", _NOTICE.c.lease_until == lease)
                .values(status="queued", lease_until=None, attempts=notice["attempts"] - 1)
            )
    return len(notices)


def outbox(db: sa.Engine, *, status: str | None = None, item: int | None = None) -> list[dict[str, Any]]:
    query = sa.select(_NOTICE).order_by(_NOTICE.c.id.desc())
    if status is not None:
        query = query.where(_NOTICE.c.status == status)
    if item is not None:
        query = query.where(_NOTICE.c.item_id == item)
    with reading(db) as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def incidents(db: sa.Engine, *, open_only: bool = True) -> list[dict[str, Any]]:
    query = sa.select(_INCIDENT).order_by(_INCIDENT.c.id)
    if open_only:
        query = query.where(_INCIDENT.c.resolved_at.is_(None))
    with reading(db) as conn:
        return [dict(r) for r in conn.execute(query).mappings()]
