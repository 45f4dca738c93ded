"""Races: real processes firing random triggers at the same few items at once (issue 8, part 2).

Four spawned workers each fire 60 random triggers — chosen among those the item allows in the state the
worker just read, with plausible data and actors, and some meant to fail: a wrong actor, a missing field, a
stale ``expected_version`` — at five suggestions and two review opinions. Every outcome is recorded, then the
database is checked as a whole. On SQLite here, on PostgreSQL when ``DUBAN_TEST_DB`` is set.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from collections import Counter
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from chaos import check_whole, open_states, replay, staff, stray_deadlines
from conftest import SPAWN, T0, UNITS, in_processes

from workflow import Actor, ConflictError, Engine, WorkflowError
from workflow.model import ItemDetail
from workflow.store import TABLES, reading
from workflow.testing import FakeClock

WORKERS, FIRES = 4, 60
SEED = int(os.environ.get("DUBAN_CHAOS_SEED", "20261122"))
GOV = "市人民政府"
OFFICE, LEADER, COMMITTEE = Actor("office"), Actor("leader"), Actor("committee")
STRANGERS = (Actor("deputy", "路人甲"), Actor("unit", "市公安局交通警察支队"), COMMITTEE, LEADER)
# Triggers that end or loop an item are drawn less often, so that items travel their whole lifecycle.
WEIGHTS = {"reject": 0.03, "withdraw": 0.05, "close": 0.5, "reopen": 0.5, "refer_accountability": 0.3}
SUGGESTIONS: list[dict[str, Any]] = [
    {"proposers": ["王芳"]},
    {"proposers": ["李强", "陈静"], "lead_deputy": "李强"},
    {"proposers": ["张伟"], "session": "市十五届人大三次会议", "number": "12"},
    {"proposers": ["王芳", "张伟"], "lead_deputy": "张伟"},
    {"proposers": ["陈静"]},
]
_AUDIT = TABLES["duban_audit"]


def _units(d: ItemDetail, roles: tuple[str, ...] = ("lead", "split", "co"), state: str | None = None) -> list[str]:
    return [a["unit"] for a in d.assignments if a["active"] and a["role"] in roles and state in (None, a["state"])]


def _one(rng: random.Random, names: list[str]) -> Actor:
    return Actor("unit", rng.choice(names or UNITS))


def _suggestion(rng: random.Random, d: ItemDetail, trigger: str, today: dt.date) -> tuple[Actor, dict[str, Any]]:
    deputy = Actor("deputy", d.data.get("lead_deputy") or d.data["proposers"][0])
    leads, cos = _units(d, ("lead", "split")), _units(d, ("co",))
    reason = {"reason": rng.choice(["不属于本单位职责", "需要协调", "回头看发现问题"])}
    if trigger == "register":
        return OFFICE, {"number": f"{d.id}-{rng.randrange(100)}"} if rng.random() < 0.5 else {}
    if trigger == "reject":
        return OFFICE, {"reason": rng.choice(["personal_matter", "forwarded_letter", "no_substance"])}
    if trigger in ("assign", "reassign"):
        if rng.random() < 0.2:
            return OFFICE, {"split_units": rng.sample(UNITS[:4], 2)}
        return OFFICE, {"lead_unit": rng.choice(UNITS[:3]), "co_units": rng.choice([[], [UNITS[3]], UNITS[3:5]])}
    if trigger in ("request_reassignment", "record_contact"):
        if trigger == "request_reassignment":
            return _one(rng, leads + cos), reason
        stage, method = rng.choice(["before", "during", "after"]), rng.choice(["visit", "phone", "letter"])
        return _one(rng, leads + cos), {"stage": stage, "method": method}
    if trigger in ("refuse_reassignment", "refuse_extension", "reopen"):
        return rng.choice([OFFICE, LEADER]) if trigger == "reopen" else OFFICE, reason
    if trigger == "accept":
        return _one(rng, _units(d, state="assigned") or leads + cos), {}
    if trigger == "submit_co_opinion":
        return _one(rng, cos), {"opinion": rng.choice(["同意", "建议加快进度"])}
    if trigger == "request_extension":
        return _one(rng, leads), {**reason, "period": "1 month"}
    if trigger == "approve_extension":
        return OFFICE, {"period": rng.choice(["1 month", "15 days"])}
    if trigger == "reply":
        category = rng.choice("ABCD")
        data: dict[str, Any] = {"category": category, "text": "已研究办理", "signer": "张局长"}
        if category in "BC" or rng.random() < 0.2:
            by = today + dt.timedelta(days=rng.randint(90, 400))
            data["promises"] = [{"what": f"承诺{n}", "by": by.isoformat()} for n in range(rng.randint(1, 2))]
        return _one(rng, leads), data
    if trigger == "evaluate":
        result = rng.choice(["satisfied", "basically_satisfied", "unsatisfied"])
        return rng.choice([deputy, OFFICE]), {"result": result}
    if trigger == "verify_commitment":
        promise = rng.choice([p["id"] for p in d.promises] or [1])
        return OFFICE, {"promise": promise, "outcome": rng.choice(["kept", "broken"])}
    if trigger == "withdraw":
        return rng.choice([deputy, OFFICE]), {"reason": "代表撤回"}
    if trigger == "designate_key":
        return LEADER, {"supervising_leader": "刘副主任", "case_leader": "周海"}
    return OFFICE, {}  # close


def _review(rng: random.Random, d: ItemDetail, trigger: str, today: dt.date) -> tuple[Actor, dict[str, Any]]:
    numbers = [p["number"] for p in d.problems] or [1]
    reason = {"reason": "整改不到位"}
    if trigger == "approve":
        return LEADER, {}
    if trigger == "assign":
        return OFFICE, {"lead_unit": GOV, "problems": [{"title": f"问题{n}"} for n in range(1, rng.randint(2, 4))]}
    if trigger == "submit_rectification_plan":
        due = (today + dt.timedelta(days=rng.randint(20, 200))).isoformat()
        measures = [{"problem": n, "measure": "整改", "owner": "市政府办公厅", "due": due} for n in numbers]
        return _one(rng, [GOV]), {"measures": measures}
    if trigger == "update_problem":
        return _one(rng, [GOV]), {"problem": rng.choice(numbers), "status": rng.choice(["in_progress", "rectified"])}
    if trigger == "close_problem":
        return rng.choice([OFFICE, COMMITTEE]), {"problem": rng.choice(numbers)}
    if trigger == "submit_report":
        data = {
            "text": "研究处理情况的报告",
            "consulted_committee": "财政经济委员会",
            "consulted_on": today.isoformat(),
        }
        return _one(rng, [GOV]), data
    if trigger == "deliberate":
        return COMMITTEE, {"meeting": "第十次会议"}
    if trigger == "vote":
        counts = {k: rng.randint(0, 30) for k in ("satisfied", "basically_satisfied", "unsatisfied")}
        return COMMITTEE, counts
    if trigger in ("order_second_review", "reopen"):
        return rng.choice([LEADER, COMMITTEE if trigger == "order_second_review" else OFFICE]), reason
    if trigger == "refer_accountability":
        return LEADER, {**reason, "referred_to": "市监察委员会"}
    return OFFICE, {}  # close


REQUESTS = {"suggestion": _suggestion, "review_opinion": _review}


def _worker(url: str, worker: int, ids: list[int], fires: int, seed: int, barrier: Any, out: Any) -> None:
    """Fire *fires* random triggers at *ids*; put every outcome on *out*: (worker, n, item, trigger,
    actor, version read, expected_version given, outcome, new version or error)."""
    records: list[tuple[Any, ...]] = []
    try:
        clock = FakeClock(T0)
        eng = Engine(url, clock=clock, migrate=False)
        rng = random.Random(seed * 1000 + worker)
        barrier.wait(120)
        for n in range(fires):
            item_id = rng.choice(ids)
            d = eng.get(item_id)
            allowed = d.allowed_triggers or ["close", "reopen"]  # a final state: refused, and recorded so
            trigger = rng.choices(allowed, [WEIGHTS.get(t, 1.0) for t in allowed])[0]
            actor, data = REQUESTS[d.kind](rng, d, trigger, clock().date())
            if rng.random() < 0.12:
                actor = rng.choice(STRANGERS)
            if data and rng.random() < 0.05:
                del data[rng.choice(sorted(data))]
            draw = rng.random()
            outcome: str
            info: int | str
            expected = d.version if draw < 0.5 else d.version - 1 if draw < 0.6 else None
            clock.advance(minutes=rng.randint(1, 600))
            try:
                item = eng.fire(item_id, trigger, actor=actor, expected_version=expected, data=data)
                outcome, info = "ok", item.version
            except ConflictError as exc:
                outcome, info = "conflict", str(exc)
            except WorkflowError as exc:
                outcome, info = "refused", type(exc).__name__
            except Exception as exc:  # a raw database error is a bug: the test names it
                outcome, info = "error", repr(exc)
            records.append((worker, n, item_id, trigger, str(actor), d.version, expected, outcome, info))
        eng.close()
    except Exception as exc:  # report, so that the test fails with the reason instead of waiting
        records.append((worker, -1, 0, "", "", 0, None, "error", repr(exc)))
    out.put(records)


def _setup(url: str) -> tuple[Engine, list[int]]:
    eng = Engine(url, clock=FakeClock(T0))
    staff(eng)
    ids = [
        eng.submit("suggestion", title=f"关于第{n}件事的建议", origin="session", **extra).id
        for n, extra in enumerate(SUGGESTIONS, start=1)
    ]
    for title in ("关于道路交通安全法执法检查报告的审议意见", "关于财政预算执行情况报告的审议意见"):
        ids.append(eng.submit("review_opinion", title=title, basis="inspection").id)
    return eng, ids


def test_random_fires_from_four_processes_leave_every_item_exactly_as_its_audit_log_says(
    db_url: str, tmp_path: Path
) -> None:
    """Four processes firing 60 random triggers each at the same seven items, at once. A user can rely on:
    (a) each item is what replaying its audit log from the start gives — state, version, assignments,
    promises, problems, contacts, votes, every deadline, notices — so the log is a complete record;
    (b) every audit chain verifies; (c) no deadline is left open in a stage its item has left, nor on an
    item in a final state; (d) a fire that failed — ConflictError, wrong actor, bad data, wrong state —
    wrote nothing: the audit rows past the setup are exactly the fires the workers saw succeed."""
    eng, ids = _setup(db_url)
    setup = {i: eng.get(i).version for i in ids}
    barrier = SPAWN.Barrier(WORKERS)
    arglists = [(db_url, w, ids, FIRES, SEED, barrier) for w in range(WORKERS)]
    records = [r for batch in in_processes(_worker, arglists, timeout=600) for r in batch]
    errors = [r for r in records if r[7] == "error"]
    assert errors == [], "\n".join(map(repr, errors[:5]))
    assert len(records) == WORKERS * FIRES

    # (d) the rows written past the setup are exactly the successful fires, each as its worker sent it
    with reading(eng.db) as conn:
        rows = conn.execute(
            sa.select(_AUDIT.c.item_id, _AUDIT.c.seq, _AUDIT.c.trigger, _AUDIT.c.actor_role, _AUDIT.c.actor_party)
        ).all()
    written = {
        (item, seq): (trigger, f"{role}:{party}" if party else role)
        for item, seq, trigger, role, party in rows
        if seq > setup[item]
    }
    succeeded = {(r[2], r[8]): (r[3], r[4]) for r in records if r[7] == "ok"}
    assert len(succeeded) == sum(r[7] == "ok" for r in records), "two fires reported the same new version"
    assert succeeded == written, "an audit row no worker saw succeed, or a success with no audit row"
    final = {i: eng.get(i).version for i in ids}
    for r in records:
        if r[7] == "conflict":  # the item had indeed moved past the version the fire was based on
            assert final[r[2]] > (r[6] if r[6] is not None else r[5]), r
    # (b) every chain verifies; the version of every item counts its audit rows
    whole = check_whole(eng)
    # (c) no open deadline in a stage its clock does not run in, none on a closed item
    assert stray_deadlines(eng) == []
    # (a) the log is a complete record
    replayed, mismatches = replay(eng, f"sqlite:///{tmp_path / 'replay.db'}")
    assert mismatches == [], "\n".join(mismatches[:5])
    assert replayed == whole["audit_rows"]

    outcomes = Counter(r[7] for r in records)
    states = Counter(eng.get(i).state for i in ids)
    open_deadlines = len(eng.deadlines())
    refusals = dict(Counter(r[8] for r in records if r[7] == "refused"))
    print(
        f"\nraces: {WORKERS} workers × {FIRES} fires on {len(ids)} items, {outcomes['ok']} succeeded, "
        f"{outcomes['conflict']} conflicts, {outcomes['refused']} refused, replay mismatches {len(mismatches)}"
        f"\n  seed {SEED}; {replayed} audit rows replayed; final states {dict(states)}; "
        f"{open_deadlines} deadlines open, none stray; refusals {refusals}"
    )
    eng.close()


def test_open_states_follow_the_clocks_of_the_definitions() -> None:
    """The rule the race test applies to open deadlines, derived from the definitions' clocks: the reply
    clock runs only from assignment until the reply, the re-handling one only while re-handling, and no
    clock of either lifecycle can be open in a final state."""
    eng = Engine("sqlite://")
    rules = open_states(eng.definition("suggestion"))
    assert rules["reply"] == {"assigned", "reassignment_requested", "handling", "extension_requested"}
    assert rules["rehandle_reply"] == {"rehandling"}
    assert rules["feedback"] == {"replied"}
    assert rules["reassignment_window"] == {"assigned", "reassignment_requested", "handling", "extension_requested"}
    review = open_states(eng.definition("review_opinion"))
    assert review["rectification_plan"] == {"assigned"}
    for kind in eng.kinds:
        finals = {s for s, spec in eng.definition(kind).states.items() if spec.final}
        assert all(not (finals & states) for states in open_states(eng.definition(kind)).values())
    eng.close()


def test_withdrawing_a_split_item_after_one_part_replied_stops_its_promise_clocks(engine: Engine) -> None:
    """The witness of the rule above that the random runs found: an item split between two units, one of
    which has replied with a promise, is withdrawn — no clock, the promise's included, is left running on
    the withdrawn item, so the daemon never chases a unit about it."""
    item = engine.submit("suggestion", title="关于增设公交站的建议", origin="session", proposers=["王芳"])
    engine.fire(item.id, "register")
    engine.fire(item.id, "assign", split_units=UNITS[:2])
    for name in UNITS[:2]:
        engine.fire(item.id, "accept", actor=Actor("unit", name))
    promise = {"what": "增设站点", "by": "2026-12-31"}
    replied = engine.fire(
        item.id,
        "reply",
        actor=Actor("unit", UNITS[0]),
        category="B",
        text="正在办理",
        signer="局长",
        promises=[promise],
    )
    assert replied.state == "handling" and sorted(d["clock"] for d in engine.deadlines(item=item.id)) == [
        "promise",
        "reply",
    ]
    assert engine.fire(item.id, "withdraw", reason="代表撤回").state == "withdrawn"
    assert engine.deadlines(item=item.id) == [] and stray_deadlines(engine) == []
