"""Regenerate definitions/calendars/YYYY.yaml from chinesecalendar, cross-checked against holidays.

Usage (from the repository root, with the dev dependencies installed)::

    .venv/bin/python tools/make_calendars.py            # write every year chinesecalendar covers
    .venv/bin/python tools/make_calendars.py --check    # only compare, write nothing

Each file lists one year's rest days (放假) and make-up working days (调休上班日), grouped by holiday,
as the State Council's notice for that year published them. The dates come from chinesecalendar,
then CORRECTIONS below is applied (days where the official notice and chinesecalendar disagree),
then every day of the year is compared with the `holidays` package. Every disagreement must be
decided in CORRECTIONS (chinesecalendar was wrong) or in HOLIDAYS_WRONG (holidays is wrong), with
a one-line reason; an undecided disagreement stops the script with exit status 1.

Grouping rules, none of which changes whether a day is a rest day or a working day:
- consecutive rest days of one holiday form a block; a Saturday/Sunday gap inside a block (the
  notice's "放假公休" span, which chinesecalendar sometimes leaves out) is filled in;
- a National Day block that also holds the Mid-Autumn Festival is named 国庆节、中秋节 (or
  中秋节、国庆节 when the festival comes first), as the notices name it;
- New Year's days in December belong to the next year's 元旦 and are named "元旦 (YYYY年)".
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import holidays
from chinese_calendar import constants

OUT = Path(__file__).resolve().parent.parent / "definitions" / "calendars"

CHINESE = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}

#: Days where the official notice disagrees with chinesecalendar: date -> (working?, holiday, reason).
CORRECTIONS: dict[dt.date, tuple[bool, str, str]] = {
    dt.date(2005, 12, 31): (
        True,
        "New Year's Day",
        "国务院办公厅关于2006年部分节假日安排的通知: 元旦 2006年1月1日至3日放假, 2005年12月31日(星期六)上班; "
        "chinesecalendar 缺此调休上班日 (holidays 包有), 依通知更正",
    ),
}

#: Days where the holidays package disagrees with the notice (after CORRECTIONS): date -> reason.
HOLIDAYS_WRONG: dict[dt.date, str] = {}

#: Blocks the notice names differently from the grouping rules: (year, name) -> (notice's name, reason).
RENAMED: dict[tuple[int, str], tuple[str, str]] = {
    (2020, "国庆节"): ("国庆节、中秋节", "2020年中秋节与国庆节同在10月1日, 通知合称「国庆节、中秋节」"),
}

#: Notices besides the year's main one that changed its dates.
SUPPLEMENTS: dict[int, list[str]] = {
    2015: [
        "9月3日至5日放假、9月6日(星期日)上班, 出自 国务院关于中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日"
        "调休放假的通知",
    ],
    2019: ["劳动节 5月1日至4日放假、4月28日和5月5日上班, 出自 国务院办公厅关于调整2019年劳动节假期安排的通知"],
    2020: [
        "春节假期延长至2月2日 (2月1日星期六不再上班), 出自 国务院办公厅关于延长2020年春节假期的通知",
    ],
}


def notice(year: int) -> str:
    """The title of the State Council General Office's yearly notice (2004 onwards use this form)."""
    return f"国务院办公厅关于{year}年部分节假日安排的通知"


@dataclass
class Block:
    name: str  # Chinese, e.g. 春节, 国庆节、中秋节, 元旦 (2008年)
    rest: list[dt.date] = field(default_factory=list)
    work: list[dt.date] = field(default_factory=list)


def official_days() -> tuple[dict[dt.date, str], dict[dt.date, str]]:
    """chinesecalendar's rest days and make-up working days (English holiday names), corrected."""
    rest, work = dict(constants.holidays), dict(constants.workdays)
    for day, (working, name, _reason) in CORRECTIONS.items():
        rest.pop(day, None)
        work.pop(day, None)
        (work if working else rest)[day] = name
    return rest, work


def is_working(day: dt.date, rest: dict[dt.date, str], work: dict[dt.date, str]) -> bool:
    return day in work or (day.weekday() < 5 and day not in rest)


def key(day: dt.date, name: str) -> str:
    """The holiday a day belongs to: December days of New Year's Day belong to the next year's 元旦."""
    chinese = CHINESE[name]
    return f"{chinese} ({day.year + 1}年)" if name == "New Year's Day" and day.month == 12 else chinese


