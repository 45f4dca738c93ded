"""Due dates per 民法典 201-203 on the official calendar: a table of expected dates, then properties.

The expected dates below do not come from duban. They were derived from the State Council's
notices for 2024, 2025 and 2026, copied by hand into OFFICIAL below (independently of the bundled
definitions/calendars files): HAND_CHECKED were worked out by hand, day by day, from those notices;
GENERATED were produced by the small reference helper in this file (``reference_due``, written from
the law, not from duban) and are re-verified against it by a test, so a typo in either shows up.
"""

from __future__ import annotations

import calendar as gregorian
import datetime as dt

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from workflow.calendar import Calendar, Period, PeriodError, parse_period

D = dt.date.fromisoformat
ONE = dt.timedelta(days=1)

# 国务院办公厅关于2024年/2025年/2026年部分节假日安排的通知: each holiday's rest days (放假, the
# weekends inside the span included) and make-up working days (上班). Written from the notices.
OFFICIAL = """
2024 元旦          rest 01-01
2024 春节          rest 02-10..02-17  work 02-04 02-18
2024 清明节        rest 04-04..04-06  work 04-07
2024 劳动节        rest 05-01..05-05  work 04-28 05-11
2024 端午节        rest 06-10
2024 中秋节        rest 09-15..09-17  work 09-14
2024 国庆节        rest 10-01..10-07  work 09-29 10-12
2025 元旦          rest 01-01
2025 春节          rest 01-28..02-04  work 01-26 02-08
2025 清明节        rest 04-04..04-06
2025 劳动节        rest 05-01..05-05  work 04-27
2025 端午节        rest 05-31..06-02
2025 国庆节、中秋节 rest 10-01..10-08  work 09-28 10-11
2026 元旦          rest 01-01..01-03  work 01-04
2026 春节          rest 02-15..02-23  work 02-14 02-28
2026 清明节        rest 04-04..04-06
2026 劳动节        rest 05-01..05-05  work 05-09
2026 端午节        rest 06-19..06-21
2026 中秋节        rest 09-25..09-27
2026 国庆节        rest 10-01..10-07  work 09-20 10-10
"""
KNOWN = (dt.date(2023, 12, 1), dt.date(2026, 12, 31))  # 2023-12 has no holiday (12-30/31 is a weekend)


def _official() -> tuple[dict[dt.date, str], set[dt.date]]:
    rest: dict[dt.date, str] = {}
    work: set[dt.date] = set()
    for line in OFFICIAL.strip().splitlines():
        year, name, *words = line.split()
        kind = "rest"
        for word in words:
            if word in ("rest", "work"):
                kind = word
                continue
            first, _, last = word.partition("..")
            day, end = D(f"{year}-{first}"), D(f"{year}-{last or first}")
            while day <= end:
                if kind == "rest":
                    rest[day] = name
                else:
                    work.add(day)
                day += ONE
    return rest, work


REST, WORK = _official()


def official_working(day: dt.date) -> bool:
    assert KNOWN[0] <= day <= KNOWN[1], f"{day} is outside the notices copied here"
    return day in WORK or (day.weekday() < 5 and day not in REST)


def reference_due(start: dt.date, period: Period) -> dt.date:
    """The law, written out plainly on the OFFICIAL table (an oracle independent of duban's code)."""
    if period.unit == "working_days":
        day, left = start, period.amount
        while left:
            day += ONE
            left -= official_working(day)
        return day
    if period.unit == "days":
        day = start + dt.timedelta(days=period.amount)
    else:
        months = start.month - 1 + period.amount * (12 if period.unit == "years" else 1)
        year, month = start.year + months // 12, months % 12 + 1
        day = dt.date(year, month, min(start.day, gregorian.monthrange(year, month)[1]))
    while not official_working(day):  # 第203条: a last day that is a rest day moves to the next working day
        day += ONE
    return day


CAL = Calendar.load()

