"""`icbot schedule install | uninstall | show`: the I/O around icbot.core.agents.

Where the agents go, which icbot and config they run, the machine's zone, the calendar's sessions, writing and
removing the files, and the launchctl/systemctl commands. Every command goes through a `Runner`, so tests (and
`--dry-run`, and `--target-dir`) record the commands instead of running them; the target directory is a
parameter, so nothing here has to touch the real home.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, tzinfo
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icbot.config import Config, EntryConfig, ExitsConfig
from icbot.core import agents
from icbot.core.agents import JOBS, LAUNCHD, RUN_TODAY, SYSTEMD, FileState, Plan, SchedulerStatus
from icbot.core.schedule import SessionTimes
from icbot.core.session_table import SessionTable
from icbot.errors import IcbotError, UsageError
from icbot.runner.sessions import table_for

LINGER_DIR = Path("/var/lib/systemd/linger")


class ScheduleError(IcbotError):
    """launchctl/systemctl refused something; the message names the command and its output."""


# -- running commands -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int
    output: str = ""


class Runner(Protocol):
    def __call__(self, argv: Sequence[str]) -> CommandResult: ...


class SystemRunner:
    """Runs the command for real (launchctl, systemctl)."""

    def __call__(self, argv: Sequence[str]) -> CommandResult:
        try:
            done = subprocess.run(list(argv), capture_output=True, text=True, timeout=60, check=False)
        except FileNotFoundError:
            return CommandResult(tuple(argv), 127, f"{argv[0]}: command not found")
        except subprocess.TimeoutExpired:
            return CommandResult(tuple(argv), 124, f"{argv[0]}: no answer within 60 s")
        return CommandResult(tuple(argv), done.returncode, (done.stdout + done.stderr).strip())


@dataclass
class RecordingRunner:
    """Records every command and answers with `returncodes["<program> <verb>"]` (default 0), e.g.
    `{"launchctl print": 113}` or `{"systemctl enable": 1}`. For tests, dry runs and --target-dir."""

    returncodes: dict[str, int] = field(default_factory=dict)
    commands: list[tuple[str, ...]] = field(default_factory=list)

    def __call__(self, argv: Sequence[str]) -> CommandResult:
        args = tuple(argv)
        self.commands.append(args)
        verb = args[2] if args[1:2] == ("--user",) and len(args) > 2 else (args[1] if len(args) > 1 else "")
        return CommandResult(args, self.returncodes.get(f"{args[0]} {verb}", 0))


# -- the machine ------------------------------------------------------------------------------------------
def detect_platform(platform: str | None = None) -> str:
    plat = sys.platform if platform is None else platform
    if plat == "darwin":
        return LAUNCHD
    if plat.startswith("linux"):
        return SYSTEMD
    raise UsageError(f"no scheduler support for {plat!r}; pass --platform launchd or --platform systemd")


def default_target_dir(platform: str, environ: Mapping[str, str] | None = None, home: Path | None = None) -> Path:
    """~/Library/LaunchAgents (launchd) or $XDG_CONFIG_HOME/systemd/user, default ~/.config/systemd/user."""
    env = os.environ if environ is None else environ
    home = Path.home() if home is None else home
    if platform == LAUNCHD:
        return home / "Library" / "LaunchAgents"
    xdg = env.get("XDG_CONFIG_HOME", "").strip()
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".config"
    return base / "systemd" / "user"


def default_log_dir(home: Path | None = None) -> Path:
    return (Path.home() if home is None else home) / "Library" / "Logs" / "icbot"


def installed_icbot(argv0: str | None = None) -> str:
    """The absolute path of the running `icbot` console script (launchd has no PATH to find it by)."""
    first = sys.argv[0] if argv0 is None else argv0
    candidate = Path(first)
    if candidate.name == "icbot" and candidate.exists():
        return str(candidate.absolute())
    sibling = Path(sys.executable).with_name("icbot")
    if sibling.exists():
        return str(sibling.absolute())
    raise UsageError("cannot tell where the icbot program is installed; pass --icbot /absolute/path/to/icbot")


def machine_zone(environ: Mapping[str, str] | None = None) -> tuple[tzinfo | None, str]:
    """The machine's time zone as (ZoneInfo, IANA name) when it can be named, else (None, "local").

    TZ wins; else the target of /etc/localtime (…/zoneinfo/Europe/Berlin on Linux and macOS).
    """
    env = os.environ if environ is None else environ
    tz = env.get("TZ", "").lstrip(":").strip()
    candidates = [tz] if tz else []
    if not tz:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    for name in candidates:
        try:
            return ZoneInfo(name), name
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return None, "local"


def linger_enabled(user: str, linger_dir: Path = LINGER_DIR) -> bool:
    """systemd keeps a user's timers running without a login session when /var/lib/systemd/linger/USER exists."""
    return (linger_dir / user).exists()


