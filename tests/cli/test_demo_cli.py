"""`icbot demo` as a new user meets it: a bad --date is one line, and no work folder is left behind."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from icbot.cli import demo_cmd
from icbot.errors import UsageError
from icbot.runner import demo as demo_runner
from icbot.store.repo import Store

ICBOT = Path(sys.executable).with_name("icbot")


def _icbot(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ICBOT_")} | {"COLUMNS": "120"}
    return subprocess.run(
        [str(ICBOT), *args], cwd=cwd, env=base | env, capture_output=True, text=True, timeout=180, check=False
    )


@pytest.mark.parametrize("text", ["yesterday", "24.11.2026", "2026-13-01"])
def test_a_date_that_is_no_date_is_one_clear_line_and_exit_2(tmp_path, text):
    result = _icbot("demo", "--date", text, cwd=tmp_path, TMPDIR=str(tmp_path))
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line == f"icbot: --date: {text!r} is not a date YYYY-MM-DD"
    assert "isoformat" not in result.stderr
    assert not list(tmp_path.glob("icbot-demo-*"))


@pytest.fixture
def app() -> typer.Typer:
    root = typer.Typer(add_completion=False)

    @root.callback()
    def _root() -> None:
        """Test root."""

    demo_cmd.register(root)
    return root


@pytest.fixture
def fake_day(monkeypatch, tmp_path):
    """run_demo replaced by one that only writes an empty journal where the real one would; temp dirs in tmp_path."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    seen: dict[str, Path] = {}

    def fake_run_demo(*, config, day, db, seed, mode, echo, workdir):
        seen["workdir"] = workdir
        path = db or workdir / "icbot.db"
        Store.open(path).close()
        (workdir / "config.yaml").write_text("mode: paper\n")
        return demo_runner.DemoResult(day, path, 0, [0])

    monkeypatch.setattr(demo_runner, "run_demo", fake_run_demo)
    return temp, seen


def test_the_work_folder_and_its_journal_are_removed_by_default(app, fake_day):
    temp, seen = fake_day
    result = CliRunner().invoke(app, ["demo", "--date", "2026-11-24"])
    assert result.exit_code == 0, result.output
    assert seen["workdir"].parent == temp and seen["workdir"].name.startswith("icbot-demo-")
    assert not seen["workdir"].exists()
    assert list(temp.iterdir()) == []
    assert "journal deleted" in result.output and "--keep" in result.output


def test_keep_leaves_the_work_folder_and_says_where(app, fake_day):
    _, seen = fake_day
    result = CliRunner().invoke(app, ["demo", "--date", "2026-11-24", "--keep"])
    assert result.exit_code == 0, result.output
    assert (seen["workdir"] / "icbot.db").is_file() and (seen["workdir"] / "config.yaml").is_file()
    assert str(seen["workdir"]) in result.output.replace("\n", "")


def test_a_db_of_the_users_survives_the_cleanup(app, fake_day, tmp_path):
    _, seen = fake_day
    db = tmp_path / "mine.db"
    result = CliRunner().invoke(app, ["demo", "--date", "2026-11-24", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert db.is_file() and not seen["workdir"].exists()
    assert str(db) in result.output.replace("\n", "")


def test_a_bad_date_is_a_usage_error_before_anything_is_created(app, fake_day):
    temp, seen = fake_day
    result = CliRunner().invoke(app, ["demo", "--date", "yesterday"])
    assert isinstance(result.exception, UsageError)
    assert str(result.exception) == "--date: 'yesterday' is not a date YYYY-MM-DD"
    assert seen == {} and list(temp.iterdir()) == []


def test_parse_day():
    assert demo_cmd.parse_day("2026-11-24") == date(2026, 11, 24)
    with pytest.raises(UsageError, match="is not a date YYYY-MM-DD"):
        demo_cmd.parse_day("tomorrow")
