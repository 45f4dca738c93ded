"""Recovering notices that could not go: held ones released, failed ones retried, incidents resolved.

A notice is evidence that a unit was told, so a notice that found no address is kept (``held``), not
dropped, and goes as soon as the party has an address: adding the address releases it in the same
transaction. Retrying a failed notice asks the party record again for the address, since the usual
fix for a bad address is to correct the party, not the notice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from workflow.errors import NotFound
from workflow.notify import UNIT_ROLES, channel_of
from workflow.store import TABLES

if TYPE_CHECKING:
    from workflow.channels import Settings

__all__ = ["address_of", "release_held", "requeue", "resolve_incident"]

_NOTICE, _INCIDENT, _PARTY = TABLES["duban_notice"], TABLES["duban_incident"], TABLES["duban_party"]
LEADER_ROLES = ("supervising_leader", "case_leader")


def _party(conn: sa.Connection, role: str, name: str | None) -> Mapping[Any, Any]:
    if not name:
        return {}
    row = conn.execute(sa.select(_PARTY).where(_PARTY.c.role == role, _PARTY.c.name == name)).mappings().first()
    return row or {}


def address_of(conn: sa.Connection, notice: Mapping[Any, Any], settings: Settings) -> str:
    """Where *notice* should go according to the party records as they are now ("" if nowhere):
    the same rules :func:`workflow.notify.resolve` applied when it was queued."""
    role = notice["role"]
    if role in UNIT_ROLES and notice.get("unit"):
        contacts = _party(conn, "unit", notice["unit"]).get("contacts") or {}
        return str(contacts.get(role) or "")
    if role == "deputy":
        return str((_party(conn, "deputy", notice["recipient"]).get("contacts") or {}).get("address") or "")
    if role in LEADER_ROLES:
        contacts = _party(conn, "leader", notice["recipient"]).get("contacts") or {}
        return str(contacts.get("address") or settings.office_address or "")
    return (settings.office_address or "") if role == "office" else ""


def release_held(conn: sa.Connection, party: Mapping[str, Any], settings: Settings, now: dt.datetime) -> int:
    """Queue the held notices that *party* (just added or changed) now has an address for, and
    resolve their incidents; returns how many were released."""
    held = sa.select(_NOTICE).where(_NOTICE.c.status == "held")
    if party["role"] == "unit":
        held = held.where(_NOTICE.c.unit == party["name"], _NOTICE.c.role.in_(UNIT_ROLES))
    elif party["role"] == "deputy":
        held = held.where(_NOTICE.c.role == "deputy", _NOTICE.c.recipient == party["name"])
    else:
        held = held.where(_NOTICE.c.role.in_(LEADER_ROLES), _NOTICE.c.recipient == party["name"])
    released = 0
    for notice in conn.execute(held).mappings().all():
        address = address_of(conn, notice, settings)
        if address:
            _queue_again(conn, notice["id"], address, now, f"地址已补充（{party['name']}），通知已排队发送")
            released += 1
    return released


def requeue(
    db: sa.Engine, notice_id: int, now: dt.datetime, settings: Settings, statuses: tuple[str, ...]
) -> dict[str, Any]:
    """Queue notice *notice_id* (in one of *statuses*) again at the address the party records give
    now, resolving its incidents; with no address it is held until one is added. Returns the
    notice's id, status and address."""
    with db.begin() as conn:
        query = sa.select(_NOTICE).where(_NOTICE.c.id == notice_id, _NOTICE.c.status.in_(statuses))
        notice = conn.execute(query.with_for_update()).mappings().first()
        if notice is None:
            raise NotFound(f"no {' or '.join(statuses)} notice {notice_id}; list them with `duban notices --failed`")
        address = address_of(conn, notice, settings)
        if not address:
            conn.execute(sa.update(_NOTICE).where(_NOTICE.c.id == notice_id).values(status="held", address=""))
            return {"id": notice_id, "status": "held", "address": ""}
        _queue_again(conn, notice_id, address, now, "已重新排队发送")
        return {"id": notice_id, "status": "queued", "address": address}


def _queue_again(conn: sa.Connection, notice_id: int, address: str, now: dt.datetime, note: str) -> None:
    conn.execute(
        sa.update(_NOTICE)
        .where(_NOTICE.c.id == notice_id)
        .values(
            status="queued",
            address=address,
            channel=channel_of(address),
            attempts=0,
            next_attempt_at=now,
            lease_until=None,
            last_error=None,
        )
    )
    conn.execute(
        sa.update(_INCIDENT)
        .where(_INCIDENT.c.notice_id == notice_id, _INCIDENT.c.resolved_at.is_(None))
        .values(resolved_at=now, note=note)
    )


def resolve_incident(db: sa.Engine, incident_id: int, note: str, now: dt.datetime) -> dict[str, Any]:
    """Mark an open incident resolved, with a note saying how; returns the incident."""
    with db.begin() as conn:
        done = conn.execute(
            sa.update(_INCIDENT)
            .where(_INCIDENT.c.id == incident_id, _INCIDENT.c.resolved_at.is_(None))
            .values(resolved_at=now, note=note.strip() or None)
        )
        if done.rowcount != 1:
            raise NotFound(f"no open incident {incident_id}; list them with `duban notices --failed`")
        return dict(conn.execute(sa.select(_INCIDENT).where(_INCIDENT.c.id == incident_id)).mappings().one())
