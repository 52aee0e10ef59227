"""Alerts through REAL apprise: a loopback HTTP endpoint, dead and hanging endpoints, the 0600 rule, URL lists."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from icbot.clock import Clock
from icbot.errors import ConfigError
from icbot.notify import ENV_URLS, NO_URLS, Notifier, parse_url_list, urgent_url, urls_from_config_file
from icbot.store import Store
from tests.webhook import Endpoint

CLOCK = Clock.virtual(datetime(2026, 11, 24, 14, 32, tzinfo=UTC), speed=0.0)


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    ep = Endpoint()
    yield ep
    ep.server.shutdown()
    ep.server.server_close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "icbot.db")
    yield s
    s.close()


def dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when we return: nothing listens there


@pytest.fixture
def silent_port() -> Iterator[int]:
    """Accepts TCP connections (backlog) but never answers: a hanging webhook."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield s.getsockname()[1]


def test_each_level_reaches_the_endpoint_with_title_body_and_type(endpoint: Endpoint, store: Store):
    notifier = Notifier([endpoint.url()], store=store, clock=CLOCK)
    assert notifier.info("IC filled", "credit 2.35") is True
    assert notifier.warning("short put touched", "SPX 5900.10") is True
    assert notifier.failure("EXITS MISSING", "position open without stop") is True
    assert [(p, m["title"], m["message"], m["type"]) for p, m in endpoint.received] == [
        ("/hook", "IC filled", "credit 2.35", "info"),
        ("/hook", "short put touched", "SPX 5900.10", "warning"),
        ("/hook", "EXITS MISSING", "position open without stop", "failure"),
    ]
    rows = list(reversed(store.alerts()))
    assert [(r.level, r.title, r.delivered, r.error) for r in rows] == [
        ("info", "IC filled", True, None),
        ("warning", "short put touched", True, None),
        ("failure", "EXITS MISSING", True, None),
    ]
    first_at = store.db.execute("SELECT at FROM alerts ORDER BY id").fetchone()[0]
    assert first_at == "2026-11-24T14:32:00.000000+00:00", "journaled at the injected clock's time"


def test_a_dead_endpoint_returns_false_and_is_journaled(store: Store):
    notifier = Notifier([f"json://127.0.0.1:{dead_port()}/hook"], store=store, clock=CLOCK)
    started = time.monotonic()
    assert notifier.failure("fill without exits", "urgent") is False
    assert time.monotonic() - started < 5
    [row] = store.alerts()
    assert row.delivered is False
    assert row.error is not None and "JSON" in row.error and "FAILURE" in row.error


def test_a_hanging_endpoint_costs_a_bounded_wait(store: Store, silent_port: int):
    notifier = Notifier([f"json://127.0.0.1:{silent_port}/hook"], store=store, clock=CLOCK, timeout=1.0)
    started = time.monotonic()
    assert notifier.warning("slow", "endpoint") is False
    waited = time.monotonic() - started
    assert waited < 1.0 + 2.0 + 0.5, f"waited {waited:.1f}s"
    [row] = store.alerts()
    assert row.delivered is False and row.error


def test_anotify_keeps_the_event_loop_running_while_waiting(store: Store, silent_port: int):
    notifier = Notifier([f"json://127.0.0.1:{silent_port}/hook"], store=store, clock=CLOCK, timeout=1.0)
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.05)

    async def main() -> bool:
        beat = asyncio.create_task(heartbeat())
        try:
            return await notifier.afailure("slow", "endpoint")
        finally:
            beat.cancel()

    assert asyncio.run(main()) is False
    assert ticks >= 10, "the loop was blocked while the alert was pending"
    assert store.alerts()[0].delivered is False


def test_anotify_delivers(endpoint: Endpoint, store: Store):
    assert asyncio.run(Notifier([endpoint.url()], store=store, clock=CLOCK).ainfo("t", "b")) is True
    assert endpoint.received[0][1]["title"] == "t"
    assert store.alerts()[0].delivered is True


def test_partial_delivery_counts_as_delivered_but_names_the_failure(endpoint: Endpoint, store: Store):
    notifier = Notifier([endpoint.url(), f"json://127.0.0.1:{dead_port()}/x"], store=store, clock=CLOCK)
    assert notifier.failure("t", "b") is True
    [row] = store.alerts()
    assert row.delivered is True and row.error is not None
    assert "/x" in row.error and "/hook" not in row.error, "the error names only the failed service"


def test_no_urls_only_journals(store: Store):
    notifier = Notifier.from_settings(None, {}, store=store, clock=CLOCK)
    assert notifier.configured is False
    assert notifier.failure("t", "b") is False
    assert store.alerts()[0].error == NO_URLS


def test_a_broken_journal_does_not_make_an_alert_raise(endpoint: Endpoint, tmp_path: Path):
    broken = Store.open(tmp_path / "icbot.db")
    broken.close()  # every write now raises sqlite3.ProgrammingError
    assert Notifier([endpoint.url()], store=broken, clock=CLOCK).info("t", "b") is True


def test_an_unknown_level_is_journaled_not_raised(endpoint: Endpoint, store: Store):
    assert Notifier([endpoint.url()], store=store, clock=CLOCK).notify("panic", "t", "b") is False
    assert store.alerts()[0].level == "failure"


