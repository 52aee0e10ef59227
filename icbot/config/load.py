"""Find, read and validate the configuration file (see docs/configuration.md for every rule).

The allowed keys and their defaults are not listed here: each `Section` takes them from the dataclasses of
icbot.config.model (`checks.defaults_of`), so a default is written exactly once. This module adds only what
the dataclasses cannot say: ranges, cross-field rules and the product rules of icbot.core.products.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from datetime import time
from pathlib import Path
from typing import Any

import yaml

from icbot.config import strict_yaml
from icbot.config.checks import (
    MAX_SHOWN,
    PATH_ALLOWED,
    Range,
    Section,
    clip,
    clip_path,
    defaults_of,
    num,
    resolve_path,
    show,
)
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
    ReportConfig,
    SizeConfig,
    StorageConfig,
    StrategyConfig,
    StrikesConfig,
    WhatifConfig,
    is_paper_account,
)
from icbot.core.products import PRODUCTS, SYMBOLS, product_for, product_of_symbol
from icbot.errors import ConfigError

MAX_FILE_BYTES = 1 << 20  # a config file is a few hundred bytes; a megabyte is not a config file
HOST_PATTERN = r"[A-Za-z0-9._:%-]{1,253}"


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Find, read and validate the configuration; raise ConfigError with one line on any problem."""
    env = os.environ if environ is None else environ
    source = _choose_source(path, env)
    data = _read_yaml(source) if source is not None else {}
    config = _build(data, source)
    db_override = env.get("ICBOT_DB", "").strip()
    if db_override:
        try:
            db = resolve_path(db_override, None)
        except ValueError as exc:
            raise ConfigError(f"ICBOT_DB: {show(db_override)} {exc}; allowed: {PATH_ALLOWED}") from None
        config = _replace_db(config, db)
    return config


def _source_path(text: str, what: str) -> Path:
    try:
        return resolve_path(text, None)
    except ValueError as exc:
        raise ConfigError(f"{what}: {show(text)} {exc}; allowed: the path of a YAML configuration file") from None


def _choose_source(path: Path | None, env: Mapping[str, str]) -> Path | None:
    if path is not None:
        return _source_path(str(path), "--config")
    from_env = env.get("ICBOT_CONFIG", "").strip()
    if from_env:
        return _source_path(from_env, "ICBOT_CONFIG")
    local = Path("config.yaml")
    try:
        return local if local.is_file() else None
    except OSError as exc:  # e.g. a working directory icbot may not look into
        raise ConfigError(f"./config.yaml: cannot check whether it exists ({exc.strerror or exc})") from None


def _read_yaml(source: Path) -> Mapping[str, Any]:
    where = clip_path(source)
    try:
        with source.open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"{where}: configuration file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{where}: is a directory, not a configuration file") from None
    except OSError as exc:  # the message without the file name, which `where` already shows (bounded)
        raise ConfigError(
            f"{where}: cannot read the configuration file ({exc.strerror or type(exc).__name__})"
        ) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(f"{where}: larger than {MAX_FILE_BYTES // 1024} KiB, not a configuration file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{where}: cannot read the configuration file (not UTF-8 text at byte {exc.start})") from None
    try:
        data = strict_yaml.load(text)
    except strict_yaml.Refusal as exc:
        key = _dotted(exc.path)
        line = f" (line {exc.line})" if exc.line is not None and "line" not in exc.problem else ""
        raise ConfigError(f"{key}: {exc.problem}{line}; allowed: {exc.allowed} [{where}]") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f"line {mark.line + 1}" if mark is not None else "somewhere"
        problem = clip(exc.problem or exc.context or "unreadable", 2 * MAX_SHOWN)
        raise ConfigError(f"{where}: {at}: malformed YAML ({problem})") from None
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{where}: malformed YAML ({clip(first, 2 * MAX_SHOWN)})") from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:  # a value PyYAML itself cannot build
        raise ConfigError(f"{where}: malformed YAML ({clip(f'{type(exc).__name__}: {exc}', 2 * MAX_SHOWN)})") from None
    if data is None:  # an empty file, or only comments: the defaults
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: the file must be a mapping of sections (mode:, gateway:, ...), got {show(data)}")
    return data


def _dotted(path: list[str]) -> str:
    parts = [clip(p, 30) for p in path]
    if len(parts) > 6:
        parts = [*parts[:3], "...", *parts[-2:]]
    out = ""
    for p in parts:
        out += p if p.startswith("[") or not out else f".{p}"
    return out or "(top level)"


