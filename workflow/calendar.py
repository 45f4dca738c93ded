"""Periods counted the way Chinese law counts them, on the official working-day calendar.

民法典 第201条: the start day is not counted. 第202条: a period in months or years ends on the
corresponding day of the last month, or on that month's last day when it has no such day.
第203条: when the last day is a statutory rest day (weekends included, unless made a working day
by the State Council), the period ends on the first working day after it; rest days inside the
period are not deducted; the period ends at 24:00 of its last day. Working-day periods count
official working days only. Every date is an Asia/Shanghai calendar date.

The official calendar is data: one YAML file a year in ``definitions/calendars/`` (rest days and
make-up working days, grouped by holiday, with the State Council notice they come from). A date in
a year with no file is *provisional*: only weekends count as rest there.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from calendar import monthrange
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from workflow.beijing import SHANGHAI as SHANGHAI  # re-exported: the period arithmetic's zone
from workflow.errors import DefinitionError
from workflow.yamlfile import LocatedYAML, read_text

T = TypeVar("T")

__all__ = ["Calendar", "Due", "Period", "PeriodError", "parse_period"]

WEEKDAYS = "一二三四五六日"
#: Holidays 全国年节及纪念日放假办法 (2024 revision, 第2条) fixes by calendar date.
FIXED_HOLIDAYS = {
    (1, 1): "元旦",
    (5, 1): "劳动节",
    (5, 2): "劳动节",
    (10, 1): "国庆节",
    (10, 2): "国庆节",
    (10, 3): "国庆节",
}


@functools.cache
def _lunar_holidays(year: int) -> dict[dt.date, str]:
    """The 2024 law's lunar and solar-term holidays of *year*, computed once per year (hot path)."""
    from lunar_python import Lunar, Solar  # type: ignore[import-untyped]

    def solar(y: int, m: int, d: int) -> dt.date:
        s = Lunar.fromYmd(y, m, d).getSolar()
        return dt.date(s.getYear(), s.getMonth(), s.getDay())

    try:
        new_year = solar(year, 1, 1)
        out = {new_year - dt.timedelta(days=1): "春节（农历除夕）"}
        for i, name in enumerate("初一初二初三"[j : j + 2] for j in (0, 2, 4)):
            out[new_year + dt.timedelta(days=i)] = f"春节（农历正月{name}）"
        out[solar(year, 5, 5)] = "端午节（农历五月初五）"
        out[solar(year, 8, 15)] = "中秋节（农历八月十五）"
        q = Solar.fromYmd(year, 4, 5).getLunar().getJieQiTable()["清明"]
        out[dt.date(q.getYear(), q.getMonth(), q.getDay())] = "清明节（清明节气）"
    except (ValueError, OverflowError, KeyError, IndexError):
        return {}  # past the library's range: only weekends and fixed-date holidays remain
    return {d: n for d, n in out.items() if d.year == year}


Unit = Literal["days", "working_days", "months", "years"]

_UNITS: dict[str, Unit] = {
    "day": "days",
    "days": "days",
    "天": "days",
    "日": "days",
    "working day": "working_days",
    "working days": "working_days",
    "workday": "working_days",
    "workdays": "working_days",
    "工作日": "working_days",
    "个工作日": "working_days",
    "month": "months",
    "months": "months",
    "个月": "months",
    "月": "months",
    "year": "years",
    "years": "years",
    "年": "years",
}
_PATTERN = re.compile(r"^\s*(\d{1,4})\s*([^\d\s].*?)\s*$")
_LABELS: dict[Unit, str] = {"days": "日", "working_days": "个工作日", "months": "个月", "years": "年"}


class PeriodError(ValueError):
    """A period string could not be read."""


#: The longest period duban counts: a statutory period is days, months or a few years, and a longer one
#: (a typo, hostile input) would only run the calendar's arithmetic out of its range.
MAX_PERIOD_YEARS = 100
#: How many of each unit make a year, for that limit (a year has at most 366 days, of which fewer work).
_YEARS: dict[str, int] = {"days": 366, "working_days": 366, "months": 12, "years": 1}


