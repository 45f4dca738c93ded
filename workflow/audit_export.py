"""``duban audit export``: one item's full, verified history as a supervisor prints and signs it.

The export is evidence in an accountability process (追责问效), so it shows what the database holds
and whether that still is what was written: the item, every audit row in order (time in
Asia/Shanghai, who acted, the transition's Chinese label, from → to, the data, the row's hash and the
previous one), the notices sent about the item, the chain's verification (the same check as
``duban audit verify``) and lines to sign by hand.

Item text comes from deputies and the public. In the text and HTML forms, invisible and control
characters (terminal escapes, bidirectional overrides, zero-width characters) are shown as visible
marks, and every line of a multi-line value is indented under its field, so that no value can pass
itself off as another row, a verification line or a signature. HTML is escaped by markupsafe. The JSON
form keeps every value exactly, so the chain can be recomputed from it alone (see
:func:`workflow.audit.chain_hash`).
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from markupsafe import Markup, escape

from workflow import store
from workflow.audit import rows_break, verify_chain
from workflow.calendar import SHANGHAI
from workflow.errors import NotFound, ValidationError
from workflow.model import plain
from workflow.wording import cn_period
from workflow.wording import plain as chinese

if TYPE_CHECKING:
    from workflow.definition import Definition
    from workflow.engine import Engine

__all__ = ["FORMATS", "SCHEMA", "collect", "export", "render"]

SCHEMA = "duban.audit-export/1"
FORMATS = ("text", "html", "json")
_ITEM, _AUDIT = store.TABLES["duban_item"], store.TABLES["duban_audit"]
_DEFINITION, _NOTICE = store.TABLES["duban_definition"], store.TABLES["duban_notice"]
_ASSIGNMENT = store.TABLES["duban_assignment"]

ACTOR_LABELS = {
    "office": "办公室",
    "leader": "常委会领导",
    "committee": "专门委员会",
    "system": "系统(自动)",
    "unit": "承办单位",
    "deputy": "代表",
}
#: Triggers the engine records itself, not transitions of a definition.
ENGINE_TRIGGERS = {"submit": "提交", "escalate": "逾期督办升级"}
UNIT_ROLES = {"lead": "主办", "co": "协办", "split": "分办"}
RECIPIENT_ROLES = {
    "handler": "承办人员",
    "department_head": "部门负责人",
    "principal_leader": "主要领导",
    "case_leader": "包案领导",
    "supervising_leader": "督办领导",
    "office": "办公室",
    "deputy": "代表",
}
NOTICE_STATUS = {
    "held": "待补地址",
    "queued": "待发送",
    "sending": "发送中",
    "sent": "已发送",
    "failed": "发送失败",
    "dead": "已放弃",
}
#: Names for fields whose definition label is missing or lists choices instead of naming the field.
FIELD_NAMES = {
    "category": "答复类别",
    "result": "测评结果",
    "attitude": "办理态度",
    "outcome": "落实情况",
    "stage": "联系阶段",
    "method": "联系方式",
    "reason": "理由",
    "note": "说明",
    "notes": "审议意见",
    "comment": "意见",
    "opinion": "协办意见",
    "origin": "提出时间",
    "basis": "依据",
    "status": "状态",
    "promise": "承诺事项序号",
    "problem": "问题序号",
    "deemed": "视为满意",
    "was": "更正前",  # the values a correction (correct_*) replaced
}
#: Names for the fields of records (承诺事项, 问题清单, 整改清单) whose definition gives no label.
SUBFIELD_NAMES = {
    "what": "承诺内容",
    "by": "承诺期限",
    "title": "问题",
    "problem": "问题序号",
    "measure": "整改措施",
    "owner": "责任单位或责任人",
    "due": "整改时限",
}
#: Database backends as their makers write them.
BACKENDS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
SIGN = "________________"
_RULE = "-" * 72


def export(engine: Engine, item_id: int, fmt: str = "text") -> str:
    """Item *item_id*'s audit export as ``text``, ``html`` or ``json``; NotFound if there is no such item."""
    if fmt not in FORMATS:
        raise ValidationError("format", f"must be one of {', '.join(FORMATS)}; got {fmt!r}")
    return render(collect(engine, item_id), fmt)


def render(data: Mapping[str, Any], fmt: str) -> str:
    """Render the data :func:`collect` returns."""
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if fmt == "html":
        return _html(data)
    if fmt == "text":
        return _text(data)
    raise ValidationError("format", f"must be one of {', '.join(FORMATS)}; got {fmt!r}")


# ---- the data -----------------------------------------------------------------------------------


