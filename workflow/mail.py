"""Mail as mail servers expect it, over one SMTP connection per dispatch batch.

Every message has ``Date``, a ``Message-ID`` in the sender's domain (derived from the idempotency
key, so a notice sent again keeps it), ``To`` with the recipient's name, and a plain-text and an
HTML alternative. ``smtp://`` speaks plain SMTP (``?starttls=1`` upgrades it before the login),
``smtps://`` implicit TLS (port 465 by default: 腾讯企业邮, 网易, Coremail). Each attempt keeps to the
attempt deadline (:mod:`workflow.attempt`), the connection's setup counting to its first message.

A 5xx answer to the message (its sender, a recipient, its data) fails the notice for good, as does a
mailbox the server cannot take (a non-ASCII address to a server without SMTPUTF8); anything else (a
4xx, a dropped connection, a timeout, a refused login) is retried.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import smtplib
import socket
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlparse

from workflow.attempt import Deadline, PermanentError, TemporaryError, open_socket, tls_context
from workflow.beijing import SHANGHAI
from workflow.render import text_html

if TYPE_CHECKING:
    from workflow.channels import Settings

__all__ = ["Mailer", "build_message", "sender_domain"]


def sender_domain(mail_from: str) -> str:
    """The domain of the sender's address (``duban@rd.example`` → ``rd.example``)."""
    address = parseaddr(mail_from)[1]
    return address.rpartition("@")[2] or "localhost"


def build_message(notice: dict[str, Any], settings: Settings, now: dt.datetime) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = notice["subject"]
    message["From"] = settings.mail_from
    user, _, domain = notice["address"].rpartition("@")  # addr_spec= refuses a Chinese mailbox name
    message["To"] = Address(display_name=notice["recipient"] or "", username=user, domain=domain)
    message["Date"] = format_datetime(now.astimezone(SHANGHAI))
    # Derived from the key alone, so that a notice sent again carries the same Message-ID.
    digest = hashlib.sha256(notice["key"].encode()).hexdigest()[:32]
    message["Message-ID"] = f"<{digest}@{sender_domain(settings.mail_from)}>"
    message["X-Duban-Idempotency-Key"] = notice["key"]
    message.set_content(notice["body_text"])
    # A notice queued before every type had an HTML body gets its text in the HTML layout.
    html = notice.get("body_html") or text_html(notice["subject"], notice["body_text"])
    message.add_alternative(html, subtype="html")
    return message


class _SMTP(smtplib.SMTP):
    deadline: Deadline

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return open_socket(host, port, self.deadline)


class _SMTPS(smtplib.SMTP_SSL):
    deadline: Deadline

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return self.context.wrap_socket(open_socket(host, port, self.deadline), server_hostname=self._host)  # type: ignore[attr-defined]


class Mailer:
    """The batch's SMTP connection, opened by the first message and reopened after a failure that
    leaves it unusable. :meth:`close` says QUIT."""

    def __init__(self, settings: Settings, deadline: Deadline) -> None:
        self.settings, self.deadline = settings, deadline
        self.url = urlparse(settings.smtp_url or "")
        self.smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        url, settings = self.url, self.settings
        tls = tls_context(self.deadline, settings.ca_file)
        implicit = url.scheme == "smtps"
        host, port = url.hostname or "localhost", url.port or (465 if implicit else 25)
        name = sender_domain(settings.mail_from)
        smtp: _SMTP | _SMTPS = _SMTPS(local_hostname=name, context=tls) if implicit else _SMTP(local_hostname=name)
        smtp.deadline = self.deadline
        smtp._host = host  # type: ignore[union-attr]  # smtplib names the TLS server from _host
        try:
            smtp.connect(host, port)
            if not implicit and parse_qs(url.query).get("starttls", ["0"])[0] in ("1", "true", "yes"):
                smtp.starttls(context=tls)
            if url.username:
                smtp.login(unquote(url.username), unquote(url.password or ""))
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        to = str(message["To"].addresses[0].addr_spec)
        try:
            if self.smtp is None:
                self.smtp = self._connect()
            self.smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            self._refused(code, reply, f"the mail server refused the mailbox {to}")
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            what = "the sender" if isinstance(exc, smtplib.SMTPSenderRefused) else "the message"
            self._refused(exc.smtp_code, exc.smtp_error, f"the mail server refused {what} for {to}")
        except smtplib.SMTPNotSupportedError as exc:
            if "SMTPUTF8" in str(exc):
                raise PermanentError(f"the mail server cannot take the mailbox {to}: {exc}") from None
            self._broken(exc)
        except (OSError, smtplib.SMTPException) as exc:
            self._broken(exc)

    def _refused(self, code: int, reply: bytes | str, what: str) -> None:
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        self._drop_if_closed()
        if 500 <= code < 600:
            raise PermanentError(f"{what}: {code} {text}")
        raise TemporaryError(f"{what}: {code} {text}")

    def _broken(self, exc: BaseException) -> None:
        """The connection cannot be trusted any more: close it (the next message opens another)."""
        self.close(quit=False)
        try:
            self.deadline.remaining()
        except TimeoutError as late:
            raise late from exc
        raise exc

    def _drop_if_closed(self) -> None:
        if self.smtp is not None and self.smtp.sock is None:  # smtplib closed it (a 421)
            self.smtp = None

    def close(self, quit: bool = True) -> None:
        smtp, self.smtp = self.smtp, None
        if smtp is None:
            return
        try:
            if quit and smtp.sock is not None:
                self.deadline.start()
                smtp.quit()
        except (OSError, smtplib.SMTPException):
            pass
        finally:
            smtp.close()
