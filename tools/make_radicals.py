"""Print the CJK radical and stroke table of workflow/names.py (``_RADICALS``) from the Unicode data.

Usage (from the repository root; Debian's ``unicode-data`` package installs the file)::

    .venv/bin/python tools/make_radicals.py [/usr/share/unicode/EquivalentUnifiedIdeograph.txt]

NFKC already maps the Kangxi radicals (U+2F00-2FD5) to their ideographs, but not the CJK Radicals
Supplement (U+2E80-2EFF) nor the CJK Strokes (U+31C0-31EF), which are drawn exactly as ideographs:
⺠ U+2EA0 is 民, ⻈ U+2EC8 is 讠, ㇐ U+31D0 is 一. Their names cannot give the ideograph: a radical's
name is its meaning, not its form (CJK RADICAL WATER ONE is 氵, not 水; CJK RADICAL CIVILIAN, 民,
has no Kangxi namesake), so the table comes from the Unicode Character Database's
EquivalentUnifiedIdeograph.txt, which pairs each radical and stroke with the ideograph of the same shape.
"""

from __future__ import annotations

import sys
from pathlib import Path

BLOCKS = ((0x2E80, 0x2EFF), (0x31C0, 0x31EF))  # CJK Radicals Supplement, CJK Strokes


def pairs(path: Path) -> list[tuple[int, int]]:
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        source, target = (part.strip() for part in entry.split(";"))
        low, _, high = source.partition("..")
        for code in range(int(low, 16), int(high or low, 16) + 1):
            if any(a <= code <= b for a, b in BLOCKS):
                found.append((code, int(target, 16)))
    return found


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/unicode/EquivalentUnifiedIdeograph.txt")
    text = "".join(chr(a) + chr(b) for a, b in pairs(path))
    lines = [text[i : i + 40] for i in range(0, len(text), 40)]
    print("_RADICALS = (")
    for line in lines:
        print(f'    "{line}"')
    print(")")


if __name__ == "__main__":
    main()