@dataclass(frozen=True, slots=True)
class Period:
    """A legal period: a positive whole number of days, working days, months or years."""

    amount: int
    unit: Unit

    def __post_init__(self) -> None:
        if self.unit not in _YEARS:
            raise PeriodError(f"a period's unit is days, working_days, months or years, not {self.unit!r}")
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount <= 0:
            raise PeriodError(
                f"a period is a positive whole number of {self.unit.replace('_', ' ')}, not {self.amount!r}"
            )
        if self.amount > MAX_PERIOD_YEARS * _YEARS[self.unit]:
            raise PeriodError(
                f"the period '{self}' is longer than {MAX_PERIOD_YEARS} years, the longest duban counts: "
                f"write at most {MAX_PERIOD_YEARS} years ({MAX_PERIOD_YEARS * 12} months)"
            )

    def __str__(self) -> str:
        unit = self.unit.replace("_", " ")
        return f"{self.amount} {unit[:-1] if self.amount == 1 else unit}"

    @property
    def chinese(self) -> str:
        return f"{self.amount}{_LABELS[self.unit]}"


def parse_period(text: str) -> Period:
    """Read "3 months", "6个月", "7 working days", "7个工作日", "20 days" or "1 year"."""
    match = _PATTERN.match(str(text))
    unit = _UNITS.get(match.group(2).lower()) if match else None
    if match is None or unit is None:
        raise PeriodError(
            f"cannot read the period {text!r}: write a whole number and a unit, e.g. "
            '"3 months", "3个月", "7 working days", "7个工作日", "20 days" or "1 year"'
        )
    amount = int(match.group(1))
    if amount <= 0:
        raise PeriodError(f"the period {text!r} must be a positive number of {unit.replace('_', ' ')}")
    return Period(amount, unit)


@dataclass(frozen=True, slots=True)
class Day:
    """What the official calendar says of one date."""

    date: dt.date
    working: bool
    reason: str  # 工作日 / 周末 / the holiday's name / 调休上班日
    provisional: bool  # its year has no loaded calendar

    @property
    def described(self) -> str:
        extra = "" if self.reason in ("工作日", "周末") else f", {self.reason}"
        return f"星期{WEEKDAYS[self.date.weekday()]}{extra}"


@dataclass(frozen=True, slots=True)
class Due:
    """A computed due date and how it was reached."""

    start: dt.date
    period: Period
    raw: dt.date  # the day the period's arithmetic lands on, before rolling past rest days
    due: dt.date
    provisional: bool
    explanation: str

    @property
    def deadline(self) -> dt.datetime:
        """The instant the period ends: 24:00 of the due date, Asia/Shanghai."""
        return dt.datetime.combine(self.due + dt.timedelta(days=1), dt.time(), SHANGHAI)

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "period": str(self.period),
            "raw": self.raw.isoformat(),
            "due": self.due.isoformat(),
            "deadline": self.deadline.isoformat(),
            "provisional": self.provisional,
            "explanation": self.explanation,
        }


