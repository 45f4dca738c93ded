"""Webhooks: a POST of the notice as JSON, signed the Standard Webhooks way, within the attempt deadline.

Headers (https://www.standardwebhooks.com): ``webhook-id`` (derived from the idempotency key, so a
notice sent again has the same id and a receiver drops the duplicate), ``webhook-timestamp`` (Unix
seconds of this attempt, by this machine's wall clock, which the receiver compares with its own to
reject replays) and ``webhook-signature``: ``v1,`` and the base64 HMAC-SHA256 of
``id.timestamp.body``. The key is the secret's bytes: for a ``whsec_…`` secret the base64 after the
prefix, as the stock libraries read it; any other secret's UTF-8 bytes, which a receiver configures as
``whsec_`` + base64 of them. ``X-Duban-Signature`` (HMAC-SHA256 of the body alone under the secret's
UTF-8 bytes) and ``X-Duban-Idempotency-Key`` are kept for receivers written against earlier versions.

Only a 2xx answer delivers the notice. A redirect is never followed (a POST sent elsewhere, or turned
into a GET without its body, is not a delivery) and, like a 4xx other than 408 and 429, fails the
notice at once; 408, 429, 5xx, a dropped connection and a timeout are retried.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import http.client
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from workflow.attempt import Deadline, PermanentError, TemporaryError, open_socket, tls_context

if TYPE_CHECKING:
    from workflow.channels import Settings

__all__ = ["post", "signing_key", "webhook_id"]

_FIELDS = ("key", "type", "item_id", "recipient", "role", "subject", "body_text", "body_html")


def signing_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks signature under *secret* (see the module's docstring)."""
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except binascii.Error:
            pass
    return secret.encode()


def webhook_id(key: str) -> str:
    return "msg_" + hashlib.sha256(key.encode()).hexdigest()[:32]


class _HTTP(http.client.HTTPConnection):
    deadline: Deadline

    def connect(self) -> None:
        self.sock = open_socket(self.host, self.port, self.deadline)


class _HTTPS(_HTTP):
    tls: Any

    def connect(self) -> None:
        super().connect()
        self.sock = self.tls.wrap_socket(self.sock, server_hostname=self.host)


def post(notice: dict[str, Any], settings: Settings, deadline: Deadline, wall: Callable[[], float] = time.time) -> None:
    """POST *notice* to its address; raises PermanentError, or another exception (retried)."""
    url = urlsplit(notice["address"])
    if url.scheme not in ("http", "https") or not url.hostname:
        raise PermanentError(f"a webhook address is an http:// or https:// URL, not {notice['address']!r}")
    body = json.dumps({k: notice.get(k) for k in _FIELDS}, ensure_ascii=False).encode()
    ident, stamp = webhook_id(notice["key"]), str(int(wall()))
    # Header values are Latin-1 on the wire: the key (which names people in Chinese) is percent-encoded.
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-Duban-Idempotency-Key": quote(notice["key"], safe=":"),
        "webhook-id": ident,
        "webhook-timestamp": stamp,
    }
    if settings.webhook_secret:
        signed = hmac.new(signing_key(settings.webhook_secret), f"{ident}.{stamp}.".encode() + body, hashlib.sha256)
        headers["webhook-signature"] = "v1," + base64.b64encode(signed.digest()).decode()
        digest = hmac.new(settings.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Duban-Signature"] = f"sha256={digest}"
    secure = url.scheme == "https"
    conn = _HTTPS(url.hostname, url.port or 443) if secure else _HTTP(url.hostname, url.port or 80)
    conn.deadline = deadline
    if isinstance(conn, _HTTPS):
        conn.tls = tls_context(deadline, settings.ca_file)
    target = quote(url.path or "/", safe="/%:@!$&'()*+,;=-._~") + (
        f"?{quote(url.query, safe='=&%+/:,;')}" if url.query else ""
    )
    try:
        conn.request("POST", target, body=body, headers=headers)
        response = conn.getresponse()
        status, reason, location = response.status, response.reason, response.getheader("Location")
    except (OSError, http.client.HTTPException) as exc:
        try:
            deadline.remaining()
        except TimeoutError as late:
            raise late from exc
        raise
    finally:
        conn.close()
    if 200 <= status < 300:
        return
    answer = f"HTTP {status} {reason}".strip()
    if 300 <= status < 400:
        raise PermanentError(
            f"webhook answered {answer} (a redirect to {location or 'nowhere'}), which is not followed: "
            "make the party's address the receiver's final URL"
        )
    if 400 <= status < 500 and status not in (408, 429):
        raise PermanentError(f"webhook refused the notice: {answer}")
    raise TemporaryError(f"webhook answered {answer}")