# Worked out by hand from the notices (weekday of each date checked on a printed calendar).
HAND_CHECKED = [
    # DOMAIN's worked examples
    ("2026-03-20", "3 months", "2026-06-22"),  # 06-20 Sat in 端午节 06-19..21 → Mon 06-22
    ("2026-01-31", "1 month", "2026-02-28"),  # Feb has no 31st → 02-28, a Saturday made a working day (春节)
    ("2026-05-14", "1 month", "2026-06-15"),  # 06-14 is a Sunday → Mon 06-15
    ("2026-09-28", "7 working days", "2026-10-13"),  # 09-29,09-30, [10-01..07], 10-08,09, Sat 10-10, 10-12,13
    # month ends and February
    ("2024-01-31", "1 month", "2024-02-29"),  # leap year, Thursday
    ("2025-01-31", "1 month", "2025-02-28"),  # Friday
    ("2023-11-30", "3 months", "2024-02-29"),  # Thursday
    ("2024-11-30", "3 months", "2025-02-28"),  # Friday
    ("2025-11-30", "3个月", "2026-02-28"),  # Saturday, 春节 make-up working day: stands
    ("2023-08-31", "6 months", "2024-02-29"),  # Thursday
    ("2024-08-31", "6 months", "2025-02-28"),  # Friday
    ("2025-08-31", "6个月", "2026-02-28"),  # make-up Saturday
    ("2024-03-31", "1 month", "2024-04-30"),  # Tuesday
    ("2025-03-31", "1 month", "2025-04-30"),  # Wednesday
    ("2026-03-31", "1 month", "2026-04-30"),  # Thursday
    ("2024-05-31", "1 month", "2024-07-01"),  # 06-30 is a Sunday
    ("2024-12-31", "2 months", "2025-02-28"),  # Friday
    # Spring Festival
    ("2024-01-10", "1 month", "2024-02-18"),  # 02-10 in 春节 02-10..17; 02-18 is a make-up Sunday
    ("2025-12-15", "2 months", "2026-02-24"),  # 02-15 in 春节 02-15..23 → Tue 02-24
    ("2024-12-28", "1 month", "2025-02-05"),  # 01-28 (除夕) in 春节 01-28..02-04 → Wed 02-05
    ("2025-01-24", "1 working day", "2025-01-26"),  # Sat 01-25 rest, Sun 01-26 make-up working day
    ("2026-02-13", "1个工作日", "2026-02-14"),  # Sat 02-14 make-up working day
    ("2026-02-13", "2 working days", "2026-02-24"),  # 02-14, then 春节 02-15..23, then Tue 02-24
    ("2026-02-06", "15 working days", "2026-03-05"),  # 02-09..13 (5), 02-14 (6), 02-24..28 (11), 03-02..05
    ("2024-12-31", "30 working days", "2025-02-18"),  # 01-02..24 (17), 01-26 (18), 01-27 (19), 02-05..08, ...
    # National Day
    ("2024-07-01", "3 months", "2024-10-08"),  # 国庆节 10-01..07
    ("2025-07-01", "3 months", "2025-10-09"),  # 国庆节、中秋节 10-01..08
    ("2024-09-12", "1 month", "2024-10-12"),  # make-up Saturday: stands
    ("2025-09-11", "1 month", "2025-10-11"),  # make-up Saturday: stands
    ("2026-09-10", "1 month", "2026-10-10"),  # make-up Saturday: stands
    ("2024-09-20", "9 days", "2024-09-29"),  # make-up Sunday: stands
    ("2024-09-27", "7 working days", "2024-10-12"),  # 09-29 (Sun), 09-30, 10-08..11, Sat 10-12
    ("2025-09-26", "7 working days", "2025-10-13"),  # 09-28 (Sun), 09-29, 09-30, 10-09, 10-10, Sat 10-11, 10-13
    ("2024-09-11", "20 days", "2024-10-08"),  # 10-01 → after 国庆节
    ("2026-09-01", "30 days", "2026-10-08"),  # 10-01 → Thu 10-08
    # Labour Day, Dragon Boat, Mid-Autumn
    ("2024-04-01", "1 month", "2024-05-06"),  # 劳动节 05-01..05 → Mon 05-06
    ("2024-04-11", "1 month", "2024-05-11"),  # make-up Saturday
    ("2025-03-27", "1 month", "2025-04-27"),  # make-up Sunday
    ("2026-04-09", "1 month", "2026-05-09"),  # make-up Saturday
    ("2024-05-10", "1 month", "2024-06-11"),  # 端午节 Mon 06-10 → Tue 06-11
    ("2025-05-01", "1 month", "2025-06-03"),  # 06-01 in 端午节 05-31..06-02 → Tue 06-03
    ("2024-08-15", "1 month", "2024-09-18"),  # 09-15 in 中秋节 09-15..17 → Wed 09-18
    ("2024-08-14", "1 month", "2024-09-14"),  # make-up Saturday for 中秋节
    ("2026-08-25", "1 month", "2026-09-28"),  # 09-25 Fri, 中秋节 09-25..27 → Mon 09-28
    ("2026-09-10", "15 days", "2026-09-28"),  # 09-25 中秋节 → Mon 09-28
    # one year
    ("2024-02-29", "1 year", "2025-02-28"),  # no 02-29 in 2025 → Friday 02-28
    ("2025-10-01", "1 year", "2026-10-08"),  # 国庆节 10-01..07
    ("2025-01-01", "1年", "2026-01-04"),  # 元旦 01-01..03; Sun 01-04 make-up working day
    ("2024-06-20", "1 year", "2025-06-20"),  # Friday
    # across a year boundary
    ("2025-12-25", "7 working days", "2026-01-06"),  # 12-26,29,30,31, [01-01..03], Sun 01-04, 01-05, 01-06
    ("2024-12-25", "7 working days", "2025-01-06"),  # 12-26,27,30,31, [01-01], 01-02, 01-03, 01-06
    ("2025-12-17", "15 days", "2026-01-04"),  # 01-01 元旦 → 01-04, a make-up Sunday
    ("2025-12-01", "1 month", "2026-01-04"),  # same
    ("2023-12-01", "1 month", "2024-01-02"),  # 元旦 Mon 01-01 → Tue 01-02
    ("2023-09-30", "3 months", "2024-01-02"),  # 12-30 Sat → 12-31 Sun, 01-01 元旦 → Tue 01-02
]