def collect(engine: Engine, item_id: int) -> dict[str, Any]:
    """Everything the export shows, JSON-ready (schema ``duban.audit-export/1``), read in one transaction."""
    with store.reading(engine.db) as conn:
        item = conn.execute(sa.select(_ITEM).where(_ITEM.c.id == item_id)).mappings().first()
        if item is None:
            raise NotFound(f"no item {item_id}")
        version = conn.execute(sa.select(_DEFINITION).where(_DEFINITION.c.id == item["definition_id"])).mappings().one()
        # The version the item was fired under, compiled by the engine (and cached there): its labels.
        defn = engine._version(item["definition_id"], conn)[0]
        units = conn.execute(
            sa.select(_ASSIGNMENT).where(_ASSIGNMENT.c.item_id == item_id).order_by(_ASSIGNMENT.c.id)
        ).mappings()
        unit_rows = [
            {
                "unit": u["unit"],
                "role": u["role"],
                "role_label": UNIT_ROLES.get(u["role"], u["role"]),
                "active": u["active"],
            }
            for u in units
        ]
        rows, unreadable = _read_rows(conn, item_id)
        notices = conn.execute(sa.select(_NOTICE).where(_NOTICE.c.item_id == item_id).order_by(_NOTICE.c.id))
        notice_rows = [_notice(engine, n) for n in notices.mappings()]
        revision = conn.execute(sa.text(f"SELECT version_num FROM {store.VERSION_TABLE}")).scalar()

    def replay() -> Iterator[Mapping[str, Any]]:
        yield from rows
        if unreadable is not None:  # the same break the verify command reports for this row
            raise unreadable

    broken = verify_chain(item_id, item["audit_seq"], item["audit_head"], replay(), state=item["state"])
    if broken is None:  # and, as ``duban audit verify``, the rows the figures are read from
        with store.reading(engine.db) as conn:
            broken = rows_break(conn, item_id, rows)
    from workflow import __version__

    data = dict(item["data"]) if isinstance(item["data"], Mapping) else {}
    return {
        "schema": SCHEMA,
        "exported_at": engine.clock().astimezone(SHANGHAI).isoformat(timespec="seconds"),
        "item": {
            "id": item_id,
            "kind": item["kind"],
            "kind_label": chinese(defn.label),
            "title": item["title"],
            "state": item["state"],
            "state_label": chinese(defn.state_label(item["state"])),
            "round": item["round"],
            "key_supervised": bool(item["key_supervised"]),
            "year": item["year"],
            "number": data.get("number"),
            "proposers": data.get("proposers") or [],
            "lead_deputy": data.get("lead_deputy"),
            "units": unit_rows,
            "created_at": plain(item["created_at"]),
            "updated_at": plain(item["updated_at"]),
        },
        "definition": {"kind": version["kind"], "number": version["number"], "digest": version["digest"]},
        "database": {"backend": engine.db.dialect.name, "schema_revision": revision, "duban": __version__},
        "rows": [_row(r, defn) for r in rows],
        "unreadable_from": None if unreadable is None else len(rows) + 1,
        "notices": notice_rows,
        "verification": {
            "intact": broken is None,
            "seq": None if broken is None else broken.seq,
            "problem": None if broken is None else broken.problem,
            "message": "审计链校验：完整" if broken is None else f"审计链校验：断裂，自第 {broken.seq} 条记录起",
            "detail": None if broken is None else str(broken),
            "rows": len(rows),
            "head_seq": item["audit_seq"],
            "head_hash": item["audit_head"],
        },
    }


def _read_rows(conn: sa.Connection, item_id: int) -> tuple[list[dict[str, Any]], Exception | None]:
    """The item's audit rows in seq order, up to the first one that no longer loads (and its error)."""
    result = iter(conn.execute(sa.select(_AUDIT).where(_AUDIT.c.item_id == item_id).order_by(_AUDIT.c.seq)))
    rows: list[dict[str, Any]] = []
    while True:
        try:
            row = next(result, None)
        except (ValueError, TypeError, OverflowError) as exc:
            return rows, exc
        if row is None:
            return rows, None
        rows.append(dict(row._mapping))


