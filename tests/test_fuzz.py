"""Fuzzing the front doors (issue 8, part 1): definitions and calendars, the command line, import sheets.

Each suite throws hypothesis-generated hostile input at one door and checks the promise made there:

* a mutated definition or calendar file is either loaded or refused with a located ``DefinitionError``
  (``FILE:LINE:COLUMN``), never any other exception;
* random command lines exit 0, 1 or 2 and never print a traceback; bad arguments exit 2 naming what
  was wrong;
* a random summary sheet is imported wholly, or refused row by row with the database untouched.

Every suite counts the cases it tried and prints the figure at the end of the module.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
import re
import signal
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, Protocol, TypeVar

import openpyxl
import pytest
import sqlalchemy as sa
import typer
import typer.core
import typer.main
import yaml
from conftest import T0, snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workflow import Engine
from workflow.calendar import Calendar, PeriodError
from workflow.cli import app, main
from workflow.definition import Definition, bundled_dir, load_definition
from workflow.engine import load_definitions
from workflow.errors import DefinitionError, ImportRejected, RowProblem, ValidationError
from workflow.fields import FieldSpec
from workflow.importer import import_file
from workflow.machine import compile_machine
from workflow.registry import Registry
from workflow.store import TABLES

T = TypeVar("T")


class Draw(Protocol):
    """``data.draw`` or a composite strategy's ``draw``: a value from a strategy."""

    def __call__(self, strategy: st.SearchStrategy[T], label: Any = None) -> T: ...


#: Cases tried and unexpected exceptions met, per suite; printed when the module is done.
CASES: Counter[str] = Counter()
UNEXPECTED: Counter[str] = Counter()
OUTCOMES: dict[str, Counter[str]] = {}

FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module", autouse=True)
def figures() -> Iterator[None]:
    """Prints, once the module has run, how many cases each suite tried and how they ended; conftest.py
    gathers these ``fuzz ...:`` lines and shows them with the other reliability figures after the run."""
    yield
    for suite, n in sorted(CASES.items()):
        seen = ", ".join(f"{what} {k}" for what, k in sorted(OUTCOMES.get(suite, Counter()).items()))
        print(f"fuzz {suite}: {n} cases ({seen}), {UNEXPECTED[suite]} unexpected exceptions")


class Case:
    """One case of a suite; the test sets ``outcome`` (loaded, refused, exit 2, ...) for the figures."""

    def __init__(self) -> None:
        self.outcome = "done"


@contextmanager
def counted(suite: str) -> Iterator[Case]:
    """Counts a case of *suite* that ran to its end, by outcome, and any exception escaping it as unexpected."""
    case = Case()
    try:
        yield case
    except Exception:
        CASES[suite] += 1
        UNEXPECTED[suite] += 1
        raise
    CASES[suite] += 1
    OUTCOMES.setdefault(suite, Counter())[case.outcome] += 1


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fails the case instead of hanging the suite when one call runs away."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ---- hostile values ----------------------------------------------------------------------------

#: Odd Unicode: RTL and LTR marks and overrides, zero-width characters, BOM, NUL and other controls,
#: a lone surrogate, emoji, combining marks, line and paragraph separators, a CJK extension character.
ODD_PIECES = [
    "\u200f",
    "\u202e",
    "\u200b",
    "\u200d",
    "\ufeff",
    "\x00",
    "\x07",
    "\x1b[31m",
    "\ud800",
    "😀",
    "👨‍👩‍👧",
    "e\u0301",
    "\u2028",
    "\x85",
    "\U0010ffff",
    "𠀀",
    "ﾟ",
    "Ⅻ",
    "İ",
    "ß",
]
ODD_TEXT = st.one_of(
    st.sampled_from(ODD_PIECES),
    st.lists(st.sampled_from([*ODD_PIECES, "a", "状态", " ", ":", "-", "#", "'", '"']), min_size=1, max_size=6).map(
        "".join
    ),
    st.text(max_size=16),
)
HUGE_INTS = st.sampled_from([2**63, -(2**63) - 1, 10**100, 10**4000])
LONG_TEXT = st.sampled_from([2_000, 2_000, 70_000, 1_000_000]).map(lambda n: "长" * (n // 3) + "x" * (n - n // 3))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 40),
    HUGE_INTS,
    st.sampled_from([float("inf"), float("-inf"), float("nan"), -0.0, 0.5, 1e308]),
    st.dates(),
    st.datetimes(),
    ODD_TEXT,
    LONG_TEXT,
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(ODD_TEXT, st.integers(0, 3)), inner, max_size=3),
    ),
    max_leaves=6,
)
NAMES = st.one_of(
    st.sampled_from(["same", "Bad Name", "x" * 70, "状态", "a", "done2", "", "0start", "replied", "closed"]),
    ODD_TEXT,
)
#: Text dropped into a YAML file as is: syntax breakers, tags, anchors, controls, escapes.
SNIPPETS = st.one_of(
    st.sampled_from(
        [
            "\t",
            ":",
            ": :",
            "- ",
            "{",
            "[",
            "]}",
            "&a ",
            "*a",
            "*nothere",
            "!!python/object/apply:os.system ['echo pwned']",
            "!custom ",
            "\x00",
            "\x07",
            "\ufeff",
            "\u202e",
            '"\\ud800"',
            '"\\x00\\uDFFF"',
            "'",
            '"',
            "%YAML 1.1\n",
            "---\n",
            "...\n",
            "\n  - x\n",
            "? ",
            "|",
            ">",
            "@",
            "`",
            "\\",
            "\r",
            "\x85",
            "\u2028",
            "%",
            "<<: *a\n",
            "9" * 5000,
            "1e400",
            "2026-02-30",
        ]
    ),
    ODD_TEXT,
)
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


# ---- mutating YAML documents -------------------------------------------------------------------

Path_ = tuple[str | int, ...]


