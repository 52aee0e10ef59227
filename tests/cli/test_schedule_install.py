"""`icbot schedule install | uninstall | show`: the files, the commands, the dry run — never the real home, never a
real launchctl/systemctl (commands are recorded; `systemd-analyze verify` runs where it exists)."""

from __future__ import annotations

import json
import os
import plistlib
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from icbot.cli import schedule_cmd
from icbot.cli.app import app as root_app
from icbot.config import load_config
from icbot.core import agents
from icbot.errors import UsageError
from icbot.runner.scheduler import RecordingRunner, Scheduler, installed_status, prepare, today_missing
from tests.cli.helpers import ICBOT, run_icbot

CLOCK = "2026-11-24T08:00:00-05:00@1795000000x0"  # frozen: the plans below are computed from 2026-11-24
MON_FRI = {1, 2, 3, 4, 5}


def _icbot(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run_icbot(args, cwd, **{"ICBOT_CLOCK": CLOCK, "HOME": str(cwd / "home"), **env})


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"mode: paper\nstorage: {{db: {tmp_path / 'icbot.db'}}}\n")  # beside the session table
    return path


def _run_today_times(plist: dict) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for entry in plist["StartCalendarInterval"]:
        out.setdefault(f"{entry['Hour']:02d}:{entry['Minute']:02d}", set()).add(entry["Weekday"])
    return out