@dataclass
class Calendar:
    """The official rest days and make-up working days, by year, with the notices they came from."""

    rest: dict[dt.date, str] = field(default_factory=dict)  # date -> holiday name
    work: dict[dt.date, str] = field(default_factory=dict)  # date -> 调休上班日 (for which holiday)
    sources: dict[int, str] = field(default_factory=dict)  # year -> notice
    files: dict[int, str] = field(default_factory=dict)  # year -> file it was read from
    #: results the engine asks for again and again (the same period from the same day), see :meth:`remember`
    _memo: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    memo_size: ClassVar[int] = 4096

    @classmethod
    def load(cls, folders: Iterable[str | Path] | None = None) -> Calendar:
        """Read the bundled calendar, then each folder in turn; a later file for a year replaces it."""
        from workflow.definition import bundled_dir

        calendar = cls()
        for folder in [bundled_dir("definitions") / "calendars", *map(Path, folders or [])]:
            try:
                paths = sorted(folder.glob("*.yaml")) if folder.is_dir() else None
            except OSError as exc:  # a name too long, a folder we may not read
                raise DefinitionError(f"cannot read the calendar folder: {exc.strerror}", str(folder), 0, 0) from None
            if paths is None:
                raise DefinitionError("no such calendar folder", str(folder), 0, 0)
            for path in paths:
                calendar.add_file(path)
        return calendar

    def add_file(self, path: Path) -> None:
        self.add_text(read_text(path), str(path))

    def add_text(self, text: str, name: str) -> int:
        """Add one year file's *text* (*name* places its errors); returns the year. Stored calendars use it."""
        year, rest, work, source = _read_year(LocatedYAML(text, name), name)
        for table in (self.rest, self.work):
            for day in [d for d in table if d.year == year]:
                del table[day]
        self.rest.update(rest)
        self.work.update(work)
        self.sources[year] = source
        self.files[year] = name
        self._memo.clear()
        return year

    def remember(self, key: Hashable, make: Callable[[], T]) -> T:
        """``make()``, computed once per *key* while the calendar's days stay as they are.

        Fires start the same periods from the same few days over and over; a due date costs a walk
        over the calendar (up to a few hundred days for working-day periods). Loading a file forgets
        everything; past :attr:`memo_size` keys the memo starts afresh rather than grow without bound.
        """
        if key in self._memo:
            found: T = self._memo[key]
            return found
        if len(self._memo) >= self.memo_size:
            self._memo.clear()
        made = self._memo[key] = make()
        return made

    @property
    def years(self) -> list[int]:
        return sorted(self.sources)

    def day(self, date: dt.date) -> Day:
        if date in self.work:
            reason = "调休上班日"
        elif date in self.rest:
            reason = f"{self.rest[date]}假期"
        elif holiday := self._statutory(date):
            name, _, detail = holiday.partition("（")
            day = detail.rstrip("）") or name
            reason = f"{name}法定假日（{day}，放假安排尚未公布，暂定）"
        else:
            reason = "周末" if date.weekday() >= 5 else "工作日"
        return Day(date, self.is_working_day(date), reason, date.year not in self.sources)

    def is_working_day(self, date: dt.date) -> bool:
        if date in self.work:
            return True
        return date not in self.rest and date.weekday() < 5 and not self._statutory(date)

    def _statutory(self, date: dt.date) -> str | None:
        """In a year with no loaded notice, the holidays fixed by date in 全国年节及纪念日放假办法 第2条
        and the lunar / solar-term ones (春节 除夕-初三, 清明, 端午, 中秋) are still rest days; only 调休 is unknown."""
        if date.year in self.sources:
            return None
        return FIXED_HOLIDAYS.get((date.month, date.day)) or _lunar_holidays(date.year).get(date)

    def due(self, start: dt.date, period: Period | str, event: str = "") -> Due:
        """The last day of *period* counted from *start* (excluded), per 民法典 201-203."""
        period = parse_period(period) if isinstance(period, str) else period
        lead = f"{event} {start}" if event else str(start)
        return self._count(start, start, period, f"{lead} + {period.chinese}", [])

    def shift(self, due: Due, period: Period | str, why: str) -> Due:
        """*due* moved on by *period* from its unrolled day (an extension, a pause), rolled again."""
        period = parse_period(period) if isinstance(period, str) else period
        text = due.explanation.rsplit("; 截止", 1)[0].split("; 暂定", 1)[0]
        return self._count(due.start, due.raw, period, f"{text}; {why} + {period.chinese}", [due.raw])

    def _count(self, start: dt.date, base: dt.date, period: Period, lead: str, seen: list[dt.date]) -> Due:
        try:
            return self._count_in_range(start, base, period, lead, seen)
        except (OverflowError, ValueError) as exc:  # past 9999-12-31 (a date's limit), in days or in months
            raise PeriodError(f"{lead} ends after {dt.date.max}, the last date that can be counted") from exc

    def _count_in_range(self, start: dt.date, base: dt.date, period: Period, lead: str, seen: list[dt.date]) -> Due:
        if period.unit == "working_days":
            return self._working_days(start, base, period, lead, seen)
        if period.unit == "days":
            raw, clamp = base + dt.timedelta(days=period.amount), ""
        else:
            raw, clamp = _add_months(base, period.amount * (12 if period.unit == "years" else 1))
        return self._roll(start, period, raw, f"{lead} = ", clamp, seen)

    def on(self, day: dt.date, event: str = "") -> Due:
        """A last day fixed by a record (a promise's date, a measure's deadline), rolled past rest days."""
        return self._roll(day, Period(1, "days"), day, f"{event} " if event else "", "", [])

    def _roll(self, start: dt.date, period: Period, raw: dt.date, lead: str, clamp: str, seen: list[dt.date]) -> Due:
        due, days = raw, [self.day(raw)]
        while not days[-1].working:
            due += dt.timedelta(days=1)
            days.append(self.day(due))
        text = f"{lead}{raw} ({clamp}{days[0].described})"
        if due != raw:
            text += f" → 顺延至 {due} (星期{WEEKDAYS[due.weekday()]})"
        return self._finish(start, period, raw, due, [*map(self.day, seen), *days], text)

    def _working_days(self, start: dt.date, base: dt.date, period: Period, lead: str, seen: list[dt.date]) -> Due:
        day, counted, skipped, made_up, days = base, 0, [], [], [self.day(d) for d in seen]
        while counted < period.amount:
            day += dt.timedelta(days=1)
            info = self.day(day)
            days.append(info)
            if info.working:
                counted += 1
                if day in self.work:
                    made_up.append(day)
            elif day in self.rest:
                skipped.append(day)
        notes = [f"星期{WEEKDAYS[day.weekday()]}"]
        if skipped:
            names = "、".join(dict.fromkeys(self.rest[d] for d in skipped))
            notes.append(f"跳过{names}假期 {_span(skipped)}")
        if made_up:
            notes.append(f"计入调休上班日 {', '.join(d.strftime('%m-%d') for d in made_up)}")
        return self._finish(start, period, day, day, days, f"{lead} = {day} ({'; '.join(notes)})")

    def _finish(self, start: dt.date, period: Period, raw: dt.date, due: dt.date, days: list[Day], text: str) -> Due:
        unknown = sorted({d.date.year for d in days if d.provisional})
        if unknown:
            years = "、".join(f"{y}年" for y in unknown)
            text += f"; 暂定: {years}放假安排尚未载入, 按周末及法定假日（含农历节日，调休未知）计休息日"
        return Due(start, period, raw, due, bool(unknown), text + f"; 截止 {due} 24:00")