def _build(data: Mapping[Any, Any], source: Path | None) -> Config:
    top = Section("", data, defaults_of(Config()), source)
    mode = top.choice("mode", MODES)
    base = source.parent if source is not None else None
    gateway = _gateway(top.section("gateway"), mode)
    strategy = _strategy(top.section("strategy"))
    entry = _entry(top.section("entry"), strategy.combo_tick)
    strikes = _strikes(top.section("strikes"), strategy)
    size = _size(top.section("size"))
    exits = _exits(top.section("exits"), entry)
    filters = FiltersConfig(top.section("filters").optional_number("max_vix", Range(lo=0)))
    notify_section = top.section("notify")
    notify = NotifyConfig(notify_section.optional_path("apprise_config", base), notify_section.flag("daily_summary"))
    storage = StorageConfig(top.section("storage").optional_path("db", base))
    report = ReportConfig(top.section("report").optional_number("starting_capital", Range(lo=0, lo_open=True, hi=1e12)))
    whatif = _whatif(top.section("whatif"))
    sections = (gateway, strategy, entry, strikes, size, exits, filters, notify, storage, report, whatif)
    return Config(mode, *sections, source)  # type: ignore[arg-type]


def _whatif(s: Section) -> WhatifConfig:
    """`whatif:` — each variant is checked here, so a typo fails `config check`, not the first replay."""
    from icbot.core.whatif.variants import VariantError, variant_from_mapping

    record = s.flag("record")
    slippage = s.number("slippage", Range(lo=0, hi=5))
    raw = s.value("variants")
    allowed = "a mapping of variant name → overrides, e.g. {tp50: {profit_target_pct: 50}}"
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        s.fail("variants", raw, "is not a mapping", allowed)
    variants: dict[str, dict[str, float | str]] = {}
    for name, body in raw.items():
        if not isinstance(body, Mapping) or not body:
            s.fail("variants", {name: body}, "needs a mapping of overrides per variant", allowed)
        try:
            v = variant_from_mapping(str(name), {str(k): val for k, val in body.items()})
        except VariantError as exc:
            raise ConfigError(f"whatif.variants.{clip(str(name), 40)}: {exc}{s._where()}") from None
        plain: dict[str, float | str] = {}
        for key in body:
            value = getattr(v, str(key))
            plain[str(key)] = (
                value.strftime("%H:%M") if isinstance(value, time) else (str(value) if key == "touch" else float(value))
            )
        variants[v.name] = plain
    return WhatifConfig(record, slippage, variants)


def _gateway(s: Section, mode: str) -> GatewayConfig:
    host = s.string(
        "host", nonempty=True, pattern=HOST_PATTERN, pattern_help="a host name or IP address, e.g. 127.0.0.1"
    )
    port = s.integer("port", Range(lo=1, hi=65535))
    client_id = s.integer("client_id", Range(lo=0, hi=2**31 - 1))
    account = s.string("account", pattern=r"[A-Z0-9]{0,20}", pattern_help="IB account id in capitals, e.g. DU1234567")
    if mode == "live" and not account:
        s.required("account", "when mode is live", 'the live account id, quoted, e.g. "U1234567"')
    if mode == "live" and is_paper_account(account):
        s.reject("account", account, "is a paper account but mode is live", "a live account id (not DU…)")
    if mode == "paper" and account and not is_paper_account(account):
        s.reject("account", account, "is not a paper account but mode is paper", "empty or a DU… paper account")
    return GatewayConfig(host, port, client_id, account)


def _strategy(s: Section) -> StrategyConfig:
    """Exactly the products of icbot.core.products: SPX with SPXW, XSP with XSP."""
    symbol = s.choice("symbol", SYMBOLS)
    product = product_of_symbol(symbol)
    assert product is not None
    trading_class = s.string("trading_class", nonempty=True)
    try:
        product_for(symbol, trading_class)
    except ValueError:
        pairs = ", ".join(f"{p.trading_class} with symbol {p.symbol}" for p in PRODUCTS)
        s.reject(
            "trading_class",
            trading_class,
            f"is not the 0DTE trading class of {symbol} ({product.trading_class})",
            pairs,
        )
    tick = s.number("combo_tick", Range(lo=0, lo_open=True, hi=10))
    return StrategyConfig(symbol, trading_class, tick)