def paths_in(node: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    """Every place in a document, the root first."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths_in(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from paths_in(value, (*prefix, i))


def parent_of(root: Any, path: Path_) -> Any:
    node = root
    for step in path[:-1]:
        node = node[step]
    return node


def state_names(doc: Any) -> list[str]:
    states = doc.get("states") if isinstance(doc, dict) else None
    return sorted(k for k in states if isinstance(k, str)) if isinstance(states, dict) else []


def mutate(draw: Draw, doc: Any) -> Any:
    """One random structural mutation of *doc* (a deep copy is expected): deleted keys, wrong types,
    renamed keys, renamed states and targets, cycles, duplicated entries, huge values."""
    places = list(paths_in(doc))
    inner = [p for p in places if p]
    how = draw(
        st.sampled_from(
            ["delete", "retype", "retype", "rename_key", "rename_state", "retarget", "cycle", "duplicate", "date"]
        )
    )
    if how in ("delete", "rename_key", "duplicate", "date") and not inner:
        how = "retype"
    if how == "delete":
        path = draw(st.sampled_from(inner))
        del parent_of(doc, path)[path[-1]]
    elif how == "retype":
        path = draw(st.sampled_from(places))
        value = draw(VALUES)
        if not path:
            return value
        parent_of(doc, path)[path[-1]] = value
    elif how == "rename_key":
        keyed = [p for p in inner if isinstance(p[-1], str)]
        if keyed:
            path = draw(st.sampled_from(keyed))
            parent, new = parent_of(doc, path), draw(NAMES)
            renamed = {(new if k == path[-1] else k): v for k, v in parent.items()}
            parent.clear()
            parent.update(renamed)
    elif how in ("rename_state", "retarget", "cycle"):
        names = state_names(doc)
        if not names:
            return doc
        old = draw(st.sampled_from(names))
        new = draw(st.one_of(st.sampled_from(names), NAMES))
        if how == "rename_state":
            everywhere = draw(st.booleans())
            doc["states"] = {(new if k == old else k): v for k, v in doc["states"].items()}
            if everywhere:
                for path in list(paths_in(doc)):
                    if path and parent_of(doc, path)[path[-1]] == old:
                        parent_of(doc, path)[path[-1]] = new
        elif how == "retarget":
            targets = [
                p for p in inner if isinstance(parent_of(doc, p)[p[-1]], str) and parent_of(doc, p)[p[-1]] in names
            ]
            if targets:
                path = draw(st.sampled_from(targets))
                parent_of(doc, path)[path[-1]] = new
        elif isinstance(doc.get("transitions"), list):
            trigger = draw(st.one_of(st.sampled_from(["loop", "back", "reopen"]), NAMES))
            doc["transitions"].append({"trigger": trigger, "source": old, "dest": new, "roles": ["office"]})
    elif how == "duplicate":
        listed = [p for p in inner if isinstance(p[-1], int)]
        if listed:
            path = draw(st.sampled_from(listed))
            parent = parent_of(doc, path)
            parent.insert(draw(st.integers(0, len(parent))), copy.deepcopy(parent[path[-1]]))
    else:  # a date (or what stands in one's place) moved, made a datetime, a weekday, or text
        path = draw(st.sampled_from(inner))
        parent_of(doc, path)[path[-1]] = draw(
            st.one_of(
                st.dates(dt.date(1949, 1, 1), dt.date(2201, 12, 31)),
                st.datetimes(dt.datetime(2000, 1, 1)),
                st.sampled_from(["2026-02-30", "2026-13-01", "明天", "2026/01/01"]),
            )
        )
    return doc


def text_mutation(draw: Draw, text: str) -> str:
    """One random mutation of the file's text: truncated, snippets inserted, lines duplicated (duplicate
    keys) or tab-indented, deep nesting, an alias bomb."""
    lines = text.splitlines(keepends=True) or [""]
    how = draw(st.sampled_from(["truncate", "insert", "insert", "dup_line", "tab", "deep", "bomb", "replace_line"]))
    if how == "truncate":
        return text[: draw(st.integers(0, len(text)))]
    if how == "insert":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(SNIPPETS) + text[at:]
    i = draw(st.integers(0, len(lines) - 1))
    if how == "dup_line":
        lines.insert(i, lines[i])
    elif how == "tab":
        lines[i] = "\t" + lines[i].lstrip(" ")
    elif how == "replace_line":
        indent = lines[i][: len(lines[i]) - len(lines[i].lstrip(" "))]
        lines[i] = f"{indent}{draw(SNIPPETS)}: {draw(SNIPPETS)}\n"
    elif how == "deep":
        depth = draw(st.sampled_from([50, 400, 1_500]))
        lines.append(f"deep: {'[' * depth}{']' * depth}\n")
    else:
        return ALIAS_BOMB + text
    return "".join(lines)


def encoded(draw: Draw, text: str) -> bytes:
    """The file's bytes: UTF-8 mostly, sometimes another encoding or with bytes that are not UTF-8."""
    how = draw(st.sampled_from(["utf-8"] * 6 + ["utf-16", "gb18030", "latin-1", "broken"]))
    raw = text.encode("utf-8", "surrogatepass")
    if how == "broken":
        at = draw(st.integers(0, len(raw)))
        return raw[:at] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80\x80"])) + raw[at:]
    if how == "utf-8":
        return raw
    return text.encode(how, "replace")


def dump(doc: Any) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=1_000_000)


def hostile_yaml(draw: Draw, original: str, doc: Any) -> bytes:
    """The bytes of a file made from *original* (its text) and *doc* (its data) by random mutations."""
    structural = draw(st.integers(0, 3))
    if structural:
        doc = copy.deepcopy(doc)
        for _ in range(structural):
            doc = mutate(draw, doc)
        text = dump(doc)
    else:
        text = original
    for _ in range(draw(st.integers(0 if structural else 1, 2))):
        text = text_mutation(draw, text)
    return encoded(draw, text)


def assert_located(exc: DefinitionError, files: Sequence[Path]) -> None:
    """A DefinitionError names one of *files* and a line and column that exist (1-based), for itself and
    for every other error it carries."""
    names = {str(f) for f in files}
    for err in exc.errors:
        assert isinstance(err, DefinitionError)
        assert err.file in names, (err.file, names)
        assert isinstance(err.line, int) and err.line >= 1, str(err)
        assert isinstance(err.column, int) and err.column >= 1, str(err)
        assert str(err).startswith(f"{err.file}:{err.line}:{err.column}: "), str(err)
        assert err.message.strip()


# ---- 1. definitions and calendars --------------------------------------------------------------

