"""An engine whose parties have addresses, for the routing tests (sign, key items, rounds)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import UNITS

from workflow import Engine
from workflow.channels import Settings
from workflow.testing import FakeClock

ROLES = ("handler", "department_head", "principal_leader", "case_leader")


def addressed_engine(url: str, clock: FakeClock, folder: Path, **kw: Any) -> Engine:
    settings = Settings(outbox_dir=str(folder), office_address="office@rd.gov.cn")
    eng = Engine(url, clock=clock, settings=settings, **kw)
    for name in UNITS:
        eng.add_party("unit", name, contacts={r: f"{r}@{name}" for r in ROLES}, case_leader="单位包案领导")
    eng.add_party("deputy", "王芳", contacts={"address": "wangfang@example.cn"})
    for leader in ("刘副主任", "陈主任"):
        eng.add_party("leader", leader, contacts={"address": f"{leader}@rd.gov.cn"})
    return eng


def sent(eng: Engine, item_id: int, template: str) -> list[tuple[str, str]]:
    """(role, address) of the item's notices of *template*, in order."""
    return [(n["role"], n["address"]) for n in eng.outbox(item=item_id) if n["type"] == template]