# Produced by reference_due from OFFICIAL (see the module docstring); checked against it below.
GENERATED = [
    ("2024-02-29", "1 month", "2024-03-29"),
    ("2024-03-31", "3 months", "2024-07-01"),
    ("2024-04-30", "1 month", "2024-05-30"),
    ("2024-06-30", "1 month", "2024-07-30"),
    ("2024-06-30", "3 months", "2024-09-30"),
    ("2024-07-31", "1 month", "2024-09-02"),
    ("2024-08-31", "1 month", "2024-09-30"),
    ("2024-08-31", "3 months", "2024-12-02"),
    ("2024-09-30", "1 month", "2024-10-30"),
    ("2024-09-30", "3 months", "2024-12-30"),
    ("2024-10-31", "1 month", "2024-12-02"),
    ("2024-11-30", "1 month", "2024-12-30"),
    ("2024-12-31", "1 month", "2025-02-05"),
    ("2024-12-31", "3 months", "2025-03-31"),
    ("2024-12-31", "6 months", "2025-06-30"),
    ("2025-02-28", "1 month", "2025-03-28"),
    ("2025-03-31", "3 months", "2025-06-30"),
    ("2025-04-30", "1 month", "2025-05-30"),
    ("2025-05-31", "1 month", "2025-06-30"),
    ("2025-06-30", "1 month", "2025-07-30"),
    ("2025-06-30", "3 months", "2025-09-30"),
    ("2025-07-31", "1 month", "2025-09-01"),
    ("2025-08-31", "1 month", "2025-09-30"),
    ("2025-08-31", "3 months", "2025-12-01"),
    ("2025-08-31", "6 months", "2026-02-28"),
    ("2025-09-30", "1 month", "2025-10-30"),
    ("2025-09-30", "3 months", "2025-12-30"),
    ("2025-10-31", "1 month", "2025-12-01"),
    ("2025-11-30", "1 month", "2025-12-30"),
    ("2025-11-30", "3 months", "2026-02-28"),
    ("2025-12-31", "1 month", "2026-02-02"),
    ("2025-12-31", "3 months", "2026-03-31"),
    ("2025-12-31", "6 months", "2026-06-30"),
    ("2026-02-28", "1 month", "2026-03-30"),
    ("2026-03-31", "3 months", "2026-06-30"),
    ("2026-04-30", "1 month", "2026-06-01"),
    ("2026-05-31", "1 month", "2026-06-30"),
    ("2026-06-30", "1 month", "2026-07-30"),
    ("2026-06-30", "3 months", "2026-09-30"),
    ("2026-07-31", "1 month", "2026-08-31"),
    ("2026-08-31", "1 month", "2026-09-30"),
    ("2026-08-31", "3 months", "2026-11-30"),
    ("2026-09-30", "1 month", "2026-10-30"),
    ("2026-09-30", "3 months", "2026-12-30"),
    ("2026-10-31", "1 month", "2026-11-30"),
    ("2026-11-30", "1 month", "2026-12-30"),
    ("2023-12-12", "20 days", "2024-01-02"),
    ("2023-12-17", "15天", "2024-01-02"),
    ("2023-12-02", "30 days", "2024-01-02"),
    ("2023-11-01", "2个月", "2024-01-02"),
    ("2023-12-31", "1 working day", "2024-01-02"),
    ("2023-12-30", "3 working days", "2024-01-04"),
    ("2023-12-29", "7个工作日", "2024-01-10"),
    ("2023-12-27", "15 working days", "2024-01-18"),
    ("2023-12-22", "30 working days", "2024-02-04"),
    ("2024-01-01", "1 working day", "2024-01-02"),
    ("2024-01-21", "20 days", "2024-02-18"),
    ("2024-02-02", "15天", "2024-02-18"),
    ("2024-01-11", "30 days", "2024-02-18"),
    ("2023-12-17", "2个月", "2024-02-18"),
    ("2024-02-09", "1 working day", "2024-02-18"),
    ("2024-02-08", "3 working days", "2024-02-19"),
    ("2024-02-07", "7个工作日", "2024-02-22"),
    ("2024-02-05", "15 working days", "2024-03-01"),
    ("2024-01-31", "30 working days", "2024-03-18"),
    ("2024-02-17", "1 working day", "2024-02-18"),
    ("2024-03-15", "20 days", "2024-04-07"),
    ("2024-03-22", "15天", "2024-04-07"),
    ("2024-03-05", "30 days", "2024-04-07"),
    ("2024-03-04", "1 month", "2024-04-07"),
    ("2024-02-06", "2个月", "2024-04-07"),
    ("2024-04-03", "1 working day", "2024-04-07"),
    ("2024-04-02", "3 working days", "2024-04-08"),
    ("2024-04-01", "7个工作日", "2024-04-11"),
    ("2024-03-30", "15 working days", "2024-04-22"),
    ("2024-03-25", "30 working days", "2024-05-09"),
    ("2024-04-06", "1 working day", "2024-04-07"),
    ("2024-04-11", "20 days", "2024-05-06"),
    ("2024-04-20", "15天", "2024-05-06"),
    ("2024-04-01", "30 days", "2024-05-06"),
    ("2024-03-05", "2个月", "2024-05-06"),
    ("2024-04-30", "1 working day", "2024-05-06"),
    ("2024-04-29", "3 working days", "2024-05-07"),
    ("2024-04-28", "7个工作日", "2024-05-10"),
    ("2024-04-26", "15 working days", "2024-05-20"),
    ("2024-04-21", "30 working days", "2024-06-03"),
    ("2024-05-05", "1 working day", "2024-05-06"),
    ("2024-05-21", "20 days", "2024-06-11"),
    ("2024-05-26", "15天", "2024-06-11"),
    ("2024-05-11", "30 days", "2024-06-11"),
    ("2024-04-10", "2个月", "2024-06-11"),
    ("2024-06-09", "1 working day", "2024-06-11"),
    ("2024-06-08", "3 working days", "2024-06-13"),
    ("2024-06-07", "7个工作日", "2024-06-19"),
    ("2024-06-05", "15 working days", "2024-06-27"),
    ("2024-05-31", "30 working days", "2024-07-15"),
    ("2024-06-10", "1 working day", "2024-06-11"),
    ("2024-08-26", "20 days", "2024-09-18"),
    ("2024-09-02", "15天", "2024-09-18"),
    ("2024-08-16", "30 days", "2024-09-18"),
    ("2024-07-17", "2个月", "2024-09-18"),
    ("2024-09-14", "1 working day", "2024-09-18"),
    ("2024-09-13", "3 working days", "2024-09-19"),
    ("2024-09-12", "7个工作日", "2024-09-24"),
    ("2024-09-10", "15 working days", "2024-10-08"),
    ("2024-09-05", "30 working days", "2024-10-23"),
    ("2024-09-17", "1 working day", "2024-09-18"),
    ("2024-09-22", "15天", "2024-10-08"),
    ("2024-09-01", "30 days", "2024-10-08"),
    ("2024-09-01", "1 month", "2024-10-08"),
    ("2024-08-07", "2个月", "2024-10-08"),
    ("2024-09-30", "1 working day", "2024-10-08"),
    ("2024-09-29", "3 working days", "2024-10-09"),
    ("2024-09-28", "7个工作日", "2024-10-12"),
    ("2024-09-26", "15 working days", "2024-10-22"),
    ("2024-09-21", "30 working days", "2024-11-06"),
    ("2024-10-07", "1 working day", "2024-10-08"),
    ("2024-12-12", "20 days", "2025-01-02"),
    ("2024-12-17", "15天", "2025-01-02"),
    ("2024-12-02", "30 days", "2025-01-02"),
    ("2024-12-01", "1 month", "2025-01-02"),
    ("2024-11-01", "2个月", "2025-01-02"),
    ("2024-12-31", "1 working day", "2025-01-02"),
    ("2024-12-30", "3 working days", "2025-01-03"),
    ("2024-12-29", "7个工作日", "2025-01-08"),
    ("2024-12-27", "15 working days", "2025-01-20"),
    ("2024-12-22", "30 working days", "2025-02-08"),
    ("2025-01-01", "1 working day", "2025-01-02"),
    ("2024-01-01", "1 year", "2025-01-02"),
    ("2025-01-08", "20 days", "2025-02-05"),
    ("2025-01-20", "15天", "2025-02-05"),
    ("2024-12-29", "30 days", "2025-02-05"),
    ("2024-12-04", "2个月", "2025-02-05"),
    ("2025-01-27", "1 working day", "2025-02-05"),
    ("2025-01-26", "3 working days", "2025-02-06"),
    ("2025-01-25", "7个工作日", "2025-02-10"),
    ("2025-01-23", "15 working days", "2025-02-19"),
    ("2025-01-18", "30 working days", "2025-03-06"),
    ("2025-02-04", "1 working day", "2025-02-05"),
    ("2024-01-28", "1 year", "2025-02-05"),
    ("2025-03-15", "20 days", "2025-04-07"),
    ("2025-03-22", "15天", "2025-04-07"),
    ("2025-03-05", "30 days", "2025-04-07"),
    ("2025-03-04", "1 month", "2025-04-07"),
    ("2025-02-06", "2个月", "2025-04-07"),
    ("2025-04-03", "1 working day", "2025-04-07"),
    ("2025-04-02", "3 working days", "2025-04-08"),
    ("2025-04-01", "7个工作日", "2025-04-11"),
    ("2025-03-30", "15 working days", "2025-04-21"),
    ("2025-03-25", "30 working days", "2025-05-09"),
    ("2025-04-06", "1 working day", "2025-04-07"),
    ("2024-04-04", "1 year", "2025-04-07"),
    ("2025-04-11", "20 days", "2025-05-06"),
    ("2025-04-20", "15天", "2025-05-06"),
    ("2025-04-01", "30 days", "2025-05-06"),
    ("2025-04-01", "1 month", "2025-05-06"),
    ("2025-03-05", "2个月", "2025-05-06"),
    ("2025-04-30", "1 working day", "2025-05-06"),
    ("2025-04-29", "3 working days", "2025-05-07"),
    ("2025-04-28", "7个工作日", "2025-05-12"),
    ("2025-04-26", "15 working days", "2025-05-20"),
    ("2025-04-21", "30 working days", "2025-06-05"),
    ("2025-05-05", "1 working day", "2025-05-06"),
    ("2024-05-01", "1 year", "2025-05-06"),
    ("2025-05-11", "20 days", "2025-06-03"),
    ("2025-05-18", "15天", "2025-06-03"),
    ("2025-05-01", "30 days", "2025-06-03"),
    ("2025-04-02", "2个月", "2025-06-03"),
    ("2025-05-30", "1 working day", "2025-06-03"),
    ("2025-05-29", "3 working days", "2025-06-04"),
    ("2025-05-28", "7个工作日", "2025-06-09"),
    ("2025-05-26", "15 working days", "2025-06-17"),
    ("2025-05-21", "30 working days", "2025-07-03"),
    ("2025-06-02", "1 working day", "2025-06-03"),
    ("2025-09-11", "20 days", "2025-10-09"),
    ("2025-09-23", "15天", "2025-10-09"),
    ("2025-09-01", "30 days", "2025-10-09"),
    ("2025-09-01", "1 month", "2025-10-09"),
    ("2025-08-08", "2个月", "2025-10-09"),
    ("2025-09-30", "1 working day", "2025-10-09"),
    ("2025-09-29", "3 working days", "2025-10-10"),
    ("2025-09-28", "7个工作日", "2025-10-14"),
    ("2025-09-26", "15 working days", "2025-10-23"),
    ("2025-09-21", "30 working days", "2025-11-06"),
    ("2025-10-08", "1 working day", "2025-10-09"),
    ("2024-10-01", "1 year", "2025-10-09"),
    ("2025-12-12", "20 days", "2026-01-04"),
    ("2025-12-19", "15天", "2026-01-04"),
    ("2025-12-02", "30 days", "2026-01-04"),
    ("2025-11-03", "2个月", "2026-01-04"),
    ("2025-12-31", "1 working day", "2026-01-04"),
    ("2025-12-30", "3 working days", "2026-01-05"),
    ("2025-12-29", "7个工作日", "2026-01-08"),
    ("2025-12-27", "15 working days", "2026-01-19"),
    ("2025-12-22", "30 working days", "2026-02-03"),
    ("2026-01-03", "1 working day", "2026-01-04"),
    ("2025-01-01", "1 year", "2026-01-04"),
    ("2026-01-26", "20 days", "2026-02-24"),
    ("2026-02-08", "15天", "2026-02-24"),
    ("2026-01-16", "30 days", "2026-02-24"),
    ("2026-01-15", "1 month", "2026-02-24"),
    ("2025-12-23", "2个月", "2026-02-24"),
    ("2026-02-14", "1 working day", "2026-02-24"),
    ("2026-02-13", "3 working days", "2026-02-25"),
    ("2026-02-12", "7个工作日", "2026-02-28"),
    ("2026-02-10", "15 working days", "2026-03-09"),
    ("2026-02-05", "30 working days", "2026-03-25"),
    ("2026-02-23", "1 working day", "2026-02-24"),
    ("2025-02-15", "1 year", "2026-02-24"),
    ("2026-03-15", "20 days", "2026-04-07"),
    ("2026-03-22", "15天", "2026-04-07"),
    ("2026-03-05", "30 days", "2026-04-07"),
    ("2026-03-04", "1 month", "2026-04-07"),
    ("2026-02-06", "2个月", "2026-04-07"),
    ("2026-04-03", "1 working day", "2026-04-07"),
    ("2026-04-02", "3 working days", "2026-04-08"),
    ("2026-04-01", "7个工作日", "2026-04-13"),
    ("2026-03-30", "15 working days", "2026-04-21"),
    ("2026-03-25", "30 working days", "2026-05-11"),
    ("2026-04-06", "1 working day", "2026-04-07"),
    ("2025-04-04", "1 year", "2026-04-07"),
    ("2026-04-11", "20 days", "2026-05-06"),
    ("2026-04-20", "15天", "2026-05-06"),
    ("2026-04-01", "30 days", "2026-05-06"),
    ("2026-04-01", "1 month", "2026-05-06"),
    ("2026-03-05", "2个月", "2026-05-06"),
    ("2026-04-30", "1 working day", "2026-05-06"),
    ("2026-04-29", "3 working days", "2026-05-07"),
    ("2026-04-28", "7个工作日", "2026-05-11"),
    ("2026-04-26", "15 working days", "2026-05-19"),
    ("2026-04-21", "30 working days", "2026-06-04"),
    ("2026-05-05", "1 working day", "2026-05-06"),
    ("2025-05-01", "1 year", "2026-05-06"),
    ("2026-05-30", "20 days", "2026-06-22"),
    ("2026-06-06", "15天", "2026-06-22"),
    ("2026-05-20", "30 days", "2026-06-22"),
    ("2026-05-19", "1 month", "2026-06-22"),
    ("2026-04-21", "2个月", "2026-06-22"),
    ("2026-06-18", "1 working day", "2026-06-22"),
    ("2026-06-17", "3 working days", "2026-06-23"),
    ("2026-06-16", "7个工作日", "2026-06-26"),
    ("2026-06-14", "15 working days", "2026-07-06"),
    ("2026-06-09", "30 working days", "2026-07-22"),
    ("2026-06-21", "1 working day", "2026-06-22"),
    ("2025-06-19", "1 year", "2026-06-22"),
    ("2026-09-05", "20 days", "2026-09-28"),
    ("2026-09-12", "15天", "2026-09-28"),
    ("2026-08-26", "30 days", "2026-09-28"),
    ("2026-07-27", "2个月", "2026-09-28"),
    ("2026-09-24", "1 working day", "2026-09-28"),
    ("2026-09-23", "3 working days", "2026-09-29"),
    ("2026-09-22", "7个工作日", "2026-10-09"),
    ("2026-09-20", "15 working days", "2026-10-16"),
    ("2026-09-15", "30 working days", "2026-11-02"),
    ("2026-09-27", "1 working day", "2026-09-28"),
    ("2025-09-25", "1 year", "2026-09-28"),
    ("2026-09-11", "20 days", "2026-10-08"),
    ("2026-09-22", "15天", "2026-10-08"),
    ("2026-09-01", "1 month", "2026-10-08"),
    ("2026-08-07", "2个月", "2026-10-08"),
    ("2026-09-30", "1 working day", "2026-10-08"),
    ("2026-09-29", "3 working days", "2026-10-09"),
    ("2026-09-28", "7个工作日", "2026-10-13"),
    ("2026-09-26", "15 working days", "2026-10-22"),
    ("2026-09-21", "30 working days", "2026-11-09"),
    ("2026-10-07", "1 working day", "2026-10-08"),
    ("2024-01-25", "10 days", "2024-02-04"),
    ("2024-01-04", "1 month", "2024-02-04"),
    ("2024-02-08", "10 days", "2024-02-18"),
    ("2024-01-18", "1 month", "2024-02-18"),
    ("2024-03-28", "10 days", "2024-04-07"),
    ("2024-03-07", "1 month", "2024-04-07"),
    ("2024-04-18", "10 days", "2024-04-28"),
    ("2024-03-28", "1 month", "2024-04-28"),
    ("2024-05-01", "10 days", "2024-05-11"),
    ("2024-09-04", "10 days", "2024-09-14"),
    ("2024-09-19", "10 days", "2024-09-29"),
    ("2024-10-02", "10 days", "2024-10-12"),
    ("2025-01-16", "10 days", "2025-01-26"),
    ("2024-12-26", "1 month", "2025-01-26"),
    ("2025-01-29", "10 days", "2025-02-08"),
    ("2025-01-08", "1 month", "2025-02-08"),
    ("2025-04-17", "10 days", "2025-04-27"),
    ("2025-09-18", "10 days", "2025-09-28"),
    ("2025-08-28", "1 month", "2025-09-28"),
    ("2025-10-01", "10 days", "2025-10-11"),
    ("2025-12-25", "10 days", "2026-01-04"),
    ("2025-12-04", "1 month", "2026-01-04"),
    ("2026-02-04", "10 days", "2026-02-14"),
    ("2026-01-14", "1 month", "2026-02-14"),
    ("2026-02-18", "10 days", "2026-02-28"),
    ("2026-01-28", "1 month", "2026-02-28"),
    ("2026-04-29", "10 days", "2026-05-09"),
    ("2026-09-10", "10 days", "2026-09-20"),
    ("2026-08-20", "1 month", "2026-09-20"),
    ("2026-09-30", "10 days", "2026-10-10"),
]


