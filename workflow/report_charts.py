"""The follow-up report's charts as PNG images, for Word (python-docx cannot embed SVG).

Drawn with Pillow and no system font: only digits, percentages and ASCII marks go inside an image,
in Pillow's bundled font, so a chart looks the same on any server whatever fonts it has (a CJK font
found on one machine and missing on the next would turn labels into boxes). The Chinese labels go
beside the image, in the document: each bar carries its sequence number (1, 2, …) and a table under
the chart maps the number to the unit. Images are drawn at twice their printed size, for a sharp print.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from typing import Any

from PIL import Image, ImageDraw, ImageFont

__all__ = ["AGEING_MARKS", "ageing_png", "bar_png", "grade_png"]

# The ageing buckets as ASCII (the images carry no CJK font); the document's table names them in Chinese.
AGEING_MARKS = ("<=30", "31-90", "91-180", ">180")
GRADE_COLOURS = {"A": (46, 125, 50), "B": (31, 95, 153), "C": (224, 161, 0), "D": (140, 140, 140)}
AGEING_COLOURS = ((224, 161, 0), (217, 120, 45), (192, 80, 43), (139, 26, 26))
BAR, FLAG, INK, MUTED, GRID = (47, 93, 138), (176, 58, 46), (34, 34, 34), (120, 120, 120), (205, 205, 205)
WHITE = (255, 255, 255)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@functools.cache
def _font(size: int) -> Font:
    try:
        return ImageFont.load_default(size=size)  # Pillow's bundled outline font (needs FreeType, as its wheels have)
    except (TypeError, ValueError, OSError):  # a Pillow built without FreeType: its small bitmap font
        return ImageFont.load_default()


def _text(draw: ImageDraw.ImageDraw, x: float, y: float, text: str, size: int, fill: Any, align: str = "l") -> None:
    """Draw *text* with its left edge, centre or right edge (*align* l/c/r) at x and its middle at y.

    Positioned from the text's measured box rather than Pillow's anchors, which the bitmap fallback font lacks.
    """
    font = _font(size)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    width, height = right - left, bottom - top
    dx = {"l": 0.0, "c": width / 2, "r": float(width)}[align]
    draw.text((x - dx - left, y - height / 2 - top), text, font=font, fill=fill)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def bar_png(series: Sequence[dict[str, Any]]) -> bytes | None:
    """Horizontal bars on a 0–100% axis, numbered 1… in *series* order; flagged units in red; None when empty."""
    if not series:
        return None
    width, left, right, top, row_h, bar_h = 1600, 90, 230, 70, 56, 34
    plot_w = width - left - right
    height = top + len(series) * row_h + 20
    image = Image.new("RGB", (width, height), WHITE)
    draw = ImageDraw.Draw(image)
    for tick in (0, 25, 50, 75, 100):
        x = left + plot_w * tick / 100
        draw.line([(x, top - 10), (x, height - 20)], fill=GRID, width=2)
        _text(draw, x, top - 32, f"{tick}%", 24, MUTED, "c")
    for i, s in enumerate(series):
        middle = top + i * row_h + row_h / 2
        colour = FLAG if s.get("flagged") else BAR
        _text(draw, left - 20, middle, str(i + 1), 28, colour, "r")
        if s.get("value") is None:
            _text(draw, left + 12, middle, "n/a", 26, MUTED)
            continue
        bar = min(max(float(s["value"]), 0.0), 1.0) * plot_w
        if bar > 0:
            draw.rectangle([(left, middle - bar_h / 2), (left + bar, middle + bar_h / 2)], fill=colour)
        _text(draw, left + bar + 12, middle, str(s.get("text") or ""), 26, INK)
    return _png(image)


def grade_png(grades: Sequence[dict[str, Any]], total: int) -> bytes | None:
    """The A/B/C/D mix as a pie with a legend of letters, counts and shares; None when nothing was replied."""
    if total <= 0:
        return None
    width, height, cx, cy, radius = 1400, 560, 290, 280, 240
    image = Image.new("RGB", (width, height), WHITE)
    draw = ImageDraw.Draw(image)
    start = -90.0  # twelve o'clock, as the HTML ring starts
    for g in grades:
        sweep = 360.0 * int(g["count"]) / total
        if sweep > 0:
            colour = GRADE_COLOURS[g["key"]]
            box = [(cx - radius, cy - radius), (cx + radius, cy + radius)]
            draw.pieslice(box, start, start + sweep, fill=colour, outline=WHITE, width=3)
        start += sweep
    for i, g in enumerate(grades):
        y = 130 + i * 90
        draw.rectangle([(640, y - 22), (684, y + 22)], fill=GRADE_COLOURS[g["key"]])
        _text(draw, 710, y, str(g["key"]), 40, INK)
        _text(draw, 900, y, str(g["count"]), 40, INK, "r")
        _text(draw, 1180, y, str(g["percent"]), 40, INK, "r")
    return _png(image)


def ageing_png(buckets: Sequence[dict[str, Any]]) -> bytes | None:
    """Overdue clocks per age bucket as columns with their counts; None when nothing is overdue."""
    highest = max((int(b["count"]) for b in buckets), default=0)
    if highest <= 0:
        return None
    width, height, left, right, base, plot_h, bar_w = 1600, 640, 100, 60, 540, 430, 200
    slot = (width - left - right) / len(buckets)
    image = Image.new("RGB", (width, height), WHITE)
    draw = ImageDraw.Draw(image)
    draw.line([(left, base), (width - right, base)], fill=MUTED, width=3)
    for i, b in enumerate(buckets):
        count = int(b["count"])
        x = left + i * slot + (slot - bar_w) / 2
        top = base - count / highest * plot_h
        if count:
            draw.rectangle([(x, top), (x + bar_w, base)], fill=AGEING_COLOURS[i % len(AGEING_COLOURS)])
        _text(draw, x + bar_w / 2, top - 30, str(count), 34, INK, "c")
        _text(draw, x + bar_w / 2, base + 40, AGEING_MARKS[i % len(AGEING_MARKS)], 30, INK, "c")
    return _png(image)
