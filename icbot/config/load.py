"""Find, read and validate the configuration file (see docs/configuration.md for every rule)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from datetime import time
from pathlib import Path
from typing import Any

import yaml

from icbot.config.checks import Range, Section, num, parse_hhmm, show
from icbot.config.model import (
    EARLY_CLOSE_EXIT_MINUTES,
    EXIT_MARGIN_MINUTES,
    LATEST_TIME_EXIT,
    MAX_CONTRACTS_CEILING,
    MODES,
    SIZE_MODES,
    TRIGGER_METHODS,
    Config,
    EntryConfig,
    ExitsConfig,
    FiltersConfig,
    GatewayConfig,
    NotifyConfig,
    SizeConfig,
    StorageConfig,
    StrategyConfig,
    StrikesConfig,
    is_paper_account,
)
from icbot.errors import ConfigError

_SECTIONS = ("gateway", "strategy", "entry", "strikes", "size", "exits", "filters", "notify", "storage")
TOP_KEYS = ("mode", *_SECTIONS)
GATEWAY_KEYS = ("host", "port", "client_id", "account")
STRATEGY_KEYS = ("symbol", "trading_class", "combo_tick")
ENTRY_KEYS = ("minutes_after_open", "deadline_minutes_after_open", "reprice_seconds", "step", "min_credit")
STRIKES_KEYS = ("target_delta", "max_delta", "min_delta", "tie_tolerance", "wing_width")
SIZE_KEYS = ("mode", "contracts", "percent", "max_contracts")
EXITS_KEYS = ("profit_target_pct", "stop_multiple", "stop_trigger", "time_exit")


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Find, read and validate the configuration; raise ConfigError with one line on any problem."""
    env = os.environ if environ is None else environ
    source = _choose_source(path, env)
    data = _read_yaml(source) if source is not None else {}
    config = _build(data, source)
    db_override = env.get("ICBOT_DB", "").strip()
    if db_override:
        config = _replace_db(config, Path(db_override).expanduser())
    return config


def _choose_source(path: Path | None, env: Mapping[str, str]) -> Path | None:
    if path is not None:
        return Path(path).expanduser()
    from_env = env.get("ICBOT_CONFIG", "").strip()
    if from_env:
        return Path(from_env).expanduser()
    local = Path("config.yaml")
    return local if local.is_file() else None


def _read_yaml(source: Path) -> Mapping[str, Any]:
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{source}: configuration file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{source}: is a directory, not a configuration file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: cannot read the configuration file ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}" if mark is not None else "somewhere"
        problem = exc.problem or exc.context or "unreadable"
        raise ConfigError(f"{source}: {where}: malformed YAML ({problem})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: malformed YAML ({str(exc).splitlines()[0]})") from None
    if data is None:  # an empty file, or only comments: the defaults
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: the file must be a mapping of sections (mode:, gateway:, ...), got {show(data)}")
    return data


def _build(data: Mapping[str, Any], source: Path | None) -> Config:
    top = Section("", data, TOP_KEYS, source)
    mode = top.choice("mode", "paper", MODES)
    base = source.parent if source is not None else None
    gateway = _gateway(top.section("gateway", GATEWAY_KEYS), mode)
    strategy = _strategy(top.section("strategy", STRATEGY_KEYS))
    entry = _entry(top.section("entry", ENTRY_KEYS), strategy.combo_tick)
    strikes = _strikes(top.section("strikes", STRIKES_KEYS))
    size = _size(top.section("size", SIZE_KEYS))
    exits = _exits(top.section("exits", EXITS_KEYS), entry)
    filters = FiltersConfig(max_vix=top.section("filters", ("max_vix",)).optional_number("max_vix", Range(lo=0)))
    notify = NotifyConfig(top.section("notify", ("apprise_config",)).optional_path("apprise_config", base))
    storage = StorageConfig(top.section("storage", ("db",)).optional_path("db", base))
    return Config(mode, gateway, strategy, entry, strikes, size, exits, filters, notify, storage, source)  # type: ignore[arg-type]


def _gateway(s: Section, mode: str) -> GatewayConfig:
    host = s.string("host", "127.0.0.1", nonempty=True)
    port = s.integer("port", 4002, Range(lo=1, hi=65535))
    client_id = s.integer("client_id", 31, Range(lo=0, hi=2**31 - 1))
    account = s.string("account", "", pattern=r"[A-Z0-9]*", pattern_help="IB account id in capitals, e.g. DU1234567")
    if mode == "live" and not account:
        s.required("account", "when mode is live", 'the live account id, quoted, e.g. "U1234567"')
    if mode == "live" and is_paper_account(account):
        s.reject("account", account, "is a paper account but mode is live", "a live account id (not DU…)")
    if mode == "paper" and account and not is_paper_account(account):
        s.reject("account", account, "is not a paper account but mode is paper", "empty or a DU… paper account")
    return GatewayConfig(host, port, client_id, account)