def _cases() -> list[tuple[str, str, str]]:
    return HAND_CHECKED + GENERATED


def test_the_table_is_large_and_covers_the_three_years() -> None:
    """The table has at least 200 cases, spread over 2024, 2025 and 2026."""
    cases = _cases()
    assert len(cases) >= 200
    assert len(set(cases)) == len(cases)
    assert {D(due).year for _, _, due in cases} >= {2024, 2025, 2026}


@pytest.mark.parametrize(("start", "period", "expected"), _cases())
def test_due_dates_follow_the_notices(start: str, period: str, expected: str) -> None:
    """duban's due date is the one the law gives on the official calendar, for every case in the table."""
    due = CAL.due(D(start), period)
    assert due.due == D(expected), due.explanation
    assert not due.provisional


@pytest.mark.parametrize(("start", "period", "expected"), _cases())
def test_the_table_agrees_with_the_notices(start: str, period: str, expected: str) -> None:
    """Every expected date in the table is what the law gives on OFFICIAL (guards the table against typos)."""
    assert reference_due(D(start), parse_period(period)) == D(expected)


def test_official_table_matches_the_bundled_calendar() -> None:
    """The bundled calendar has exactly the notices' rest days (under the same names) and make-up days, 2024-2026."""
    for year in (2024, 2025, 2026):
        day = dt.date(year, 1, 1)
        while day.year == year:
            assert CAL.is_working_day(day) == official_working(day), day
            day += ONE
    assert {d for d in CAL.work if 2024 <= d.year <= 2026} == WORK
    assert {d: name for d, name in CAL.rest.items() if 2024 <= d.year <= 2026} == REST


