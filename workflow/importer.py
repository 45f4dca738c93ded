"""Intake from the ledgers offices already keep: a suggestion summary sheet (建议汇总表).

``import_file(engine, "2026建议汇总表.xlsx")`` reads an ``.xlsx`` workbook or a ``.csv`` file whose
header row names the columns (Chinese, or the English field names), checks every row, and submits
one 代表建议 per good row. duban's own XLSX export (sheet 事项) has the same headers, so it imports
back.

**Columns** (see :data:`COLUMNS` for every header accepted): 标题, required; 提出代表, split on
、，,; and line breaks (a sheet with only a 领衔代表 column has the lead propose alone); 领衔代表
(required for a joint item, and among the proposers); 会次; 内容; 建议承办单位; and optionally 编号;
类别 (代表建议 or empty; a 审议意见 row, as in duban's export, is matched with a review opinion
already in the database and never created); 大会期间/闭会期间 (default: 大会期间 when a 会次 is
given, else 闭会期间); 提出日期, which dates the item. Any other column is ignored.

**All or nothing.** Every row is checked before anything is written, and every problem is
reported with the row number Excel shows and the column's header. By default one bad row means
nothing is imported (:class:`~workflow.errors.ImportRejected`); with ``skip_bad=True`` the good
rows are imported and the bad ones written, with an 错误 column, to a CSV file the office can
fix and import again. The new items are written in **one transaction**, however many there are:
a process killed halfway leaves nothing of the import behind, rather than a prefix of it that a
re-run would have to detect (the re-run is safe anyway, see below).

**Idempotent.** A row is *already present*, and skipped, when an existing suggestion has the
same 会次 (session) and the same 编号 (number), or, when the row or the item has no number, the
same 会次, 标题 (title) and 领衔代表 (lead deputy; a sole proposer leads). The number is kept in
the item's data (the definition's optional ``number`` submit field, which 立案 may later set), so
an imported sheet, or duban's export of it, can be imported again without duplicates. An 编号
already used in that 会次 by an item with another title is an error, not a skip: one of the two
is mistyped. Two rows of one file that are the same item by that key are an error too. Imports
take a lock (PostgreSQL advisory lock; SQLite's write lock) while they look for existing items
and write, so two imports of one file at once cannot both add it.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from workflow import store
from workflow.beijing import SHANGHAI, beijing_date
from workflow.errors import ImportRejected, RowProblem, ValidationError, WorkflowError
from workflow.fields import LIST_SEPARATORS, check_data
from workflow.model import Actor
from workflow.names import differs, lookalike
from workflow.registry import Context
from workflow.sheet import MAX_BYTES, MAX_ROWS, Sheet, cell_text, inert, read_sheet

if TYPE_CHECKING:
    from workflow.engine import Engine

__all__ = ["COLUMNS", "ImportResult", "import_file"]

KIND = "suggestion"
OFFICE = Actor("office")
#: Each field the importer reads: the header it is reported under, and every header accepted for it.
COLUMNS: dict[str, tuple[str, ...]] = {
    "number": ("编号", "建议编号", "建议号", "number"),
    "title": ("标题", "建议标题", "题目", "案由", "title"),
    "kind": ("类别", "kind"),
    "proposers": ("提出代表", "提出人", "代表", "代表姓名", "proposers", "proposer"),
    "lead_deputy": ("领衔代表", "领衔人", "lead_deputy", "lead deputy"),
    "session": ("会次", "届次", "session"),
    "origin": ("大会期间/闭会期间", "大会/闭会", "提出时段", "origin"),
    "body": ("内容", "建议内容", "正文", "content", "body"),
    "suggested_units": ("建议承办单位", "suggested_units", "suggested units"),
    "submitted_on": ("提出日期", "提交日期", "submitted_on", "submitted on"),
}
ERROR_COLUMN = "错误"
_ALIASES = {re.sub(r"\s+", "", a).lower(): name for name, aliases in COLUMNS.items() for a in aliases}
_SPLIT = re.compile(f"[{LIST_SEPARATORS}]+")
_KINDS = {"", "suggestion", "代表建议", "建议", "建议、批评和意见", "代表建议、批评和意见"}
_REVIEW = "review_opinion"
_OTHER_KINDS = {"review_opinion", "审议意见"}  # in duban's export beside the suggestions
_ORIGINS = {
    "大会期间": "session",
    "大会": "session",
    "session": "session",
    "闭会期间": "between_sessions",
    "闭会": "between_sessions",
    "between_sessions": "between_sessions",
}
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?")
_HEADER_SEARCH = 10  # a sheet may open with a title row or two (e.g. "2026年代表建议汇总表") above its header
_CHUNK = 400  # values per IN (...): far below SQLite's and PostgreSQL's parameter limits
_LOCK = 0x6475_6261_6E69_6D70  # "dubanimp": one advisory lock serialises imports on PostgreSQL
_ITEM = store.TABLES["duban_item"]

Progress = Callable[[str, int, int], None]  # (stage "check" or "write", done, total)


@dataclass(slots=True)
class ImportResult:
    """What an import did. ``imported`` are the new items' ids; ``skipped`` pairs a row with the item
    it already is; ``bad`` has every error (rows not imported), ``warnings`` the rest."""

    file: str
    sheet: str | None
    rows: int
    imported: list[int] = field(default_factory=list)
    skipped: list[tuple[int, int]] = field(default_factory=list)
    bad: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)
    errors_file: str | None = None

    @property
    def bad_rows(self) -> list[int]:
        return sorted({p.row for p in self.bad if p.row is not None})

    @property
    def summary(self) -> str:
        return f"imported {len(self.imported)}, skipped {len(self.skipped)} (already present), bad {len(self.bad_rows)}"

    def to_dict(self) -> dict[str, Any]:
        def problems(found: list[RowProblem]) -> list[dict[str, Any]]:
            return [{"row": p.row, "column": p.column, "message": p.message} for p in found]

        return {
            "file": self.file,
            "sheet": self.sheet,
            "rows": self.rows,
            "imported": len(self.imported),
            "skipped": len(self.skipped),
            "bad": len(self.bad_rows),
            "items": self.imported,
            "already_present": [{"row": r, "item": i} for r, i in self.skipped],
            "errors": problems(self.bad),
            "warnings": problems(self.warnings),
            "errors_file": self.errors_file,
        }


@dataclass(slots=True)
class _Row:
    number: int  # as Excel shows it
    cells: list[Any]
    values: dict[str, Any]  # the submit fields
    at: dt.datetime | None  # 提出日期, when given
    kind: str = KIND

    @property
    def session(self) -> str:
        return str(self.values.get("session") or "")

    @property
    def ref(self) -> str:
        return str(self.values.get("number") or "")


@dataclass(frozen=True, slots=True)
class _Known:
    """An item already in the database (``item``) or a row of this file imported before it (``row``)."""

    title: str
    session: str
    ref: str
    lead: str
    item: int | None = None
    row: int | None = None

    def describe(self) -> str:
        return f"item {self.item} 「{self.title}」" if self.item is not None else f"row {self.row} 「{self.title}」"


def import_file(
    engine: Engine,
    path: str | Path,
    *,
    skip_bad: bool = False,
    errors_to: str | Path | None = None,
    unknown_deputy: str = "warn",
    at: dt.datetime | None = None,
    actor: Actor = OFFICE,
    progress: Progress | None = None,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
) -> ImportResult:
    """Import the suggestions in a summary sheet; see the module's docstring for the rules.

    :param skip_bad: import the good rows and write the bad ones (their cells and an 错误 column) to
        *errors_to* (default ``<file>.errors.csv`` beside the file); without it any bad row means
        nothing is imported and :class:`~workflow.errors.ImportRejected` lists every problem.
    :param unknown_deputy: ``"warn"`` (default: the row is imported and the proposer named in a
        warning) or ``"error"`` when a proposer or lead deputy is not a registered deputy.
    :param at: when the items were submitted (default: the engine's clock); a row's 提出日期, when
        the sheet has one, dates that row instead.
    :param progress: called with ``(stage, done, total)`` as rows are checked and written.
    :param max_bytes: the largest file read (50 MB), a workbook's unzipped contents included;
        *max_rows*: the last row read (100,000); past either the file is refused, unread.
    """
    if unknown_deputy not in ("warn", "error"):
        raise ValidationError("unknown_deputy", f"must be warn or error, not {unknown_deputy!r}")
    now = engine._instant(at)
    sheet = read_sheet(path, max_bytes=max_bytes, max_rows=max_rows)
    file = sheet.file
    header_row, headers, columns = _header(sheet)
    result = ImportResult(file, sheet.name, sum(1 for n, _ in sheet.rows if n > header_row))
    result.bad += sheet.cell_problems(headers)  # cells too long to read: their rows are bad
    unread = {p.row for p in result.bad}
    checked: list[_Row] = []
    body = [(n, cells) for n, cells in sheet.rows if n > header_row]
    deputies = {p["name"] for p in engine.parties("deputy")}
    with store.reading(engine.db) as conn:  # the definition's submit guards are given a connection
        checker = _Checker(engine, conn, file, headers, columns, deputies)
        for done, (number, cells) in enumerate(body, start=1):
            row, problems = checker.row(number, cells, now, actor)
            bad = number in unread
            for p in problems:
                if p.severity == "error" or (p.severity == "deputy" and unknown_deputy == "error"):
                    result.bad.append(RowProblem(file, p.row, p.column, p.message))
                    bad = True
                elif p.severity == "deputy" and not deputies:
                    continue  # said once below, rather than once for every proposer of every row
                else:
                    result.warnings.append(RowProblem(file, p.row, p.column, p.message, "warning"))
            if row is not None and not bad:
                checked.append(row)
            if progress:
                progress("check", done, len(body))
        if not deputies and unknown_deputy == "warn" and checked:
            roster = "no deputy is registered, so the proposers were not checked (duban party add deputy NAME)"
            result.warnings.insert(0, RowProblem(file, None, None, roster, "warning"))
    if result.bad and not skip_bad:
        with store.reading(engine.db) as conn:  # and the clashes with items already here, to report all at once
            more = _classify(conn, checked, file, checker.header)[2]
        raise ImportRejected(file, _sorted(result.bad + more))

    def keep_bad() -> None:
        # Written before the import commits: if the bad rows cannot be kept, nothing is imported.
        result.bad = _sorted(result.bad)
        if result.bad:
            result.errors_file = _write_errors(sheet, header_row, headers, result.bad, errors_to)

    _write(engine, checked, result, now, actor, skip_bad, progress, checker.header, keep_bad)
    return result


def _header(sheet: Sheet) -> tuple[int, list[str], dict[str, int]]:
    """The header row (the first of the first rows naming known columns) and where each field is."""
    file = sheet.file
    for number, cells in sheet.rows[:_HEADER_SEARCH]:
        headers = [cell_text(c) for c in cells]
        found = [(_ALIASES.get(_normal(h)), i) for i, h in enumerate(headers)]
        known = [(name, i) for name, i in found if name]
        if not any(name == "title" for name, _ in known) and len(known) < 2:
            continue
        columns: dict[str, int] = {}
        problems = []
        for name, i in known:
            if name in columns:
                problems.append(
                    RowProblem(
                        file, number, headers[i], f"this column repeats {headers[columns[name]]!r}: both give {name}"
                    )
                )
            else:
                columns[name] = i
        listed = "、".join(h for h in headers if h) or "none"
        for name in ("title", "proposers"):
            if name not in columns and not (name == "proposers" and "lead_deputy" in columns):
                accepted = "/".join(COLUMNS[name])
                problems.append(
                    RowProblem(
                        file, number, COLUMNS[name][0], f"missing required column ({accepted}); columns found: {listed}"
                    )
                )
        if problems:
            raise ImportRejected(file, problems)
        return number, headers, columns
    first = "、".join(cell_text(c) for c in sheet.rows[0][1] if cell_text(c)) if sheet.rows else ""
    raise ImportRejected(
        file,
        [
            RowProblem(
                file,
                None,
                None,
                f"not a suggestion summary sheet: none of its first {_HEADER_SEARCH} rows is a header row naming "
                f"{'/'.join(COLUMNS['title'])}" + (f"; row {sheet.rows[0][0]} has: {first[:200]}" if first else ""),
            )
        ],
    )


def _normal(header: str) -> str:
    """Headers as offices write them: ``标题*``, ``标 题``, ``标题（必填）``, ``大会期间／闭会期间``."""
    text = re.sub(r"\s+", "", header).replace("／", "/").replace("＊", "*").strip("*:：").lower()
    return re.sub(r"[（(][^）)]*[）)]$", "", text)


class _Checker:
    """Checks rows of one sheet: its columns, the definition's submit rules, the registered deputies."""

    def __init__(
        self,
        engine: Engine,
        conn: sa.Connection,
        file: str,
        headers: list[str],
        columns: dict[str, int],
        deputies: set[str],
    ) -> None:
        self.engine, self.conn, self.file, self.headers, self.columns = engine, conn, file, headers, columns
        self.defn, _machine, self.params = engine._version(engine._current_id(KIND), conn)
        self.deputies = deputies
        self.kinds = _KINDS | {_normal(self.defn.label)}

    def header(self, name: str) -> str:
        """The column's header as the file writes it (or the usual one, when the file lacks it)."""
        return self.headers[self.columns[name]] if name in self.columns else COLUMNS[name][0]

    def row(
        self, number: int, cells: list[Any], now: dt.datetime, actor: Actor
    ) -> tuple[_Row | None, list[RowProblem]]:
        """One row's submit fields, or its problems. Severity ``deputy`` marks an unregistered deputy,
        an error or a warning as the caller's ``unknown_deputy`` setting says."""
        problems: list[RowProblem] = []

        def cell(name: str) -> Any:
            i = self.columns.get(name)
            return cells[i] if i is not None and i < len(cells) else None

        def text(name: str) -> str:
            return cell_text(cell(name))

        def problem(name: str, message: str, severity: str = "error") -> None:
            problems.append(RowProblem(self.file, number, self.header(name), message, severity))

        kind = _normal(text("kind"))
        if kind in _OTHER_KINDS:
            # Not importable, but it may be the export's copy of one already here: the write decides.
            if not text("title"):
                problem("title", "the title is empty")
            return _Row(number, cells, {"title": text("title")}, None, _REVIEW), problems
        if kind not in self.kinds:
            problem("kind", f"unknown kind {text('kind')!r}; write 代表建议 or leave it empty")
        values: dict[str, Any] = {"title": text("title"), "proposers": _names(text("proposers"))}
        if not values["title"]:
            problem("title", "the title is empty")
        for name in ("lead_deputy", "session", "number", "body"):
            if text(name):
                values[name] = text(name)
        if not values["proposers"] and "proposers" not in self.columns and values.get("lead_deputy"):
            values["proposers"] = [values["lead_deputy"]]  # only a 领衔代表 column: the lead proposes alone
        if units := _names(text("suggested_units")):
            values["suggested_units"] = units
        origin = _normal(text("origin"))
        if origin in _ORIGINS:
            values["origin"] = _ORIGINS[origin]
        elif origin:
            problem("origin", f"{text('origin')!r} is neither 大会期间 nor 闭会期间")
        else:  # 大会期间 suggestions are numbered within their session (会次); without one, between sessions
            values["origin"] = "session" if values.get("session") else "between_sessions"
        at = None
        if text("submitted_on"):
            day = _date(cell("submitted_on"))
            if day is None:
                problem("submitted_on", f"{text('submitted_on')!r} is not a date; write it as 2026-03-20")
            else:
                at = dt.datetime.combine(day, dt.time(), SHANGHAI).astimezone(dt.UTC)
                if at > now:
                    problem("submitted_on", f"{day.isoformat()} is after the import's date ({_day(now)})")
        if problems:
            return None, problems
        try:
            checked = self.check(values, at or now, actor)
        except WorkflowError as exc:
            path = str(getattr(exc, "field", "") or "")
            name = re.split(r"[.\[]", path, maxsplit=1)[0]
            message = str(getattr(exc, "message", "") or exc)
            where = self.header(name) if name in COLUMNS else (path or None)
            return None, [RowProblem(self.file, number, where, message)]
        column = "proposers" if "proposers" in self.columns else "lead_deputy"
        for person in checked["proposers"]:
            if person not in self.deputies:
                if (alike := lookalike(person, sorted(self.deputies))) is not None:
                    hint = f" (it only looks like the registered {alike!r}{differs(person, alike)})"
                else:
                    close = difflib.get_close_matches(person, self.deputies, n=1, cutoff=0.5)  # 王方 ~ 王芳 is 0.5
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                why = f"{person!r} is not a registered deputy{hint}; register: duban party add deputy {person}"
                problem(column, why, "deputy")
        return _Row(number, cells, checked, at), problems

    def check(self, values: dict[str, Any], at: dt.datetime, actor: Actor) -> dict[str, Any]:
        """The definition's own checks, as :meth:`Engine.submit` will run them: fields, role, guards."""
        defn = self.defn
        checked = check_data(defn.submit.fields, values)
        item = {"id": None, "kind": KIND, "round": 0, "data": checked, "key_supervised": False}
        ctx = Context(defn.initial, item, checked, actor, at, self.conn, defn, self.params, "submit")
        ctx.authorize(defn.submit.roles)
        for name in defn.submit.guards:
            self.engine.registry.guards[name](ctx)
        return checked


def _names(text: str) -> list[str]:
    return [n.strip() for n in _SPLIT.split(text) if n.strip()]


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None  # a bare number is not taken for a date: Excel's serial days are a guess too far
    match = _DATE.fullmatch(value.strip())
    if not match:
        return None
    try:
        return dt.date(*map(int, match.groups()))
    except ValueError:
        return None


def _day(at: dt.datetime) -> str:
    return beijing_date(at).isoformat()


def _lead(values: Mapping[str, Any]) -> str:
    proposers = values.get("proposers") or []
    return str(values.get("lead_deputy") or (proposers[0] if len(proposers) == 1 else ""))


class _Index:
    """Existing items and this file's earlier rows by the import key (see the module docstring)."""

    def __init__(self) -> None:
        self.by_ref: dict[tuple[str, str], _Known] = {}
        self.by_title: dict[tuple[str, str, str], list[_Known]] = {}

    def add(self, known: _Known) -> None:
        if known.ref:
            self.by_ref.setdefault((known.session, known.ref), known)
        self.by_title.setdefault((known.session, known.title, known.lead), []).append(known)

    def match(self, row: _Row) -> tuple[_Known | None, str | None]:
        """The item (or earlier row) this row already is, or why it clashes with one."""
        title = row.values["title"]
        if row.ref and (hit := self.by_ref.get((row.session, row.ref))):
            if hit.title == title:
                return hit, None
            return None, f"编号 {row.ref} of 会次 {row.session or '(none)'} is already {hit.describe()}"
        for hit in self.by_title.get((row.session, title, _lead(row.values)), []):
            if not (row.ref and hit.ref and hit.ref != row.ref):  # numbered differently: another item
                return hit, None
        return None, None


def _existing(conn: sa.Connection, rows: list[_Row]) -> _Index:
    """The suggestions that might be rows of this file: same title, or same number."""
    index = _Index()
    if not rows:
        return index
    number = _ITEM.c.data["number"].as_string()
    titles = sorted({r.values["title"] for r in rows})
    refs = sorted({r.ref for r in rows if r.ref})
    seen: set[int] = set()
    query = sa.select(_ITEM.c.id, _ITEM.c.title, _ITEM.c.data).where(_ITEM.c.kind == KIND).order_by(_ITEM.c.id)
    for column, values in ((_ITEM.c.title, titles), (number, refs)):
        for start in range(0, len(values), _CHUNK):
            for found in conn.execute(query.where(column.in_(values[start : start + _CHUNK]))):
                if found.id in seen:
                    continue
                seen.add(found.id)
                data = found.data or {}
                index.add(
                    _Known(
                        found.title,
                        str(data.get("session") or ""),
                        str(data.get("number") or ""),
                        _lead(data),
                        found.id,
                    )
                )
    return index


def _review_opinions(conn: sa.Connection, titles: list[str]) -> dict[str, int]:
    """Review opinions by title: duban's export lists them beside the suggestions."""
    found: dict[str, int] = {}
    query = sa.select(_ITEM.c.id, _ITEM.c.title).where(_ITEM.c.kind == _REVIEW).order_by(_ITEM.c.id.desc())
    for start in range(0, len(titles), _CHUNK):
        found |= {r.title: r.id for r in conn.execute(query.where(_ITEM.c.title.in_(titles[start : start + _CHUNK])))}
    return found


def _classify(
    conn: sa.Connection, rows: list[_Row], file: str, header: Callable[[str], str]
) -> tuple[list[_Row], list[tuple[int, int]], list[RowProblem]]:
    """Split checked rows into new ones, ones already present (with their item) and clashes."""
    index = _existing(conn, [r for r in rows if r.kind == KIND])
    reviews = _review_opinions(conn, sorted({r.values["title"] for r in rows if r.kind == _REVIEW}))
    new: list[_Row] = []
    present: list[tuple[int, int]] = []
    bad: list[RowProblem] = []
    for row in rows:
        if row.kind == _REVIEW:
            if row.values["title"] in reviews:
                present.append((row.number, reviews[row.values["title"]]))
            else:
                why = "审议意见 cannot be imported, only 代表建议 (submit it: duban submit review_opinion)"
                bad.append(RowProblem(file, row.number, header("kind"), why))
            continue
        hit, clash = index.match(row)
        if clash:  # only a number can clash
            bad.append(RowProblem(file, row.number, header("number"), clash))
        elif hit is not None and hit.item is not None:
            present.append((row.number, hit.item))
        elif hit is not None:
            by_ref = bool(row.ref) and hit.ref == row.ref
            what = "会次 and 编号" if by_ref else "会次, 标题 and 领衔代表"
            column = header("number" if by_ref else "title")
            bad.append(RowProblem(file, row.number, column, f"repeats row {hit.row} (same {what})"))
        else:
            new.append(row)
            index.add(_Known(row.values["title"], row.session, row.ref, _lead(row.values), row=row.number))
    return new, present, bad


def _write(
    engine: Engine,
    rows: list[_Row],
    result: ImportResult,
    now: dt.datetime,
    actor: Actor,
    skip_bad: bool,
    progress: Progress | None,
    header: Callable[[str], str],
    before_commit: Callable[[], None],
) -> None:
    """Submit every new row in one transaction, under the import lock; skip rows already present."""
    with engine.db.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
        # Classified again under the lock: another import may have committed since the rows were checked.
        new, result.skipped, bad = _classify(conn, rows, result.file, header)
        result.bad += bad
        if bad and not skip_bad:
            raise ImportRejected(result.file, _sorted(result.bad))
        for done, row in enumerate(new, start=1):
            result.imported.append(engine._submit_in(conn, KIND, actor, row.at or now, row.values).id)
            if progress:
                progress("write", done, len(new))
        before_commit()


def _sorted(problems: list[RowProblem]) -> list[RowProblem]:
    return sorted(problems, key=lambda p: (p.row or 0, p.column or ""))


def _write_errors(
    sheet: Sheet, header_row: int, headers: list[str], problems: Iterable[RowProblem], errors_to: str | Path | None
) -> str:
    """The bad rows, their cells as read and an 错误 column, as CSV Excel opens (UTF-8 with a BOM)."""
    why: dict[int, list[str]] = {}
    for p in problems:
        if p.row is not None:
            why.setdefault(p.row, []).append(f"{p.column}: {p.message}" if p.column else p.message)
    source = Path(sheet.file)
    target = Path(errors_to) if errors_to else source.with_name(f"{source.stem}.errors.csv")
    width = max([len(headers)] + [len(c) for n, c in sheet.rows if n in why])
    names = [*headers, *[""] * (width - len(headers))]
    slot = names.index(ERROR_COLUMN) if ERROR_COLUMN in names else None  # a fixed errors file, imported again
    if slot is None:
        names.append(ERROR_COLUMN)
    with target.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([inert(n) for n in names])
        for number, cells in sheet.rows:
            if number <= header_row or number not in why:
                continue
            row = [inert(cell_text(c)) for c in cells] + [""] * (width - len(cells))  # never a formula in Excel
            message = "；".join(why[number])
            if slot is None:
                row.append(message)
            else:
                row[slot] = message
            writer.writerow(row)
    return str(target)
