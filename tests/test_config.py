"""Configuration: every bad case gives one line naming the key; good files give the documented defaults."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import time
from pathlib import Path

import pytest

from icbot.config import (
    TRIGGER_METHODS,
    Config,
    ExitsConfig,
    GatewayConfig,
    StorageConfig,
    default_db_path,
    load_config,
    redacted,
)
from icbot.errors import EXIT_USAGE, ConfigError

REPO = Path(__file__).resolve().parents[1]

BAD = [
    # (yaml text, the message starts with, and contains)
    ("moed: paper", "moed: unknown key", "did you mean mode?"),
    ("strikes: {max_detla: 16}", "strikes.max_detla: unknown key", "did you mean strikes.max_delta?"),
    ("exits: {zzz: 1}", "exits.zzz: unknown key", "known keys: profit_target_pct"),
    ("mode: real", "mode:", "paper | live | experiment"),
    ("mode: Live", "mode:", "did you mean live?"),
    ("mode: 1", "mode: 1", "paper | live | experiment"),
    ("entry: 5", "entry: 5 is a number", "a mapping"),
    ("gateway: [1, 2]", "gateway: [1, 2] is a list", "a mapping"),
    ("gateway: {port: true}", "gateway.port: true is a boolean", "an integer from 1 to 65535"),
    ("gateway: {port: 0}", "gateway.port: 0 is out of range", "an integer from 1 to 65535"),
    ("gateway: {port: 70000}", "gateway.port: 70000 is out of range", "1 to 65535"),
    ("gateway: {port: '4002'}", 'gateway.port: "4002" is a string', "an integer"),
    ("gateway: {client_id: -1}", "gateway.client_id: -1 is out of range", "from 0 to 2147483647"),
    ("gateway: {host: ''}", "gateway.host:", "non-empty"),
    ("gateway: {account: 12345}", "gateway.account: 12345 is a number", "quote it"),
    ("gateway: {account: du123}", 'gateway.account: "du123" is malformed', "capitals"),
    ("mode: live", "gateway.account: must be set when mode is live", "the live account id"),
    ("mode: live\ngateway: {account: DU1234567}", "gateway.account:", "is a paper account but mode is live"),
    ("gateway: {account: U1234567}", "gateway.account:", "is not a paper account but mode is paper"),
    ("strategy: {symbol: ''}", 'strategy.symbol: "" is not allowed', "SPX | XSP"),
    ("strategy: {symbol: SPY}", 'strategy.symbol: "SPY" is not allowed', "allowed: SPX | XSP"),
    ("strategy: {symbol: xsp}", 'strategy.symbol: "xsp" is not allowed (did you mean XSP?)', "SPX | XSP"),
    (
        "strategy: {symbol: XSP, trading_class: SPXW}",
        'strategy.trading_class: "SPXW" is not the 0DTE trading class of XSP (XSP)',
        "allowed: SPXW with symbol SPX, XSP with symbol XSP",
    ),
    ("strategy: {symbol: XSP}", 'strategy.trading_class: "SPXW" (the default) is not the 0DTE', "XSP with symbol XSP"),
    ("strategy: {trading_class: SPX}", 'strategy.trading_class: "SPX" is not the 0DTE trading class of SPX (SPXW)', ""),
    ("strategy: {symbol: SPX, trading_class: XSP}", 'strategy.trading_class: "XSP" is not the 0DTE', "SPXW with"),
    ("strategy: {combo_tick: 0}", "strategy.combo_tick: 0 is out of range", "above 0"),
    ("strategy: {combo_tick: -0.05}", "strategy.combo_tick: -0.05 is out of range", "above 0"),
    ("entry: {minutes_after_open: -1}", "entry.minutes_after_open: -1", "from 0 to"),
    ("entry: {minutes_after_open: 2.0}", "entry.minutes_after_open: 2.0 is a number, not an integer", "an integer"),
    ("entry: {deadline_minutes_after_open: 2}", "entry.deadline_minutes_after_open: 2", "not after entry.minutes"),
    (
        "entry: {minutes_after_open: 5}",
        "entry.deadline_minutes_after_open: 3 (the default) is not after",
        "from 6 to 194",
    ),
    ("entry: {deadline_minutes_after_open: 200}", "entry.deadline_minutes_after_open: 200 is out", "to 194"),
    ("entry: {reprice_seconds: 0}", "entry.reprice_seconds: 0 is out of range", "above 0"),
    ("entry: {step: 0}", "entry.step: 0 is out of range", "above 0"),
    ("entry: {step: 0.07}", "entry.step: 0.07 is not a multiple of strategy.combo_tick", "a multiple of 0.05"),
    ("entry: {step: 0.15}\nstrategy: {combo_tick: 0.1}", "entry.step: 0.15 is not a multiple", "a multiple of 0.1"),
    ("entry: {min_credit: -0.5}", "entry.min_credit: -0.5 is out of range", "from 0 to"),
    ("strikes: {target_delta: 0}", "strikes.target_delta: 0 is out of range", "above 0, at most 50"),
    ("strikes: {target_delta: 51, max_delta: 55}", "strikes.target_delta: 51 is out of range", "at most 50"),
    ("strikes: {target_delta: .nan}", "strikes.target_delta: .nan is not a finite number", "a number"),
    ("strikes: {target_delta: '15'}", 'strikes.target_delta: "15" is a string, not a number', "a number"),
    ("strikes: {max_delta: 14}", "strikes.max_delta: 14 is below strikes.target_delta (15)", "15 to 50"),
    ("strikes: {min_delta: 15.5}", "strikes.min_delta: 15.5 is above strikes.target_delta (15)", "0 to 15"),
    ("strikes: {min_delta: -1}", "strikes.min_delta: -1 is out of range", "from 0 to 50"),
    ("strikes: {tie_tolerance: -0.01}", "strikes.tie_tolerance: -0.01 is out of range", "from 0"),
    ("strikes: {wing_width: 0}", "strikes.wing_width: 0 is out of range", "above 0"),
    (
        "strikes: {wing_width: 22}",
        "strikes.wing_width: 22 is not a multiple of 5 (SPX strike spacing)",
        "5, 10, 15, 20",
    ),
    (
        "strategy: {symbol: XSP, trading_class: XSP}\nstrikes: {wing_width: 2.5}",
        "strikes.wing_width: 2.5 is not a multiple of 1 (XSP strike spacing)",
        "1, 2, 3, 4, ...",
    ),
    ("size: {mode: fixed_pct}", 'size.mode: "fixed_pct"', "fixed | net_liquidation_pct | available_funds_pct"),
    ("size: {contracts: 0}", "size.contracts: 0 is out of range", "from 1 to 10"),
    ("size: {max_contracts: 0}", "size.max_contracts: 0 is out of range", "the hard ceiling 10"),
    ("size: {max_contracts: 11}", "size.max_contracts: 11 is out of range", "from 1 to the hard ceiling 10"),
    ("size: {contracts: 3, max_contracts: 2}", "size.contracts: 3 is above size.max_contracts (2)", "1 to 2"),
    ("size: {percent: 101}", "size.percent: 101 is out of range", "from 0 to 100"),
    ("size: {percent: -1}", "size.percent: -1 is out of range", "from 0 to 100"),
    (
        "size: {mode: net_liquidation_pct}",
        "size.percent: 0 (the default) must be above 0 when size.mode is net_liq",
        "more than 0",
    ),
    ("exits: {profit_target_pct: 0}", "exits.profit_target_pct: 0 is out of range", "from 1 to 99"),
    ("exits: {profit_target_pct: 100}", "exits.profit_target_pct: 100 is out of range", "from 1 to 99"),
    ("exits: {stop_multiple: 1}", "exits.stop_multiple: 1 is out of range", "above 1"),
    ("exits: {stop_multiple: 0.5}", "exits.stop_multiple: 0.5 is out of range", "above 1"),
    ("exits: {stop_trigger: mid}", 'exits.stop_trigger: "mid" is not allowed', "midpoint"),
    ("exits: {time_exit: 690}", "exits.time_exit: 690 is a number, not a time", '"HH:MM"'),
    ("exits: {time_exit: '25:00'}", 'exits.time_exit: "25:00" is not a time HH:MM', '"HH:MM"'),
    ("exits: {time_exit: 11h30}", 'exits.time_exit: "11h30" is not a time HH:MM', '"HH:MM"'),
    ("exits: {time_exit: '09:33'}", 'exits.time_exit: "09:33" is not after the entry deadline 09:33 ET', "15:45"),
    ("exits: {time_exit: '16:00'}", 'exits.time_exit: "16:00" leaves less than 15 minutes', "at most 15:45"),
    ("exits: {time_exit: '15:50'}", 'exits.time_exit: "15:50" leaves less than 15 minutes', "at most 15:45"),
    ("filters: {max_vix: 0}", "filters.max_vix: 0 is out of range", "above 0"),
    ("filters: {max_vix: high}", 'filters.max_vix: "high" is a string', "a number"),
    ("notify: {apprise_config: 5}", "notify.apprise_config: 5 is a number", "null or a file path"),
    ("storage: {db: ''}", 'storage.db: "" is a string', "null or a file path"),
]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "starts", "contains"), BAD, ids=[b[0] for b in BAD])
def test_bad_config_is_one_line_naming_the_key(tmp_path, text, starts, contains):
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text), environ={})
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(starts), message
    assert contains in message, message
    assert str(tmp_path / "config.yaml") in message, "names the file it read"
    assert info.value.exit_code == EXIT_USAGE


def test_malformed_yaml_names_the_line(tmp_path):
    path = _write(tmp_path, "mode: paper\ngateway:\n  port: 4002\n   host: x\n")
    with pytest.raises(ConfigError, match=r"config\.yaml: line 4: malformed YAML \(mapping values are not allowed"):
        load_config(path, environ={})


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a sentence\n", "42\n"])
def test_a_file_that_is_not_a_mapping_is_refused(tmp_path, text):
    with pytest.raises(ConfigError, match="the file must be a mapping of sections"):
        load_config(_write(tmp_path, text), environ={})


def test_missing_file_is_refused_whether_from_the_flag_or_the_environment(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match=r"nope\.yaml: configuration file not found"):
        load_config(missing, environ={})
    with pytest.raises(ConfigError, match=r"nope\.yaml: configuration file not found"):
        load_config(None, environ={"ICBOT_CONFIG": str(missing)})


def test_a_directory_is_not_a_config_file(tmp_path):
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path, environ={})


@pytest.mark.parametrize("text", ["", "# only comments\n", "filters:\nnotify:\n# all children commented out\n"])
def test_empty_files_and_empty_sections_mean_defaults(tmp_path, text):
    path = _write(tmp_path, text)
    assert load_config(path, environ={}) == Config(source=path)


def test_the_shipped_config_yaml_is_exactly_the_defaults():
    shipped = load_config(REPO / "config.yaml", environ={})
    assert replace(shipped, source=None) == Config()


def test_defaults_are_the_spec_values():
    c = Config()
    assert (c.mode, c.gateway) == ("paper", GatewayConfig("127.0.0.1", 4002, 31, ""))
    assert (c.strategy.symbol, c.strategy.trading_class, c.strategy.combo_tick) == ("SPX", "SPXW", 0.05)
    assert (c.entry.minutes_after_open, c.entry.deadline_minutes_after_open) == (2, 3)
    assert (c.entry.reprice_seconds, c.entry.step, c.entry.min_credit) == (5, 0.05, 0)
    s = c.strikes
    assert (s.target_delta, s.max_delta, s.min_delta, s.tie_tolerance, s.wing_width) == (15, 16.9, 10, 0.05, 20)
    assert (c.size.mode, c.size.contracts, c.size.percent, c.size.max_contracts) == ("fixed", 1, 0, 1)
    assert c.exits == ExitsConfig(25, 3.0, "midpoint", time(11, 30))
    assert c.exits.trigger_method == 8
    assert c.filters.max_vix is None and c.notify.apprise_config is None and c.storage.db is None


def test_trigger_methods_are_ibs_codes():
    assert TRIGGER_METHODS == {
        "default": 0,
        "double_bid_ask": 1,
        "last": 2,
        "double_last": 3,
        "bid_ask": 4,
        "last_or_bid_ask": 7,
        "midpoint": 8,
    }


def test_a_full_live_config_loads(tmp_path):
    text = """