# --- DOMAIN's worked examples, with their explanations ------------------------------------------


def test_worked_example_dragon_boat_festival() -> None:
    """A raw date inside a holiday rolls to the first working day after it, and the explanation says so."""
    due = CAL.due(D("2026-03-20"), "3 months")
    assert (due.raw, due.due, due.provisional) == (D("2026-06-20"), D("2026-06-22"), False)
    assert "2026-06-20 (星期六, 端午节假期) → 顺延至 2026-06-22" in due.explanation
    assert "截止 2026-06-22 24:00" in due.explanation
    assert due.deadline == dt.datetime(2026, 6, 23, tzinfo=due.deadline.tzinfo)
    assert due.deadline.utcoffset() == dt.timedelta(hours=8)


def test_worked_example_month_end_on_a_make_up_saturday() -> None:
    """Jan 31 + 1 month is the last day of February; a Saturday made a working day stands."""
    due = CAL.due(D("2026-01-31"), "1 month")
    assert (due.raw, due.due) == (D("2026-02-28"), D("2026-02-28"))
    assert "2月无31日, 取月末" in due.explanation
    assert "2026-02-28 (2月无31日, 取月末; 星期六, 调休上班日)" in due.explanation
    assert "顺延" not in due.explanation


def test_worked_example_sunday() -> None:
    """A raw date on an ordinary Sunday rolls to Monday."""
    due = CAL.due(D("2026-05-14"), "1 month")
    assert (due.raw, due.due) == (D("2026-06-14"), D("2026-06-15"))
    assert "2026-06-14 (星期日) → 顺延至 2026-06-15 (星期一)" in due.explanation


