"""Typed data fields of submissions and triggers, and how input values are checked against them.

Values may arrive typed (from Python) or as strings (from the CLI's ``--set KEY=VALUE``): lists
as ``a,b,c`` (or ``王芳、李强``: the separators an import splits on, :data:`LIST_SEPARATORS`) or JSON,
records as JSON. A choice is its code or its Chinese label (``大会期间`` for ``session``), stored as
the code. Every rejection is a ValidationError naming the field (``promises[0].by`` for nested
values); the required fields missing from one mapping are named together (:class:`MissingFields`).
The fields that name parties (:data:`workflow.names.PARTY_FIELDS`) are normalised as party names
are, and refused when a name holds a character that shows nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workflow.calendar import PeriodError, parse_period
from workflow.errors import ValidationError, WorkflowError
from workflow.names import normal_fields

__all__ = [
    "DATES",
    "FIELD_TYPES",
    "LIST_SEPARATORS",
    "FieldSpec",
    "MissingFields",
    "check_data",
    "distinct_labels",
    "labels_from",
    "split_list",
]

FIELD_TYPES = (
    "string",
    "text",
    "integer",
    "number",
    "boolean",
    "date",
    "period",
    "choice",
    "list",
    "records",
)
_TRUE = {"true", "yes", "1", "y", "是"}
_FALSE = {"false", "no", "0", "n", "否"}
#: Default bounds keep hostile input from filling the database; a definition may set its own.
DEFAULT_MAX_LENGTH = {"string": 500, "text": 50_000}
DEFAULT_MAX_ITEMS = 500
_SURROGATE = re.compile("[\ud800-\udfff]")
#: What separates the entries of a list written as text: the import's separators (a sheet's 提出代表
#: column), the CLI's too. One separator between two entries: ``甲,,乙`` has an empty entry.
LIST_SEPARATORS = "、，,;；\n\r"
_SEPARATOR = re.compile(f"\r\n|[{LIST_SEPARATORS}]")
#: The dates a field may hold: a workflow's dates lie well inside this window, and the periods counted
#: from them (reminders before, escalations after) stay inside the dates Python can represent.
DATES = (dt.date(1900, 1, 1), dt.date(2199, 12, 31))
#: The whole numbers a field may hold: 64-bit signed, what a database column and every JSON reader keep exactly.
INTEGER_RANGE = (-(2**63), 2**63 - 1)
_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)  # ASCII digits only: not ², ٣ or fullwidth ３


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    type: str
    required: bool = False
    label: str = ""
    choices: tuple[str, ...] = ()
    #: the Chinese label of each choice, in the order of ``choices`` ("" where a choice has none)
    choice_labels: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    min_items: int = 0
    max_items: int = DEFAULT_MAX_ITEMS
    fields: tuple[FieldSpec, ...] = ()
    keep: bool = False  # copy the value into the item's data when the trigger fires
    #: who may give this field a value (roles as in a transition's ``roles``, or ``on_due``: only the
    #: engine's own timeout fire); empty: whoever may fire the trigger
    set_by: tuple[str, ...] = ()

    def check(self, value: Any, path: str) -> Any:
        """Return the value in its canonical Python type, or raise ValidationError at *path*."""
        if _blank(self, value):
            if self.required:
                raise ValidationError(path, f"is required ({self.type}{_label(self)})")
            return None
        return getattr(self, f"_check_{self.type}")(value, path)

    def _check_string(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise ValidationError(path, f"must be text, not {type(value).__name__}")
        text: str = value.strip() if self.type == "string" else value
        limit = self.max_length or DEFAULT_MAX_LENGTH[self.type]
        if len(text) > limit:
            raise ValidationError(path, f"is {len(text)} characters long; at most {limit} are allowed")
        if self.required and not text.strip():
            raise ValidationError(path, "must not be empty")
        if "\x00" in text:  # PostgreSQL refuses NUL in text, and C tools read it as the end of the string
            raise ValidationError(path, "must not contain the NUL character (\\x00)")
        if half := _SURROGATE.search(text):  # JSON's "\ud800": half a character, which no database stores
            raise ValidationError(path, f"holds \\u{ord(half.group()):04x}, half of a surrogate pair, not a character")
        return text

    _check_text = _check_string

    def _check_integer(self, value: Any, path: str) -> int:
        if isinstance(value, str):
            text = value.strip()
            if not _INTEGER.fullmatch(text):
                raise ValidationError(path, f"must be a whole number written with the digits 0-9, not {_short(text)}")
            if len(text.lstrip("+-")) > 20:  # out of range whatever it is, and never parsed (Python stops at 4300)
                raise _out_of_range(path, _short(text))
            value = int(text)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(path, f"must be a whole number, not {value!r}")
        if not INTEGER_RANGE[0] <= value <= INTEGER_RANGE[1]:
            raise _out_of_range(path, str(value) if value.bit_length() < 128 else f"a {value.bit_length()}-bit number")
        return int(self._bounded(value, path))

    def _check_number(self, value: Any, path: str) -> float:
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise ValidationError(path, f"must be a number, not {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValidationError(path, f"must be a finite number, not {value!r}")
        return float(self._bounded(value, path))

    def _bounded(self, value: float, path: str) -> float:
        if self.min is not None and value < self.min:
            raise ValidationError(path, f"must be at least {_number(self.min)}, not {_number(value)}")
        if self.max is not None and value > self.max:
            raise ValidationError(path, f"must be at most {_number(self.max)}, not {_number(value)}")
        return value

    def _check_boolean(self, value: Any, path: str) -> bool:
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        if not isinstance(value, bool):
            raise ValidationError(path, f"must be true or false, not {value!r}")
        return value

    def _check_date(self, value: Any, path: str) -> dt.date:
        if isinstance(value, dt.datetime):
            raise ValidationError(path, "must be a date (YYYY-MM-DD), not a date and time")
        try:
            day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise ValidationError(path, f"must be a date written YYYY-MM-DD, not {value!r}") from None
        if not DATES[0] <= day <= DATES[1]:
            raise ValidationError(path, f"{day} is out of range: a date lies between {DATES[0]} and {DATES[1]}")
        return day

    def _check_period(self, value: Any, path: str) -> str:
        try:
            return str(parse_period(value))
        except PeriodError as exc:
            raise ValidationError(path, str(exc)) from None

    def labelled(self) -> list[tuple[str, str]]:
        """Each choice as (code, Chinese label); the label is "" where the definition gives none."""
        labels = self.choice_labels if len(self.choice_labels) == len(self.choices) else ("",) * len(self.choices)
        return list(zip(self.choices, labels, strict=True))

    def choice_label(self, code: str) -> str:
        """The Chinese label of choice *code*, or the code itself when it has none."""
        return next((label for c, label in self.labelled() if c == code and label), code)

    def _check_choice(self, value: Any, path: str) -> str:
        if value in self.choices:
            return str(value)
        text = value.strip() if isinstance(value, str) else value
        for code, label in self.labelled():  # the label a clerk reads, a code in either case, "A 已解决…"
            if (isinstance(text, str) and text in (code, label, f"{code} {label}")) or _same_code(text, code):
                return code
        options = ", ".join(f"{label} ({code})" if label else code for code, label in self.labelled())
        raise ValidationError(path, f"must be one of {options}; got {value!r}")

    def _check_list(self, value: Any, path: str) -> list[str]:
        if isinstance(value, str):
            value = _json(value, path) if value.lstrip().startswith("[") else split_list(value)
        if not isinstance(value, (list, tuple)):
            raise ValidationError(path, f"must be a list of names, not {type(value).__name__}")
        entry = FieldSpec(self.name, "string", required=True, max_length=self.max_length)
        out = [entry._check_string(v, f"{path}[{i}]") for i, v in enumerate(value)]
        self._count(out, path)
        for i, v in enumerate(out):
            if v in out[:i]:
                raise ValidationError(f"{path}[{i}]", f"{v!r} is listed twice")
        return out

    def _check_records(self, value: Any, path: str) -> list[dict[str, Any]]:
        if isinstance(value, str):
            value = _json(value, path)
        if isinstance(value, Mapping):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise ValidationError(path, 'must be a list of records, e.g. [{"what": ..., "by": "2026-12-31"}]')
        self._count(value, path)
        return [check_data(self.fields, v, f"{path}[{i}]") for i, v in enumerate(value)]

    def _count(self, values: Any, path: str) -> None:
        if len(values) < self.min_items:
            raise ValidationError(path, f"needs at least {self.min_items} entr{'y' if self.min_items == 1 else 'ies'}")
        if len(values) > self.max_items:
            raise ValidationError(path, f"has {len(values)} entries; at most {self.max_items} are allowed")


class MissingFields(ValidationError):
    """Required fields left out of one mapping, named together: ``.fields`` lists each (dotted for
    nested values); ``.field`` is the first, so a caller reading one field still finds one."""

    def __init__(self, specs: list[FieldSpec], paths: list[str]):
        self.fields = paths
        if len(paths) == 1:
            super().__init__(paths[0], f"is required ({specs[0].type}{_label(specs[0])})")
            return
        each = "; ".join(f"{p} ({s.type}{_label(s)})" for s, p in zip(specs, paths, strict=True))
        self.field, self.message = paths[0], f"{len(paths)} required fields are missing: {each}"
        WorkflowError.__init__(self, self.message)


def check_data(specs: tuple[FieldSpec, ...], data: Any, where: str = "") -> dict[str, Any]:
    """Check a mapping of values against *specs*; unknown keys and missing required fields fail
    (every missing one named at once, :class:`MissingFields`)."""
    prefix = f"{where}." if where else ""
    if not isinstance(data, Mapping):
        raise ValidationError(where or "data", f"must be a mapping of field names to values, not {type(data).__name__}")
    known = {s.name: s for s in specs}
    for key in data:
        if key not in known:
            names = ", ".join(known) or "none"
            raise ValidationError(f"{prefix}{key}", f"is not a field here; the fields are: {names}")
    missing = [s for s in specs if s.required and _blank(s, data.get(s.name))]
    if missing:
        raise MissingFields(missing, [f"{prefix}{s.name}" for s in missing])
    out: dict[str, Any] = {}
    for spec in specs:
        value = spec.check(data.get(spec.name), f"{prefix}{spec.name}")
        if value is not None:
            out[spec.name] = value
    return normal_fields(out, prefix)  # a field naming a party holds the name as parties are stored


def split_list(text: str) -> list[str]:
    """The entries of a list written as text: ``王芳、李强`` and ``王芳,李强`` are two (:data:`LIST_SEPARATORS`)."""
    return [entry.strip() for entry in _SEPARATOR.split(text)]


def labels_from(label: str, choices: tuple[str, ...]) -> tuple[str, ...]:
    """Choice labels read from a field's label that names each choice in turn, ``满意 / 基本满意 / 不满意``
    (a part that starts with its code, ``A 已解决或基本解决``, is labelled by the rest); () otherwise."""
    parts = [p.strip() for p in label.split(" / ")]
    if len(choices) < 2 or len(parts) != len(choices):
        return ()
    return tuple(p.removeprefix(f"{c} ").strip() for c, p in zip(choices, parts, strict=True))


def distinct_labels(codes: tuple[str, ...], labels: tuple[str, ...]) -> bool:
    """Whether every label names one choice only: none blank, none twice, none another choice's code."""
    others = [codes[:i] + codes[i + 1 :] for i in range(len(codes))]
    return (
        all(labels)
        and len(set(labels)) == len(labels)
        and not any(v in o for v, o in zip(labels, others, strict=False))
    )


def _blank(spec: FieldSpec, value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip() and spec.type != "text")


def _same_code(value: Any, code: str) -> bool:
    """``a`` for ``A``, ``Satisfied`` for ``satisfied``: a code typed in another case."""
    return isinstance(value, str) and value.casefold() == code.casefold()


def _json(text: str, path: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(path, f"is not valid JSON ({exc.msg} at character {exc.pos})") from None
    except RecursionError:
        raise ValidationError(path, "is JSON nested too deeply") from None
    except ValueError:  # a number of more than 4300 digits, which Python will not read
        raise ValidationError(path, "holds a number too long to read (more than 4300 digits)") from None


def _number(value: float) -> str:
    """A bound or value for a message; a whole number too large for a float is written out."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _out_of_range(path: str, shown: str) -> ValidationError:
    low, high = INTEGER_RANGE
    return ValidationError(path, f"{shown} is out of range: a whole number here lies between {low} and {high}")


def _short(text: str) -> str:
    """Text for a message, quoted; a very long one by its start and its length."""
    return repr(text) if len(text) <= 40 else f"{text[:20]!r}… ({len(text)} characters)"


def _label(spec: FieldSpec) -> str:
    return f", {spec.label}" if spec.label else ""