def _row(r: Mapping[str, Any], defn: Definition) -> dict[str, Any]:
    actor = f"{r['actor_role']}:{r['actor_party']}" if r["actor_party"] else r["actor_role"]
    at = r["at"]
    spec = defn.transition(r["source"], r["trigger"]) if r["source"] else None
    fields = {f.name: f for f in (spec.fields if spec else defn.submit.fields if r["trigger"] == "submit" else ())}
    data = r["data"] if isinstance(r["data"], Mapping) else {}
    return {
        "seq": r["seq"],
        # Exactly the instant the hash covers (UTC), and as a clerk reads it.
        "at": at.astimezone(dt.UTC).isoformat() if isinstance(at, dt.datetime) else str(at),
        "at_local": at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if isinstance(at, dt.datetime) else str(at),
        "actor": actor,
        "actor_label": " ".join(filter(None, [ACTOR_LABELS.get(r["actor_role"], r["actor_role"]), r["actor_party"]])),
        "trigger": r["trigger"],
        "trigger_label": _trigger_label(spec, r["trigger"]),
        "source": r["source"],
        "source_label": chinese(defn.state_label(r["source"])) if r["source"] else "—",
        "dest": r["dest"],
        "dest_label": chinese(defn.state_label(r["dest"])),
        "data": r["data"],
        "fields": [
            _was(value, fields) if name == "was" else _field(name, value, fields.get(name))
            for name, value in data.items()
        ],
        "effects": r.get("effects") or {},  # the rows the event wrote, hashed with it (workflow.audit_rows)
        "hash": r["hash"],
        "prev_hash": r["prev_hash"],
    }


def _trigger_label(spec: Any, trigger: str) -> str:
    return chinese(spec.label) if spec and spec.label else ENGINE_TRIGGERS.get(trigger, trigger)


def _field(name: str, value: Any, spec: Any) -> dict[str, str]:
    """A data field as a reader sees it: its Chinese name and its value, a choice by its Chinese label
    (the grades keep their letter: ``B（正在解决或列入规划）``), a period in Chinese (``1个月``)."""
    label = getattr(spec, "label", "") or ""
    choices = getattr(spec, "choices", ()) or ()
    parts = [p.strip() for p in label.split(" / ")]
    if choices:
        if len(parts) == len(choices):  # "满意 / 基本满意 / 不满意" labels each choice, not the field
            label = ""
        text = dict(spec.labelled()).get(value, "") if hasattr(spec, "labelled") else ""
        if text:  # a grade keeps its letter, as the field's label writes it: "B 正在解决或列入规划"
            value = f"{value}（{text}）" if f"{value} {text}" in parts else chinese(text)
    elif getattr(spec, "type", "") == "period":
        value = cn_period(value)
    label = chinese(label) or FIELD_NAMES.get(name, "")
    subfields = {f.name: f for f in getattr(spec, "fields", ()) or ()}
    return {"name": name, "label": label or name, "value": _value(value, subfields)}


def _was(value: Any, fields: Mapping[str, Any]) -> dict[str, str]:
    """The values a correction replaced (``was``), each named as the field the correction sets."""
    if not isinstance(value, Mapping):
        return _field("was", value, None)
    shown = (_field(str(k), v, fields.get(k)) for k, v in value.items())
    return {
        "name": "was",
        "label": FIELD_NAMES["was"],
        "value": "；".join(f"{f['label']}：{f['value']}" for f in shown),
    }


def _value(value: Any, subfields: Mapping[str, Any] | None = None) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "、".join(value)
    if isinstance(value, list) and all(isinstance(v, Mapping) for v in value):
        return "\n".join(
            f"{n}. " + "；".join(f"{_subfield(k, (subfields or {}).get(k))}：{_value(v)}" for k, v in r.items())
            for n, r in enumerate(value, 1)
        )
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _subfield(name: str, spec: Any) -> str:
    """A record's field by its Chinese name (承诺内容, 承诺期限, 问题, …), else as it is stored."""
    return chinese(getattr(spec, "label", "") or "") or SUBFIELD_NAMES.get(name) or FIELD_NAMES.get(name) or name


def _notice(engine: Engine, n: Mapping[Any, Any]) -> dict[str, Any]:
    kind = engine.notices.types.get(n["type"])
    cause = str(n["cause"] or "")
    seq = cause.split(":")[2] if cause.startswith("audit:") and cause.count(":") >= 2 else None
    return {
        "id": n["id"],
        "type": n["type"],
        "type_label": kind.name if kind else n["type"],
        "recipient": n["recipient"],
        "unit": n.get("unit"),
        "role": n["role"],
        "role_label": RECIPIENT_ROLES.get(n["role"], n["role"]),
        "channel": n["channel"],
        "status": n["status"],
        "status_label": NOTICE_STATUS.get(n["status"], n["status"]),
        "attempts": n["attempts"],
        "queued_at": _local(n["queued_at"]),
        "sent_at": _local(n["sent_at"]),
        "cause": cause,
        "audit_seq": int(seq) if seq and seq.isdigit() else None,
    }


def _to(n: Mapping[str, Any]) -> str:
    return " ".join(filter(None, [n["unit"], n["recipient"]]))


