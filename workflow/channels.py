"""Delivering the outbox: mail (SMTP), webhooks (HTTP POST of JSON, signed), and a folder.

Channel settings come from the environment or a TOML file, never from the definitions. Delivery is
at least once: a notice is claimed with a lease, sent, then marked sent; a process that dies in
between leaves the lease to expire and the notice is sent again with the same idempotency key, which
the mail's Message-ID and the webhook's ``X-Duban-Idempotency-Key`` header carry to the receiver.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
import smtplib
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass, fields
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlparse

import sqlalchemy as sa

from workflow.errors import NotFound, ValidationError
from workflow.store import TABLES, claim, reading

__all__ = ["PermanentError", "Settings", "dispatch", "incidents", "outbox", "retry", "send"]

_NOTICE, _INCIDENT = TABLES["duban_notice"], TABLES["duban_incident"]
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


class PermanentError(Exception):
    """Delivery can never succeed (a malformed address): no retry."""


@dataclass(frozen=True)
class Settings:
    """Where notices go and how hard to try. ``DUBAN_<NAME>`` environment variables or a TOML file."""

    smtp_url: str | None = None  # smtp://user:password@host:port?starttls=1
    mail_from: str = "duban@localhost"
    webhook_secret: str | None = None
    outbox_dir: str | None = None  # offline: every notice is written to this folder instead of sent
    office_address: str | None = None  # the office's own address, for escalations to the office
    office_name: str = "人大常委会办公室"  # who signs the notices
    max_attempts: int = 8
    backoff_seconds: float = 60.0  # doubled after each failed attempt
    lease_seconds: float = 300.0  # a claimed notice not marked by then is claimed again
    timeout_seconds: float = 20.0

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


def send(notice: dict[str, Any], settings: Settings) -> None:
    """Deliver one outbox row; raises PermanentError or another exception (retried) on failure."""
    if settings.outbox_dir:
        return _to_folder(notice, Path(settings.outbox_dir))
    channel = notice["channel"]
    if channel == "webhook":
        return _webhook(notice, settings)
    if channel == "file":
        return _to_folder(notice, Path(notice["address"].removeprefix("file:")))
    return _mail(notice, settings)


def _mail(notice: dict[str, Any], settings: Settings) -> None:
    if not _EMAIL.match(notice["address"]):
        raise PermanentError(f"malformed mail address {notice['address']!r}")
    if not settings.smtp_url:
        raise PermanentError("no SMTP server configured (DUBAN_SMTP_URL)")
    url = urlparse(settings.smtp_url)
    message = EmailMessage()
    message["Subject"] = notice["subject"]
    message["From"] = settings.mail_from
    message["To"] = notice["address"]
    # Derived from the key alone, so that a notice sent again carries the same Message-ID.
    message["Message-ID"] = f"<{hashlib.sha256(notice['key'].encode()).hexdigest()[:32]}@duban>"
    message["X-Duban-Idempotency-Key"] = notice["key"]
    message.set_content(notice["body_text"])
    if notice.get("body_html"):
        message.add_alternative(notice["body_html"], subtype="html")
    with smtplib.SMTP(url.hostname or "localhost", url.port or 25, timeout=settings.timeout_seconds) as smtp:
        if parse_qs(url.query).get("starttls", ["0"])[0] in ("1", "true", "yes"):
            smtp.starttls()
        if url.username:
            smtp.login(unquote(url.username), unquote(url.password or ""))
        smtp.send_message(message)


def _webhook(notice: dict[str, Any], settings: Settings) -> None:
    body = json.dumps(
        {k: notice[k] for k in ("key", "type", "item_id", "recipient", "role", "subject", "body_text", "body_html")},
        ensure_ascii=False,
    ).encode()
    # Header values are Latin-1 on the wire: the key (which names people in Chinese) is percent-encoded.
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-Duban-Idempotency-Key": quote(notice["key"], safe=":"),
    }
    if settings.webhook_secret:
        digest = hmac.new(settings.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Duban-Signature"] = f"sha256={digest}"
    request = urllib.request.Request(notice["address"], data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=settings.timeout_seconds) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        if 400 <= exc.code < 500 and exc.code not in (408, 429):
            raise PermanentError(f"webhook refused the notice: HTTP {exc.code}") from None
        raise


def _to_folder(notice: dict[str, Any], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^\w.-]+", "_", notice["key"])[:150]
    text = (
        f"To: {notice['recipient']} <{notice['address']}>\nSubject: {notice['subject']}\n"
        f"X-Duban-Idempotency-Key: {notice['key']}\n\n{notice['body_text']}"
    )
    (folder / f"{notice['id']:06d}-{safe}.txt").write_text(text, encoding="utf-8")


def dispatch(db: sa.Engine, now: dt.datetime, settings: Settings, limit: int = 100) -> dict[str, int]:
    """Claim due notices (one statement), send them, and record each outcome. Never raises for a
    delivery failure: it becomes a retry, a failed notice or a dead one with an incident."""
    lease = now + dt.timedelta(seconds=settings.lease_seconds)
    due = sa.or_(
        sa.and_(_NOTICE.c.status == "queued", _NOTICE.c.next_attempt_at <= now),
        sa.and_(_NOTICE.c.status == "sending", _NOTICE.c.lease_until <= now),
    )
    order = (_NOTICE.c.next_attempt_at, _NOTICE.c.id)
    with db.begin() as conn:
        values = {"status": "sending", "lease_until": lease, "attempts": _NOTICE.c.attempts + 1}
        claimed = claim(conn, _NOTICE, due, order, limit, values)
    counts = {"claimed": len(claimed), "sent": 0, "retry": 0, "failed": 0, "dead": 0}
    for notice in map(dict, claimed):
        outcome, values, error = "sent", {"status": "sent", "sent_at": now, "lease_until": None}, None
        try:
            send(notice, settings)
        except PermanentError as exc:
            outcome, error = "failed", str(exc)
        except Exception as exc:  # a delivery failure of any kind is retried, never raised
            outcome, error = ("dead" if notice["attempts"] >= settings.max_attempts else "retry"), f"{exc}"[:500]
        if outcome != "sent":
            delay = settings.backoff_seconds * 2 ** (notice["attempts"] - 1)
            values = {
                "status": {"retry": "queued"}.get(outcome, outcome),
                "lease_until": None,
                "last_error": error or type(error).__name__,
                "next_attempt_at": now + dt.timedelta(seconds=delay),
            }
        counts[outcome] += 1
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
    return counts


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


def retry(db: sa.Engine, notice_id: int, now: dt.datetime) -> None:
    with db.begin() as conn:
        done = conn.execute(
            sa.update(_NOTICE)
            .where(_NOTICE.c.id == notice_id, _NOTICE.c.status.in_(("failed", "dead")))
            .values(status="queued", attempts=0, next_attempt_at=now, last_error=None)
        )
        if done.rowcount != 1:
            raise NotFound(f"no failed or dead notice {notice_id}")
        conn.execute(
            sa.update(_INCIDENT)
            .where(_INCIDENT.c.notice_id == notice_id, _INCIDENT.c.resolved_at.is_(None))
            .values(resolved_at=now)
        )
