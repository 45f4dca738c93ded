"""Make the README's picture of the follow-up report: its first screens as headless Chromium draws them.

    .venv/bin/python tools/report_screenshot.py                        # the sample report of the tests
    .venv/bin/python tools/report_screenshot.py demo-out/report.html   # an HTML report, e.g. the demo's
    .venv/bin/python tools/report_screenshot.py report.json            # a JSON report (duban report -o report.json)

Writes ``docs/report-screenshot.png`` (``--out`` to change it). Needs Debian's ``chromium`` and the Noto
CJK fonts (``bash .ci/chromium.sh`` installs both). The PNG is reduced to a 256-colour palette: the
report is flat colour and text, and the README should not carry a megabyte image.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def html_for(source: Path | None) -> str:
    """The HTML to photograph: the file itself, a JSON report rendered, or the tests' sample report."""
    from workflow.report_html import render_html

    if source is None:
        sys.path.insert(0, str(ROOT / "tests"))
        from report_data import sample_report

        return render_html(sample_report())
    if source.suffix.lower() == ".json":
        return render_html(json.loads(source.read_text(encoding="utf-8")))
    return source.read_text(encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, help="an .html or .json report (default: the sample)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "report-screenshot.png")
    parser.add_argument("--width", type=int, default=820, help="window width in CSS pixels")
    parser.add_argument("--height", type=int, default=1900, help="how much of the page to show, in CSS pixels")
    parser.add_argument("--scale", type=float, default=1.0, help="device pixels per CSS pixel (2 for a sharp image)")
    args = parser.parse_args(argv)
    chromium = shutil.which("chromium")
    if chromium is None:
        print("chromium is not installed: run `bash .ci/chromium.sh`", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        page, shot = Path(tmp) / "report.html", Path(tmp) / "shot.png"
        page.write_text(html_for(args.source), encoding="utf-8")
        subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={Path(tmp) / 'profile'}",
                f"--window-size={args.width},{args.height}",
                f"--force-device-scale-factor={args.scale}",
                f"--screenshot={shot}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(shot) as image:
            image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(args.out, optimize=True)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