def _local(at: dt.datetime | None) -> str | None:
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if at else None


# ---- showing hostile text safely ----------------------------------------------------------------


def visible(text: str) -> str:
    """*text* with control, bidirectional and invisible characters shown as marks (␛, ⟨U+202E⟩); tabs
    and line breaks are kept. A printed record must show what is there, not what a terminal or a
    bidi override makes of it."""
    out = []
    for ch in text:
        if ch in "\n\t":
            out.append(ch)
        elif ord(ch) < 0x20:
            out.append(chr(0x2400 + ord(ch)))  # the Control Pictures block: ␀ ␇ ␛ ␍
        elif ord(ch) == 0x7F:
            out.append("␡")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):  # C1, bidi, zero-width, tags, U+2028
            out.append(f"⟨U+{ord(ch):04X}⟩")
        else:
            out.append(ch)
    return "".join(out)


# ---- text ---------------------------------------------------------------------------------------


def _header_lines(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    item, definition, db = data["item"], data["definition"], data["database"]
    units = "、".join(f"{u['unit']}（{u['role_label']}{'' if u['active'] else '，已撤销'}）" for u in item["units"])
    return [
        ("事项编号", f"#{item['id']}" + (f"（建议编号 {item['number']}）" if item["number"] else "")),
        ("标题", item["title"]),
        ("类别", item["kind_label"]),
        (
            "当前状态",
            f"{item['state_label']}，第 {item['round'] + 1} 轮办理" + ("，重点督办" if item["key_supervised"] else ""),
        ),
        ("提出代表", "、".join(item["proposers"]) or "—"),
        ("领衔代表", item["lead_deputy"] or "—"),
        ("承办单位", units or "—"),
        ("导出时间", data["exported_at"][:19].replace("T", " ") + "（北京时间）"),
        ("流程定义", f"{item['kind_label']} 第 {definition['number']} 版（定义摘要 {definition['digest']}）"),
        (
            "数据库",
            f"{BACKENDS.get(db['backend'], db['backend'])}，结构版本 {db['schema_revision']}，"
            f"督办系统 {db['duban']} 版",
        ),
    ]


def _text(data: Mapping[str, Any]) -> str:
    out = ["督办事项审计记录", "=" * 72]
    out += [f"{label}：{visible(value).replace(chr(10), ' ')}" for label, value in _header_lines(data)]
    out += ["", f"办理记录：{len(data['rows'])} 条", _RULE]
    for r in data["rows"]:
        out.append(f"[{r['seq']}] {r['at_local']}  {visible(r['actor_label'])}")
        out.append(f"    {r['trigger_label']}：{r['source_label']} → {r['dest_label']}")
        for f in r["fields"]:
            first, *more = visible(f["value"]).split("\n")
            out.append(f"    {f['label']}：{first}")
            # Further lines of a value are marked as its own, so none can pass for a row or a signature.
            out += [f"      ┆ {line}" for line in more]
        out += [f"    哈希：{r['hash']}", f"    前一哈希：{r['prev_hash']}", ""]
    if data["unreadable_from"] is not None:
        out += [f"[{data['unreadable_from']}] 此后的记录无法读取", ""]
    out += [f"通知记录：{len(data['notices'])} 条", _RULE]
    for n in data["notices"]:
        cause = f"，因第 {n['audit_seq']} 条记录" if n["audit_seq"] else ""
        out.append(
            f"  {n['queued_at']}  {n['type_label']} → {visible(_to(n))}（{n['role_label']}）"
            f"  {n['status_label']}，发送于 {n['sent_at'] or '—'}{cause}"
        )
    v = data["verification"]
    out += [
        "",
        _RULE,
        visible(v["message"]).replace("\n", " "),
        *([f"  技术说明：{visible(v['detail'])}"] if v.get("detail") else []),
        f"  记录数：{v['rows']}；事项记录的链首：第 {v['head_seq']} 条",
        f"  链首哈希：{v['head_hash']}",
        _RULE,
        "",
        "签字",
        f"  经办人签字：{SIGN}    日期：{SIGN}",
        f"  审核人签字：{SIGN}    日期：{SIGN}",
        "",
    ]
    return "\n".join(out)


# ---- HTML ---------------------------------------------------------------------------------------

_CSS = """
@page { size: A4; margin: 16mm 14mm 18mm; }
body { font-family: "Noto Serif CJK SC", "Source Han Serif SC", SimSun, "Songti SC", serif; font-size: 10.5pt;
       color: #000; margin: 0; line-height: 1.5; }
h1 { font-size: 16pt; text-align: center; margin: 0 0 10pt; }
h2 { font-size: 12pt; margin: 14pt 0 6pt; border-bottom: 1px solid #000; }
table { width: 100%; border-collapse: collapse; }
th, td { border: 1px solid #555; padding: 3pt 5pt; vertical-align: top; text-align: left; }
th { background: #eee; font-weight: bold; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; break-inside: avoid; }
.head th { width: 9em; }
.value { white-space: pre-wrap; overflow-wrap: anywhere; }
.hash { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 7.5pt; word-break: break-all; }
.ok { font-weight: bold; }
.bad { font-weight: bold; color: #b00; }
.sign td { border: none; padding: 14pt 5pt 4pt; }
dl { margin: 0; } dt { font-weight: bold; } dd { margin: 0 0 2pt 1em; }
"""


def _h(value: Any) -> Markup:
    """Escaped, with invisible characters made visible."""
    return escape(visible(str(value)))


def _html(data: Mapping[str, Any]) -> str:
    item, v = data["item"], data["verification"]
    head = Markup("").join(
        Markup("<tr><th>{}</th><td class=value>{}</td></tr>").format(k, _h(x)) for k, x in _header_lines(data)
    )
    rows = []
    for r in data["rows"]:
        fields = Markup("").join(
            Markup("<dt>{}</dt><dd class=value>{}</dd>").format(_h(f["label"]), _h(f["value"])) for f in r["fields"]
        )
        rows.append(
            Markup(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} → {}</td><td><dl>{}</dl></td>"
                "<td class=hash>{}<br>前：{}</td></tr>"
            ).format(
                _h(r["seq"]),
                _h(r["at_local"]),
                _h(r["actor_label"]),
                _h(r["trigger_label"]),
                _h(r["source_label"]),
                _h(r["dest_label"]),
                fields,
                _h(r["hash"]),
                _h(r["prev_hash"]),
            )
        )
    if data["unreadable_from"] is not None:
        rows.append(
            Markup("<tr><td>{}</td><td colspan=6 class=bad>此后的记录无法读取</td></tr>").format(
                data["unreadable_from"]
            )
        )
    notices = [
        Markup("<tr><td>{}</td><td>{}</td><td>{}（{}）</td><td>{}</td><td>{}</td><td>{}</td></tr>").format(
            _h(n["queued_at"]),
            _h(n["type_label"]),
            _h(_to(n)),
            _h(n["role_label"]),
            _h(n["status_label"]),
            _h(n["sent_at"] or "—"),
            _h(n["audit_seq"] or "—"),
        )
        for n in data["notices"]
    ]
    page = Markup(
        "<!DOCTYPE html>\n<html lang=zh-CN>\n<head>\n<meta charset=utf-8>\n<title>审计记录 #{id} {title}</title>\n"
        "<style>{css}</style>\n</head>\n<body>\n<h1>督办事项审计记录</h1>\n"
        "<table class=head>{head}</table>\n"
        "<h2>办理记录：{count} 条</h2>\n<table><thead><tr><th>序号</th><th>时间</th><th>操作人</th>"
        "<th>操作</th><th>状态</th><th>数据</th><th>哈希 / 前一哈希</th></tr></thead>\n<tbody>{rows}</tbody></table>\n"
        "<h2>通知记录：{ncount} 条</h2>\n<table><thead><tr><th>生成时间</th><th>通知</th><th>收件人</th>"
        "<th>状态</th><th>发送时间</th><th>记录序号</th></tr></thead>\n<tbody>{notices}</tbody></table>\n"
        "<h2>审计链校验</h2>\n<p class={cls}>{message}</p>\n"
        "<p>记录数：{nrows}；事项记录的链首：第 {head_seq} 条</p>\n"
        "<p>链首哈希：<span class=hash>{head_hash}</span></p>\n"
        "<h2>签字</h2>\n<table class=sign><tr><td>经办人签字：{sign}</td><td>日期：{sign}</td></tr>"
        "<tr><td>审核人签字：{sign}</td><td>日期：{sign}</td></tr></table>\n</body>\n</html>\n"
    )
    return str(
        page.format(
            id=item["id"],
            title=_h(item["title"]),
            css=Markup(_CSS),
            head=head,
            count=len(data["rows"]),
            rows=Markup("\n").join(rows),
            ncount=len(data["notices"]),
            notices=Markup("\n").join(notices),
            cls="ok" if v["intact"] else "bad",
            message=_h(v["message"]) + (Markup("<br>技术说明：") + _h(v["detail"]) if v.get("detail") else ""),
            nrows=v["rows"],
            head_seq=_h(v["head_seq"]),
            head_hash=_h(v["head_hash"]),
            sign=SIGN,
        )
    )
