"""The wheel: `pip install duban` into a clean environment finds the bundled definitions and templates."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_ships_definitions_and_templates_and_runs(tmp_path: Path) -> None:
    """Built and installed on its own, duban imports from the wheel and validates its bundled lifecycles."""
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    [wheel] = dist.glob("duban-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "workflow/_data/definitions/suggestion.yaml" in names
    assert "workflow/_data/definitions/review_opinion.yaml" in names
    assert "workflow/_data/definitions/calendars/2026.yaml" in names
    assert any(n.startswith("workflow/_data/notifications/") for n in names)
    assert any(n.startswith("workflow/migrations/versions/") for n in names)
    assert "workflow/py.typed" in names  # type checkers read the package's own annotations

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True)
    # Dependencies come from the test environment's site-packages; duban itself only from the wheel
    # (a folder on PYTHONPATH does not run the editable install's .pth hook).
    env = {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"]}
    probe = (
        "import workflow, sys; from workflow.definition import bundled_dir; "
        "print(workflow.__file__); print(bundled_dir('definitions')); print(bundled_dir('notifications'))"
    )
    lines = subprocess.run(
        [py, "-c", probe], check=True, capture_output=True, text=True, env=env, cwd=tmp_path
    ).stdout.split()
    assert all(line.startswith(str(venv)) for line in lines), lines
    done = subprocess.run(
        [venv / "bin" / "duban", "definitions", "validate", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    done = subprocess.run(
        [venv / "bin" / "duban", "--db", f"sqlite:///{tmp_path / 'w.db'}", "init"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0 and "suggestion" in done.stdout, done.stderr
    done = subprocess.run(
        [venv / "bin" / "duban", "deadline", "--from", "2026-03-20", "--period", "3 months"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.startswith("2026-06-22"), done.stderr


def test_the_package_exports_every_class_the_readme_names() -> None:
    """Every error, result and settings class the README tells a user to catch or use
    (`ImportRejected`, `FollowupReport`, `SweepResult`, `Settings`, …) imports from ``workflow`` itself
    and is in its ``__all__``; `Actor.parse` reads ``ROLE[:PARTY]`` and `fire_many` is documented."""
    import workflow

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([A-Z][a-z]+(?:[A-Z][a-z]+)+)`", readme))
    classes = {n for n in named if isinstance(getattr(workflow, n, None), type)}
    missing = {n for n in named if n.endswith(("Error", "Rejected", "Report", "Result", "Problem", "Blocked"))}
    assert missing <= set(workflow.__all__), sorted(missing - set(workflow.__all__))
    assert classes <= set(workflow.__all__)
    assert {"ImportRejected", "FollowupReport", "SweepResult", "Settings", "RowProblem"} <= set(workflow.__all__)
    assert workflow.Actor.parse("unit:市民政局") == workflow.Actor("unit", "市民政局")
    assert "fire_many" in readme and workflow.Engine.fire_many.__doc__
