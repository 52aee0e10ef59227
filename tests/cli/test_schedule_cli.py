"""`icbot schedule`: New York and local times, holidays, half days, bad input as one line with exit 2."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from icbot.cli import schedule_cmd
from icbot.errors import ConfigError, UsageError
from tests.cli.helpers import run_icbot


def _icbot(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run_icbot(args, cwd, **env)


def _sessions(payload: dict) -> dict[str, dict]:
    return {row["date"]: row for row in payload["days"] if row["kind"] == "session"}


def test_berlin_sees_1532_before_the_us_switch_and_1432_in_the_mismatch_weeks(tmp_path):
    result = _icbot(["schedule", "--from", "2026-03-06", "--days", "16", "--tz", "Europe/Berlin", "--json"], tmp_path)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["time_zone"] == "Europe/Berlin"
    sessions = _sessions(payload)
    assert len(sessions) == 16
    assert sessions["2026-03-06"]["entry_et"] == "09:32"
    assert sessions["2026-03-06"]["entry_local"] == "15:32"
    for day, row in sessions.items():
        assert row["entry_et"] == "09:32" and row["deadline_et"] == "09:33" and row["time_exit_et"] == "11:30"
        if "2026-03-09" <= day <= "2026-03-27":
            assert row["entry_local"] == "14:32", day
            assert row["local_offset_hours"] == 5 and row["usual_offset_hours"] == 6
    assert sessions["2026-03-27"]["local"]["entry"] == "2026-03-27T14:32:00+01:00"


def test_machine_zone_from_tz_marks_the_mismatch_in_the_table(tmp_path):
    result = _icbot(["schedule", "--from", "2026-03-06", "--days", "2"], tmp_path, TZ="Europe/Berlin")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "Europe/Berlin" in lines[0]
    friday = next(line for line in lines if "2026-03-06 Fri" in line)
    monday = next(line for line in lines if "2026-03-09 Mon" in line)
    assert "15:32 · 15:33 · 17:30 CET" in friday and "mismatch" not in friday
    assert "14:32 · 14:33 · 16:30 CET" in monday and "DST mismatch: ET+5h, usually +6h" in monday


def test_thanksgiving_is_skipped_and_the_half_day_closes_at_1300(tmp_path):
    result = _icbot(["schedule", "--from", "2026-11-20", "--days", "6", "--tz", "Europe/Berlin"], tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    thanksgiving = next(line for line in lines if "2026-11-26 Thu" in line)
    assert "no session: Thanksgiving" in thanksgiving
    friday = next(line for line in lines if "2026-11-27 Fri" in line)
    assert "13:00" in friday and "early close 13:00" in friday


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tz", "Mars/Olympus"], "icbot: --tz: 'Mars/Olympus' is not a known IANA time zone"),
        (["--from", "2026-02-30"], "icbot: --from: '2026-02-30' is not a date YYYY-MM-DD"),
        (["--from", "2040-01-02"], "icbot: --from/--days: 2040-01-02 is outside the exchange calendar's range"),
    ],
)
def test_bad_zone_or_date_is_one_line_exit_2(tmp_path, args, message):
    result = _icbot(["schedule", *args], tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(message), result.stderr


@pytest.fixture
def app() -> typer.Typer:
    root = typer.Typer(add_completion=False)

    @root.callback()
    def _root() -> None:
        """Test root."""

    schedule_cmd.register(root)
    return root


def _json(app: typer.Typer, *args: str, env: dict[str, str] | None = None) -> dict:
    result = CliRunner().invoke(app, ["schedule", *args, "--json"], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_half_day_clamps_a_late_time_exit(app, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text('exits: {time_exit: "13:30"}\n')
    payload = _json(app, "--from", "2026-11-25", "--days", "2", "--tz", "America/New_York", "--config", str(config))
    rows = payload["days"]
    assert [(r["date"], r["kind"]) for r in rows] == [
        ("2026-11-25", "session"),
        ("2026-11-26", "holiday"),
        ("2026-11-27", "session"),
    ]
    assert rows[1]["name"] == "Thanksgiving"
    assert rows[0]["time_exit_et"] == "13:30" and not rows[0]["time_exit_clamped"]
    assert rows[2]["early_close"] and rows[2]["close_et"] == "13:00"
    assert rows[2]["time_exit_et"] == "12:45" and rows[2]["time_exit_clamped"]


def test_christmas_eve_2026_is_a_half_day_and_2027_holidays_are_skipped(app):
    payload = _json(app, "--from", "2026-12-23", "--days", "7", "--tz", "UTC")
    rows = {r["date"]: r for r in payload["days"]}
    assert rows["2026-12-24"]["early_close"] and rows["2026-12-24"]["close_et"] == "13:00"
    assert rows["2026-12-25"]["kind"] == "holiday" and rows["2027-01-01"]["kind"] == "holiday"
    assert rows["2026-12-24"]["entry_local"] == "14:32"  # UTC, EST


def test_from_defaults_to_todays_new_york_date_per_the_clock(app):
    # 23:30 New York on Thanksgiving is already the 27th in UTC: the schedule must start from the 26th.
    env = {"ICBOT_CLOCK": "2026-11-26T23:30:00-05:00@1795000000x0"}
    payload = _json(app, "--days", "1", "--tz", "Asia/Tokyo", env=env)
    assert payload["from"] == "2026-11-26"
    assert [(r["date"], r["kind"]) for r in payload["days"]] == [("2026-11-26", "holiday"), ("2026-11-27", "session")]
    assert payload["days"][1]["time_exit_local"] == "01:30 (+1d)"


def test_days_out_of_range_and_bad_config_are_usage_errors(app, tmp_path):
    result = CliRunner().invoke(app, ["schedule", "--days", "0"])
    assert isinstance(result.exception, UsageError)
    bad = tmp_path / "c.yaml"
    bad.write_text("exits: {time_exit: '16:30'}\n")
    result = CliRunner().invoke(app, ["schedule", "--config", str(bad)])
    assert isinstance(result.exception, ConfigError)
    assert str(result.exception).startswith('exits.time_exit: "16:30" leaves less than 15 minutes')