def _entry(s: Section, tick: float) -> EntryConfig:
    latest = EARLY_CLOSE_EXIT_MINUTES - 2
    minutes = s.integer("minutes_after_open", Range(lo=0, hi=latest))
    deadline = s.integer("deadline_minutes_after_open", Range(lo=0, hi=EARLY_CLOSE_EXIT_MINUTES - 1))
    if deadline <= minutes:
        s.reject(
            "deadline_minutes_after_open",
            deadline,
            f"is not after entry.minutes_after_open ({minutes})",
            f"an integer from {minutes + 1} to {EARLY_CLOSE_EXIT_MINUTES - 1}",
        )
    reprice = s.number("reprice_seconds", Range(lo=0, lo_open=True, hi=60))
    step = s.number("step", Range(lo=0, lo_open=True, hi=100))
    if not _is_multiple(step, tick):
        s.reject("step", step, f"is not a multiple of strategy.combo_tick ({num(tick)})", f"a multiple of {num(tick)}")
    min_credit = s.number("min_credit", Range(lo=0, hi=1000))
    return EntryConfig(minutes, deadline, reprice, step, min_credit)


def _strikes(s: Section, strategy: StrategyConfig) -> StrikesConfig:
    target = s.number("target_delta", Range(lo=0, lo_open=True, hi=50))
    max_delta = s.number("max_delta", Range(lo=0, hi=50))
    if max_delta < target:
        s.reject("max_delta", max_delta, f"is below strikes.target_delta ({num(target)})", f"{num(target)} to 50")
    min_delta = s.number("min_delta", Range(lo=0, hi=50))
    if min_delta > target:
        s.reject("min_delta", min_delta, f"is above strikes.target_delta ({num(target)})", f"0 to {num(target)}")
    tie = s.number("tie_tolerance", Range(lo=0, hi=50))
    wing = s.number("wing_width", Range(lo=0, lo_open=True, hi=1000))
    product = strategy.product
    step = product.strike_step
    if not _is_multiple(wing, step):
        examples = ", ".join(num(step * i) for i in range(1, 5))
        s.reject(
            "wing_width",
            wing,
            f"is not a multiple of {num(step)} ({product.symbol} strike spacing)",
            f"{examples}, ...",
        )
    return StrikesConfig(target, max_delta, min_delta, tie, wing)


def _size(s: Section) -> SizeConfig:
    mode = s.choice("mode", SIZE_MODES)
    ceiling = MAX_CONTRACTS_CEILING
    max_contracts = s.integer("max_contracts", Range(lo=1, hi=ceiling, hi_help=f"the hard ceiling {ceiling}"))
    contracts = s.integer("contracts", Range(lo=1, hi=ceiling))
    if contracts > max_contracts:
        s.reject("contracts", contracts, f"is above size.max_contracts ({max_contracts})", f"1 to {max_contracts}")
    percent = s.number("percent", Range(lo=0, hi=100))
    if mode != "fixed" and percent <= 0:
        s.reject("percent", percent, f"must be above 0 when size.mode is {mode}", "more than 0, at most 100")
    return SizeConfig(mode, contracts, percent, max_contracts)  # type: ignore[arg-type]


def _exits(s: Section, entry: EntryConfig) -> ExitsConfig:
    pct = s.number("profit_target_pct", Range(lo=1, hi=99))
    stop = s.number("stop_multiple", Range(lo=1, lo_open=True, hi=100))
    trigger = s.choice("stop_trigger", tuple(TRIGGER_METHODS))
    exit_time = s.wall_time("time_exit")
    shown = f"{exit_time:%H:%M}"
    deadline_min = 9 * 60 + 30 + entry.deadline_minutes_after_open
    deadline = time(deadline_min // 60, deadline_min % 60)
    if exit_time <= deadline:
        s.reject(
            "time_exit",
            shown,
            f"is not after the entry deadline {deadline:%H:%M} ET",
            f"a time after {deadline:%H:%M}, at most {LATEST_TIME_EXIT:%H:%M}",
        )
    if exit_time > LATEST_TIME_EXIT:
        s.reject(
            "time_exit",
            shown,
            f"leaves less than {EXIT_MARGIN_MINUTES} minutes before the 16:00 close",
            f"a time after {deadline:%H:%M}, at most {LATEST_TIME_EXIT:%H:%M}",
        )
    confirm = s.number("confirm_seconds", Range(lo=0, hi=300))
    return ExitsConfig(pct, stop, trigger, exit_time, confirm)


def _is_multiple(value: float, unit: float) -> bool:
    ratio = value / unit
    return abs(ratio - round(ratio)) < 1e-6


def _replace_db(config: Config, db: Path) -> Config:
    return replace(config, storage=StorageConfig(db=db))