DEFINITIONS = {p.name: p for p in sorted(bundled_dir("definitions").glob("*.yaml"))}
DEFINITION_TEXT = {name: p.read_text(encoding="utf-8") for name, p in DEFINITIONS.items()}
DEFINITION_DATA = {name: yaml.safe_load(text) for name, text in DEFINITION_TEXT.items()}
CALENDARS = {p.name: p for p in sorted((bundled_dir("definitions") / "calendars").glob("*.yaml"))}
CALENDAR_TEXT = {name: p.read_text(encoding="utf-8") for name, p in CALENDARS.items()}
CALENDAR_DATA = {name: yaml.safe_load(text) for name, text in CALENDAR_TEXT.items()}
_case = Counter[str]()


def case_dir(tmp_path: Path, suite: str) -> Path:
    _case[suite] += 1
    folder = tmp_path / f"{suite}-{_case[suite]}"
    folder.mkdir()
    return folder


def test_the_bundled_files_load() -> None:
    """The files the mutations start from are valid: every failure below comes from a mutation."""
    registry = Registry.default()
    for defn in load_definitions(bundled_dir("definitions"), registry):
        compile_machine(defn, registry)
    assert set(Calendar.load().years) >= {int(name[:4]) for name in CALENDARS}


@settings(FUZZ, max_examples=180)
@given(data=st.data(), name=st.sampled_from(sorted(DEFINITIONS)), via=st.sampled_from(["file", "folder"]))
def test_mutated_definitions_load_or_fail_with_a_location(
    tmp_path: Path, data: st.DataObject, name: str, via: str
) -> None:
    """Whatever is wrong with a definition file (keys deleted, values of the wrong type, states renamed,
    targets pointing nowhere or in circles, huge numbers, 1 MB strings, odd Unicode, duplicate keys, broken
    syntax, another encoding), loading it either succeeds, giving a definition the engine can compile, or
    raises DefinitionError naming the file, a line and a column; never any other exception."""
    with counted("definitions") as case:
        folder = case_dir(tmp_path, "definition")
        path = folder / name
        path.write_bytes(hostile_yaml(data.draw, DEFINITION_TEXT[name], DEFINITION_DATA[name]))
        files = [path]
        if via == "folder":  # beside the other bundled definitions, as an engine loads them
            for other in DEFINITIONS:
                if other != name:
                    (folder / other).write_text(DEFINITION_TEXT[other], encoding="utf-8")
                    files.append(folder / other)
        registry = Registry.default()
        try:
            loaded: list[Definition] = (
                load_definitions(folder, registry) if via == "folder" else [load_definition(path, registry)]
            )
        except DefinitionError as exc:
            assert_located(exc, files)
            case.outcome = "refused"
            return
        for defn in loaded:
            compile_machine(defn, registry)
        case.outcome = "loaded"


@settings(FUZZ, max_examples=130)
@given(data=st.data(), name=st.sampled_from(sorted(CALENDARS)), via=st.sampled_from(["add_file", "load"]))
def test_mutated_calendars_load_or_fail_with_a_location(
    tmp_path: Path, data: st.DataObject, name: str, via: str
) -> None:
    """Whatever is wrong with an official-calendar file (years and dates of the wrong type or out of range,
    a day listed twice or as both rest and work, a weekday made a make-up working day, unknown keys, odd
    Unicode, broken syntax, bytes that are not UTF-8), reading it either succeeds, giving a calendar that
    counts periods, or raises DefinitionError naming the file, a line and a column; never anything else."""
    with counted("calendars") as case:
        folder = case_dir(tmp_path, "calendar")
        path = folder / name
        path.write_bytes(hostile_yaml(data.draw, CALENDAR_TEXT[name], CALENDAR_DATA[name]))
        try:
            if via == "add_file":
                calendar = Calendar()
                calendar.add_file(path)
            else:
                calendar = Calendar.load([folder])
        except DefinitionError as exc:
            assert_located(exc, [path])
            case.outcome = "refused"
            return
        for year in calendar.years:
            calendar.due(dt.date(year, 6, 30), "3 months")
            calendar.due(dt.date(year, 12, 20), "15 working days")
        case.outcome = "loaded"


#: What the fuzzing found: a value of the wrong kind where a name is looked up (TypeError: unhashable),
#: a scalar where a list is walked, an escaped lone surrogate (UnicodeEncodeError in the digest).
DEFINITION_REGRESSIONS: list[tuple[str, Path_, Any]] = [
    ("review_opinion.yaml", ("initial",), ["drafted"]),
    ("review_opinion.yaml", ("transitions", 0, "dest"), {"state": "approved"}),
    ("review_opinion.yaml", ("transitions", 1, "notices"), 1.5),
    ("review_opinion.yaml", ("transitions", 1, "notices", 0, "deadline"), ["report"]),
    ("review_opinion.yaml", ("transitions", 7, "branches"), True),
    ("review_opinion.yaml", ("clocks", "rectification_plan", "period"), {"a": 1}),
    ("review_opinion.yaml", ("clocks", "rectification_plan", "reminder_template"), ["rectification_due"]),
    ("review_opinion.yaml", ("clocks", "problem", "each"), ["measures"]),
    ("review_opinion.yaml", ("clocks", "problem", "stop", 0, "trigger"), ["update_problem"]),
    ("review_opinion.yaml", ("clocks", "problem", "date"), ["due"]),
    ("suggestion.yaml", ("clocks", "reassignment_window", "start", 1, "to"), ["assigned"]),
    ("suggestion.yaml", ("clocks", "reply", "long_when"), {"wide_ranging": True}),
    ("suggestion.yaml", ("transitions", 15, "branches", 0, "when", "result"), {"a": 1}),
    ("suggestion.yaml", ("transitions", 15, "notices", 0, "when_state"), ["rehandling"]),
    ("suggestion.yaml", ("states", "submitted", "label"), "已提交\ud800"),
]