# -- the plan ---------------------------------------------------------------------------------------------
def make_plan(
    platform: str,
    *,
    icbot: str,
    config: str,
    log_dir: str,
    zone_name: str,
    zone: tzinfo,
    generated_on: date,
    entry: EntryConfig,
    exits: ExitsConfig,
    table: SessionTable,
) -> Plan:
    until = agents.valid_until(generated_on)
    return Plan(
        platform=platform,
        icbot=icbot,
        config=config,
        log_dir=log_dir,
        zone_name=zone_name,
        zone=zone,
        generated_on=generated_on,
        valid_until=until,
        sessions=table.sessions_between(generated_on, until, entry, exits),
    )


# -- installing -------------------------------------------------------------------------------------------
@dataclass
class Report:
    """What install/uninstall did (or, in a dry run, would do)."""

    files: dict[str, bytes] = field(default_factory=dict)  # path → content written
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    commands: list[CommandResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    created_dirs: list[str] = field(default_factory=list)


@dataclass
class Scheduler:
    """One platform's agents in one directory, commands through `runner`."""

    platform: str
    target_dir: Path
    runner: Runner
    uid: int = field(default_factory=os.getuid)
    user: str = field(default_factory=lambda: os.environ.get("USER", "") or os.environ.get("LOGNAME", ""))
    dry_run: bool = False
    run_commands: bool = True  # False with --target-dir: write files there, run no launchctl/systemctl
    linger_dir: Path = LINGER_DIR

    def path(self, name: str) -> Path:
        return self.target_dir / name

    # -- reading ------------------------------------------------------------------------------------------
    def read(self, name: str) -> bytes | None:
        try:
            return self.path(name).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise UsageError(f"cannot read {self.path(name)}: {exc.strerror or exc}") from None

    def installed_from(self) -> date | None:
        """The day the installed launchd agents were computed on (their ICBOT_SCHEDULE_FROM), if any."""
        if self.platform != LAUNCHD:
            return None
        data = self.read(f"{agents.RUN_TODAY.label}.plist")
        info = agents.read_plist(data) if data is not None else None
        return info.generated_on if info is not None else None

    def loaded(self, name: str) -> bool | None:
        """Whether the installed agent is active: launchd via `launchctl print`, systemd by its enable link.

        None when it cannot be told (commands are not run with --target-dir).
        """
        if self.platform == LAUNCHD:
            if not self.run_commands:
                return None
            label = name.removesuffix(".plist")
            return self.runner(["launchctl", "print", f"gui/{self.uid}/{label}"]).returncode == 0
        if not name.endswith(".timer"):
            return None
        return (self.target_dir / "timers.target.wants" / name).exists()

    def status(self, plan: Plan) -> SchedulerStatus:
        """The installed files against what `plan` would write; current files that are not active count as
        'not loaded'."""
        expected = agents.render(plan)
        states: list[FileState] = []
        zone_installed = None
        for name, content in expected.items():
            data = self.read(name)
            state = agents.compare_file(name, data, content)
            if state.state == agents.CURRENT and self.loaded(name) is False:
                state = FileState(name, agents.NOT_LOADED)
            states.append(state)
            if name == f"{agents.RUN_TODAY.label}.plist" and data is not None:
                info = agents.read_plist(data)
                zone_installed = info.zone_name if info is not None else None
        return SchedulerStatus(
            platform=self.platform,
            files=tuple(states),
            valid_until=plan.valid_until if self.platform == LAUNCHD else None,
            zone_installed=zone_installed,
            zone_now=plan.zone_name,
        )

    # -- writing ------------------------------------------------------------------------------------------
    def _run(self, report: Report, argv: list[str], *, check: bool = True) -> CommandResult:
        if self.dry_run or not self.run_commands:
            result = CommandResult(tuple(argv), 0, "not run")
            report.commands.append(result)
            return result
        result = self.runner(argv)
        report.commands.append(result)
        if check and result.returncode != 0:
            raise ScheduleError(f"`{' '.join(argv)}` failed (exit {result.returncode}): {result.output or 'no output'}")
        return result

    def _write(self, report: Report, name: str, content: bytes) -> None:
        path = self.path(name)
        report.files[str(path)] = content
        if self.dry_run:
            return
        tmp = path.with_name(f".{name}.tmp")
        try:
            tmp.write_bytes(content)
            tmp.chmod(0o644)
            os.replace(tmp, path)
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None

    def _mkdir(self, report: Report, path: Path) -> None:
        if path.is_dir():
            return
        report.created_dirs.append(str(path))
        if not self.dry_run:
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UsageError(f"cannot create {path}: {exc.strerror or exc}") from None

    def install(self, plan: Plan) -> Report:
        if plan.platform != self.platform:
            raise ValueError("plan and scheduler are for different platforms")
        report = Report()
        files = agents.render(plan)
        self._mkdir(report, self.target_dir)
        if self.platform == LAUNCHD:
            self._mkdir(report, Path(plan.log_dir))
            self._install_launchd(report, files)
        else:
            self._install_systemd(report, files)
        return report

    def _install_launchd(self, report: Report, files: Mapping[str, bytes]) -> None:
        domain = f"gui/{self.uid}"
        for name, content in files.items():
            label = name.removesuffix(".plist")
            same = self.read(name) == content
            if same and not self.dry_run and self.run_commands and self.loaded(name):
                report.unchanged.append(str(self.path(name)))  # no bootout/bootstrap: a reload can fire a catch-up
                continue
            # bootout first (a loaded agent keeps its old definition until then); not loaded is fine
            result = self._run(report, ["launchctl", "bootout", f"{domain}/{label}"], check=False)
            if result.returncode not in (0,) and not self.dry_run:
                report.notes.append(f"{label} was not loaded")
            self._write(report, name, content)
            self._run(report, ["launchctl", "bootstrap", domain, str(self.path(name))])

    def _install_systemd(self, report: Report, files: Mapping[str, bytes]) -> None:
        changed = [name for name, content in files.items() if self.read(name) != content]
        for name, content in files.items():
            if name in changed or self.dry_run:
                self._write(report, name, content)
            else:
                report.unchanged.append(str(self.path(name)))
        timers = [f"{job.unit}.timer" for job in JOBS]
        self._run(report, ["systemctl", "--user", "daemon-reload"])
        self._run(report, ["systemctl", "--user", "enable", "--now", *timers])
        if changed:
            # a timer that was already running picks up a new OnCalendar= when it is restarted
            self._run(report, ["systemctl", "--user", "restart", *timers])
        if self.user and not linger_enabled(self.user, self.linger_dir):
            report.notes.append(
                f"linger is off for {self.user}: the timers only run while you are logged in. "
                f"Turn it on with: sudo loginctl enable-linger {self.user}"
            )

    def uninstall(self) -> Report:
        """Remove exactly what install wrote: the agent files (after stopping them) and the log folder if empty."""
        report = Report()
        names = agents.file_names(self.platform)
        present = [n for n in names if self.path(n).exists()]
        if self.platform == LAUNCHD:
            log_dirs = set()
            for name in names:
                data = self.read(name)
                info = _plist_dict(data) if data is not None else {}
                out = info.get("StandardOutPath")
                if isinstance(out, str) and out:
                    log_dirs.add(Path(out).parent)
                self._run(
                    report, ["launchctl", "bootout", f"gui/{self.uid}/{name.removesuffix('.plist')}"], check=False
                )
                if name in present:
                    self._remove(report, self.path(name))
            for folder in sorted(log_dirs):
                if folder.is_dir() and not any(folder.iterdir()):
                    self._remove(report, folder)
                elif folder.is_dir():
                    report.notes.append(f"kept the log folder {folder} (it holds logs)")
        else:
            timers = [n for n in present if n.endswith(".timer")]
            if timers:
                self._run(report, ["systemctl", "--user", "disable", "--now", *timers], check=False)
            for name in present:
                self._remove(report, self.path(name))
            if present:
                self._run(report, ["systemctl", "--user", "daemon-reload"], check=False)
        if not present:
            report.notes.append(f"nothing installed in {self.target_dir}")
        return report

    def _remove(self, report: Report, path: Path) -> None:
        report.removed.append(str(path))
        if self.dry_run:
            return
        try:
            path.rmdir() if path.is_dir() else path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise UsageError(f"cannot remove {path}: {exc.strerror or exc}") from None


def _plist_dict(data: bytes) -> dict[str, object]:
    import plistlib

    try:
        value = plistlib.loads(data)
    except Exception:
        return {}
    return value if isinstance(value, dict) else {}


# -- what the user sees -----------------------------------------------------------------------------------
def describe_firings(firings: Sequence[agents.Firing]) -> str:
    """`14:31 Mon–Fri; 15:31 Mon–Fri` — the local times of one agent, grouped by time."""
    by_time: dict[tuple[int, int], list[int | None]] = {}
    for f in firings:
        by_time.setdefault((f.hour, f.minute), []).append(f.weekday)
    parts = []
    for (h, m), days in sorted(by_time.items()):
        parts.append(f"{h:02d}:{m:02d} {_days(days)}".rstrip())
    return "; ".join(parts)


def _days(days: Sequence[int | None]) -> str:
    if any(d is None for d in days):
        return "daily"
    ds = sorted({d for d in days if d is not None})
    if ds == list(range(ds[0], ds[-1] + 1)) and len(ds) > 2:
        return f"{agents.WEEKDAY_NAMES[ds[0]]}–{agents.WEEKDAY_NAMES[ds[-1]]}"
    return ",".join(agents.WEEKDAY_NAMES[d] for d in ds)


def check_window(firings: Sequence[agents.Firing]) -> str:
    """check's local times in short, e.g. `96 local times, 14:35–22:30` (across midnight where the zone puts it)."""
    minutes = sorted({f.hour * 60 + f.minute for f in firings})
    if not minutes:
        return "never"
    # the window starts after the longest gap between two firings (cyclically over the day)
    gaps = [((minutes[(i + 1) % len(minutes)] - m) % 1440, i) for i, m in enumerate(minutes)]
    _, i = max(gaps)
    first, last = minutes[(i + 1) % len(minutes)], minutes[i]
    return f"{len(minutes)} local times, {first // 60:02d}:{first % 60:02d}–{last // 60:02d}:{last % 60:02d}"


def today_firing_missing(
    plan: Plan, installed: bytes | None, today: date, now_zone: tzinfo, sessions: Mapping[date, SessionTimes]
) -> bool | None:
    """launchd: True when today is a session and the installed run-today agent does not fire at its instant in
    the machine's zone now (a zone change, or local times that ran out); None when it cannot be told."""
    if plan.platform != LAUNCHD or installed is None:
        return None
    session = sessions.get(today)
    info = agents.read_plist(installed)
    if session is None or info is None:
        return None
    return not agents.covers(info.firings, agents.run_today_instant(session), now_zone)


# -- one call for the CLI and doctor ----------------------------------------------------------------------
@dataclass(frozen=True)
class Setup:
    scheduler: Scheduler
    plan: Plan
    zone: tzinfo
    today: date
    sessions: dict[date, SessionTimes]


def prepare(
    config: Config,
    *,
    platform: str,
    zone: tzinfo,
    zone_name: str,
    today: date,
    target_dir: Path | None = None,
    log_dir: Path | None = None,
    icbot: str | None = None,
    dry_run: bool = False,
    generated_on: date | None = None,
    runner: Runner | None = None,
) -> Setup:
    """The scheduler and the plan for this configuration; the plan is computed from `generated_on` (default
    `today`). Without `target_dir`, commands go to `runner` (default: the real launchctl/systemctl)."""
    if config.source is None:
        raise UsageError(
            "the agents need a configuration file: pass --config PATH or set ICBOT_CONFIG "
            "(they run icbot with ICBOT_CONFIG set to its absolute path)"
        )
    program = icbot if icbot is not None else installed_icbot()
    if not Path(program).is_absolute():
        raise UsageError(f"--icbot: {program} is not an absolute path")
    logs = (log_dir.expanduser() if log_dir is not None else default_log_dir()).absolute()
    scheduler = Scheduler(
        platform,
        target_dir.expanduser().absolute() if target_dir is not None else default_target_dir(platform),
        runner if runner is not None else (RecordingRunner() if dry_run or target_dir else SystemRunner()),
        dry_run=dry_run,
        run_commands=target_dir is None,
    )
    table = table_for(config)
    plan = make_plan(
        platform,
        icbot=program,
        config=str(config.source.absolute()),
        log_dir=str(logs),
        zone_name=zone_name,
        zone=zone,
        generated_on=generated_on if generated_on is not None else today,
        entry=config.entry,
        exits=config.exits,
        table=table,
    )
    sessions = {s.date: s for s in plan.sessions}
    if today not in sessions:
        s = table.session_times(today, config.entry, config.exits)
        if s is not None:
            sessions[today] = s
    return Setup(scheduler, plan, zone, today, sessions)


def installed_status(config: Config, **kwargs: object) -> tuple[Setup, SchedulerStatus]:
    """The installed agents against what install would write now (for `show` and `doctor`); keyword arguments as
    for `prepare`.

    launchd agents are compared with what install would have written on the day they were installed (their local
    times depend on that day's twelve months); their age is judged separately (`SchedulerStatus.renew_due`).
    """
    setup = prepare(config, **kwargs)  # type: ignore[arg-type]
    installed_on = setup.scheduler.installed_from()
    if installed_on is not None and installed_on != setup.plan.generated_on:
        setup = prepare(config, **{**kwargs, "generated_on": installed_on})  # type: ignore[arg-type]
    return setup, setup.scheduler.status(setup.plan)


def today_missing(setup: Setup) -> bool | None:
    """launchd: whether today is a session whose run-today instant the installed agent does not fire at, in the
    machine's zone now (a changed zone, or local times that ran out). None when it cannot be told."""
    if setup.plan.platform != LAUNCHD:
        return None
    data = setup.scheduler.read(f"{RUN_TODAY.label}.plist")
    return today_firing_missing(setup.plan, data, setup.today, setup.zone, setup.sessions)