def _add_months(start: dt.date, months: int) -> tuple[dt.date, str]:
    """The corresponding day *months* later, or that month's last day (民法典 第202条)."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = monthrange(year, month)[1]
    if start.day <= last:
        return dt.date(year, month, start.day), ""
    return dt.date(year, month, last), f"{month}月无{start.day}日, 取月末; "


def _span(days: list[dt.date]) -> str:
    first, last = min(days), max(days)
    return first.strftime("%m-%d") if first == last else f"{first.strftime('%m-%d')}..{last.strftime('%m-%d')}"


_YEAR_KEYS = {"year", "source", "holidays", "notes"}


def _read_year(doc: LocatedYAML, file: str) -> tuple[int, dict[dt.date, str], dict[dt.date, str], str]:
    """Validate one calendar file; every problem is a DefinitionError at its line and column."""

    def fail(path: tuple[str | int, ...], message: str, key: bool = False) -> DefinitionError:
        return DefinitionError(message, file, *doc.where(path, key))

    root = doc.root
    if not isinstance(root, dict):
        raise fail((), "a calendar file is a mapping with year, source and holidays")
    for key in root:
        if key not in _YEAR_KEYS:
            raise fail((key,), f"unknown key {key!r}; allowed: {', '.join(sorted(_YEAR_KEYS))}", key=True)
    year, source, holidays = root.get("year"), root.get("source"), root.get("holidays")
    if not isinstance(year, int) or isinstance(year, bool) or not 1949 < year < 2200:
        raise fail(("year",), f"year must be a year like 2026, not {year!r}")
    if not isinstance(source, str) or not source.strip():
        raise fail(("source",), "source must name the State Council notice the dates come from")
    if not isinstance(holidays, dict):
        raise fail(("holidays",), "holidays must map each holiday's name to its rest and work days")
    rest: dict[dt.date, str] = {}
    work: dict[dt.date, str] = {}
    for name, spec in holidays.items():
        if not isinstance(spec, dict):
            raise fail(("holidays", name), f"holiday {name!r} needs 'rest' and 'work' lists of dates")
        for key in spec:
            if key not in ("rest", "work"):
                raise fail(
                    ("holidays", name, key), f"unknown key {key!r} in holiday {name!r}; allowed: rest, work", True
                )
        for kind, table, other in (("rest", rest, work), ("work", work, rest)):
            days = spec.get(kind) or []
            if not isinstance(days, list):
                raise fail(("holidays", name, kind), f"{kind} must be a list of dates")
            for i, day in enumerate(days):
                where = ("holidays", name, kind, i)
                if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
                    raise fail(where, f"{day!r} is not a date written YYYY-MM-DD")
                if day.year != year:
                    raise fail(where, f"{day} lies outside {year}, the year of this file")
                if day in table:
                    raise fail(where, f"{day} is listed twice")
                if day in other:
                    raise fail(where, f"{day} is listed both as a rest day and as a working day")
                if kind == "work" and day.weekday() < 5:
                    raise fail(where, f"{day} is a weekday; a make-up working day (调休上班日) is a Saturday or Sunday")
                table[day] = str(name)
    return year, rest, work, source