@pytest.mark.parametrize(("name", "path", "value"), DEFINITION_REGRESSIONS)
def test_definition_regressions(tmp_path: Path, name: str, path: Path_, value: Any) -> None:
    """A list, a mapping or a number where a definition wants a name, a list or text, and text holding half a
    surrogate pair, are each a DefinitionError at the value's line and column (each once crashed the loader)."""
    doc = copy.deepcopy(DEFINITION_DATA[name])
    parent_of(doc, path)[path[-1]] = value
    target = tmp_path / name
    target.write_text(dump(doc), encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_definition(target)
    assert_located(caught.value, [target])


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [("kind: x\nlabel: a\x00b\n", 2, 9), ("\x1b[31mkind: x\n", 1, 1), ('kind: "\\ud800"\n', 1, 7)],
)
def test_control_characters_and_surrogates_are_located(tmp_path: Path, text: str, line: int, column: int) -> None:
    """A control character (NUL, ESC) in a definition or calendar, or an escaped lone surrogate, is a
    DefinitionError at its own line and column (the first crashed the YAML reader, the last the digest)."""
    for name, load in (("d.yaml", load_definition), ("2026.yaml", lambda p: Calendar().add_file(p))):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        with pytest.raises(DefinitionError) as caught:
            load(path)
        assert (caught.value.file, caught.value.line, caught.value.column) == (str(path), line, column)


def test_calendar_files_that_cannot_be_read(tmp_path: Path) -> None:
    """A calendar file that is not UTF-8, and a calendar folder whose name is too long for the system, are
    DefinitionErrors naming them (the first was a bare UnicodeDecodeError, the second an OSError)."""
    path = tmp_path / "2026.yaml"
    path.write_bytes(CALENDAR_TEXT["2026.yaml"].encode("utf-16"))
    with pytest.raises(DefinitionError, match="not UTF-8") as caught:
        Calendar().add_file(path)
    assert (caught.value.file, caught.value.line, caught.value.column) == (str(path), 1, 1)
    with pytest.raises(DefinitionError, match="cannot read the calendar folder"):
        Calendar.load([tmp_path / ("长" * 300)])


def test_periods_counted_to_the_end_of_dates() -> None:
    """A period that would end after 9999-12-31 is a PeriodError (it was a bare ValueError), and one ending in
    9999's last months is counted (the month's length was looked up in the year 10000)."""
    calendar = Calendar()
    assert calendar.due(dt.date(9999, 9, 30), "3 months").due == dt.date(9999, 12, 30)
    for start, period in ((dt.date(9999, 12, 31), "3 months"), (dt.date(9999, 12, 25), "10 working days")):
        with pytest.raises(PeriodError, match="ends after 9999-12-31"):
            calendar.due(start, period)


def test_field_values_fuzzing_broke() -> None:
    """Dates outside 1900-2199 (whose reminders and escalations fell outside the dates Python counts), JSON
    nested deeper than the parser goes, and a bound too large for a float are ValidationErrors naming the
    field (they were OverflowError, RecursionError and OverflowError)."""
    by = FieldSpec("by", "date")
    for value in ("9999-12-31", dt.date(1, 1, 1), "1899-12-31"):
        with pytest.raises(ValidationError, match="out of range") as caught:
            by.check(value, "promises[0].by")
        assert caught.value.field == "promises[0].by"
    assert by.check("2199-12-31", "by") == dt.date(2199, 12, 31)
    promises = FieldSpec("promises", "records", fields=(FieldSpec("what", "string"),))
    with pytest.raises(ValidationError, match="nested too deeply"):
        promises.check("[" * 100_000, "promises")
    with pytest.raises(ValidationError, match=f"at least {10**30}"):
        FieldSpec("n", "integer", min=10**30).check(5, "n")


# ---- 2. the command line -----------------------------------------------------------------------

SKIPPED_COMMANDS = {"daemon", "demo"}  # run until stopped / write their own demo database