mode: live
gateway: {host: 10.0.0.5, port: 4001, client_id: 7, account: U7654321}
strategy: {combo_tick: 0.10}
entry: {minutes_after_open: 5, deadline_minutes_after_open: 10, reprice_seconds: 2.5, step: 0.20, min_credit: 1.5}
strikes: {target_delta: 20, max_delta: 22, min_delta: 18, tie_tolerance: 0, wing_width: 25}
size: {mode: available_funds_pct, contracts: 1, percent: 12.5, max_contracts: 10}
exits: {profit_target_pct: 50, stop_multiple: 2, stop_trigger: double_bid_ask, time_exit: "15:45"}
filters: {max_vix: 30}
notify: {apprise_config: apprise.yaml}
storage: {db: ~/icbot/journal.db}
"""
    c = load_config(_write(tmp_path, text), environ={})
    assert c.mode == "live" and c.gateway.account == "U7654321" and c.transmits_orders
    assert c.entry.step == 0.2 and c.size.percent == 12.5 and c.exits.time_exit == time(15, 45)
    assert c.exits.trigger_method == 1
    assert c.filters.max_vix == 30.0
    assert c.notify.apprise_config == tmp_path / "apprise.yaml", "relative paths are relative to the config file"
    assert c.storage.db == Path.home() / "icbot" / "journal.db"
    assert c.db_path == c.storage.db


def test_experiment_mode_needs_no_account_and_never_transmits(tmp_path):
    c = load_config(_write(tmp_path, "mode: experiment\ngateway: {account: U1}"), environ={})
    assert not c.transmits_orders


def test_source_precedence_flag_then_env_then_cwd_then_defaults(tmp_path, monkeypatch):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("gateway: {client_id: 1}")
    b.write_text("gateway: {client_id: 2}")
    monkeypatch.chdir(tmp_path)
    assert load_config(environ={}).source is None  # no ./config.yaml yet: built-in defaults
    (tmp_path / "config.yaml").write_text("gateway: {client_id: 3}")
    assert load_config(environ={}).gateway.client_id == 3
    assert load_config(environ={"ICBOT_CONFIG": str(b)}).gateway.client_id == 2
    assert load_config(a, environ={"ICBOT_CONFIG": str(b)}).gateway.client_id == 1


def test_icbot_db_overrides_storage_db(tmp_path):
    path = _write(tmp_path, "storage: {db: /somewhere/else.db}")
    c = load_config(path, environ={"ICBOT_DB": str(tmp_path / "scratch.db")})
    assert c.storage == StorageConfig(tmp_path / "scratch.db")
    assert c.db_path == tmp_path / "scratch.db"


def test_default_db_path_per_platform(tmp_path):
    mac = default_db_path({}, platform="darwin")
    assert mac == Path.home() / "Library" / "Application Support" / "icbot" / "icbot.db"
    assert default_db_path({"XDG_DATA_HOME": str(tmp_path)}, platform="linux") == tmp_path / "icbot" / "icbot.db"
    assert default_db_path({}, platform="linux") == Path.home() / ".local" / "share" / "icbot" / "icbot.db"
    assert default_db_path({"XDG_DATA_HOME": "relative/dir"}, platform="linux").is_absolute()


def test_redacted_masks_the_account_and_is_plain_json(tmp_path):
    path = _write(tmp_path, "gateway: {account: DU1234567}\nnotify: {apprise_config: /etc/icbot/apprise.yaml}")
    view = redacted(load_config(path, environ={}))
    assert view["gateway"]["account"] == "******567"
    assert view["notify"]["apprise_config"] == "/etc/icbot/apprise.yaml"
    assert view["exits"]["time_exit"] == "11:30"
    assert view["source"] == str(path)
    text = json.dumps(view)
    assert "DU1234567" not in text
    assert json.loads(text) == view


def test_xsp_is_the_other_product_and_keeps_its_own_units(tmp_path: Path) -> None:
    text = (
        "strategy: {symbol: XSP, trading_class: XSP, combo_tick: 0.01}\nentry: {step: 0.01}\nstrikes: {wing_width: 2}\n"
    )
    c = load_config(_write(tmp_path, text), environ={})
    assert (c.strategy.symbol, c.strategy.trading_class, c.strategy.combo_tick) == ("XSP", "XSP", 0.01)
    assert c.strategy.product.strike_step == 1.0 and c.strikes.wing_width == 2.0 and c.entry.step == 0.01
    assert Config().strategy.product.pair == "SPX/SPXW"


def test_times_and_numbers_read_the_way_a_person_reads_them(tmp_path: Path) -> None:
    c = load_config(_write(tmp_path, "exits: {time_exit: 11:30}\ngateway: {client_id: 017}\n"), environ={})
    assert c.exits.time_exit == time(11, 30) and c.gateway.client_id == 17
    c = load_config(_write(tmp_path, "exits: {time_exit: '9:45'}\nentry: {reprice_seconds: 2.5e0}\n"), environ={})
    assert c.exits.time_exit == time(9, 45) and c.entry.reprice_seconds == 2.5


def test_every_key_and_default_comes_from_the_dataclasses() -> None:
    """A key added to a dataclass is a config key with its default at once: nothing else lists them."""
    from dataclasses import fields

    from icbot.config.checks import defaults_of

    top = defaults_of(Config())
    assert list(top) == [
        "mode",
        "gateway",
        "strategy",
        "entry",
        "strikes",
        "size",
        "exits",
        "filters",
        "notify",
        "storage",
        "report",
        "whatif",
    ]
    view = redacted(Config())
    for name, section in top.items():
        if name == "mode":
            continue
        assert list(defaults_of(section)) == [f.name for f in fields(section)]
        assert set(view[name]) >= set(defaults_of(section)), name


def test_whatif_variants_are_checked_when_the_file_is_read(tmp_path: Path) -> None:
    good = _write(tmp_path, "whatif:\n  variants:\n    late: {time_exit: 14:00}\n    r30: {touch: 'roll:30'}\n")
    c = load_config(good, environ={})
    assert c.whatif.variants == {"late": {"time_exit": "14:00"}, "r30": {"touch": "roll:30"}}
    assert c.whatif.slippage == 0.10 and c.whatif.record is True
    bad = _write(tmp_path, "whatif:\n  variants:\n    x: {stop_multiple: 1}\n")
    with pytest.raises(ConfigError, match=r"whatif\.variants\.x: variant 'x': stop_multiple 1 must be above 1"):
        load_config(bad, environ={})


def test_report_starting_capital_is_a_positive_amount_or_null(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("report:\n  starting_capital: 50000\n", encoding="utf-8")
    assert load_config(good, {}).report.starting_capital == 50000
    assert load_config(None, {}).report.starting_capital is None
    bad = tmp_path / "bad.yaml"
    bad.write_text("report:\n  starting_capital: -5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"report\.starting_capital"):
        load_config(bad, {})