def test_worked_example_working_days_across_national_day() -> None:
    """Working days skip the holiday and count the make-up Saturday; the explanation names both."""
    due = CAL.due(D("2026-09-28"), "7 working days")
    assert due.due == D("2026-10-13")
    assert "2026-10-13" in due.explanation
    assert "跳过国庆节假期 10-01..10-07" in due.explanation
    assert "计入调休上班日 10-10" in due.explanation


def test_worked_example_into_a_year_without_a_calendar() -> None:
    """Nov 30 + 3 months lands on Sunday 2027-02-28; with no 2027 calendar only weekends are rest, so
    the answer is Monday 2027-03-01, marked provisional (暂定)."""
    due = CAL.due(D("2026-11-30"), "3 months")
    assert (due.raw, due.due, due.provisional) == (D("2027-02-28"), D("2027-03-01"), True)
    assert "2027-02-28" in due.explanation
    assert "暂定" in due.explanation
    assert "2027年" in due.explanation


def test_a_statutory_holiday_in_a_year_without_a_calendar_is_still_a_rest_day() -> None:
    """2027-01-01 (元旦) is a rest day fixed by 全国年节及纪念日放假办法 第2条 whatever the 2027 notice says, so a
    period whose last day falls on it ends later (民法典 第203条), even while the answer is provisional."""
    due = CAL.due(D("2026-12-01"), "1 month")
    assert due.provisional
    assert due.due > D("2027-01-01")


