"""The README's shell session works as printed, with the Chinese values a clerk types: every command of
"Use it from the shell" runs, in order, on a fresh database and exits 0."""

from __future__ import annotations

import glob
import re
import shlex
from pathlib import Path

import openpyxl
import pytest

from workflow.cli import main

ROOT = Path(__file__).resolve().parent.parent
CHOICE_CODE = re.compile(r"^[a-z]+(?:_[a-z]+)*$")  # a machine code such as between_sessions


def session() -> list[list[str]]:
    """The commands of the README's first shell block under "Use it from the shell", comments and
    ``export`` lines dropped, continued lines joined, ``…`` (text elided in print) as a clerk's words."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use it from the shell", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    commands = []
    for line in block.replace("\\\n", " ").splitlines():
        words = shlex.split(line.replace("…", "答复内容"), comments=True)
        if words and words[0] != "export":  # the test gives DUBAN_DB itself, on either database
            assert words[0] == "duban", line
            commands.append(words[1:])
    return commands


def test_the_readme_session_uses_chinese_values_for_every_choice() -> None:
    """Where the session sets a field (``--set KEY=VALUE``), the value is what a clerk writes: Chinese
    labels, names, dates, grades (A-D) or records, never a machine code like ``between_sessions``."""
    codes = [
        value
        for words in session()
        for i, word in enumerate(words)
        if word == "--set" and CHOICE_CODE.match(value := words[i + 1].partition("=")[2])
    ]
    assert codes == []


def test_every_command_of_the_readme_session_runs_as_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    """Run in order on an empty database (DUBAN_DB), each command of the README's shell session exits 0
    without a traceback; the summary sheet it imports is a real .xlsx in the folder, and paths in it are
    read from the repository as a clerk's checkout has them."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DUBAN_DB", db_url)
    monkeypatch.setenv("DUBAN_OUTBOX_DIR", str(tmp_path / "outbox"))
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["标题", "提出代表", "领衔代表", "会次"])
    sheet.append(["关于增设社区老年食堂的建议", "陈静", "陈静", "市十五届人大五次会议"])
    book.save(tmp_path / "2026建议汇总表.xlsx")
    for words in session():
        args = [part for word in words for part in (sorted(glob.glob(str(ROOT / word))) if "*" in word else [word])]
        if args[:1] == ["sweep"]:
            args.append("--allow-future")  # the README's instant may be ahead of this machine's clock
        code = main(args)
        out, err = capsys.readouterr()
        assert code == 0 and "Traceback" not in out + err, f"duban {shlex.join(words)}: exit {code}\n{err}"
