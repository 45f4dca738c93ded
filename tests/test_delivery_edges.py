"""Delivery's edges, against real servers on loopback: redirects, dripping servers, refusals, forged
headers, colliding keys, TLS (implicit and STARTTLS, with a certificate made for the test), mail headers,
Standard Webhooks signatures, backoff jitter and secrets kept out of reprs.

Nothing here sleeps to wait for time: instants are injected, and the dripping servers' pauses are the
behaviour under test (each test measures that the attempt is cut at its deadline).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from email.message import Message
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from conftest import T0, to_handling
from standardwebhooks import Webhook, WebhookVerificationError
from test_delivery import (
    LEAD,
    SECRET,
    SENT_NOTHING,
    Hooks,
    Mailbox,
    assigned,
    everyone,
    free_port,
    only,
    seconds,
    smtp_server,
    staff,
)

from workflow import Engine
from workflow.beijing import beijing_date
from workflow.channels import Settings, dispatch
from workflow.errors import ValidationError
from workflow.notice_samples import sample_variables
from workflow.notify import Notices

# ---- servers that misbehave -------------------------------------------------------------------


class Dripper:
    """A TCP server that sends *data* one byte a second: at once on connecting (an SMTP greeting) or,
    with ``http=True``, after reading a request (an HTTP answer). Counts the connections it accepts."""

    def __init__(self, data: bytes, http: bool = False) -> None:
        self.data, self.http = data, http
        self.connections = 0
        self.stop = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]

    def __enter__(self) -> Dripper:
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.listener.close()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            if self.http:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += conn.recv(65536)
            for byte in self.data:
                if self.stop.wait(1.0):  # the server's pace, one byte a second
                    return
                conn.sendall(bytes([byte]))


class Redirecting:
    """An HTTP server answering every POST with a redirect to *location*."""

    def __init__(self, location: str, status: int = 302) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(status)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Redirecting:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class AnyMethod(Hooks):
    """Hooks that also take GET requests (what a followed 302 turns the POST into)."""

    def __init__(self) -> None:
        super().__init__()
        handler = self.server.RequestHandlerClass
        hooks = self

        def do_GET(self: BaseHTTPRequestHandler) -> None:
            hooks.requests.append((self.headers, b""))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        handler.do_GET = do_GET  # type: ignore[attr-defined]


# ---- item 2: delivery means delivered ---------------------------------------------------------


def test_a_webhook_redirect_fails_the_notice_and_is_never_followed(open_engine: Callable[..., Engine]) -> None:
    """A webhook answering 302 (to another server) has not received the notice: the redirect is not
    followed (the other server gets nothing, neither a POST nor a GET), the notice is failed at once with
    an incident naming the status and where it pointed, and it is not retried."""
    with AnyMethod() as elsewhere, Redirecting(elsewhere.url) as hook:
        eng = open_engine(webhook_secret=SECRET)
        staff(eng, {"handler": hook.url})
        item = assigned(eng, co_units=())
        assert eng.dispatch(T0) == {**SENT_NOTHING, "claimed": 1, "failed": 1}
        assert eng.dispatch(T0 + dt.timedelta(days=1)) == SENT_NOTHING
        assert elsewhere.requests == []
    row = only(eng.outbox())
    assert row["status"] == "failed" and row["sent_at"] is None
    assert "302" in row["last_error"] and elsewhere.url in row["last_error"] and "not followed" in row["last_error"]
    incident = only(eng.incidents())
    assert (incident["kind"], incident["notice_id"], incident["item_id"]) == ("notice_failed", row["id"], item.id)


def test_a_dripping_smtp_greeting_is_cut_at_the_attempt_deadline(open_engine: Callable[..., Engine]) -> None:
    """A mail server sending its greeting one byte a second cannot hold an attempt past timeout_seconds
    (3 s here) in all: the dispatch returns at the deadline, the notice is queued for a retry with the
    deadline named in last_error, and the lease (which the attempt must end within) was never at risk."""
    with Dripper(b"220 slow.example ESMTP ready\r\n") as server:
        eng = open_engine(smtp_url=f"smtp://127.0.0.1:{server.port}", timeout_seconds=3, lease_seconds=10)
        staff(eng, {"handler": "sunli@jt.example"})
        assigned(eng, co_units=())
        started = time.monotonic()
        assert eng.dispatch(T0) == {**SENT_NOTHING, "claimed": 1, "retry": 1}
        took = time.monotonic() - started
    assert 2.5 <= took < 4.5, took
    row = only(eng.outbox())
    assert (row["status"], row["attempts"]) == ("queued", 1)
    assert "deadline of 3 s" in row["last_error"]


def test_a_dripping_webhook_answer_is_cut_at_the_attempt_deadline(open_engine: Callable[..., Engine]) -> None:
    """A webhook receiver that answers one byte a second is cut at the attempt deadline (the whole
    attempt, not each read), and the notice is retried."""
    with Dripper(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", http=True) as server:
        eng = open_engine(timeout_seconds=2)
        staff(eng, {"handler": f"http://127.0.0.1:{server.port}/hook"})
        assigned(eng, co_units=())
        started = time.monotonic()
        assert eng.dispatch(T0) == {**SENT_NOTHING, "claimed": 1, "retry": 1}
        took = time.monotonic() - started
    assert 1.5 <= took < 3.5, took
    assert "deadline of 2 s" in only(eng.outbox())["last_error"]


def test_a_batch_never_sends_a_notice_whose_lease_could_run_out(open_engine: Callable[..., Engine]) -> None:
    """A batch stops before an attempt could outlast the lease of the notices it claimed: the notices it
    did not get to are put back in the queue as they were (not attempted, no lease), so no other
    dispatcher claims a notice this one is still sending."""
    with Dripper(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", http=True) as server:
        eng = open_engine(timeout_seconds=2, lease_seconds=3)
        address = f"http://127.0.0.1:{server.port}/hook"
        staff(eng, {"handler": address}, {"handler": address})
        assigned(eng)
        assert eng.dispatch(T0) == {**SENT_NOTHING, "claimed": 2, "retry": 1, "deferred": 1}
        assert server.connections == 1
    tried, untried = sorted(eng.outbox(), key=lambda r: -r["attempts"])
    assert (tried["status"], tried["attempts"]) == ("queued", 1)
    assert (untried["status"], untried["attempts"], untried["lease_until"], untried["next_attempt_at"]) == (
        "queued",
        0,
        None,
        T0,
    )


class Refusing(Mailbox):
    """A mailbox that answers 550 to RCPT TO for the addresses it is given."""

    def __init__(self, port: int, refused: set[str]) -> None:
        super().__init__(port)
        self.refused = refused
        self.sessions: list[Any] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if address in self.refused:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.sessions.append(session.peer)
        return await super().handle_DATA(server, session, envelope)


@contextlib.contextmanager
def serving(handler: Any, **smtp: Any) -> Iterator[Any]:
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port, **smtp)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


def test_smtp_550_fails_the_notice_at_once_and_the_batch_goes_on(open_engine: Callable[..., Engine]) -> None:
    """A mail server answering 550 (no such mailbox) fails that notice at once with an incident, with no
    retries; the other notices of the batch are sent over the same connection."""
    with serving(Refusing(free_port(), {"gone@jt.example"})) as box:
        eng = open_engine(smtp_url=f"smtp://127.0.0.1:{box.port}")
        staff(eng, {"handler": "gone@jt.example"}, {"handler": "lina@mz.example"})
        item = assigned(eng)
        assert eng.dispatch(T0) == {**SENT_NOTHING, "claimed": 2, "sent": 1, "failed": 1}
        assert eng.dispatch(T0 + dt.timedelta(days=1)) == SENT_NOTHING
    failed = only(eng.outbox(status="failed"))
    assert failed["address"] == "gone@jt.example" and failed["attempts"] == 1
    assert "550" in failed["last_error"] and "gone@jt.example" in failed["last_error"]
    incident = only(eng.incidents())
    assert (incident["kind"], incident["notice_id"], incident["item_id"]) == ("notice_failed", failed["id"], item.id)
    assert [m["To"].addresses[0].addr_spec for m in box.messages] == ["lina@mz.example"]


def test_a_mailbox_the_server_cannot_take_fails_at_once(open_engine: Callable[..., Engine]) -> None:
    """An address the mail server cannot take (a Chinese mailbox name, to a server without SMTPUTF8)
    fails the notice at once with an incident: retrying the same server cannot help."""
    with serving(Mailbox(free_port()), enable_SMTPUTF8=False) as box:
        eng = open_engine(smtp_url=box.url)
        staff(eng, {"handler": "孙丽@jt.example"})
        assigned(eng, co_units=())
        assert eng.dispatch(T0) == {**SENT_NOTHING, "claimed": 1, "failed": 1}
    assert "SMTPUTF8" in only(eng.outbox())["last_error"] and box.messages == []
    assert only(eng.incidents())["kind"] == "notice_failed"


def test_one_smtp_connection_carries_a_whole_batch(open_engine: Callable[..., Engine]) -> None:
    """The notices of one dispatch go over one SMTP connection (a server limiting connections per minute,
    as hosted mail does, is not hammered)."""
    with serving(Refusing(free_port(), set())) as box:
        eng = open_engine(smtp_url=f"smtp://127.0.0.1:{box.port}")
        staff(eng, everyone("lead@jt.example"), {"handler": "lina@mz.example"})
        to_handling(eng)
        assert eng.dispatch(T0)["sent"] == len(box.messages) >= 2
    assert len(set(box.sessions)) == 1


@pytest.mark.parametrize("channel", ["folder", "mail", "webhook"])
def test_a_name_with_a_line_break_never_forges_a_header(
    open_engine: Callable[..., Engine], tmp_path: Path, channel: str
) -> None:
    """A recipient name holding a line break (``孙丽\\nSubject: …``) never reaches a header, whatever the
    channel: the notice is failed at once with an incident saying the name has a line break, and nothing
    is written or sent."""
    forged = "孙丽\nSubject: 伪造的通知"
    with smtp_server() as box, Hooks() as hooks:
        settings: dict[str, Any] = {"smtp_url": box.url}
        address = {"folder": "sunli@jt.example", "mail": "sunli@jt.example", "webhook": hooks.url}[channel]
        if channel == "folder":
            settings["outbox_dir"] = str(tmp_path / "out")
        eng = open_engine(**settings)
        eng.add_party("unit", LEAD, handler=forged, contacts={"handler": address})
        assigned(eng, co_units=())
        assert eng.dispatch(T0) == {**SENT_NOTHING, "claimed": 1, "failed": 1}
        assert box.messages == [] and hooks.requests == []
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
    row = only(eng.outbox())
    assert "line break" in row["last_error"] and "recipient name" in row["last_error"]
    assert only(eng.incidents())["kind"] == "notice_failed"


def test_two_units_and_names_that_once_shared_a_key_each_get_their_notice(
    open_engine: Callable[..., Engine],
) -> None:
    """Unit ``市局:张`` with handler ``三`` and unit ``市局`` with handler ``张:三`` are different recipients:
    each gets its own assignment notice, with its own idempotency key."""
    eng = open_engine()
    eng.add_party("unit", "市局:张", handler="三", contacts={"handler": "a@jt.example"})
    eng.add_party("unit", "市局", handler="张:三", contacts={"handler": "b@jt.example"})
    item = eng.submit("suggestion", title="关于增加通勤班车密度的建议", origin="session", proposers=["王芳"])
    eng.fire(item.id, "register")
    eng.fire(item.id, "assign", lead_unit="市局:张", co_units=["市局"])
    rows = eng.outbox(item=item.id)
    assert sorted(r["address"] for r in rows) == ["a@jt.example", "b@jt.example"]
    assert len({r["key"] for r in rows}) == 2


def test_a_recipient_with_a_very_long_name_still_gets_one_notice_with_a_key_that_fits(
    open_engine: Callable[..., Engine],
) -> None:
    """Two handlers whose long names differ only at the end each get their notice: a key past the outbox
    column's length is shortened with a digest of the whole, so it fits (on PostgreSQL too) and stays
    one key per notice; firing the same cause twice never doubles it."""
    eng = open_engine()
    eng.add_party("unit", "市局甲", handler="承办" * 120 + "甲", contacts={"handler": "a@jt.example"})
    eng.add_party("unit", "市局乙", handler="承办" * 120 + "乙", contacts={"handler": "b@jt.example"})
    item = eng.submit("suggestion", title="关于增加通勤班车密度的建议", origin="session", proposers=["王芳"])
    eng.fire(item.id, "register")
    eng.fire(item.id, "assign", lead_unit="市局甲", co_units=["市局乙"])
    rows = eng.outbox(item=item.id)
    assert sorted(r["address"] for r in rows) == ["a@jt.example", "b@jt.example"]
    assert len({r["key"] for r in rows}) == 2 and all(len(r["key"]) <= 200 for r in rows)
    assert {r["recipient"] for r in rows} == {"承办" * 120 + "甲", "承办" * 120 + "乙"}


def test_an_ordinary_notice_keeps_the_key_earlier_versions_gave_it(open_engine: Callable[..., Engine]) -> None:
    """For units and names without ``:`` or ``%`` (all real ones) the key is exactly what earlier versions
    wrote, ``cause:type:role:unit:name``: a notice queued before an upgrade is recognised after it, and
    the daily 逾期通报 (which only its key keeps to once a day) is not queued a second time."""
    eng = open_engine(office_address="office@rd.example")
    staff(eng, everyone("lead@jt.example"))
    item = assigned(eng, co_units=())
    assert only(eng.outbox(item=item.id))["key"] == f"audit:{item.id}:3:assignment:handler:{LEAD}:孙丽"
    late = T0 + dt.timedelta(days=200)
    assert eng.report_overdue(late) > 0 and eng.report_overdue(late) > 0
    (report,) = [r for r in eng.outbox() if r["type"] == "overdue_report"]
    assert report["key"] == f"overdue_report:{beijing_date(late)}:overdue_report:office::人大常委会办公室"


# ---- jitter, settings -------------------------------------------------------------------------


def test_retries_are_spread_by_jitter_never_earlier_than_the_backoff(open_engine: Callable[..., Engine]) -> None:
    """Notices that failed together are not retried together: each waits backoff_seconds lengthened by up
    to backoff_jitter of it (never less than the backoff), at random; with a given random draw the delay
    is exact."""
    with Hooks(statuses=(503,) * 4) as hooks:
        eng = open_engine(backoff_seconds=60, backoff_jitter=0.25)
        staff(eng, {"handler": hooks.url}, {"handler": hooks.url})
        assigned(eng)
        assert eng.dispatch(T0)["retry"] == 2
        first = [r["next_attempt_at"] for r in eng.outbox()]
        assert all(T0 + seconds(60) <= at <= T0 + seconds(75) for at in first), first
        assert first[0] != first[1]
        later = T0 + seconds(75)
        assert dispatch(eng.db, later, eng.settings, jitter=lambda: 0.5)["retry"] == 2
    assert [r["next_attempt_at"] for r in eng.outbox()] == [later + seconds(120 * 1.125)] * 2


def test_settings_keep_secrets_out_of_their_repr_and_refuse_a_deadline_past_the_lease() -> None:
    """Settings may be logged: their repr never shows the SMTP password or the webhook secret. An attempt
    deadline that is not shorter than the lease is refused, naming the setting."""
    settings = Settings(smtp_url="smtps://duban:pa55-word@mail.example:465", webhook_secret="whsec_topsecretvalue")
    shown = repr(settings)
    assert "pa55-word" not in shown and "topsecretvalue" not in shown
    assert "smtps://duban:***@mail.example:465" in shown and "webhook_secret='***'" in shown
    with pytest.raises(ValidationError, match="timeout_seconds"):
        Settings(timeout_seconds=300, lease_seconds=300)
    with pytest.raises(ValidationError, match="smtp_url"):
        Settings(smtp_url="http://mail.example")


# ---- item 3: mail as mail servers expect it ---------------------------------------------------


def test_every_mail_has_date_message_id_display_name_and_both_alternatives(
    open_engine: Callable[..., Engine],
) -> None:
    """Every mail carries Date (the sending instant, Beijing time), a Message-ID in the sender's domain,
    To with the recipient's name, and a plain-text and an HTML alternative, for every notice type (a
    type without an HTML template gets its text laid out as HTML, escaped)."""
    with smtp_server() as box:
        eng = open_engine(smtp_url=box.url, mail_from="督办系统 <duban@rd.example>", office_address="office@rd.example")
        staff(eng, everyone("lead@jt.example"), everyone("co@mz.example"))
        to_handling(eng)
        at = T0 + dt.timedelta(days=80)  # the reply clock's reminder (a type without an HTML template)
        assert "reminder" in [s.template for s in eng.due(at)]
        assert eng.dispatch(at) == {**SENT_NOTHING, "claimed": len(box.messages), "sent": len(box.messages)}
    types = {r["type"] for r in eng.outbox()}
    assert "assignment" in types and types - {"assignment"}, types  # one with an HTML template, one without
    for mail in box.messages:
        assert parsedate_to_datetime(mail["Date"]) == at and mail["Date"].endswith("+0800")
        assert mail["Message-ID"].endswith("@rd.example>")
        (to,) = mail["To"].addresses
        assert to.display_name and to.addr_spec in ("lead@jt.example", "co@mz.example")
        assert mail.get_content_type() == "multipart/alternative"
        html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert html.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in html
    notices = Notices.load()
    for key in notices.types:
        kind_vars = {
            **sample_variables(),
            "recipient": {"name": "孙丽<b>", "role": "handler", "role_label": "承办人员"},
        }
        rendered = notices.render(key, {**kind_vars, "recipient": {**kind_vars["recipient"], "unit": "市局"}})
        assert rendered.html and "<html" in rendered.html, key


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made for this run (openssl)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"),
            *("-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    return context


class Logins:
    """An aiosmtpd authenticator accepting one user, recording every login tried."""

    def __init__(self) -> None:
        self.tried: list[tuple[str, str]] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.tried.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=self.tried[-1] == ("duban@rd.example", "p@ss:w/rd"))


@pytest.mark.parametrize("mode", ["smtps", "starttls"])
def test_mail_goes_over_tls_with_credentials(
    open_engine: Callable[..., Engine], certificate: tuple[Path, Path], mode: str
) -> None:
    """``smtps://`` (implicit TLS, as 腾讯企业邮, 网易 and Coremail offer on 465) and ``smtp://…?starttls=1``
    both deliver with the credentials in the URL, trusting the server's certificate through ca_file; a
    server whose certificate is not trusted gets neither the login nor the mail."""
    logins = Logins()
    options: dict[str, Any] = {"authenticator": logins, "auth_required": True}
    if mode == "smtps":
        options |= {"ssl_context": server_context(certificate), "auth_require_tls": False}
        scheme, query = "smtps", ""
    else:
        options |= {"tls_context": server_context(certificate), "require_starttls": True, "auth_require_tls": True}
        scheme, query = "smtp", "?starttls=1"
    with serving(Mailbox(free_port()), **options) as box:
        url = f"{scheme}://duban%40rd.example:p%40ss%3Aw%2Frd@127.0.0.1:{box.port}{query}"
        untrusting = open_engine(smtp_url=url)
        staff(untrusting, {"handler": "sunli@jt.example"})
        assigned(untrusting, co_units=())
        assert untrusting.dispatch(T0)["retry"] == 1 and logins.tried == [] and box.messages == []
        assert "certificate" in only(untrusting.outbox())["last_error"].lower()
        eng = open_engine(smtp_url=url, ca_file=str(certificate[0]))
        sent = eng.dispatch(T0 + dt.timedelta(hours=1))
        assert sent["sent"] == 1, only(eng.outbox())["last_error"]
    assert logins.tried == [("duban@rd.example", "p@ss:w/rd")]
    assert box.to("sunli@jt.example")["X-Duban-Idempotency-Key"] == only(eng.outbox())["key"]


def test_webhooks_verify_with_the_standard_webhooks_library(open_engine: Callable[..., Engine]) -> None:
    """A webhook carries webhook-id, webhook-timestamp (now, by the wall clock) and webhook-signature, which
    the stock ``standardwebhooks`` library verifies under ``whsec_`` + base64 of the shared secret; a
    notice sent again has the same webhook-id; a changed body or a replayed old timestamp is rejected."""
    with Hooks(statuses=(503,)) as hooks:
        eng = open_engine(webhook_secret=SECRET, backoff_jitter=0)
        staff(eng, {"handler": hooks.url})
        assigned(eng, co_units=())
        before = time.time()
        eng.dispatch(T0)
        eng.dispatch(T0 + seconds(60))
        after = time.time()
    receiver = Webhook("whsec_" + base64.b64encode(SECRET.encode()).decode())
    (first, _), (second, body) = hooks.requests
    headers = plain(second)
    assert receiver.verify(body, headers) == json.loads(body)
    assert first["webhook-id"] == second["webhook-id"] and second["webhook-id"].startswith("msg_")
    assert before - 1 <= int(headers["webhook-timestamp"]) <= after + 1
    with pytest.raises(WebhookVerificationError):
        receiver.verify(body.replace(b"handler", b"HANDLER"), headers)
    replayed = {**headers, "webhook-timestamp": str(int(before) - 3600)}
    with pytest.raises(WebhookVerificationError):
        receiver.verify(body, replayed)


def test_a_whsec_secret_is_used_as_the_libraries_read_it(open_engine: Callable[..., Engine]) -> None:
    """A ``whsec_…`` secret (as a Java receiver's stock library generates it) is taken as that library reads
    it: the same string configured on both sides verifies."""
    secret = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
    with Hooks() as hooks:
        eng = open_engine(webhook_secret=secret)
        staff(eng, {"handler": hooks.url}, {"handler": hooks.url})
        assigned(eng)
        assert eng.dispatch(T0)["sent"] == 2
    for headers, body in hooks.requests:
        assert Webhook(secret).verify(body, plain(headers))["recipient"] in ("孙丽", "李娜")


def plain(headers: Message) -> dict[str, str]:
    return {k: str(v) for k, v in headers.items()}