def command_table() -> list[tuple[tuple[str, ...], Any]]:
    """Every command of ``duban`` (walking the command tree, so commands added later are fuzzed too)."""
    found: list[tuple[tuple[str, ...], Any]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        if isinstance(command, typer.core.TyperGroup):
            if path and command.invoke_without_command:
                found.append((path, command))
            for name, sub in sorted(command.commands.items()):
                if name not in SKIPPED_COMMANDS:
                    walk(sub, (*path, name))
        else:
            found.append((path, command))

    walk(typer.main.get_command(app), ())
    return found


COMMANDS = command_table()
GLOBAL_OPTIONS = [p for p in typer.main.get_command(app).params if isinstance(p, typer.core.TyperOption)]
FIELD_NAMES = sorted(
    {f.name for d in load_definitions(None, Registry.default()) for f in d.submit.fields}
    | {f.name for d in load_definitions(None, Registry.default()) for t in d.transitions for f in t.fields}
)
TRIGGERS = sorted({t.trigger for d in load_definitions(None, Registry.default()) for t in d.transitions})
WHEN_VALUES = [
    "2026-03-20",
    "2026-03-21T09:30",
    "2026-03-21T09:30+08:00",
    "2026-02-30",
    "20260320",
    "2026-03-20T25:00",
    "yesterday",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00+14:00",
    "0001-01-01",
    "9999-12-31",
    "1900-01-01",
    "2199-12-31",
    "",
    " ",
    "-1",
]
PERIOD_VALUES = ["3 months", "3个月", "7 working days", "0 days", "9999 years", "9999 working days", "-1 days"]
PERIOD_VALUES += ["3 fortnights", "", "1 month ago", "１０天"]
INT_VALUES = ["1", "2", "0", "-1", "99999999999999999999999", "9223372036854775808", "1e3", "abc", "", "٣", " 2 "]
FLOAT_VALUES = ["0.5", "nan", "inf", "-1", "1e999", "x", ""]
SET_VALUES = [
    "",
    "x",
    "1",
    "-1",
    "nan",
    "1e999",
    "true",
    "是",
    "2026-03-20",
    "2026-02-30",
    "9999-12-31",
    "0001-01-01",
    "3 months",
    "[]",
    "[1, 2]",
    "a,b,a",
    '[{"what": "公布清单", "by": "2026-12-31"}]',
    '[{"what": "公布清单", "by": "9999-12-31"}]',
    '[{"what": "x"}]',
    '{"a": 1}',
    '{"a":',
    "null",
    "[" * 50_000,
    r'["a\u0000b"]',
    r'[{"what": "\ud800", "by": "2026-12-31"}]',
    r'"\udcff"',
    "市民政局",
    "市民政局,市卫生健康委员会",
    "satisfied",
    "unsatisfied",
    "A",
    "B",
    "x" * 60_000,
]
PATH_VALUES = [
    "nope.csv",
    "nope/",
    ".",
    "defs",
    "defs/suggestion.yaml",
    "good.csv",
    "bad.xlsx",
    "out.html",
    "out.docx",
    "out.xlsx",
    "out.md",
    "out.unknown",
    "missing/dir/out.csv",
    "/nonexistent/dir/x.csv",
    "",
    "a\x00b",
    "名" * 300,
]
ACTOR_VALUES = ["office", "leader", "committee", "system", "unit:市民政局", "unit:市卫生健康委员会", "deputy:王芳"]
ACTOR_VALUES += ["deputy:李强", "nobody", ":", "unit:", "deputy:不存在", "unit:市民政局:x", "UNIT:市民政局"]
CONTACT_VALUES = ["handler=file:notices", "handler=mailto:a@example.invalid", "x=y", "=", "noequals", "handler="]
BY_NAME: dict[str, list[str]] = {
    "db": [],  # filled in per test: the test's database, and some broken URLs
    "at": WHEN_VALUES,
    "now": WHEN_VALUES,
    "overdue": WHEN_VALUES,
    "start": WHEN_VALUES,
    "date_from": WHEN_VALUES,
    "date_to": WHEN_VALUES,
    "period": PERIOD_VALUES,
    "kind": ["suggestion", "review_opinion", "nope", "", "Suggestion"],
    "trigger": [*TRIGGERS, "nope", "", "__init__", "REGISTER"],
    "actor": ACTOR_VALUES,
    "contact": CONTACT_VALUES,
    "role": ["unit", "deputy", "leader", "office", "", "x"],
    "status": ["queued", "sending", "sent", "failed", "dead", "nope"],
    "fmt": ["mermaid", "dot", "html", "docx", "md", "csv", "xlsx", "json", "nope", ""],
    "unknown_deputy": ["warn", "error", "x"],
    "log_format": ["text", "json", "x"],
    "state": ["submitted", "handling", "closed", "nope", ""],
    "unit": ["市民政局", "市卫生健康委员会", "nope", ""],
    "units": ["市民政局", "nope", ""],
    "name": ["市民政局", "王芳", "新单位", "", " "],
}
GARBAGE_TOKENS = ["--bogus", "-x", "--", "--json", "--help", "-", "--db", "--set", "x=1", "--at=2026-03-20"]


def set_pair(draw: Draw, hostile: bool) -> str:
    how = draw(st.sampled_from(["field", "field", "field", "noequals", "odd"] if hostile else ["field"]))
    if how == "noequals":
        return draw(st.sampled_from(["noequals", "=x", " =x", ""]))
    key = draw(st.sampled_from(FIELD_NAMES)) if how == "field" else draw(ODD_TEXT)
    values = st.one_of(st.sampled_from(SET_VALUES), ODD_TEXT) if hostile else st.sampled_from(SET_VALUES)
    return f"{key}={draw(values)}"


def annotation(param: Any) -> str:
    """The parameter's Python type as written (``int | None``, ``list[pathlib.Path] | None``, ...)."""
    descriptor = getattr(param, "type_descriptor", None)
    return str(getattr(descriptor, "annotation", ""))


def option_value(draw: Draw, param: Any, hostile: bool = True) -> str:
    """A value for *param*: from the pool its name calls for, else one fitting (or, when *hostile*, not
    fitting) its type."""
    name = param.name or ""
    if name == "sets":
        return set_pair(draw, hostile)
    pool = BY_NAME.get(name)
    if pool:
        return str(draw(st.one_of(st.sampled_from(pool), ODD_TEXT) if hostile else st.sampled_from(pool)))
    kind = annotation(param)
    if re.search(r"\bint\b", kind) or name in ("item", "notice", "year"):
        return str(draw(st.sampled_from(INT_VALUES if hostile else INT_VALUES[:2])))
    if re.search(r"\bfloat\b", kind):
        return str(draw(st.sampled_from(FLOAT_VALUES if hostile else FLOAT_VALUES[:1])))
    if "Path" in kind or name in ("file", "paths", "output", "errors_to", "definitions", "settings"):
        return str(draw(st.sampled_from(PATH_VALUES if hostile else PATH_VALUES[:12])))
    if not hostile:
        return str(draw(st.sampled_from(["x", "市民政局", "王芳", "1"])))
    return str(draw(st.one_of(ODD_TEXT, st.sampled_from(["x", "市民政局", "1", "", "--json"]))))


@st.composite
def command_lines(draw: Draw, db: str) -> list[str]:
    """A random ``duban`` command line: a real command with random options and values; half of them
    hostile, with values of any kind, options missing, unknown or repeated, and tokens in odd places."""
    hostile = draw(st.booleans())
    argv: list[str] = []
    if draw(st.integers(0, 9)) or not hostile:
        argv += ["--db", db]
    else:
        argv += ["--db", draw(st.sampled_from(["garbage", "mysql://x/y", "sqlite:///missing/dir/x.db", "", db]))]
    for param in GLOBAL_OPTIONS:
        if hostile and param.name != "db" and not draw(st.integers(0, 14)):
            argv += [param.opts[0], option_value(draw, param)]
    path, command = draw(st.sampled_from(COMMANDS))
    argv += list(path)
    tokens: list[str] = []
    for param in command.params:
        if isinstance(param, typer.core.TyperArgument):
            if draw(st.integers(0, 7)) or not hostile:
                for _ in range(1 if param.nargs == 1 else draw(st.integers(0, 2))):
                    tokens.append(option_value(draw, param, hostile))
            continue
        wanted = draw(st.integers(0, 7)) != 0 or not hostile if param.required else draw(st.integers(0, 2)) == 0
        if param.name == "help" or not wanted:
            continue
        for _ in range(draw(st.integers(1, 3)) if param.multiple else 1):
            tokens.append(draw(st.sampled_from(param.opts)))
            if not param.is_flag:
                tokens.append(option_value(draw, param, hostile))
    if not hostile:
        return argv + tokens
    for _ in range(draw(st.integers(0, 2))):
        if draw(st.integers(0, 3)) == 0:
            tokens.insert(draw(st.integers(0, len(tokens))), draw(st.one_of(st.sampled_from(GARBAGE_TOKENS), ODD_TEXT)))
    if tokens and draw(st.integers(0, 5)) == 0:
        del tokens[draw(st.integers(0, len(tokens) - 1))]
    return argv + tokens


class Shell:
    """Runs ``duban`` in process against the test's database, as test_cli.py does, with unexpected
    exceptions let through (DUBAN_DEBUG=1) so that a bug is a failure here, not an ``error:`` line."""

    def __init__(self, db: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.db, self.capsys = db, capsys

    def __call__(self, *args: str, db: bool = True) -> tuple[int, str, str]:
        with time_limit(60):
            code = main(["--db", self.db, *args] if db else list(args))
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def shell(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Shell:
    """A database with two units, two deputies and a suggestion assigned to 市民政局, in a scratch folder
    holding the files the fuzzed command lines name (notices go to a folder, never out)."""
    monkeypatch.chdir(tmp_path)
    for name in ("DUBAN_DB", "DUBAN_SETTINGS", "DUBAN_PARAMETERS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DUBAN_DEBUG", "1")
    monkeypatch.setenv("DUBAN_OUTBOX_DIR", str(tmp_path / "outbox"))
    (tmp_path / "defs").mkdir()
    for name, text in DEFINITION_TEXT.items():
        (tmp_path / "defs" / name).write_text(text, encoding="utf-8")
    (tmp_path / "good.csv").write_text("标题,提出代表\n关于路灯的建议,王芳\n", encoding="utf-8")
    (tmp_path / "bad.xlsx").write_bytes(b"PK\x03\x04 not really")
    run = Shell(db_url, capsys)
    for args in (
        ["init"],
        ["party", "add", "unit", "市民政局", "--principal-leader", "郑红"],
        ["party", "add", "unit", "市卫生健康委员会"],
        ["party", "add", "deputy", "王芳"],
        ["party", "add", "deputy", "李强"],
        ["submit", "suggestion", "--title", "公布社区养老服务清单", "--proposer", "王芳", "--set", "origin=session"],
        ["fire", "1", "register"],
        ["fire", "1", "assign", "--set", "lead_unit=市民政局", "--set", "co_units=市卫生健康委员会"],
    ):
        code, _, err = run(*args)
        assert code == 0, (args, err)
    return run


@settings(FUZZ, max_examples=160)
@given(data=st.data())
def test_random_command_lines_never_crash(shell: Shell, data: st.DataObject) -> None:
    """Any command line, however wrong, ends with exit status 0, 1 or 2 and never a traceback; an exit 2
    (bad input) always says why on stderr."""
    check_command_line(shell, data.draw(command_lines(shell.db)))


def check_command_line(shell: Shell, argv: list[str]) -> None:
    with counted("command lines") as case:
        code, out, err = shell(*argv, db=False)
        case.outcome = f"exit {code}"
        assert code in (0, 1, 2), (argv, code, err)
        assert "Traceback" not in out + err, argv
        if code == 2:  # says why: on stderr, or in the JSON asked for
            assert err.strip() or ("--json" in argv and out.strip()), (argv, "exit 2 without a message")


#: Command lines fuzzing found crashing (an overflow in the database driver or in date arithmetic, an
#: unreadable settings file, a URL that is not one) or blaming the wrong option (--at for --now).
CLI_REGRESSIONS: list[tuple[list[str], str]] = [
    (["show", "99999999999999999999999"], "item"),
    (["notices", "retry", "9223372036854775808"], "notice"),
    (["sweep", "--batch", "99999999999999999999999"], "--batch"),
    (["submit", "suggestion", "--title", "x", "--set", "origin=session", "--at", "9999-12-31T23:59:59-14:00"], "--at"),
    (["deadline", "--from", "9999-12-31", "--period", "3 months"], "--period"),
    (["sweep", "--now", "zz"], "--now"),
    (["dispatch", "--now", "0001-01-01T00:00+14:00"], "--now"),
    (["deadlines", "--overdue", "zz"], "--overdue"),
    (["--settings", "nope.toml", "list"], "--settings"),
    (["--settings", "good.csv", "list"], "--settings"),
    (["--db", "garbage", "list"], "--db"),
    (["--db", "mysql://x/y", "list"], "--db"),
    (["--calendar", "长" * 300, "list"], "cannot read the calendar folder"),
    (["party", "add", "unit", "市\udcff局"], "not UTF-8"),
    (["party", "add", "unit", "市\x00局"], "NUL"),
    (
        ["submit", "suggestion", "--title", "x", "--set", "origin=session", "--set", r'proposers=["王芳\ud800"]'],
        "proposers",
    ),
]


def test_command_line_regressions(shell: Shell) -> None:
    """Each of these once ended in an uncaught exception (or named the wrong option); now each exits 2 with
    one line on stderr naming what was wrong."""
    for argv, named in CLI_REGRESSIONS:
        code, out, err = shell(*argv, db=argv[0] != "--db")
        assert (code, "Traceback" in out + err) == (2, False), (argv, err)
        assert named.lower() in err.lower(), (argv, err)


def bad_when(text: str) -> bool:
    try:
        when = dt.datetime.fromisoformat(text.strip())
        when.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        return True
    return False


def bad_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text.strip())
    except ValueError:
        return True
    return False


def bad_int(text: str) -> bool:
    try:
        return not -(2**63) <= int(text) < 2**63
    except ValueError:
        return True


def bad_period(text: str) -> bool:
    try:
        Calendar().due(dt.date(2026, 3, 20), text)
    except ValueError:  # PeriodError
        return True
    return False


BAD_WHEN = st.one_of(st.sampled_from(WHEN_VALUES[3:]), ODD_TEXT).filter(bad_when)
BAD_DATE = st.one_of(st.sampled_from(WHEN_VALUES[3:]), ODD_TEXT).filter(bad_date)
BAD_INT = st.one_of(st.sampled_from(INT_VALUES), ODD_TEXT).filter(bad_int)
BAD_PERIOD = st.one_of(
    st.sampled_from(["9999 years", "0 days", "-1 days", "3 fortnights", "", "1 month ago"]), ODD_TEXT
)
BAD_CHOICE = ODD_TEXT.filter(lambda s: s.strip() not in ("warn", "error", "mermaid", "dot", "md", "html", "csv"))
#: (command line with {} for the bad value, the strategy of bad values, what the message must name)
BAD_ARGUMENTS: list[tuple[list[str], st.SearchStrategy[str], str]] = [
    (["fire", "1", "accept", "--actor", "unit:市民政局", "--at", "{}"], BAD_WHEN, "--at"),
    (["submit", "suggestion", "--title", "x", "--set", "origin=session", "--at", "{}"], BAD_WHEN, "--at"),
    (["deadlines", "--overdue", "{}"], BAD_WHEN, "--overdue"),
    (["dispatch", "--now", "{}"], BAD_WHEN, "--now"),
    (["sweep", "--now", "{}"], BAD_WHEN, "--now"),
    (["report", "followup", "--now", "{}"], BAD_WHEN, "--now"),
    (["import", "good.csv", "--at", "{}"], BAD_WHEN, "--at"),
    (["deadline", "--from", "{}", "--period", "3 months"], BAD_DATE, "--from"),
    (["report", "followup", "--from", "{}"], BAD_DATE, "from"),
    (["report", "followup", "--to", "{}"], BAD_DATE, "to"),
    (["deadline", "--from", "2026-03-20", "--period", "{}"], BAD_PERIOD.filter(bad_period), "--period"),
    (["list", "--year", "{}"], BAD_INT, "--year"),
    (["show", "{}"], BAD_INT, "ITEM"),
    (["fire", "{}", "register"], BAD_INT, "ITEM"),
    (["audit", "verify", "{}"], BAD_INT, "ITEM"),
    (["deadlines", "--item", "{}"], BAD_INT, "--item"),
    (["notices", "retry", "{}"], BAD_INT, "NOTICE"),
    (["sweep", "--batch", "{}"], BAD_INT, "--batch"),
    (["fire", "1", "accept", "--expect-version", "{}"], BAD_INT, "--expect-version"),
    (["fire", "1", "accept", "--set", "{}"], st.sampled_from(["noequals", "=x", " =x", ""]), "--set"),
    (["import", "good.csv", "--unknown-deputy", "{}"], BAD_CHOICE, "--unknown-deputy"),
    (["definitions", "graph", "suggestion", "--format", "{}"], BAD_CHOICE, "--format"),
    (["--settings", "{}", "list"], st.sampled_from(["nope.toml", "good.csv", "defs"]), "--settings"),
    (["--db", "{}", "list"], st.sampled_from(["garbage", "mysql://x/y", "nope://x", "sqlite+nodriver:///x"]), "--db"),
]


@settings(FUZZ, max_examples=70)
@given(case=st.sampled_from(range(len(BAD_ARGUMENTS))), data=st.data())
def test_bad_arguments_exit_2_naming_what_was_wrong(shell: Shell, case: int, data: st.DataObject) -> None:
    """A value that cannot be right for an option or argument (a date that is not one, a number out of
    range, KEY=VALUE without the =, an unknown choice, a database URL that is not one) exits 2 with a
    message on stderr naming the option or argument, and nothing is written."""
    template, values, named = BAD_ARGUMENTS[case]
    value = data.draw(values)
    argv = [value if token == "{}" else token for token in template]
    with counted("bad arguments") as tally:
        code, out, err = shell(*argv, db=argv[0] != "--db")
        tally.outcome = f"exit {code}"
        assert code == 2, (argv, code, out, err)
        assert "Traceback" not in out + err
        assert named.lower() in err.lower() or ascii(value)[:40] in err, (argv, err)


# ---- 3. import spreadsheets --------------------------------------------------------------------

SESSION = "市十五届人大三次会议"
#: Every column a sheet may have, with the header variants offices write.
HEADERS: dict[str, list[str]] = {
    "number": ["编号", "建议编号", "number"],
    "title": ["标题", "标题*", "标 题", "title", "案由"],
    "proposers": ["提出代表", "代表", "proposers"],
    "lead_deputy": ["领衔代表", "lead_deputy"],
    "session": ["会次", "session"],
    "body": ["内容", "建议内容"],
    "suggested_units": ["建议承办单位"],
    "kind": ["类别"],
    "origin": ["大会期间/闭会期间", "大会／闭会"],
    "submitted_on": ["提出日期"],
    "note": ["备注", "unrelated"],
}
OPTIONAL = ["number", "lead_deputy", "session", "body", "suggested_units", "kind", "origin", "submitted_on", "note"]
#: Cells that make a row bad for sure, by column.
SURELY_BAD: dict[str, list[Any]] = {
    "title": ["", "   ", "x" * 600],
    "proposers": ["王芳、王芳"],
    "lead_deputy": ["张三丰"],
    "kind": ["未知类别", "审议意见"],
    "origin": ["半会期间", "session?"],
    "submitted_on": ["2026-02-30", "明天", "2099-01-01", 45000, dt.datetime(2099, 1, 1)],
}
#: Cells that may or may not be acceptable: the import decides, but wholly either way.
MAYBE_BAD: list[Any] = [
    "=1+1",
    '=HYPERLINK("http://x","y")',
    "+1",
    "@SUM(A1)",
    "不存在的单位",
    "王方",
    "x" * 70_000,
    "长" * 20_000,
    42,
    -1.5,
    3.0,
    10**30,
    True,
    dt.date(2026, 3, 1),
    dt.datetime(2026, 3, 1, 9, 30),
    dt.time(9, 30),
    "2026/3/1",
    "2026年3月1日",
    "\u200f\u202e标题",
    "😀",
    "\ufeff",
    "a\x00b",
    "\x07",
    "line\nbreak",
    '"quoted", with, commas',
    None,
]
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # what openpyxl refuses to write into a cell


def good_cell(column: str, case: int, row: int, fmt: str, joint: bool) -> Any:
    """A cell of a good row; a jointly proposed item needs its lead deputy's column."""
    return {
        "number": f"F{case}-{row}",
        "title": f"关于第{case}批第{row}项事项的建议",
        "proposers": "王芳、李强" if joint else "王芳",
        "lead_deputy": "王芳",
        "session": SESSION,
        "body": "正文。",
        "suggested_units": "市民政局",
        "kind": "代表建议",
        "origin": "大会期间",
        "submitted_on": dt.date(2026, 3, 1) if fmt == "xlsx" else "2026-03-01",
        "note": "备注",
    }[column]


def write_sheet(path: Path, rows: Sequence[Sequence[Any]], fmt: str, encoding: str) -> None:
    if fmt == "xlsx":
        book = openpyxl.Workbook()
        ws = book.active
        assert ws is not None
        ws.title = "建议汇总表"
        for row in rows:
            ws.append([_ILLEGAL.sub("", v) if isinstance(v, str) else v for v in row])
        book.save(path)
        return
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["" if v is None else str(v) for v in row] for row in rows])
    path.write_bytes(buffer.getvalue().encode(encoding, "replace"))


