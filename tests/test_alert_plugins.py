"""The remembered apprise plugin per scheme (icbot/alert_plugins.py): the same service apprise builds, never another
plugin, and only one plugin imported by a process that finds its scheme remembered."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import apprise
import pytest

from icbot import alert_plugins
from icbot.errors import ConfigError
from icbot.notify import Notifier

URLS = [
    "json://127.0.0.1:9/hook",
    "jsons://user:pass@host:8443/path?x=1",
    "ntfy://topic?priority=high",
    "pover://ukey@atokenatokenatokenatokenatokenat",
    "tgram://123456789:abcdefghijklmnopqrstuvwxyz1234567/12345",
    "mailto://user:pass@example.com",
    "discord://1234/abcd",
    "gotify://host/token",
]


def _same(a: object, b: object) -> bool:
    return type(a) is type(b) and a.url(privacy=False) == b.url(privacy=False) and a.tags == b.tags  # type: ignore[attr-defined]


@pytest.mark.parametrize("url", URLS)
def test_the_remembered_plugin_builds_what_apprise_builds(tmp_path, url):
    asset = apprise.AppriseAsset()
    expected = apprise.Apprise.instantiate(url, asset=asset, tag="icbot")
    first = alert_plugins.instantiate(url, asset=asset, tag="icbot", folder=tmp_path)  # apprise's lookup, remembered
    remembered = json.loads((tmp_path / alert_plugins.CACHE_NAME).read_text())
    assert remembered["apprise"] == apprise.__version__
    assert (
        remembered["plugins"][alert_plugins.scheme_of(url)] == f"{type(expected).__module__}:{type(expected).__name__}"
    )
    again = alert_plugins.instantiate(url, asset=asset, tag="icbot", folder=tmp_path)  # from the file
    assert _same(first, expected) and _same(again, expected)


def test_a_url_apprise_refuses_is_refused_with_its_scheme_remembered(tmp_path):
    asset = apprise.AppriseAsset()
    alert_plugins.instantiate("json://127.0.0.1:9/", asset=asset, tag="icbot", folder=tmp_path)
    assert apprise.Apprise.instantiate("json://", asset=asset) is None
    assert alert_plugins.instantiate("json://", asset=asset, tag="icbot", folder=tmp_path) is None
    notifier = Notifier(["json://"], load_now=False, plugin_folder=tmp_path)
    with pytest.raises(ConfigError, match=r"notification URL #1 \(json://…\) is not a valid apprise URL"):
        notifier.load()


def test_a_native_webhook_address_is_never_remembered_under_its_https_scheme(tmp_path):
    url = "https://discord.com/api/webhooks/1234/abcd"
    service = alert_plugins.instantiate(url, asset=apprise.AppriseAsset(), tag="icbot", folder=tmp_path)
    assert type(service).__name__ == "NotifyDiscord"
    assert not (tmp_path / alert_plugins.CACHE_NAME).exists()


@pytest.mark.parametrize(
    "content",
    [
        {"apprise": apprise.__version__, "plugins": {"json": "apprise.plugins.ntfy:NotifyNtfy"}},  # another plugin
        {"apprise": apprise.__version__, "plugins": {"json": "os:system"}},  # not an apprise plugin
        {"apprise": apprise.__version__, "plugins": {"json": "apprise.plugins.custom_json:Missing"}},
        {"apprise": apprise.__version__, "plugins": {"json": "apprise.plugins.no_such_module:NotifyJSON"}},
        {"apprise": apprise.__version__, "plugins": {"json": "apprise.plugins.custom_json:json"}},  # not a plugin
        {"apprise": "0.0.1", "plugins": {"json": "apprise.plugins.custom_json:NotifyJSON"}},  # another apprise
        {"apprise": apprise.__version__, "plugins": ["json"]},
        "not json at all {",
    ],
)
def test_a_wrong_or_damaged_file_never_picks_another_plugin_and_is_written_again(tmp_path, content):
    path = tmp_path / alert_plugins.CACHE_NAME
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    service = alert_plugins.instantiate(
        "json://127.0.0.1:9/hook", asset=apprise.AppriseAsset(), tag="i", folder=tmp_path
    )
    assert type(service).__name__ == "NotifyJSON"
    assert json.loads(path.read_text()) == {
        "apprise": apprise.__version__,
        "plugins": {"json": "apprise.plugins.custom_json:NotifyJSON"},
    }


def test_without_a_writable_folder_apprise_looks_the_plugin_up_every_time(tmp_path):
    missing = tmp_path / "not-there"
    for folder in (None, missing):
        service = alert_plugins.instantiate("ntfy://topic", asset=apprise.AppriseAsset(), tag="i", folder=folder)
        assert type(service).__name__ == "NotifyNtfy"
    assert not missing.exists()


def _plugins_imported_by_a_fresh_process(folder: Path) -> int:
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from icbot.notify import Notifier
        Notifier(["json://127.0.0.1:9/hook"], plugin_folder=Path({str(folder)!r})).load()
        print(sum(name.startswith("apprise.plugins.") for name in sys.modules))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    return int(done.stdout)


def test_a_process_that_finds_its_scheme_remembered_imports_one_plugin_not_all(tmp_path):
    scanned = _plugins_imported_by_a_fresh_process(tmp_path)  # the first: apprise imports every plugin
    remembered = _plugins_imported_by_a_fresh_process(tmp_path)
    assert scanned > 100, scanned
    assert remembered < 10, remembered  # the plugin's module and the package modules it stands on
