"""Which apprise plugin serves an alert URL's scheme, remembered next to the journal.

To turn a URL into a service, apprise imports every one of its ~190 plugin modules and reads their schemes:
about 0.2 s of CPU in each process that alerts (every run-today, a check or kill with something to say, doctor),
for the one plugin the user's URL needs. The first process that loads a URL that way writes down which plugin
class served its scheme (``apprise-plugins.json`` in the journal's folder, beside the session table's cache); the
next ones import only that plugin's module and build the service the way apprise does: the plugin's own
`parse_url`, its `enabled` switch, its constructor with the tag and the asset.

Whatever apprise would refuse is refused by apprise itself: a URL this shortcut cannot build (an entry that no
longer fits, a URL the plugin's `parse_url` rejects, a constructor that raises) falls back to
`apprise.Apprise.instantiate`, whose answer — a service or None — is final. The file is keyed by the installed
apprise version and written atomically; an entry is used only when it names a class in apprise's own plugin
package that claims the scheme, so a file from another apprise, a damaged one or one edited by hand can cost the
scan but never pick a different plugin. URLs that apprise recognises by their native form (an ``https://``
webhook address of some service) are never remembered: their scheme is not the plugin's. URLs read from an
apprise config file gain nothing: apprise's own reading of the file (`notify.urls_from_config_file`) loads every
plugin already.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import apprise

from icbot import json_cache

CACHE_NAME = "apprise-plugins.json"
PLUGIN_PACKAGE = "apprise.plugins."


def scheme_of(url: str) -> str:
    return url.split("://", 1)[0].lower()


def instantiate(url: str, *, asset: apprise.AppriseAsset, tag: str, folder: Path | None) -> Any:
    """The apprise service for `url` (None: apprise refuses it), from the remembered plugin when `folder` holds
    an entry for its scheme, else from apprise's full lookup, which is then remembered in `folder`."""
    scheme = scheme_of(url)
    path = folder / CACHE_NAME if folder is not None else None
    known = _read(path) if path is not None else {}
    plugin = _plugin(known.get(scheme), scheme)
    if plugin is not None:
        service = _build(plugin, url, asset, tag)
        if service is not None:
            return service
    service = apprise.Apprise.instantiate(url, asset=asset, tag=tag)
    if service is not None and path is not None:
        name = f"{type(service).__module__}:{type(service).__qualname__}"
        if known.get(scheme) != name and _plugin(name, scheme) is type(service):
            _write(path, {**known, scheme: name})
    return service


def _build(plugin: type, url: str, asset: apprise.AppriseAsset, tag: str) -> Any:
    """What `apprise.Apprise.instantiate` does once it has found the plugin for the scheme; None where it fails."""
    results = plugin.parse_url(url.replace("/#", "/%23"))  # type: ignore[attr-defined]
    if not results or not plugin.enabled:  # type: ignore[attr-defined]
        return None
    results["tag"] = {tag}
    results["asset"] = asset
    try:
        return plugin(**results)
    except Exception:  # apprise's own lookup decides (and logs) what is wrong with this URL
        return None


def _plugin(name: object, scheme: str) -> type | None:
    """The class `name` ("apprise.plugins.module:Class") names, if it is an apprise plugin claiming `scheme`."""
    if not isinstance(name, str) or not name.startswith(PLUGIN_PACKAGE) or name.count(":") != 1:
        return None
    module_name, class_name = name.split(":")
    try:
        plugin = getattr(importlib.import_module(module_name), class_name, None)
    except ImportError:
        return None
    if not isinstance(plugin, type) or not issubclass(plugin, apprise.NotifyBase):
        return None
    return plugin if scheme in _schemes(plugin) else None


def _schemes(plugin: type) -> set[str]:
    found: set[str] = set()
    for attr in ("protocol", "secure_protocol"):
        value = getattr(plugin, attr, None)
        if isinstance(value, str):
            found.add(value.lower())
        elif isinstance(value, list | tuple | set | frozenset):
            found.update(str(v).lower() for v in value)
    return found


def _read(path: Path) -> dict[str, str]:
    data = json_cache.read(path)
    if not isinstance(data, dict) or data.get("apprise") != apprise.__version__:
        return {}
    plugins = data.get("plugins")
    if not isinstance(plugins, dict):
        return {}
    return {k: v for k, v in plugins.items() if isinstance(k, str) and isinstance(v, str)}


def _write(path: Path, plugins: dict[str, str]) -> None:
    json_cache.write(path, {"apprise": apprise.__version__, "plugins": plugins})
