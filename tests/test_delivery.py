"""Delivering notices to real servers on loopback: an SMTP server (aiosmtpd) and an HTTP server for webhooks.

No mocks: each test starts its servers on 127.0.0.1, queues notices by firing triggers or producing due
escalation steps, and dispatches them at injected instants (nothing here sleeps to wait for time).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import hashlib
import hmac
import json
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from email import policy
from email.message import EmailMessage, Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from aiosmtpd.controller import Controller
from conftest import SPAWN, T0, in_processes, suggestion, to_handling

from workflow import Engine, Item
from workflow.channels import Settings

LEAD, CO = "市交通运输局", "市民政局"
SECRET = "s3cret-共享密钥"
SENT_NOTHING = {"claimed": 0, "sent": 0, "retry": 0, "failed": 0, "dead": 0, "deferred": 0}
HOSTILE = "<script>alert(1)</script>{{ 7*7 }}{% for x in range(2) %}x{% endfor %}"


def seconds(n: float) -> dt.timedelta:
    return dt.timedelta(seconds=n)


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---- the servers ------------------------------------------------------------------------------


class Mailbox:
    """An aiosmtpd handler keeping every message. With ``keep_then_refuse=n`` it keeps the first n messages
    but answers 451 (try again later), as a server that stored a mail and then failed to say so."""

    def __init__(self, port: int, keep_then_refuse: int = 0) -> None:
        self.port = port
        self.url = f"smtp://127.0.0.1:{port}?starttls=0"
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse = keep_then_refuse

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 stored, but please try again"
        return "250 OK"

    def to(self, address: str) -> EmailMessage:
        (found,) = [m for m in self.messages if m["To"].addresses[0].addr_spec == address]
        return found


@contextlib.contextmanager
def smtp_server(port: int | None = None, keep_then_refuse: int = 0) -> Iterator[Mailbox]:
    box = Mailbox(port or free_port(), keep_then_refuse)
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


class Hooks:
    """A ThreadingHTTPServer receiving webhooks. It answers the given statuses in order, then 200; with
    ``block_first`` the first request waits, after it is recorded, until :attr:`release` is set."""

    def __init__(self, statuses: tuple[int, ...] = (), block_first: bool = False) -> None:
        self.requests: list[tuple[Message, bytes]] = []
        self.statuses = list(statuses)
        self.block_first = block_first
        self.arrived, self.release = threading.Event(), threading.Event()
        self._lock = threading.Lock()
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with hooks._lock:
                    hooks.requests.append((self.headers, body))
                    first = len(hooks.requests) == 1
                    status = hooks.statuses.pop(0) if hooks.statuses else 200
                if first and hooks.block_first:
                    hooks.arrived.set()
                    hooks.release.wait(60)
                with contextlib.suppress(OSError):  # the sender may have been killed meanwhile
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Hooks:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def keys(self) -> list[str]:
        return [key_header(headers) for headers, _ in self.requests]


def key_header(headers: Message) -> str:
    """The idempotency key a webhook carries. HTTP header values are ASCII (latin-1 at most) and keys name
    people in Chinese, so the header may hold the key percent-encoded (UTF-8); an ASCII key reads as itself."""
    value = headers["X-Duban-Idempotency-Key"]
    assert value is not None and value.isascii(), value
    return unquote(value)


# ---- engines, parties, items ------------------------------------------------------------------


def staff(eng: Engine, lead: dict[str, str], co: dict[str, str] | None = None) -> None:
    """The lead unit and the co-unit with their chains of responsibility and the given addresses."""
    people = {"handler": "孙丽", "department_head": "钱志明", "principal_leader": "赵建国", "case_leader": "周海"}
    eng.add_party("unit", LEAD, **people, contacts=lead)
    eng.add_party("unit", CO, handler="李娜", department_head="吴强", principal_leader="郑华", contacts=co or {})
    eng.add_party("deputy", "王芳", contacts={"address": "wangfang@rd.example"})


def everyone(address: str) -> dict[str, str]:
    return {role: address for role in ("handler", "department_head", "principal_leader", "case_leader")}


def assigned(eng: Engine, co_units: tuple[str, ...] = (CO,), **data: Any) -> Item:
    item = suggestion(eng, **data)
    eng.fire(item.id, "register")
    return eng.fire(item.id, "assign", lead_unit=LEAD, co_units=list(co_units))


def only(rows: list[dict[str, Any]]) -> dict[str, Any]:
    (row,) = rows
    return row


# ---- mail -------------------------------------------------------------------------------------


def test_assignment_mail_reaches_each_handler_once(open_engine: Callable[..., Engine]) -> None:
    """An assignment reaches the handler of every assigned unit as one mail: the Chinese subject, the
    handler's address, a plain-text and an HTML part, the idempotency key header; a second dispatch sends
    nothing more."""
    with smtp_server() as box:
        eng = open_engine(smtp_url=box.url, mail_from="duban@rd.example")
        staff(eng, {"handler": "sunli@jt.example"}, {"handler": "lina@mz.example"})
        item = assigned(eng)
        assert eng.dispatch(T0) == {**SENT_NOTHING, "claimed": 2, "sent": 2}
        assert eng.dispatch(T0 + dt.timedelta(days=1)) == SENT_NOTHING
        assert len(box.messages) == 2
    row = next(r for r in eng.outbox(item=item.id) if r["address"] == "sunli@jt.example")
    assert row["cause"] == f"audit:{item.id}:3" and row["key"].startswith(f"audit:{item.id}:3:assignment:handler:")
    assert (row["status"], row["attempts"], row["sent_at"], row["lease_until"]) == ("sent", 1, T0, None)
    mail = box.to("sunli@jt.example")
    assert mail["Subject"] == "【交办通知】关于增加通勤班车密度的建议" == row["subject"]
    assert mail["From"] == "duban@rd.example"
    assert ("duban@rd.example", ["sunli@jt.example"]) in box.envelopes
    assert mail["X-Duban-Idempotency-Key"] == row["key"]
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert text.strip() == row["body_text"].strip() and html.strip() == row["body_html"].strip()
    assert text.startswith("交办通知\n\n市交通运输局：") and "你单位为主办单位" in text
    assert '<html lang="zh-CN">' in html and "交办通知" in html and "你单位为主办单位" in html
    assert "你单位为协办单位" in box.to("lina@mz.example").get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_a_malformed_mail_address_fails_the_notice_not_the_fire(open_engine: Callable[..., Engine]) -> None:
    """A malformed address never stops the fire that queued the notice: the item moves on, the notice is
    failed at once (no retries) with the reason in last_error, and an incident names it."""
    with smtp_server() as box:
        eng = open_engine(smtp_url=box.url)
        staff(eng, {"handler": "sunli@jt"})
        item = assigned(eng, co_units=())
        assert item.state == "assigned" and eng.get(item.id).state == "assigned"
        assert eng.dispatch(T0) == {**SENT_NOTHING, "claimed": 1, "failed": 1}
        assert eng.dispatch(T0 + dt.timedelta(days=30)) == SENT_NOTHING
        assert box.messages == []
    row = only(eng.outbox(item=item.id))
    assert row["status"] == "failed" and row["attempts"] == 1
    assert row["last_error"] == "malformed mail address 'sunli@jt'"
    incident = only(eng.incidents())
    assert (incident["kind"], incident["notice_id"], incident["item_id"]) == ("notice_failed", row["id"], item.id)
    assert "sunli@jt" in incident["message"] and "malformed" in incident["message"]


def test_smtp_server_down_retries_until_dead_then_retry_sends_it(open_engine: Callable[..., Engine]) -> None:
    """While the mail server is down, dispatch never raises: the notice is retried with backoff and, after
    max_attempts, is dead with an incident. ``retry`` queues it again and resolves the incident; once the
    server is up the notice is sent."""
    port = free_port()
    eng = open_engine(
        smtp_url=f"smtp://127.0.0.1:{port}", max_attempts=3, backoff_seconds=10, backoff_jitter=0, timeout_seconds=5
    )
    staff(eng, {"handler": "sunli@jt.example"})
    item = assigned(eng, co_units=())
    assert eng.dispatch(T0) == {**SENT_NOTHING, "claimed": 1, "retry": 1}
    assert only(eng.outbox())["next_attempt_at"] == T0 + seconds(10)
    assert eng.dispatch(T0 + seconds(10)) == {**SENT_NOTHING, "claimed": 1, "retry": 1}
    assert only(eng.outbox())["next_attempt_at"] == T0 + seconds(30)
    assert eng.dispatch(T0 + seconds(30)) == {**SENT_NOTHING, "claimed": 1, "dead": 1}
    assert eng.dispatch(T0 + dt.timedelta(days=30)) == SENT_NOTHING
    row = only(eng.outbox())
    assert (row["status"], row["attempts"]) == ("dead", 3) and row["last_error"]
    incident = only(eng.incidents())
    assert (incident["kind"], incident["notice_id"], incident["item_id"]) == ("notice_dead", row["id"], item.id)

    later = T0 + dt.timedelta(days=1)
    eng.retry(row["id"], later)
    again = only(eng.outbox())
    assert (again["status"], again["attempts"], again["next_attempt_at"], again["last_error"]) == (
        "queued",
        0,
        later,
        None,
    )
    assert eng.incidents() == []
    assert only(eng.incidents(open_only=False))["resolved_at"] == later
    with smtp_server(port) as box:
        assert eng.dispatch(later) == {**SENT_NOTHING, "claimed": 1, "sent": 1}
    assert box.to("sunli@jt.example")["X-Duban-Idempotency-Key"] == row["key"]
    assert only(eng.outbox())["status"] == "sent"


def test_a_mail_sent_again_keeps_its_message_id(open_engine: Callable[..., Engine]) -> None:
    """A mail delivered twice (here the server kept it but answered 451, so it is retried) carries the same
    Message-ID and idempotency key both times: the receiving mail system or reader can drop the duplicate."""
    with smtp_server(keep_then_refuse=1) as box:
        eng = open_engine(smtp_url=box.url)
        staff(eng, {"handler": "sunli@jt.example"})
        assigned(eng, co_units=())
        assert eng.dispatch(T0)["retry"] == 1
        assert eng.dispatch(T0 + seconds(60 * 1.2))["sent"] == 1  # backoff_seconds, with the most jitter
    first, second = box.messages
    assert first["X-Duban-Idempotency-Key"] == second["X-Duban-Idempotency-Key"] == only(eng.outbox())["key"]
    assert first["Message-ID"] == second["Message-ID"]


# ---- webhooks ---------------------------------------------------------------------------------


def test_webhook_posts_signed_json_with_the_idempotency_key(open_engine: Callable[..., Engine]) -> None:
    """A webhook notice is a POST of JSON (key, type, item, recipient, role, subject, text and HTML bodies)
    signed with HMAC-SHA256 of the exact body under the shared secret, carrying the idempotency key."""
    with Hooks() as hooks:
        eng = open_engine(webhook_secret=SECRET)
        staff(eng, {"handler": hooks.url})
        item = assigned(eng, co_units=())
        assert eng.dispatch(T0) == {**SENT_NOTHING, "claimed": 1, "sent": 1}
    row = only(eng.outbox())
    ((headers, body),) = hooks.requests
    assert json.loads(body) == {
        "key": row["key"],
        "type": "assignment",
        "item_id": item.id,
        "recipient": "孙丽",
        "role": "handler",
        "subject": "【交办通知】关于增加通勤班车密度的建议",
        "body_text": row["body_text"],
        "body_html": row["body_html"],
    }
    assert headers["Content-Type"].startswith("application/json")
    assert key_header(headers) == row["key"]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Duban-Signature"], expected)
    forged = "sha256=" + hmac.new(b"another secret", body, hashlib.sha256).hexdigest()
    assert headers["X-Duban-Signature"] != forged
    assert row["status"] == "sent"


def test_webhook_unavailable_backs_off_exactly_then_succeeds(open_engine: Callable[..., Engine]) -> None:
    """A receiver that answers 503 twice: the notice goes back to the queue, due again after backoff_seconds,
    then after twice that (no jitter configured); it is not sent before, and the third dispatch delivers it
    with the same key."""
    with Hooks(statuses=(503, 503)) as hooks:
        eng = open_engine(webhook_secret=SECRET, backoff_seconds=60, backoff_jitter=0)
        staff(eng, {"handler": hooks.url})
        assigned(eng, co_units=())
        assert eng.dispatch(T0) == {**SENT_NOTHING, "claimed": 1, "retry": 1}
        row = only(eng.outbox())
        assert (row["status"], row["attempts"], row["next_attempt_at"]) == ("queued", 1, T0 + seconds(60))
        assert "503" in row["last_error"]
        assert eng.dispatch(T0 + seconds(59)) == SENT_NOTHING
        assert eng.dispatch(T0 + seconds(60)) == {**SENT_NOTHING, "claimed": 1, "retry": 1}
        row = only(eng.outbox())
        assert (row["status"], row["attempts"], row["next_attempt_at"]) == ("queued", 2, T0 + seconds(180))
        assert eng.dispatch(T0 + seconds(179)) == SENT_NOTHING
        assert eng.dispatch(T0 + seconds(180)) == {**SENT_NOTHING, "claimed": 1, "sent": 1}
        assert eng.dispatch(T0 + dt.timedelta(days=1)) == SENT_NOTHING
    row = only(eng.outbox())
    assert (row["status"], row["attempts"], row["sent_at"]) == ("sent", 3, T0 + seconds(180))
    assert hooks.keys() == [row["key"]] * 3
    assert eng.incidents() == []


@pytest.mark.parametrize(("status", "outcome"), [(400, "failed"), (404, "failed"), (408, "retry"), (429, "retry")])
def test_webhook_client_errors_fail_at_once_except_timeout_and_rate_limit(
    open_engine: Callable[..., Engine], status: int, outcome: str
) -> None:
    """A receiver's 4xx refusal fails the notice at once with an incident (retrying cannot help); 408 and 429
    are temporary and retried."""
    with Hooks(statuses=(status,)) as hooks:
        eng = open_engine(webhook_secret=SECRET, backoff_jitter=0)
        staff(eng, {"handler": hooks.url})
        item = assigned(eng, co_units=())
        assert eng.dispatch(T0) == {**SENT_NOTHING, "claimed": 1, outcome: 1}
        assert eng.dispatch(T0 + seconds(30)) == SENT_NOTHING
    row = only(eng.outbox())
    assert len(hooks.requests) == 1 and str(status) in row["last_error"]
    if outcome == "failed":
        assert row["status"] == "failed"
        incident = only(eng.incidents())
        assert (incident["kind"], incident["notice_id"], incident["item_id"]) == ("notice_failed", row["id"], item.id)
    else:
        assert (row["status"], row["next_attempt_at"]) == ("queued", T0 + seconds(60))
        assert eng.incidents() == []


# ---- what is queued ---------------------------------------------------------------------------


def test_a_unit_without_an_address_is_an_incident_not_an_error(open_engine: Callable[..., Engine]) -> None:
    """A unit with no address for the role a notice goes to gets a held notice and one incident naming
    the unit and the role; the fire succeeds and the other units' notices are queued."""
    eng = open_engine()
    staff(eng, {"handler": "sunli@jt.example"}, {"department_head": "wuqiang@mz.example"})
    item = assigned(eng)
    assert item.state == "assigned"
    assert [r["address"] for r in eng.outbox(status="queued")] == ["sunli@jt.example"]
    held = only(eng.outbox(status="held"))
    incident = only(eng.incidents())
    assert (incident["kind"], incident["item_id"], incident["notice_id"]) == ("missing_contact", item.id, held["id"])
    assert CO in incident["message"] and "handler" in incident["message"] and "承办人员" in incident["message"]