# --- properties over 2004-2026 -------------------------------------------------------------------

starts = st.dates(min_value=dt.date(2004, 1, 1), max_value=dt.date(2026, 10, 31))
periods = st.one_of(
    st.builds(Period, st.integers(1, 24), st.just("months")),
    st.builds(Period, st.integers(1, 400), st.just("days")),
    st.builds(Period, st.integers(1, 60), st.just("working_days")),
    st.builds(Period, st.integers(1, 3), st.just("years")),
)
PROPERTY = settings(max_examples=300, deadline=None)


@PROPERTY
@given(starts, periods)
def test_due_is_never_before_the_raw_date_and_is_a_working_day(start: dt.date, period: Period) -> None:
    """The due date never comes before the arithmetic's day, is after the start, and is a working day."""
    due = CAL.due(start, period)
    assert start < due.raw <= due.due
    assert CAL.is_working_day(due.due)
    assert all(not CAL.is_working_day(due.raw + dt.timedelta(n)) for n in range((due.due - due.raw).days))


@PROPERTY
@given(starts, st.integers(1, 60))
def test_working_day_periods_count_exactly_n_working_days(start: dt.date, n: int) -> None:
    """Exactly N working days lie in (start, due] for an N-working-day period."""
    due = CAL.due(start, Period(n, "working_days")).due
    days = [start + dt.timedelta(k) for k in range(1, (due - start).days + 1)]
    assert sum(CAL.is_working_day(d) for d in days) == n