def count_items(eng: Engine) -> int:
    with eng.db.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(TABLES["duban_item"])).scalar_one())


@pytest.fixture
def importer(engine: Engine) -> Engine:
    """The test's engine with the deputies the good rows name registered."""
    for name in ("王芳", "李强"):
        engine.add_party("deputy", name)
    return engine


@settings(FUZZ, max_examples=70)
@given(data=st.data())
def test_random_sheets_import_wholly_or_not_at_all(
    importer: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str], data: st.DataObject
) -> None:
    """A summary sheet with bad cells among good rows (impossible dates, unknown kinds and periods, empty
    required cells, formulas, huge text, numbers and booleans where text belongs, odd Unicode, repeated
    rows, a missing column), as .xlsx or as CSV in any of Excel's encodings, is either imported wholly
    (one item per row) or refused with every problem at its FILE:ROW:COLUMN and the database exactly as
    it was; never a partial import, never another exception. With --skip-bad the good rows are imported
    and exactly the bad ones left out."""
    draw = data.draw
    with counted("import sheets") as tally:
        folder = case_dir(tmp_path, "sheet")
        case = _case["sheet"]
        fmt = draw(st.sampled_from(["xlsx", "csv"]))
        encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
        columns = ["title", "proposers", *draw(st.lists(st.sampled_from(OPTIONAL), unique=True, max_size=6))]
        columns = draw(st.permutations(columns))
        header = [draw(st.sampled_from(HEADERS[c])) for c in columns]
        surely_bad = tainted = False
        if draw(st.integers(0, 9)) == 0:  # a required column missing, or one given twice
            if draw(st.booleans()):
                i = columns.index("title")
                del columns[i], header[i]
            else:
                columns.append("title")
                header.append("标题")
            surely_bad = True
        n = draw(st.integers(0, 6))
        body: list[list[Any]] = []
        for r in range(n):
            row = [good_cell(c, case, r, fmt, "lead_deputy" in columns) for c in columns]
            if draw(st.integers(0, 2)) == 0:
                i = draw(st.integers(0, len(columns) - 1))
                if columns[i] in SURELY_BAD and draw(st.booleans()):
                    row[i] = draw(st.sampled_from(SURELY_BAD[columns[i]]))
                    if not (columns[i] == "lead_deputy" and "proposers" not in columns):
                        surely_bad = True
                else:
                    row[i] = draw(st.sampled_from(MAYBE_BAD))
                    tainted = True
            body.append(row)
        if n > 1 and draw(st.integers(0, 7)) == 0:  # a row repeated
            body.append(list(body[0]))
            surely_bad = True
        rows: list[list[Any]] = [["2026年代表建议汇总表"]] * draw(st.integers(0, 2)) + [header]
        for row in body:
            if draw(st.integers(0, 5)) == 0:
                rows.append([])  # a blank line, which is not a row
            rows.append(row + ([draw(st.sampled_from(MAYBE_BAD))] if draw(st.integers(0, 6)) == 0 else []))
        path = folder / f"汇总{case}.{fmt}"
        write_sheet(path, rows, fmt, encoding)
        how = draw(st.sampled_from(["api", "api", "skip_bad", "cli"]))

        before, items_before = snapshot(importer), count_items(importer)
        if how == "cli":
            code = main(["--db", importer.url, "import", str(path), "--at", "2026-03-20T17:00+08:00", "--json"])
            out, err = capsys.readouterr()
            assert code in (0, 2), err
            assert "Traceback" not in out + err
            if code == 2:
                assert snapshot(importer) == before
                refused = json.loads(out)  # --json: the problems on stdout, the failure as JSON on stderr
                assert refused["ok"] is False and refused["file"] == str(path) and refused["errors"], out
                assert json.loads(err)["error"]["message"].startswith("nothing imported"), err
                assert surely_bad or tainted, err
                tally.outcome = "refused"
            else:
                done = json.loads(out)
                assert not surely_bad, err
                assert tainted or done["skipped"] == 0
                assert done["imported"] + done["skipped"] == len(body)
                assert count_items(importer) == items_before + done["imported"]
                tally.outcome = "imported"
            return
        try:
            result = import_file(importer, path, at=T0, skip_bad=how == "skip_bad")
        except ImportRejected as exc:
            assert snapshot(importer) == before
            assert exc.problems
            for problem in exc.problems:
                assert_row_level(problem, str(path))
            assert surely_bad or tainted, [str(p) for p in exc.problems]
            tally.outcome = "refused"
            return
        assert not surely_bad or how == "skip_bad", [str(p) for p in result.bad]
        tally.outcome = "partly imported (--skip-bad)" if result.bad else "imported"
        assert result.rows == len(body)
        assert tainted or result.skipped == []  # a hostile title may be one an earlier case imported
        assert len(result.imported) + len(result.skipped) + len(result.bad_rows) == len(body)
        assert count_items(importer) == items_before + len(result.imported)
        assert (result.errors_file is not None) == bool(result.bad)
        if how != "skip_bad":
            assert result.bad == []


def assert_row_level(problem: RowProblem, file: str) -> None:
    """A problem names the file, and the row (as Excel numbers it) and column when it is about a row."""
    assert problem.file == file
    assert str(problem).startswith(file)
    assert problem.message.strip()
    if problem.row is not None:
        assert problem.row >= 1 and problem.column, problem
        assert str(problem).startswith(f"{file}:{problem.row}:{problem.column}: ")
