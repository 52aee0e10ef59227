"""`icbot config check`: the real entry point for exit codes and stderr, CliRunner for the rendering."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from icbot.cli import config_cmd
from icbot.errors import ConfigError

ICBOT = Path(sys.executable).with_name("icbot")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ICBOT_")}
    return env | extra


def _icbot(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ICBOT), *args], cwd=cwd, env=_env(**env), capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    ("text", "line_starts"),
    [
        ("strikes: {max_delta: 14}\n", "icbot: strikes.max_delta: 14 is below strikes.target_delta (15)"),
        ("strikes:\n  max_detla: 16\n", "icbot: strikes.max_detla: unknown key; did you mean strikes.max_delta?"),
        ("mode: live\n", "icbot: gateway.account: must be set when mode is live"),
        ("gateway:\n  port: yes\n", "icbot: gateway.port: true is a boolean, not an integer"),
        ("mode: paper\n  gateway: {}\n", "icbot: {path}: line 2: malformed YAML"),
    ],
)
def test_bad_config_is_one_line_on_stderr_and_exit_2(tmp_path, text, line_starts):
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    result = _icbot(["config", "check", "--config", str(path)], tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(line_starts.format(path=path)), lines[0]
    assert "Traceback" not in result.stderr


def test_missing_file_from_icbot_config_is_one_line_exit_2(tmp_path):
    result = _icbot(["config", "check"], tmp_path, ICBOT_CONFIG=str(tmp_path / "gone.yaml"))
    assert result.returncode == 2
    assert result.stderr.strip() == f"icbot: {tmp_path / 'gone.yaml'}: configuration file not found"


def test_good_config_json_through_the_real_entry_point(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("mode: live\ngateway: {port: 4001, account: U7654321}\n")
    result = _icbot(["config", "check", "--config", str(path), "--json"], tmp_path, ICBOT_DB=str(tmp_path / "j.db"))
    assert result.returncode == 0, result.stderr
    view = json.loads(result.stdout)
    assert view["mode"] == "live"
    assert view["gateway"] == {"host": "127.0.0.1", "port": 4001, "client_id": 31, "account": "*****321"}
    assert view["storage"]["db_path"] == str(tmp_path / "j.db")
    assert view["environment"]["ICBOT_DB"] == str(tmp_path / "j.db")
    assert "U7654321" not in result.stdout


@pytest.fixture
def app() -> typer.Typer:
    root = typer.Typer(add_completion=False)

    @root.callback()
    def _root() -> None:
        """Test root."""

    config_cmd.register(root)
    return root


def test_table_shows_every_key_and_the_source(app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in config_cmd.ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(app, ["config", "check"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "built-in defaults" in result.output
    for key in ("gateway.port", "strikes.max_delta", "exits.time_exit", "size.max_contracts", "storage.db_path"):
        assert key in result.output
    assert "16.9" in result.output and "11:30" in result.output


def test_notify_urls_are_never_printed(app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    secret = "pover://userkey@apptoken"
    result = CliRunner().invoke(app, ["config", "check", "--json"], env={"ICBOT_NOTIFY_URLS": secret})
    assert result.exit_code == 0
    assert secret not in result.output
    view = json.loads(result.output)
    assert view["environment"]["ICBOT_NOTIFY_URLS"] == "set (hidden)"
    assert view["notify"]["loaded"] == "1 service(s): pover"


def test_a_world_readable_apprise_file_fails_the_check_as_it_would_fail_run_today(tmp_path):
    apprise_file = tmp_path / "apprise.yml"
    apprise_file.write_text("urls:\n  - json://127.0.0.1:9/hook:\n    - tag: icbot\n")
    apprise_file.chmod(0o644)
    config = tmp_path / "config.yaml"
    config.write_text(f"notify: {{apprise_config: {apprise_file}}}\n")
    result = _icbot(["config", "check", "--config", str(config)], tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("icbot: ") and "apprise.yml" in line and "chmod 600" in line

    apprise_file.chmod(0o600)
    result = _icbot(["config", "check", "--config", str(config), "--json"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["notify"]["loaded"] == "1 service(s): json"


def test_without_alert_settings_the_check_says_alerts_are_only_journaled(tmp_path):
    result = _icbot(["config", "check", "--json"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["notify"]["loaded"] == "none: alerts are only journaled"


def test_config_error_reaches_the_caller_as_configerror(app, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("size: {max_contracts: 11}\n")
    result = CliRunner().invoke(app, ["config", "check", "--config", str(path)])
    assert isinstance(result.exception, ConfigError)
    assert str(result.exception).startswith("size.max_contracts: 11 is out of range")


def test_help_exists(app):
    result = CliRunner().invoke(app, ["config", "check", "--help"])
    assert result.exit_code == 0
    assert "--json" in result.output and "--config" in result.output