def test_two_units_whose_handlers_share_a_name_each_get_the_assignment(open_engine: Callable[..., Engine]) -> None:
    """Each assigned unit's handler gets the assignment even when two units' handlers have the same name
    (张伟 is the commonest name in China; a placeholder such as 承办人员 is common too)."""
    eng = open_engine()
    eng.add_party("unit", LEAD, handler="张伟", contacts={"handler": "zhangwei@jt.example"})
    eng.add_party("unit", CO, handler="张伟", contacts={"handler": "zhangwei@mz.example"})
    assigned(eng)
    assert sorted(r["address"] for r in eng.outbox()) == ["zhangwei@jt.example", "zhangwei@mz.example"]


def test_hostile_deputy_text_is_shown_literally_never_run(open_engine: Callable[..., Engine]) -> None:
    """What a deputy writes is data: template syntax in a title is neither evaluated nor executed, the text
    body shows it literally, and the HTML body escapes it."""
    eng = open_engine()
    staff(eng, {"handler": "sunli@jt.example"})
    item = assigned(eng, co_units=(), title=HOSTILE)
    row = only(eng.outbox(item=item.id))
    assert HOSTILE in row["subject"] and HOSTILE in row["body_text"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;{{ 7*7 }}{% for x in range(2) %}x{% endfor %}" in row["body_html"]
    assert "<script>" not in row["body_html"]
    assert all("49" not in row[part] for part in ("subject", "body_text", "body_html"))


# ---- exactly once -----------------------------------------------------------------------------


def _causes(eng: Engine) -> Counter[str]:
    """Outbox rows per due step (the assignment notices of the fire are left out)."""
    return Counter(r["cause"] for r in eng.outbox() if r["cause"].startswith("deadline:"))


def _recipients_per_step(steps: list[tuple[int, int, int]]) -> dict[str, int]:
    """The notices expected of steps produced together, as (deadline, step, recipients): each clock
    tells its recipients only its latest step (the earlier ones are recorded, not sent)."""
    latest = {deadline: (step, n) for deadline, step, n in sorted(steps)}
    return {f"deadline:{d}:step:{s}": n for d, (s, n) in latest.items()}


def _level_at(eng: Engine, after: str) -> dt.datetime:
    """When the reply clock's escalation level *after* the due date falls."""
    due = only(eng.deadlines(clock="reply"))["due"]
    return eng.calendar.due(due, after).deadline


def test_due_twice_queues_each_escalation_notice_once(open_engine: Callable[..., Engine]) -> None:
    """Asking for due steps again at the same instant queues nothing more: each reminder and escalation
    level is queued once per recipient (level 2 of the reply clock: the department head and the principal
    leader)."""
    eng = open_engine(office_address="office@rd.example")
    staff(eng, everyone("lead@jt.example"), everyone("co@mz.example"))
    to_handling(eng)
    at = _level_at(eng, "5 working days")
    steps = eng.due(at)
    assert eng.due(at) == []
    assert dict(_causes(eng)) == _recipients_per_step([(s.deadline_id, s.step, len(s.notify)) for s in steps])
    (level2,) = [s for s in steps if s.clock == "reply" and s.level == 2]
    rows = [r for r in eng.outbox() if r["cause"] == f"deadline:{level2.deadline_id}:step:{level2.step}"]
    assert sorted((r["role"], r["recipient"]) for r in rows) == [
        ("department_head", "钱志明"),
        ("principal_leader", "赵建国"),
    ]
    assert {r["type"] for r in rows} == {"supervision_letter"}
    assert eng.incidents() == []


def _due_in_process(url: str, at: str, barrier: Any, out: Any) -> None:
    try:
        eng = Engine(url, migrate=False, settings=Settings(office_address="office@rd.example"))
        barrier.wait(60)
        out.put([(s.deadline_id, s.step, len(s.notify)) for s in eng.due(dt.datetime.fromisoformat(at))])
        eng.close()
    except Exception as exc:  # report, so that the test fails with the reason instead of waiting
        out.put(repr(exc))


def test_two_processes_running_due_queue_each_notice_once(open_engine: Callable[..., Engine], db_url: str) -> None:
    """Two processes producing due steps at the same moment (two schedulers, say): every reminder and
    escalation level is produced by one of them only, and its notices are queued once per recipient."""
    eng = open_engine(office_address="office@rd.example")
    staff(eng, everyone("lead@jt.example"), everyone("co@mz.example"))
    to_handling(eng)
    at = _level_at(eng, "15 working days")
    barrier = SPAWN.Barrier(2)
    results = in_processes(_due_in_process, [(db_url, at.isoformat(), barrier)] * 2)
    assert all(isinstance(r, list) for r in results), results
    produced = [step for r in results for step in r]
    assert len(produced) == len({(d, s) for d, s, _ in produced})  # no step twice
    assert eng.due(at) == []  # nothing left for a third
    assert dict(_causes(eng)) == _recipients_per_step(produced)
    assert any(n == 2 for _, _, n in produced)  # level 3: the office (no supervising leader) and the case leader
    assert eng.incidents() == []


CHILD = """
import datetime as dt, json, sys
from workflow import Engine
from workflow.channels import Settings
eng = Engine(sys.argv[1], migrate=False, settings=Settings(**json.loads(sys.argv[2])))
eng.dispatch(dt.datetime.fromisoformat(sys.argv[3]))
"""


def test_a_sender_killed_after_sending_means_one_resend_with_the_same_key(
    open_engine: Callable[..., Engine], db_url: str, tmp_path: Path
) -> None:
    """Delivery is at least once: a dispatcher killed after the receiver got a notice but before marking it
    sent leaves it leased; once the lease expires the next dispatch sends it again with the same idempotency
    key (the receiver drops the duplicate by key), and the notice ends sent, once."""
    with Hooks(block_first=True) as hooks:
        settings = {"webhook_secret": SECRET, "lease_seconds": 300}
        eng = open_engine(**settings)
        staff(eng, {"handler": hooks.url})
        assigned(eng, co_units=())
        log = tmp_path / "child.log"
        with log.open("wb") as sink:
            child = subprocess.Popen(
                [sys.executable, "-c", CHILD, db_url, json.dumps(settings), T0.isoformat()],
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + 60
            while not hooks.arrived.wait(0.05):  # the child is inside dispatch, or it ended without sending
                assert child.poll() is None and time.monotonic() < deadline, log.read_text()
            row = only(eng.outbox())
            assert (row["status"], row["attempts"], row["lease_until"]) == ("sending", 1, T0 + seconds(300))
        finally:
            child.kill()
            child.wait(30)
        hooks.release.set()
        assert eng.dispatch(T0 + seconds(299)) == SENT_NOTHING  # the lease still holds
        assert eng.dispatch(T0 + seconds(301)) == {**SENT_NOTHING, "claimed": 1, "sent": 1}
        assert eng.dispatch(T0 + dt.timedelta(days=1)) == SENT_NOTHING
    row = only(eng.outbox())
    assert (row["status"], row["attempts"], row["sent_at"]) == ("sent", 2, T0 + seconds(301))
    assert hooks.keys() == [row["key"], row["key"]]
    assert hooks.requests[0][0]["X-Duban-Idempotency-Key"] == hooks.requests[1][0]["X-Duban-Idempotency-Key"]
    assert [json.loads(body)["key"] for _, body in hooks.requests] == [row["key"], row["key"]]
    assert len(set(hooks.keys())) == 1  # what a receiver keeping the keys it has seen would store
