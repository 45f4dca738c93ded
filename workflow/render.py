"""The sandbox notices are rendered in, and the limits every render runs under.

Jinja's immutable sandbox already keeps a template from reaching private attributes or changing its
variables. A template can still take all of a process's time or memory with what the sandbox allows
(``9 ** (9 ** 8)``, ``"x" * 10 ** 9``, nested ranges, a macro calling itself), and Jinja folds constant
expressions while compiling, so ``9 ** (9 ** 8)`` would hang the engine's start. So the operators
that can blow up are intercepted (which also stops constant folding: they run at render time, where
they are checked), ranges are short, and every render has a budget of output, call depth and time,
checked at each attribute, item, call and operator the template evaluates and at each piece of
output. Exceeding one raises :class:`RenderLimit`, which fails that one notice.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.filters import FILTERS as DEFAULT_FILTERS
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace
from markupsafe import escape

from workflow.beijing import SHANGHAI

__all__ = ["Limits", "RenderLimit", "cn_date", "cn_datetime", "make_environment", "render_limited", "text_html"]


class RenderLimit(SecurityError):
    """A template went past one of the render limits (output, range, depth, number size or time)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """What one render may use. The defaults are far above what any notice needs (the longest bundled
    notice is a few KiB and renders in well under a millisecond)."""

    output_bytes: int = 1 << 20
    range_items: int = 10_000
    depth: int = 50
    seconds: float = 2.0
    number_bits: int = 256  # the largest integer an operator may produce, in bits
    repeat: int = 100_000  # the longest string or list ``*`` or ``%`` may build


LIMITS = Limits()


class _Budget(threading.local):
    deadline: float = math.inf
    depth: int = 0
    limits: Limits = LIMITS


_budget = _Budget()


def _tick() -> None:
    if time.monotonic() > _budget.deadline:
        raise RenderLimit(f"rendering took longer than {_budget.limits.seconds:g} s")


def cn_date(value: dt.date | dt.datetime | None) -> str:
    """2026年3月20日 — the date as official documents write it."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:  # an instant: its Beijing date
        value = value.astimezone(SHANGHAI)
    return f"{value.year}年{value.month}月{value.day}日"


def cn_datetime(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    value = value.astimezone(SHANGHAI) if value.tzinfo is not None else value
    return f"{cn_date(value)} {value.hour:02d}:{value.minute:02d}"


def _bounded_range(*args: int) -> range:
    rng = range(*args)
    if len(rng) > _budget.limits.range_items:
        raise RenderLimit(f"range() of {len(rng)} items; at most {_budget.limits.range_items}")
    return rng


_WIDE = re.compile(r"%[-+ #0]*(\d{5,})|\{[^{}]*?(\d{5,})[^{}]*\}")


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str | bytes | list | tuple) else 0


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with every evaluation step counted against the render's budget.

    It also reads ``item.title`` from a plain dict by key first: Jinja tries the attribute first and
    falls back to the key through an AttributeError, which is most of a notice's rendering time. A
    plain dict's value is data the engine put there, so reading it first reaches nothing the sandbox
    guards; anything else (and a missing key) takes the sandbox's own checked path.
    """

    intercepted_binops = frozenset({"*", "**", "%"})

    def getattr(self, obj: Any, attribute: str) -> Any:
        _tick()
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _tick()
        return super().getitem(obj, argument)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _tick()
        limits = _budget.limits
        if _budget.depth >= limits.depth:
            raise RenderLimit(f"calls nested deeper than {limits.depth} (a macro calling itself?)")
        _budget.depth += 1
        try:
            return super().call(__context, __obj, *args, **kwargs)
        finally:
            _budget.depth -= 1

    def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
        _tick()
        limits = _budget.limits
        big = op == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1
        if big and right * math.log2(abs(left)) > limits.number_bits:
            raise RenderLimit(f"{left} ** {right} is past {limits.number_bits} bits")
        if op == "*" and (isinstance(left, int) or isinstance(right, int)):
            count, seq = (left, right) if isinstance(left, int) else (right, left)
            if _size(seq) * max(count, 0) > limits.repeat:
                raise RenderLimit(f"repeating {_size(seq)} items {count} times; at most {limits.repeat} in all")
        if op == "%" and isinstance(left, str) and _WIDE.search(left):
            raise RenderLimit(f"a format width past 9999 in {left[:40]!r}")
        result = self.binop_table[op](left, right)
        if isinstance(result, int) and result.bit_length() > limits.number_bits:
            raise RenderLimit(f"a number past {limits.number_bits} bits")
        return result