@PROPERTY
@given(starts, starts, periods)
def test_due_dates_are_monotone_in_the_start(a: dt.date, b: dt.date, period: Period) -> None:
    """A later start never gives an earlier due date for the same period."""
    a, b = min(a, b), max(a, b)
    assert CAL.due(a, period).due <= CAL.due(b, period).due


@PROPERTY
@given(starts, periods)
def test_due_dates_inside_loaded_years_are_not_provisional(start: dt.date, period: Period) -> None:
    """A due date up to 2026-12-31, counted from a start in a loaded year, is final, not provisional."""
    due = CAL.due(start, period)
    assume(due.due <= dt.date(2026, 12, 31))
    assert not due.provisional
    assert "暂定" not in due.explanation


@PROPERTY
@given(st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2026, 10, 31)), periods)
def test_duban_agrees_with_the_notices_for_any_start_in_2024_to_2026(start: dt.date, period: Period) -> None:
    """For any start and period whose answer lies in 2024-2026, duban gives the reference answer."""
    if period.unit == "working_days":
        last = start + dt.timedelta(days=3 * period.amount + 14)
    elif period.unit == "days":
        last = start + dt.timedelta(days=period.amount + 14)
    else:
        months = period.amount * (12 if period.unit == "years" else 1)
        last = dt.date(start.year + (start.month - 1 + months) // 12, (start.month - 1 + months) % 12 + 1, 28)
        last += dt.timedelta(days=17)
    assume(last <= KNOWN[1])
    assert CAL.due(start, period).due == reference_due(start, period)


# --- reading periods -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("3 months", Period(3, "months")),
        ("3个月", Period(3, "months")),
        ("7 working days", Period(7, "working_days")),
        ("7个工作日", Period(7, "working_days")),
        ("15 workdays", Period(15, "working_days")),
        ("20 days", Period(20, "days")),
        ("20天", Period(20, "days")),
        ("20日", Period(20, "days")),
        ("1 year", Period(1, "years")),
        ("1年", Period(1, "years")),
        ("2 Years", Period(2, "years")),
    ],
)
def test_periods_are_read_in_chinese_and_english(text: str, period: Period) -> None:
    """The Chinese and English forms of a period read to the same amount and unit, and compute alike."""
    assert parse_period(text) == period
    assert CAL.due(D("2025-03-03"), text) == CAL.due(D("2025-03-03"), period)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0 days", "positive"),
        ("0个月", "positive"),
        ("-3 months", "cannot read"),
        ("三个月", "cannot read"),
        ("3 weeks", "cannot read"),
        ("3.5 months", "cannot read"),
        ("months", "cannot read"),
        ("", "cannot read"),
    ],
)
def test_zero_negative_and_unreadable_periods_are_refused(text: str, message: str) -> None:
    """A zero, negative or unreadable period is a PeriodError (also from Calendar.due), never a date."""
    with pytest.raises(PeriodError, match=message):
        parse_period(text)
    with pytest.raises(PeriodError, match=message):
        CAL.due(D("2025-03-03"), text)