def test_dry_run_for_a_berlin_mac_prints_plists_plistlib_reads_with_1431_and_1531_on_weekdays(tmp_path, config):
    result = _icbot(
        ["schedule", "install", "--dry-run", "--platform", "launchd", "--tz", "Europe/Berlin", "-c", str(config)],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("--dry-run: nothing is written and no command is run.")
    plists = {
        name: plistlib.loads(body.encode())
        for name, body in re.findall(
            r"--- would write \S+/(com\.icbot\.[a-z-]+\.plist) ---\n(.*?)\n--- end of", out, re.S
        )
    }
    assert set(plists) == {"com.icbot.run-today.plist", "com.icbot.doctor.plist", "com.icbot.check.plist"}
    run_today = plists["com.icbot.run-today.plist"]
    assert _run_today_times(run_today) == {"14:31": MON_FRI, "15:31": MON_FRI}
    assert run_today["ProgramArguments"] == [str(ICBOT), "run-today"]
    assert run_today["EnvironmentVariables"]["ICBOT_CONFIG"] == str(config)
    assert run_today["ProcessType"] == "Interactive"
    home = tmp_path / "home"
    assert run_today["StandardOutPath"] == f"{home}/Library/Logs/icbot/run-today.log"
    uid = os.getuid()
    assert f"would run: launchctl bootout gui/{uid}/com.icbot.run-today" in out
    assert f"would run: launchctl bootstrap gui/{uid} {home}/Library/LaunchAgents/com.icbot.run-today.plist" in out
    assert out.index("bootout gui") < out.index("bootstrap gui")
    assert "→ Tue 2026-11-24 09:31 ET · Tue 15:31 CET  trades (entry at 09:32 ET)" in out
    assert "   Tue 2026-11-24 08:31 ET · Tue 14:31 CET  not 09:31 ET: exits 0" in out
    assert not home.exists()  # nothing written, not even the folders


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("America/Los_Angeles", {"06:31": MON_FRI}),
        ("Australia/Sydney", {"23:31": MON_FRI, "00:31": {2, 3, 4, 5, 6}, "01:31": {2, 3, 4, 5, 6}}),
    ],
)
def test_dry_run_json_for_other_zones(tmp_path, config, zone, expected):
    result = _icbot(
        ["schedule", "install", "--dry-run", "--platform", "launchd", "--tz", zone, "--json", "-c", str(config)],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["dry_run"] and payload["time_zone"] == zone and payload["valid_until"] == "2027-11-24"
    [body] = [v for k, v in payload["files"].items() if k.endswith("com.icbot.run-today.plist")]
    assert _run_today_times(plistlib.loads(body.encode())) == expected
    assert all(not c["run"] for c in payload["commands"])
    assert [n["trades"] for n in payload["next_run_today"]].count(True) >= 1


def test_systemd_units_pass_systemd_analyze_verify(tmp_path, config):
    target = tmp_path / "units"
    result = _icbot(
        ["schedule", "install", "--platform", "systemd", "--target-dir", str(target), "-c", str(config)], tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "not run (--target-dir): systemctl --user enable --now icbot-run-today.timer" in result.stdout
    names = sorted(p.name for p in target.iterdir())
    assert names == sorted(agents.file_names(agents.SYSTEMD))
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed here")
    verify = subprocess.run(
        ["systemd-analyze", "verify", *(str(target / n) for n in names)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert verify.returncode == 0 and not verify.stdout.strip() and not verify.stderr.strip(), verify.stderr


def _setup(tmp_path: Path, config: Path, platform: str, zone: str = "Europe/Berlin", **kw):
    runner = kw.pop("runner", RecordingRunner())
    setup = prepare(
        load_config(config),
        platform=platform,
        zone=ZoneInfo(zone),
        zone_name=zone,
        today=date(2026, 11, 24),
        icbot=kw.pop("icbot", "/opt/icbot/bin/icbot"),
        log_dir=tmp_path / "logs",
        runner=runner,
        **kw,
    )
    setup.scheduler.target_dir = tmp_path / "agents"
    setup.scheduler.linger_dir = tmp_path / "linger"
    setup.scheduler.user = "me"
    return setup, runner


def test_launchd_install_boots_out_writes_bootstraps_and_a_rerun_changes_nothing(tmp_path, config):
    setup, runner = _setup(tmp_path, config, agents.LAUNCHD)
    runner.returncodes["launchctl print"] = 113  # nothing loaded yet
    report = setup.scheduler.install(setup.plan)
    uid = setup.scheduler.uid
    agents_dir = tmp_path / "agents"
    assert runner.commands == [
        c
        for label in ("com.icbot.run-today", "com.icbot.doctor", "com.icbot.check")
        for c in (
            ("launchctl", "bootout", f"gui/{uid}/{label}"),
            ("launchctl", "bootstrap", f"gui/{uid}", str(agents_dir / f"{label}.plist")),
        )
    ]
    assert (tmp_path / "logs").is_dir()
    assert sorted(p.name for p in agents_dir.iterdir()) == sorted(agents.file_names(agents.LAUNCHD))
    assert (agents_dir / "com.icbot.run-today.plist").stat().st_mode & 0o777 == 0o644
    assert (
        report.files[str(agents_dir / "com.icbot.run-today.plist")]
        == agents.render(setup.plan)["com.icbot.run-today.plist"]
    )
    # again, loaded and unchanged: no bootout/bootstrap (a reload can make launchd fire a catch-up)
    runner.returncodes["launchctl print"] = 0
    runner.commands.clear()
    again = setup.scheduler.install(setup.plan)
    assert [c[1] for c in runner.commands] == ["print", "print", "print"]
    assert len(again.unchanged) == 3 and not again.files


def test_launchd_reinstall_after_a_zone_change_and_show_before_and_after(tmp_path, config):
    setup, runner = _setup(tmp_path, config, agents.LAUNCHD)
    setup.scheduler.install(setup.plan)
    kw = dict(platform=agents.LAUNCHD, today=date(2026, 12, 10), log_dir=tmp_path / "logs")
    kw |= dict(icbot="/opt/icbot/bin/icbot", target_dir=tmp_path / "agents", runner=runner)
    # weeks later, same zone: current (compared with what install wrote on its day)
    _, status = installed_status(load_config(config), zone=ZoneInfo("Europe/Berlin"), zone_name="Europe/Berlin", **kw)
    assert status.current and status.summary(date(2026, 12, 10)).startswith("current (local times for Europe/Berlin")
    # the Mac moved to London: stale (though 14:31 still happens to be 09:31 ET in December)
    london, status = installed_status(
        load_config(config), zone=ZoneInfo("Europe/London"), zone_name="Europe/London", **kw
    )
    assert not status.current
    assert "written for time zone Europe/Berlin, this machine is in Europe/London" in status.summary(date(2026, 12, 10))
    assert today_missing(london) is False
    # to California: 06:31 is not among the firings, so today's run-today would not start at all
    la, status = installed_status(
        load_config(config), zone=ZoneInfo("America/Los_Angeles"), zone_name="America/Los_Angeles", **kw
    )
    assert not status.current and today_missing(la) is True
    # icbot moved to another path: stale too
    _, moved = installed_status(
        load_config(config), zone=ZoneInfo("Europe/Berlin"), zone_name="Europe/Berlin", **(kw | {"icbot": "/new/icbot"})
    )
    assert "runs /opt/icbot/bin/icbot, the installed icbot is /new/icbot" in moved.summary(date(2026, 12, 10))
    # reinstall for London: bootout before the new file is bootstrapped
    runner.commands.clear()
    london.scheduler.run_commands = True  # a --target-dir scheduler runs no commands; this one records them
    london.scheduler.install(london.plan)
    verbs = [c[1] for c in runner.commands if c[1] != "print"]
    assert verbs == ["bootout", "bootstrap"] * 3


def test_uninstall_removes_exactly_what_install_wrote(tmp_path, config):
    setup, runner = _setup(tmp_path, config, agents.LAUNCHD)
    agents_dir = tmp_path / "agents"
    agents_dir.mkdir()
    (agents_dir / "com.example.other.plist").write_text("someone else's")
    setup.scheduler.install(setup.plan)
    runner.commands.clear()
    report = Scheduler(agents.LAUNCHD, agents_dir, runner, uid=setup.scheduler.uid).uninstall()
    assert [p.name for p in agents_dir.iterdir()] == ["com.example.other.plist"]
    assert not (tmp_path / "logs").exists()  # empty: removed; with logs in it, it stays
    assert str(tmp_path / "logs") in report.removed
    assert [c[1] for c in runner.commands] == ["bootout"] * 3


def test_systemd_install_enables_the_timers_and_reminds_about_linger(tmp_path, config):
    setup, runner = _setup(tmp_path, config, agents.SYSTEMD)
    report = setup.scheduler.install(setup.plan)
    timers = ("icbot-run-today.timer", "icbot-doctor.timer", "icbot-check.timer")
    assert runner.commands == [
        ("systemctl", "--user", "daemon-reload"),
        ("systemctl", "--user", "enable", "--now", *timers),
        ("systemctl", "--user", "restart", *timers),
    ]
    assert any("sudo loginctl enable-linger me" in n for n in report.notes)
    (tmp_path / "linger").mkdir()
    (tmp_path / "linger" / "me").touch()
    runner.commands.clear()
    again = setup.scheduler.install(setup.plan)
    assert not again.notes and not again.files and len(again.unchanged) == 6
    assert [c[2] for c in runner.commands] == ["daemon-reload", "enable"]  # unchanged: no restart
    # show: written but not enabled (no timers.target.wants link) → not active
    status = setup.scheduler.status(setup.plan)
    assert not status.current and "not active: icbot-run-today.timer" in status.summary(date(2026, 11, 24))
    wants = tmp_path / "agents" / "timers.target.wants"
    wants.mkdir()
    for t in timers:
        (wants / t).symlink_to(tmp_path / "agents" / t)
    assert setup.scheduler.status(setup.plan).current
    runner.commands.clear()
    Scheduler(agents.SYSTEMD, tmp_path / "agents", runner).uninstall()
    assert runner.commands[0] == ("systemctl", "--user", "disable", "--now", *timers)
    assert sorted(p.name for p in (tmp_path / "agents").iterdir()) == ["timers.target.wants"]


def test_show_via_the_cli_and_its_exit_codes(tmp_path, config):
    target = tmp_path / "agents"
    base = ["--platform", "systemd", "--target-dir", str(target), "-c", str(config)]
    shown = _icbot(["schedule", "show", *base], tmp_path)
    assert shown.returncode == 3 and "not installed" in shown.stdout
    assert _icbot(["schedule", "install", *base], tmp_path).returncode == 0
    wants = target / "timers.target.wants"
    wants.mkdir()
    for job in agents.JOBS:
        (wants / f"{job.unit}.timer").symlink_to(target / f"{job.unit}.timer")
    shown = _icbot(["schedule", "show", "--json", *base], tmp_path)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    payload = json.loads(shown.stdout)
    assert payload["current"] and payload["summary"] == "current"
    moved = _icbot(["schedule", "show", "--icbot", "/elsewhere/icbot", *base], tmp_path)
    assert moved.returncode == 3 and "the installed icbot is /elsewhere/icbot" in moved.stdout


def test_the_listing_still_works_alone_and_as_list(tmp_path):
    alone = _icbot(["schedule", "--from", "2026-11-24", "--days", "2", "--tz", "UTC", "--json"], tmp_path)
    listed = _icbot(["schedule", "list", "--from", "2026-11-24", "--days", "2", "--tz", "UTC", "--json"], tmp_path)
    assert alone.returncode == listed.returncode == 0, alone.stderr + listed.stderr
    assert json.loads(alone.stdout) == json.loads(listed.stdout)


def test_installing_launchd_agents_on_linux_for_real_is_refused_and_nothing_runs(tmp_path, config, monkeypatch):
    if sys.platform == "darwin":
        pytest.skip("this is the macOS platform itself")

    def forbidden() -> object:
        raise AssertionError("no real launchctl/systemctl from a test")

    monkeypatch.setattr(schedule_cmd, "make_runner", forbidden)
    from icbot.cli import register_all

    if not root_app.registered_groups:
        register_all(root_app)
    result = CliRunner().invoke(root_app, ["schedule", "install", "--platform", "launchd", "-c", str(config)])
    assert isinstance(result.exception, UsageError)
    assert "launchd agents cannot be installed on this machine" in str(result.exception)
    # --tz for real (not a dry run) would put another zone's local times on this machine
    args = ["schedule", "install", "--platform", "launchd", "--tz", "Asia/Tokyo", "-c", str(config)]
    result = CliRunner().invoke(root_app, args, env={"TZ": "Europe/Berlin"})
    assert isinstance(result.exception, UsageError)
    assert str(result.exception).startswith("--tz: Asia/Tokyo is not this Mac's time zone (Europe/Berlin)")


def test_install_needs_a_config_file(tmp_path):
    result = _icbot(["schedule", "install", "--dry-run", "--platform", "systemd"], tmp_path)
    assert result.returncode == 2
    assert "the agents need a configuration file" in result.stderr
