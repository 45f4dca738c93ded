"""The notices workload: notices rendered and queued per second, and dispatched per second over SMTP.

**Queue.** N suggestions are submitted and registered (not timed); then each is assigned to a lead unit and two
co-units (timed): one ``assign`` fire renders and queues three ``assignment`` notices (subject, text and HTML
body) to the three units' handlers in the fire's transaction, on SQLite. notices/s = 3N / wall time of the N
fires; fires/s is reported beside it.

**Dispatch.** The 3N queued notices are then sent by ``Engine.dispatch`` (100 claimed per call, as a dispatcher
loop would call it, until the outbox is empty) to an aiosmtpd server on 127.0.0.1. The server runs in the parent
process and every run in a fresh (spawned) one, so they do not share a GIL. notices/s = 3N / wall time. Each
notice is one SMTP connection (``smtplib``: connect, EHLO, MAIL, RCPT, DATA, QUIT), as duban sends them.

Checks: every fire queues exactly three notices, every notice ends ``sent`` with no retry, and the server
receives 3N messages per run, each idempotency key once.
"""

from __future__ import annotations

import datetime as dt
import re
import socket
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from bench.common import spread, version

__all__ = ["DEFAULT_N", "DEFAULT_REPEAT", "markdown", "run", "table", "workload"]

DEFAULT_N = {"full": 1_000, "quick": 100}  # assign fires per run; three notices each
DEFAULT_REPEAT = {"full": 3, "quick": 3}
START = dt.datetime(2026, 3, 20, 1, 0, tzinfo=dt.UTC)
LEAD = "市交通运输局"
CO_UNITS = ("市民政局", "市住房和城乡建设局")
HANDLERS = {
    "市交通运输局": ("孙丽", "sunli@jt.example"),
    "市民政局": ("李娜", "lina@mz.example"),
    "市住房和城乡建设局": ("王强", "wangqiang@zj.example"),
}
DISPATCH_LIMIT = 100


def run(n: int, durability: str, smtp_url: str) -> dict[str, Any]:
    """One run in this process: N assign fires (three notices each), then dispatching all of them."""
    from workflow import Engine
    from workflow.channels import Settings

    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="duban-bench-notices-") as tmp:
        eng = Engine(
            f"sqlite:///{Path(tmp) / 'notices.db'}",
            durability=durability,
            clock=lambda: START,
            settings=Settings(smtp_url=smtp_url, mail_from="duban@rd.example", timeout_seconds=30),
        )
        for unit, (handler, address) in HANDLERS.items():
            eng.add_party("unit", unit, handler=handler, department_head="部门负责人", contacts={"handler": address})
        eng.add_party("deputy", "王芳", contacts={"address": "wangfang@rd.example"})
        ids = []
        for i in range(n):
            item = eng.submit(
                "suggestion", title=f"关于增加通勤班车密度的建议（{i + 1}）", origin="session", proposers=["王芳"]
            )
            eng.fire(item.id, "register")
            ids.append(item.id)
        setup_s = time.perf_counter() - began

        t0 = time.perf_counter()
        for item_id in ids:
            eng.fire(item_id, "assign", lead_unit=LEAD, co_units=list(CO_UNITS))
        queue_s = time.perf_counter() - t0
        queued = eng.outbox(status="queued")
        if len(queued) != 3 * n or eng.incidents():
            raise RuntimeError(f"expected {3 * n} queued notices and no incident, got {len(queued)}")
        html_kib = sum(len(r["body_html"].encode()) for r in queued) / len(queued) / 1024

        totals: dict[str, int] = {}
        calls = 0
        t0 = time.perf_counter()
        while True:
            counts = eng.dispatch(START, limit=DISPATCH_LIMIT)
            calls += 1
            if not counts["claimed"]:
                break
            for k, v in counts.items():
                totals[k] = totals.get(k, 0) + v
        dispatch_s = time.perf_counter() - t0
        sent = len(eng.outbox(status="sent"))
        eng.close()
    if totals.get("sent") != 3 * n or sent != 3 * n:
        raise RuntimeError(f"expected {3 * n} notices sent, got {totals} ({sent} rows sent)")
    return {
        "fires": n,
        "notices": 3 * n,
        "setup_s": setup_s,
        "queue_s": queue_s,
        "fires_per_s": n / queue_s,
        "queued_per_s": 3 * n / queue_s,
        "us_per_fire": queue_s / n * 1e6,
        "html_body_kib": html_kib,
        "dispatch_s": dispatch_s,
        "dispatch_calls": calls,
        "sent_per_s": 3 * n / dispatch_s,
        "us_per_notice_sent": dispatch_s / (3 * n) * 1e6,
        "dispatch_counts": totals,
    }


