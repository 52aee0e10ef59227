"""Every command's --help shows flags as flags, and usage errors are one line with exit 2 (the real console script)."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from icbot.cli import register_all
from icbot.cli.app import app as root_app
from icbot.cli.plain_params import PlainValue
from tests.cli.helpers import run_icbot


def _icbot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_icbot(args, cwd)


@functools.cache
def _root_command() -> object:
    """The real application's command tree, built once."""
    if not root_app.registered_commands:  # main() registers them; a test process has not run main()
        register_all(root_app)
    return typer.main.get_command(root_app)


def _command_paths() -> list[list[str]]:
    """Every command and command group of the real application, as argv prefixes, the root included."""
    group = _root_command()
    paths: list[list[str]] = []

    def walk(cmd: object, path: list[str]) -> None:
        paths.append(path)
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            walk(sub, [*path, name])

    walk(group, [])
    return paths


COMMANDS = _command_paths()


def test_the_walk_finds_every_registered_command():
    names = {" ".join(p) for p in COMMANDS}
    assert {"", "run-today", "check", "schedule", "config", "config check", "sim", "demo"} <= names


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "icbot")
def test_help_never_shows_a_flag_as_taking_a_bool_value(path):
    result = CliRunner().invoke(root_app, [*path, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "--help" in result.output
    assert "<bool>" not in result.output


def test_real_console_script_help_shows_json_and_verbose_as_flags(tmp_path):
    for args, flag in (
        (["schedule", "--help"], "--json"),
        (["run-today", "--help"], "--verbose"),
        (["check", "--help"], "--verbose"),
        (["config", "check", "--help"], "--json"),
    ):
        result = _icbot(*args, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        line = next(line for line in result.stdout.splitlines() if flag in line)
        assert "<" not in line, line  # no value placeholder after a flag


def test_a_flag_takes_no_value_and_saying_so_is_one_line_with_exit_2(tmp_path):
    result = _icbot("schedule", "--json", "true", cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("icbot: ") and "(true)" in line and "takes no value" in line
    assert "No such command" not in line and "icbot schedule --help" in line


def test_the_flag_alone_works(tmp_path):
    result = _icbot("schedule", "--json", "--days", "1", "--from", "2026-11-24", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert '"from": "2026-11-24"' in result.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["frobnicate"], "No such command 'frobnicate'"),
        (["sim", "--bogus"], "--bogus"),
        (["schedule", "--days", "many"], "--days"),
    ],
)
def test_usage_errors_are_one_line_naming_the_problem(tmp_path, args, needle):
    result = _icbot(*args, cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("icbot: ") and needle in line and "--help" in line


def test_bare_icbot_still_prints_the_help(tmp_path):
    result = _icbot(cwd=tmp_path)
    assert "Commands:" in result.stdout + result.stderr
    assert "run-today" in result.stdout + result.stderr


def _command(path: list[str]) -> object:
    cmd = _root_command()
    for name in path:
        cmd = cmd.commands[name]  # type: ignore[attr-defined]
    return cmd


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "icbot")
def test_every_option_is_coerced_without_pydantic(path):
    """typer would build a pydantic adapter for each value (0.1 s per process); icbot's options are all plain
    (icbot/cli/plain_params.py). A new option typer must coerce itself fails here, so the cost is a choice."""
    cmd = _command(path)
    typer_coerced = [p.name for p in cmd.params if not isinstance(p._runtime_param, PlainValue)]  # type: ignore[attr-defined]
    assert typer_coerced == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "--last", "many"], "'many' is not a whole number"),
        (["status", "--watch", "soon"], "'soon' is not a number"),
        (["schedule", "install", "--dry-run", "--target-dir", "{file}"], "dir '{file}' is a file"),
    ],
)
def test_a_plain_value_that_does_not_convert_is_a_usage_error(tmp_path, args, message):
    a_file = tmp_path / "agents"
    a_file.write_text("")
    result = _icbot(*[a.format(file=a_file) for a in args], cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert message.format(file=a_file) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_bool_option_that_can_arrive_as_text_is_left_to_typer():
    """An envvar or a non-flag bool arrives as text ("false"); the plain coercion would call bool("false"), which is
    True, so such an option keeps typer's own reading (icbot/cli/plain_params.py). A plain flag is coerced as usual."""
    from icbot.cli.plain_params import PlainCommand

    app = typer.Typer(add_completion=False)

    @app.command(cls=PlainCommand)
    def show(
        dry: bool = typer.Option(False, "--dry", envvar="ICBOT_TEST_DRY"),
        quiet: bool = typer.Option(False, "--quiet"),
    ) -> None:
        typer.echo(f"dry={dry} quiet={quiet}")

    assert CliRunner().invoke(app, [], env={"ICBOT_TEST_DRY": "false"}).output.strip() == "dry=False quiet=False"
    assert CliRunner().invoke(app, ["--quiet"], env={"ICBOT_TEST_DRY": "true"}).output.strip() == "dry=True quiet=True"
    command = typer.main.get_command(app)
    by_name = {p.name: p for p in command.params}
    assert isinstance(getattr(by_name["quiet"], "_runtime_param", None), PlainValue)  # the flag: coerced plainly
    assert not isinstance(getattr(by_name["dry"], "_runtime_param", None), PlainValue)  # typer's
