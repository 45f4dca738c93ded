"""A kind or a state as a clerk names it: its code (``suggestion``, ``closed``) or its Chinese label
(``代表建议``, ``已办结``), read to the code. A name that is neither is refused listing what there is, so
``duban list --state 已完结`` says so instead of listing nothing."""

from __future__ import annotations

from collections.abc import Iterable

from workflow.definition import Definition
from workflow.errors import ValidationError
from workflow.wording import plain

__all__ = ["kind_code", "state_code"]


def _read(value: str, named: dict[str, str], field: str, what: str) -> str:
    text = value.strip()
    if text in named:
        return text
    for code, label in named.items():
        if text in (label, plain(label)) or text.casefold() == code.casefold():
            return code
    options = ", ".join(f"{plain(label)} ({code})" for code, label in named.items())
    raise ValidationError(field, f"no {what} {value!r}; {what}s: {options}")


def kind_code(value: str, definitions: Iterable[Definition]) -> str:
    """The kind *value* names: its code, or its definition's Chinese label."""
    return _read(value, {d.kind: d.label for d in definitions}, "kind", "kind")


def state_code(value: str, definitions: Iterable[Definition]) -> str:
    """The state *value* names in any of *definitions*: its code, or its Chinese label."""
    named: dict[str, str] = {}
    for defn in definitions:
        for name, spec in defn.states.items():
            named.setdefault(name, spec.label)
    return _read(value, named, "state", "state")