_KEY = re.compile(rb"^X-Duban-Idempotency-Key:(.*(?:\r?\n[ \t].*)*)", re.MULTILINE | re.IGNORECASE)


class _Counter:
    """The SMTP server's handler: counts what it receives and the idempotency keys seen (the raw header, to
    keep the server's own work small; a message without the header fails the run)."""

    def __init__(self) -> None:
        self.received = 0
        self.keys: set[bytes] = set()
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        found = _KEY.search(envelope.content)
        with self.lock:
            self.received += 1
            self.keys.add(found.group(1).strip() if found else b"")
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def workload(mode: str, repeat: int | None = None, n: int | None = None, durability: str = "normal") -> dict[str, Any]:
    """The timed runs, each in a fresh process, against one loopback SMTP server in this process."""
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        raise SystemExit("the notices workload needs aiosmtpd: pip install 'duban[dev]'") from None
    repeat = repeat or DEFAULT_REPEAT[mode]
    n = n or DEFAULT_N[mode]
    handler = _Counter()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    runs: list[dict[str, Any]] = []
    try:
        for k in range(repeat):
            print(f"notices run {k + 1}/{repeat}: {n:,} assign fires, {3 * n:,} notices ...", end=" ", file=sys.stderr)
            before = handler.received
            with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
                result = pool.submit(run, n, durability, f"smtp://127.0.0.1:{port}?starttls=0").result()
            result["server_received"] = handler.received - before
            if result["server_received"] != 3 * n:
                raise RuntimeError(f"the SMTP server received {result['server_received']}, not {3 * n}")
            print(
                f"queued {result['queued_per_s']:,.0f}/s, sent {result['sent_per_s']:,.0f}/s",
                file=sys.stderr,
                flush=True,
            )
            runs.append(result)
    finally:
        controller.stop()
    if len(handler.keys) != 3 * n or b"" in handler.keys:  # every run queues the same keys, in its own database
        raise RuntimeError(f"expected {3 * n} distinct idempotency keys, the server saw {len(handler.keys)}")
    return {
        "settings": {
            "mode": mode,
            "repeat": repeat,
            "fires": n,
            "notices": 3 * n,
            "durability": durability,
            "dispatch_limit": DISPATCH_LIMIT,
            "units": [LEAD, *CO_UNITS],
        },
        "software": {"aiosmtpd": version("aiosmtpd")},
        "queued_per_s": spread([r["queued_per_s"] for r in runs]),
        "fires_per_s": spread([r["fires_per_s"] for r in runs]),
        "us_per_fire": spread([r["us_per_fire"] for r in runs]),
        "sent_per_s": spread([r["sent_per_s"] for r in runs]),
        "us_per_notice_sent": spread([r["us_per_notice_sent"] for r in runs]),
        "raw": runs,
    }


# ---- output -----------------------------------------------------------------------------------


def table(report: dict[str, Any]) -> str:
    s = report["settings"]
    head = "| notices | min / **median** / max per s | µs each (median) |\n|---|---:|---:|"
    rows = [
        ("rendered and queued (assign fires)", report["queued_per_s"], report["us_per_fire"]["median"] / 3),
        ("dispatched to loopback SMTP", report["sent_per_s"], report["us_per_notice_sent"]["median"]),
    ]
    lines = [head]
    for name, f, each in rows:
        lines.append(f"| {name} | {f['min']:,.0f} / **{f['median']:,.0f}** / {f['max']:,.0f} | {each:,.0f} |")
    fires = report["fires_per_s"]
    lines.append("")
    lines.append(
        f"{s['fires']:,} assign fires × 3 notices, {s['repeat']} run(s); assign fires/s "
        f"{fires['min']:,.1f} / **{fires['median']:,.1f}** / {fires['max']:,.1f}"
    )
    return "\n".join(lines)


def markdown(report: dict[str, Any]) -> str:
    s = report["settings"]
    return "\n".join(
        [
            "## Notices",
            "",
            f"{s['fires']:,} `assign` fires per run (lead {s['units'][0]}, co-units {', '.join(s['units'][1:])}), "
            f"three `assignment` notices each (text and HTML), SQLite durability `{s['durability']}`; then "
            f"dispatching the {s['notices']:,} notices ({s['dispatch_limit']} per `dispatch` call) to aiosmtpd "
            f"{report['software']['aiosmtpd']} on 127.0.0.1, one SMTP connection per notice. "
            f"{s['repeat']} run(s), each in a fresh process.",
            "",
            table(report),
            "",
        ]
    )