def _strategy(s: Section) -> StrategyConfig:
    symbol = s.string("symbol", "SPX", nonempty=True)
    trading_class = s.string("trading_class", "SPXW", nonempty=True)
    tick = s.number("combo_tick", 0.05, Range(lo=0, lo_open=True, hi=10))
    return StrategyConfig(symbol, trading_class, tick)


def _entry(s: Section, tick: float) -> EntryConfig:
    latest = EARLY_CLOSE_EXIT_MINUTES - 2
    minutes = s.integer("minutes_after_open", 2, Range(lo=0, hi=latest))
    deadline = s.integer("deadline_minutes_after_open", 3, Range(lo=0, hi=EARLY_CLOSE_EXIT_MINUTES - 1))
    if deadline <= minutes:
        s.reject(
            "deadline_minutes_after_open",
            deadline,
            f"is not after entry.minutes_after_open ({minutes})",
            f"an integer from {minutes + 1} to {EARLY_CLOSE_EXIT_MINUTES - 1}",
        )
    reprice = s.number("reprice_seconds", 5.0, Range(lo=0, lo_open=True, hi=60))
    step = s.number("step", 0.05, Range(lo=0, lo_open=True, hi=100))
    if not _is_multiple(step, tick):
        s.reject("step", step, f"is not a multiple of strategy.combo_tick ({num(tick)})", f"a multiple of {num(tick)}")
    min_credit = s.number("min_credit", 0.0, Range(lo=0, hi=1000))
    return EntryConfig(minutes, deadline, reprice, step, min_credit)


def _strikes(s: Section) -> StrikesConfig:
    target = s.number("target_delta", 15.0, Range(lo=0, lo_open=True, hi=50))
    max_delta = s.number("max_delta", 16.9, Range(lo=0, hi=50))
    if max_delta < target:
        s.reject("max_delta", max_delta, f"is below strikes.target_delta ({num(target)})", f"{num(target)} to 50")
    min_delta = s.number("min_delta", 10.0, Range(lo=0, hi=50))
    if min_delta > target:
        s.reject("min_delta", min_delta, f"is above strikes.target_delta ({num(target)})", f"0 to {num(target)}")
    tie = s.number("tie_tolerance", 0.05, Range(lo=0, hi=50))
    wing = s.number("wing_width", 20.0, Range(lo=0, lo_open=True, hi=1000))
    if not _is_multiple(wing, 5.0):
        s.reject("wing_width", wing, "is not a multiple of 5 (SPX strike spacing)", "5, 10, 15, 20, ...")
    return StrikesConfig(target, max_delta, min_delta, tie, wing)


def _size(s: Section) -> SizeConfig:
    mode = s.choice("mode", "fixed", SIZE_MODES)
    ceiling = MAX_CONTRACTS_CEILING
    max_contracts = s.integer("max_contracts", 1, Range(lo=1, hi=ceiling, hi_help=f"the hard ceiling {ceiling}"))
    contracts = s.integer("contracts", 1, Range(lo=1, hi=ceiling))
    if contracts > max_contracts:
        s.reject("contracts", contracts, f"is above size.max_contracts ({max_contracts})", f"1 to {max_contracts}")
    percent = s.number("percent", 0.0, Range(lo=0, hi=100))
    if mode != "fixed" and percent <= 0:
        s.reject("percent", percent, f"must be above 0 when size.mode is {mode}", "more than 0, at most 100")
    return SizeConfig(mode, contracts, percent, max_contracts)  # type: ignore[arg-type]


def _exits(s: Section, entry: EntryConfig) -> ExitsConfig:
    pct = s.number("profit_target_pct", 25.0, Range(lo=1, hi=99))
    stop = s.number("stop_multiple", 3.0, Range(lo=1, lo_open=True, hi=100))
    trigger = s.choice("stop_trigger", "midpoint", tuple(TRIGGER_METHODS))
    raw = s.raw("time_exit", "11:30")
    exit_time = parse_hhmm(s, "time_exit", raw)
    deadline_min = 9 * 60 + 30 + entry.deadline_minutes_after_open
    deadline = time(deadline_min // 60, deadline_min % 60)
    if exit_time <= deadline:
        s.reject(
            "time_exit",
            raw,
            f"is not after the entry deadline {deadline:%H:%M} ET",
            f"a time after {deadline:%H:%M}, at most {LATEST_TIME_EXIT:%H:%M}",
        )
    if exit_time > LATEST_TIME_EXIT:
        s.reject(
            "time_exit",
            raw,
            f"leaves less than {EXIT_MARGIN_MINUTES} minutes before the 16:00 close",
            f"a time after {deadline:%H:%M}, at most {LATEST_TIME_EXIT:%H:%M}",
        )
    return ExitsConfig(pct, stop, trigger, exit_time)


def _is_multiple(value: float, unit: float) -> bool:
    ratio = value / unit
    return abs(ratio - round(ratio)) < 1e-6


def _replace_db(config: Config, db: Path) -> Config:
    return replace(config, storage=StorageConfig(db=db))