def blocks_of(year: int, rest: dict[dt.date, str], work: dict[dt.date, str]) -> list[Block]:
    """Group one year's days into holiday blocks, in date order."""
    runs: list[tuple[list[str], list[dt.date]]] = []  # (holiday keys in order, rest days)
    for day in sorted(d for d in rest if d.year == year):
        name = key(day, rest[day])
        if runs:
            names, days = runs[-1]
            gap = [days[-1] + dt.timedelta(n) for n in range(1, (day - days[-1]).days)]
            if not gap or (name in names and all(d.weekday() >= 5 and d not in work for d in gap)):
                days.extend([*gap, day])
                names.append(name)
                continue
        runs.append(([name], [day]))
    blocks = []
    for names, days in runs:
        block = Block("、".join(dict.fromkeys(names)), days)
        block.name = RENAMED.get((year, block.name), (block.name, ""))[0]
        blocks.append(block)
    for day in sorted(d for d in work if d.year == year):
        name = key(day, work[day])
        candidates = [b for b in blocks if name in b.name.split("、")]
        if candidates:
            min(candidates, key=lambda b: min(abs((d - day).days) for d in b.rest + b.work)).work.append(day)
        else:  # e.g. 2005-12-31, a make-up day for the next year's 元旦, whose rest days are all in January
            blocks.append(Block(name, [], [day]))
    return sorted(blocks, key=lambda b: (b.rest or b.work)[0])


def notes_of(year: int, blocks: list[Block], previous: list[Block]) -> list[str]:
    notes = []
    for day, (working, _name, reason) in CORRECTIONS.items():
        if day.year == year:
            notes.append(f"更正: {day} 定为{'调休上班日' if working else '休息日'} — {reason}")
    for day, reason in HOLIDAYS_WRONG.items():
        if day.year == year:
            notes.append(f"{day}: 与 holidays 包不同, 依通知 — {reason}")
    for block in blocks:
        if "年)" in block.name:
            next_year = year + 1
            notes.append(f"{block.name} 的日期出自 {notice(next_year)}; 其在 {next_year} 年的日期见 {next_year}.yaml")
    for block in previous:
        if block.name == f"元旦 ({year}年)":
            days = ", ".join([f"{d} 休息" for d in block.rest] + [f"{d} 上班" for d in block.work])
            notes.append(f"本年元旦的安排还包括上年的 {days}, 列在 {year - 1}.yaml 的 {block.name} 下")
    for (renamed_year, _), (name, reason) in RENAMED.items():
        if renamed_year == year:
            notes.append(f"{name}: {reason}")
    notes.extend(SUPPLEMENTS.get(year, []))
    return notes


def render(year: int, blocks: list[Block], notes: list[str]) -> str:
    versions = {p: importlib.metadata.version(p) for p in ("chinesecalendar", "holidays")}
    lines = [
        f"# Generated by tools/make_calendars.py from chinesecalendar {versions['chinesecalendar']}"
        f" and checked against holidays {versions['holidays']}.",
        "# Do not edit by hand: change the script's tables (CORRECTIONS, RENAMED, SUPPLEMENTS) and rerun it.",
        f"year: {year}",
        f"source: {notice(year)}",
        "holidays:",
    ]
    for block in blocks:
        lines.append(f"  {block.name}:")
        for kind, days in (("rest", block.rest), ("work", block.work)):
            if days:
                lines.append(f"    {kind}: [{', '.join(d.isoformat() for d in days)}]")
    if notes:
        lines.append("notes:")
        lines.extend(f"  - {json.dumps(note, ensure_ascii=False)}" for note in notes)
    return "\n".join(lines) + "\n"


def cross_check(years: range, rest: dict[dt.date, str], work: dict[dt.date, str]) -> list[str]:
    """Every day on which chinesecalendar (raw or corrected) and holidays disagree, and whether it is decided."""
    other = holidays.China(years=years)
    raw_rest, raw_work = constants.holidays, constants.workdays
    problems = []
    day = dt.date(years.start, 1, 1)
    while day.year < years.stop:
        ours, theirs = is_working(day, rest, work), other.is_working_day(day)
        raw = is_working(day, raw_rest, raw_work)
        if raw != theirs or ours != theirs:
            decided = day in CORRECTIONS or day in HOLIDAYS_WRONG
            label = {True: "working", False: "rest"}
            print(
                f"{day} ({day:%a}): chinesecalendar {label[raw]}, holidays {label[theirs]} ({other.get(day)}),"
                f" ours {label[ours]} — {'decided' if decided else 'UNDECIDED'}"
            )
            if not decided or (ours != theirs and day not in HOLIDAYS_WRONG):
                problems.append(str(day))
        day += dt.timedelta(days=1)
    names = sorted(d for d in other if years.start <= d.year < years.stop and d not in rest and d.weekday() >= 5)
    for d in names:  # naming only: a weekend the notice counts into a holiday span chinesecalendar leaves out
        print(
            f"{d} ({d:%a}): holidays names it {other[d]!r}; chinesecalendar lists no holiday (weekend, rest either way)"
        )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; write no files")
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder to write (default {OUT})")
    args = parser.parse_args(argv)
    rest, work = official_days()
    years = range(min(rest).year, max(rest).year + 1)
    problems = cross_check(years, rest, work)
    if problems:
        print(f"undecided disagreements with holidays: {', '.join(problems)}", file=sys.stderr)
        return 1
    if args.check:
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    previous: list[Block] = []
    for year in years:
        blocks = blocks_of(year, rest, work)
        (args.out / f"{year}.yaml").write_text(render(year, blocks, notes_of(year, blocks, previous)), encoding="utf-8")
        previous = blocks
    print(f"wrote {len(years)} files to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
