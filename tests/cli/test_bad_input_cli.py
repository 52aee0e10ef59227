"""Bad input through the real CLI (`icbot` in a subprocess): exit 2 and one bounded line, never exit 1.

Each case is one a fuzzing run over 2,500 configs found to exit 1 or to be read as something other than what was
written (YAML 1.1 base 60, octal, hex, binary, duplicate and merge keys), plus the same class of problem outside
the config file (ICBOT_CLOCK, `icbot sim --port`, an unreadable file).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

ICBOT = Path(sys.executable).with_name("icbot")
MAX_LINE = 400


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ICBOT_")}
    return env | extra


def _run(args: list[str], cwd: Path, *, argv0: list[str] | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*(argv0 or [str(ICBOT)]), *args],
        cwd=cwd,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _one_line(result: subprocess.CompletedProcess[str] | SimpleNamespace) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout[-500:], result.stderr[-500:])
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and "unexpected error" not in result.stderr
    assert len(lines[0]) <= MAX_LINE, len(lines[0])
    assert lines[0].startswith("icbot: ")
    return lines[0]


CONFIG_CASES = [
    # (id, yaml text, the line starts with (after "icbot: "), and contains)
    ("nested-1500-deep", "a: " + "[" * 1500 + "]" * 1500 + "\n", "a[0][0]", "nested more than 16 levels"),
    (
        "nested-mappings",
        "".join(" " * i + "k:\n" for i in range(1200)),
        "k.k.k",
        "nested more than 16 levels",
    ),
    ("tilde-unknown-user", "storage: {db: ~nouser_icbot_test/x.db}\n", "storage.db:", "home directory is unknown"),
    ("400-digit-float-key", "strikes: {min_delta: " + "9" * 400 + "}\n", "strikes.min_delta:", "plain decimal"),
    ("5000-digit-int-key", "gateway: {port: " + "7" * 5000 + "}\n", "gateway.port:", "plain decimal"),
    ("huge-float", "strikes: {min_delta: 1e400}\n", "strikes.min_delta: .inf", "not a finite number"),
    ("nul-in-apprise-path", 'notify: {apprise_config: "a\\0b"}\n', "notify.apprise_config:", "control character"),
    ("nul-in-db-path", 'storage: {db: "a\\0b"}\n', "storage.db:", "control character"),
    ("5000-char-db-path", "storage: {db: " + "a" * 5000 + "}\n", "storage.db:", "longer than 1024 characters"),
    (
        "800-char-apprise-path",
        "notify: {apprise_config: /" + "/".join(["x" * 200] * 4) + "}\n",
        "notify.apprise_config: cannot read /xxx",
        "No such file",
    ),
    ("300-byte-file-name", "storage: {db: /tmp/" + "b" * 300 + "}\n", "storage.db:", "longer than 255 bytes"),
    ("base-60-port", "gateway: {port: 66:40}\n", 'gateway.port: "66:40"', "not a plain decimal number"),
    ("hex-port", "gateway: {port: 0x1F}\n", 'gateway.port: "0x1F"', "not a plain decimal number"),
    ("binary-port", "gateway: {port: 0b1010}\n", 'gateway.port: "0b1010"', "not a plain decimal number"),
    ("octal-prefix", "gateway: {client_id: 0o17}\n", 'gateway.client_id: "0o17"', "not a plain decimal number"),
    ("underscores", "gateway: {port: 4_002}\n", 'gateway.port: "4_002"', "not a plain decimal number"),
    (
        "duplicate-section",
        "gateway: {port: 4002}\ngateway: {port: 4001}\n",
        "gateway:",
        "written twice (lines 1 and 2)",
    ),
    ("duplicate-key", "gateway:\n  port: 4002\n  port: 4001\n", "gateway.port:", "written twice (lines 2 and 3)"),
    ("merge-key", "gateway:\n  <<: {port: 4001}\n", "gateway.<<:", "merge key"),
    ("alias", "gateway: &g {port: 4002}\nstrategy: *g\n", "strategy:", "alias"),
    ("newline-in-key", '"a\\nb": 1\n', "a\\x0ab: unknown key", "known keys"),
    ("1000-char-key", '"' + "k" * 1000 + '": 1\n', "kkkk", "unknown key"),
    ("5000-char-key", '"' + "k" * 5000 + '": 1\n', "", "malformed YAML"),
    ("lone-surrogate-host", 'gateway: {host: "\\uD800"}\n', "gateway.host:", "host name"),
    ("bad-explicit-timestamp", "exits: {time_exit: !!timestamp 2026-13-45}\n", "", "malformed YAML"),
    (
        "xsp-with-spxw",
        "strategy: {symbol: XSP, trading_class: SPXW}\n",
        "strategy.trading_class:",
        "XSP with symbol XSP",
    ),
]


def _main(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], **env: str
) -> SimpleNamespace:
    """The console script's own entry point (`icbot.cli.app.main`) in this process: the same code as the
    subprocess without an interpreter start per case (the subprocess proof is kept for a sample below)."""
    from icbot.cli.app import main

    for key in [k for k in os.environ if k.startswith("ICBOT_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(sys, "argv", ["icbot", *args])
    with pytest.raises(SystemExit) as ended:
        main()
    out = capsys.readouterr()
    return SimpleNamespace(returncode=ended.value.code, stdout=out.out, stderr=out.err)


@pytest.mark.parametrize(
    ("text", "starts", "contains"), [c[1:] for c in CONFIG_CASES], ids=[c[0] for c in CONFIG_CASES]
)
def test_bad_config_is_exit_2_with_one_bounded_line(
    tmp_path: Path,
    text: str,
    starts: str,
    contains: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    line = _one_line(_main(["config", "check", "--config", str(path)], monkeypatch, capsys))  # type: ignore[arg-type]
    assert line.startswith(f"icbot: {starts}"), line
    assert contains in line, line


@pytest.mark.parametrize("case", ["nested-1500-deep", "nul-in-db-path", "duplicate-key", "base-60-port"])
def test_bad_config_through_the_installed_console_script(tmp_path: Path, case: str) -> None:
    _, text, starts, contains = next(c for c in CONFIG_CASES if c[0] == case)
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    line = _one_line(_run(["config", "check", "--config", str(path)], tmp_path))
    assert line.startswith(f"icbot: {starts}") and contains in line, line


def test_numbers_and_times_read_as_a_person_reads_them(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("gateway: {client_id: 017}\nexits: {time_exit: 11:30}\nentry: {reprice_seconds: 2.5e0}\n")
    result = _run(["config", "check", "--config", str(path), "--json"], tmp_path, ICBOT_DB=str(tmp_path / "j.db"))
    assert result.returncode == 0, result.stderr
    view = json.loads(result.stdout)
    assert view["gateway"]["client_id"] == 17, "017 is seventeen, not octal 15"
    assert view["exits"]["time_exit"] == "11:30", "an unquoted 11:30 is half past eleven, not 690"
    assert view["entry"]["reprice_seconds"] == 2.5


def test_xsp_config_checks_out(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "strategy: {symbol: XSP, trading_class: XSP, combo_tick: 0.01}\nentry: {step: 0.01}\nstrikes: {wing_width: 2}\n"
    )
    result = _run(["config", "check", "--config", str(path), "--json"], tmp_path, ICBOT_DB=str(tmp_path / "j.db"))
    assert result.returncode == 0, result.stderr
    view = json.loads(result.stdout)
    assert view["strategy"] == {"symbol": "XSP", "trading_class": "XSP", "combo_tick": 0.01}
    assert view["strikes"]["wing_width"] == 2


def test_a_5000_char_config_path_is_one_bounded_line(tmp_path: Path) -> None:
    line = _one_line(_run(["config", "check", "--config", "/tmp/" + "c" * 5000 + ".yaml"], tmp_path))
    assert line.startswith('icbot: --config: "/tmp/ccc') and "longer than 1024 characters" in line


def test_bad_icbot_db_is_one_line(tmp_path: Path) -> None:
    line = _one_line(_run(["config", "check"], tmp_path, ICBOT_DB="/tmp/" + "d" * 5000))
    assert line.startswith("icbot: ICBOT_DB: ") and "longer than 1024 characters" in line


def test_an_unreadable_config_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text("mode: paper\n")
    path.chmod(0o000)
    if os.access(path, os.R_OK):  # root reads anything: make the file unreadable inside the icbot process
        shim = (
            "import os, pathlib, sys\n"
            "name = sys.argv[-1]\n"
            "real_access, real_open = os.access, pathlib.Path.open\n"
            "os.access = lambda p, m, *a, **k: False if str(p) == name else real_access(p, m, *a, **k)\n"
            "def fake_open(self, *a, **k):\n"
            "    if str(self) == name:\n"
            "        raise PermissionError(13, 'Permission denied', name)\n"
            "    return real_open(self, *a, **k)\n"
            "pathlib.Path.open = fake_open\n"
            "sys.argv = ['icbot', *sys.argv[1:]]\n"
            "from icbot.cli.app import main\n"
            "main()\n"
        )
        argv0 = [sys.executable, "-c", shim]
    else:
        argv0 = None
    for command in (["config", "check"], ["run-today"], ["schedule"]):
        line = _one_line(_run([*command, "--config", str(path)], tmp_path, argv0=argv0, ICBOT_DB=str(tmp_path / "j")))
        assert line == f"icbot: {path}: cannot read the configuration file (Permission denied)", line


@pytest.mark.parametrize(
    ("spec", "contains", "in_process"),
    [
        ("9999-12-31T09:31:00-05:00@1795000000x60", "is not in 2000–2099", False),  # the installed script
        ("2026-11-24T09:31:00-05:00@99999999999999999999x1", "puts virtual now outside", True),
        ("2026-11-24T09:31:00-05:00@1795000000x99999999", "above 1e+06", True),
    ],
    ids=["year-9999", "epoch-1e20", "speed-1e8"],
)
def test_an_impossible_icbot_clock_is_one_line(
    tmp_path: Path,
    spec: str,
    contains: str,
    in_process: bool,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {"ICBOT_CLOCK": spec, "ICBOT_DB": str(tmp_path / "j.db")}
    monkeypatch.chdir(tmp_path)
    for command in (["run-today"], ["schedule"], ["config", "check"]):
        result = _main(command, monkeypatch, capsys, **env) if in_process else _run(command, tmp_path, **env)
        line = _one_line(result)  # type: ignore[arg-type]
        assert line.startswith("icbot: ICBOT_CLOCK") and contains in line, line


def test_a_frozen_clock_is_refused_by_the_commands_that_wait_and_fine_for_schedule(tmp_path: Path) -> None:
    frozen = "2026-11-24T09:31:00-05:00@1795000000x0"
    line = _one_line(_run(["run-today"], tmp_path, ICBOT_CLOCK=frozen, ICBOT_DB=str(tmp_path / "j.db")))
    assert "speed 0 freezes virtual time" in line and "run-today" in line
    line = _one_line(_run(["check"], tmp_path, ICBOT_CLOCK=frozen, ICBOT_DB=str(tmp_path / "j.db")))
    assert "speed 0 freezes virtual time" in line
    journal = str(tmp_path / "j.db")
    assert _run(["schedule", "--days", "2"], tmp_path, ICBOT_CLOCK=frozen, ICBOT_DB=journal).returncode == 0


def test_a_clock_beyond_the_exchange_calendar_is_one_line_for_run_today(tmp_path: Path) -> None:
    line = _one_line(
        _run(
            ["run-today"],
            tmp_path,
            ICBOT_CLOCK="2090-01-03T09:31:00-05:00@1795000000x0.000001",
            ICBOT_DB=str(tmp_path / "j"),
        )
    )
    assert "outside the exchange calendar" in line


@pytest.mark.parametrize(
    ("args", "contains"),
    [
        (["--port", "70000"], "--port 70000 is out of range; allowed: 0 to 65535"),
        (["--port", "-1"], "--port -1 is out of range"),
        (["--speed", "inf"], "--speed inf is out of range"),
        (["--start", "9999-01-01T09:30:00"], "is not in 2000–2099"),
    ],
    ids=["port-70000", "port-negative", "speed-inf", "start-9999"],
)
def test_bad_sim_options_are_one_line(
    tmp_path: Path,
    args: list[str],
    contains: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # the installed script for the first case (`icbot sim` also has its own in tests/sim/test_sim_cli.py)
    if args == ["--port", "70000"]:
        result = _run(["sim", *args], tmp_path)
    else:
        monkeypatch.chdir(tmp_path)
        result = _main(["sim", *args], monkeypatch, capsys)  # type: ignore[assignment]
    line = _one_line(result)
    assert contains in line, line


@pytest.mark.parametrize(
    ("urls", "reason"),
    [
        ("nosuchservice://SECRET-TOKEN@host", "notification URL #1 (nosuchservice://…) is not a valid apprise URL"),
        ("pover:/SECRET-TOKEN", "ICBOT_NOTIFY_URLS: entry #1 is not an apprise URL"),
    ],
    ids=["unknown-service", "no-scheme"],
)
def test_a_broken_alert_url_stops_run_today_but_not_kill(tmp_path: Path, urls: str, reason: str) -> None:
    """run-today refuses to open a trade nobody would hear about; kill must still halt and close what it can, and
    says that its alert did not go out, and why."""
    config = tmp_path / "config.yaml"
    config.write_text("mode: paper\ngateway: {host: 127.0.0.1, port: 9, client_id: 31}\n", encoding="utf-8")
    env = {
        "ICBOT_NOTIFY_URLS": urls,
        "ICBOT_CLOCK": f"2026-11-24T09:40:00-05:00@{time.time():.3f}x1000",  # the connect retries end at once
        "ICBOT_DB": str(tmp_path / "j.db"),
    }
    line = _one_line(_run(["run-today", "--config", str(config)], tmp_path, **env))
    assert reason in line and "SECRET" not in line
    kill = _run(["kill", "--config", str(config)], tmp_path, **env)
    assert kill.returncode == 4, kill.stdout + kill.stderr  # halted; the gateway down: close the condor in TWS
    assert "halt set (kill)" in kill.stdout
    said = kill.stdout + kill.stderr
    assert "alert NOT delivered" in said and reason in said
    assert "SECRET" not in said