class _Namespace(Namespace):
    """``namespace()``, the one value a template can grow across loop turns: refused past the output limit."""

    def __setitem__(self, name: str, value: Any) -> None:
        _tick()
        if _size(value) > _budget.limits.output_bytes:
            raise RenderLimit(f"namespace value {name!r} is past {_budget.limits.output_bytes:,} items")
        super().__setitem__(name, value)


def _checked(name: str, width_arg: int) -> Any:
    """A filter whose numeric argument sets the size of what it builds, refused past the limit."""
    original = DEFAULT_FILTERS[name]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = [*args[width_arg : width_arg + 1], *kwargs.values()]
        if any(isinstance(v, int) and abs(v) > _budget.limits.repeat for v in values):
            raise RenderLimit(f"the {name} filter asked for a size past {_budget.limits.repeat}")
        if name == "format" and isinstance(args[0], str) and _WIDE.search(args[0]):
            raise RenderLimit(f"a format width past 9999 in {args[0][:40]!r}")
        return original(*args, **kwargs)

    return wrapper


def make_environment(folders: Iterable[Path]) -> ImmutableSandboxedEnvironment:
    """The sandbox every notice is rendered in: no attribute tricks, no mutation, undefined names fail,
    HTML escaped in ``.html`` templates only, whitespace controlled in the templates themselves."""
    env = _Sandbox(
        loader=jinja2.FileSystemLoader([str(f) for f in folders]),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        keep_trailing_newline=True,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    env.globals["range"] = _bounded_range
    env.globals["namespace"] = _Namespace
    for name, arg in (("center", 1), ("indent", 1), ("wordwrap", 1), ("truncate", 1), ("format", 1)):
        env.filters[name] = _checked(name, arg)
    env.filters["cn_date"] = cn_date
    env.filters["cn_datetime"] = cn_datetime
    return env


def render_limited(template: jinja2.Template, variables: Mapping[str, Any], limits: Limits = LIMITS) -> str:
    """Render *template* under *limits*; raises :class:`RenderLimit` (or the template's own error)."""
    _budget.limits, _budget.deadline, _budget.depth = limits, time.monotonic() + limits.seconds, 0
    try:
        return "".join(_capped(template.generate(variables), limits.output_bytes))
    finally:
        _budget.deadline, _budget.limits = math.inf, LIMITS


def _capped(chunks: Iterator[str], limit: int) -> Iterator[str]:
    size = 0
    for chunk in chunks:
        size += len(chunk.encode())
        if size > limit:
            raise RenderLimit(f"the output is past {limit:,} bytes")
        _tick()
        yield chunk


_PAGE = (
    '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n<title>{title}</title>\n</head>\n'
    '<body style="margin: 0; padding: 24px; background-color: #ffffff; color: #000000; font-family: FangSong, '
    'STFangsong, SimSun, serif; font-size: 16px; line-height: 1.8;">\n<div style="max-width: 720px; margin: 0 auto;">'
    "\n{body}\n</div>\n</body>\n</html>\n"
)


def text_html(title: str, text: str) -> str:
    """The HTML alternative of a notice type that has no body.html: its plain text, every character of
    it kept (line breaks and the 公文 indents included) and escaped, in the bundled notices' page style."""
    body = f'<div style="white-space: pre-wrap;">{escape(text.strip(chr(10)))}</div>'
    return _PAGE.format(title=escape(title), body=body)