def test_an_invalid_url_is_a_config_error_that_shows_no_secret():
    with pytest.raises(ConfigError, match=r"#2 \(nosuchservice://…\)") as info:
        Notifier(["json://127.0.0.1:9/x", "nosuchservice://SECRET-TOKEN@host"], clock=CLOCK)
    assert "SECRET" not in str(info.value)


def test_loaded_at_first_use_an_invalid_url_is_that_alerts_journaled_delivery_error(endpoint: Endpoint, store: Store):
    notifier = Notifier([endpoint.url(), "nosuchservice://SECRET-TOKEN@host"], store=store, clock=CLOCK, load_now=False)
    assert notifier.configured
    assert notifier.failure("t", "b") is False  # not raised: the caller's work goes on
    (row,) = store.alerts()
    assert row.delivered is False and row.error is not None
    assert "#2 (nosuchservice://…) is not a valid apprise URL" in row.error and "SECRET" not in row.error
    assert endpoint.received == []  # nothing is sent while the set is not valid


# -- ICBOT_NOTIFY_URLS ------------------------------------------------------------------------------------
def test_env_urls_split_on_commas_spaces_and_newlines_but_not_inside_a_url():
    text = "json://a:1/x, pover://user@token\n  mailtos://u:p@gmail.com?to=a@x.com,b@y.com ;ntfy://topic  ,"
    assert parse_url_list(text) == [
        "json://a:1/x",
        "pover://user@token",
        "mailtos://u:p@gmail.com?to=a@x.com,b@y.com",
        "ntfy://topic",
    ]
    assert parse_url_list("  \n ") == []
    with pytest.raises(ConfigError, match=ENV_URLS):
        parse_url_list("hello, json://a/x")


def test_from_settings_reads_the_environment(endpoint: Endpoint, store: Store):
    env = {ENV_URLS: f"{endpoint.url('one')}\n{endpoint.url('two')}"}
    notifier = Notifier.from_settings(None, env, store=store, clock=CLOCK)
    assert notifier.info("t", "b") is True
    assert sorted(p for p, _ in endpoint.received) == ["/one", "/two"]


# -- the apprise config file ------------------------------------------------------------------------------
def write_config(path: Path, text: str, mode: int) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def test_a_group_or_world_readable_config_file_is_refused(tmp_path: Path, endpoint: Endpoint):
    path = write_config(tmp_path / "apprise.yaml", f"urls:\n  - {endpoint.url()}\n", 0o644)
    with pytest.raises(ConfigError) as info:
        Notifier.from_settings(path, {}, clock=CLOCK)
    message = str(info.value)
    assert str(path) in message and f"chmod 600 {path}" in message and "0644" in message
    assert "\n" not in message
    path.chmod(0o640)
    with pytest.raises(ConfigError, match="chmod 600"):
        urls_from_config_file(path)


def test_a_0600_yaml_file_is_used_with_tag_selection(tmp_path: Path, endpoint: Endpoint, store: Store):
    text = (
        "version: 1\nurls:\n"
        f"  - {endpoint.url('mine')}:\n      tag: icbot\n"
        f"  - {endpoint.url('other')}:\n      tag: backups\n"
        f"  - {endpoint.url('untagged')}\n"
    )
    path = write_config(tmp_path / "apprise.yaml", text, 0o600)
    notifier = Notifier.from_settings(path, {ENV_URLS: endpoint.url("env")}, store=store, clock=CLOCK)
    assert notifier.info("t", "b") is True
    assert sorted(p for p, _ in endpoint.received) == ["/env", "/mine", "/untagged"]


def test_a_0400_text_file_is_accepted(tmp_path: Path, endpoint: Endpoint):
    path = write_config(tmp_path / "apprise.txt", f"icbot={endpoint.url('t')}\n", 0o400)
    assert Notifier.from_settings(path, {}, clock=CLOCK).warning("t", "b") is True
    assert [p for p, _ in endpoint.received] == ["/t"]


def test_config_files_without_usable_urls_are_refused(tmp_path: Path, endpoint: Endpoint):
    with pytest.raises(ConfigError, match="cannot read"):
        Notifier.from_settings(tmp_path / "missing.yaml", {}, clock=CLOCK)
    empty = write_config(tmp_path / "empty.yaml", "version: 1\nurls: [[[\n", 0o600)
    with pytest.raises(ConfigError, match="no valid apprise URL"):
        Notifier.from_settings(empty, {}, clock=CLOCK)
    foreign = write_config(tmp_path / "foreign.txt", f"backups={endpoint.url()}\n", 0o600)
    with pytest.raises(ConfigError, match="tagged 'icbot'"):
        Notifier.from_settings(foreign, {}, clock=CLOCK)


# -- urgency ----------------------------------------------------------------------------------------------
def test_failure_alerts_raise_the_priority_where_the_service_has_one():
    assert "priority=high" in urgent_url("pover://user@token")
    assert "priority=high" in urgent_url("pover://user@token?priority=normal&sound=siren")
    assert "sound=siren" in urgent_url("pover://user@token?priority=normal&sound=siren")
    assert urgent_url("pover://user@token?priority=emergency") == "pover://user@token?priority=emergency"
    normal_set, urgent_set = Notifier(["pover://user@token", "ntfy://topic"], clock=CLOCK).load()
    normal = {type(s).__name__: s.priority for s in normal_set}
    urgent = {type(s).__name__: s.priority for s in urgent_set}
    assert normal == {"NotifyPushover": 0, "NotifyNtfy": "default"}
    assert urgent == {"NotifyPushover": 1, "NotifyNtfy": "high"}
