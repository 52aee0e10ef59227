"""Alerts to the user's phone or inbox through apprise, journaled whether or not they arrive.

An alert must never hurt the trade it reports on, so the send methods never raise, and a slow or dead
endpoint costs at most a bounded wait: apprise's per-service socket timeouts are capped (connect 3 s,
read 5 s), the whole apprise call has a deadline, and the call runs in a daemon thread that the caller
stops waiting for after that deadline (DNS lookups, for one, ignore socket timeouts). Every alert lands
in the journal's ``alerts`` table with whether it was delivered and why not, so `status` can show an
alert the user never received.

Where the URLs come from (never from config.yaml, which may be committed or shared):
``ICBOT_NOTIFY_URLS`` (comma, semicolon, space or newline separated) and/or an apprise config file (YAML or
TEXT, apprise's own format) that must not be readable by group or others — it holds tokens. From the
file, entries without tags and entries tagged with the notifier's tag (default ``icbot``) or ``always``
are used; entries tagged only for other programs are left alone.

`failure` alerts are urgent: apprise NotifyType.FAILURE, and for services with a priority setting
(Pushover, ntfy, Gotify) the priority is raised to ``high`` unless the URL already asks for high,
emergency or max.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import stat
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import apprise

from icbot import alert_plugins
from icbot.alert_plugins import scheme_of
from icbot.clock import Clock
from icbot.errors import ConfigError

if TYPE_CHECKING:
    from icbot.store.repo import Store

log = logging.getLogger("icbot.notify")

ENV_URLS = "ICBOT_NOTIFY_URLS"
NO_URLS = "no notification URLs configured"
CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 5.0
CALL_TIMEOUT_S = 10.0
GRACE_S = 2.0  # on top of apprise's own deadline before the caller stops waiting
MAX_ERROR_CHARS = 500

LEVELS = {
    "info": apprise.NotifyType.INFO,
    "warning": apprise.NotifyType.WARNING,
    "failure": apprise.NotifyType.FAILURE,
}
# Services whose URL takes ?priority=, and the values that mean "the service default" there.
_URGENT_SCHEMES = frozenset({"pover", "ntfy", "ntfys", "gotify", "gotifys"})
_URGENT_ENOUGH = ("high", "emergency", "max", "urgent")
_SPLIT_RE = re.compile(r"[\s,;]+(?=[A-Za-z][A-Za-z0-9+.-]{0,31}://)")

Outcome = tuple[bool, str | None]


def parse_url_list(text: str, *, source: str = ENV_URLS) -> list[str]:
    """Split a list of apprise URLs; separators only count before a new ``scheme://``, so a comma inside
    a URL (e.g. ``mailtos://…?to=a@x,b@y``) survives."""
    text = text.strip().strip(",;").strip()
    if not text:
        return []
    urls = [part.strip().rstrip(",;").strip() for part in _SPLIT_RE.split(text)]
    for index, url in enumerate(urls, start=1):
        if "://" not in url:  # named by its place, not its text: the text may hold a token
            raise ConfigError(f"{source}: entry #{index} is not an apprise URL (expected scheme://…)")
    return [u for u in urls if u]


def _asset() -> apprise.AppriseAsset:
    # memory: apprise must not write its persistent cache under the user's home from a trading process
    return apprise.AppriseAsset(app_id="icbot", app_desc="icbot", storage_mode="memory")


def urgent_url(url: str) -> str:
    """`url` with ?priority=high unless it already asks for high/emergency/max."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    current = next((v for k, v in query if k == "priority"), "")
    if current.lower().startswith(_URGENT_ENOUGH):
        return url
    query = [(k, v) for k, v in query if k != "priority"] + [("priority", "high")]
    return urlunsplit(parts._replace(query=urlencode(query)))


class Notifier:
    """Send info/warning/failure alerts; every attempt is journaled; no send method ever raises."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        store: Store | None = None,
        clock: Clock | None = None,
        tag: str = "icbot",
        timeout: float = CALL_TIMEOUT_S,
        load_now: bool = True,
        unusable: str | None = None,
        plugin_folder: Path | None = None,
    ) -> None:
        """Keep `urls` and, with `load_now`, load them at once (`load`: a ConfigError for an invalid one).
        `unusable` is why the alert settings could not be read at all (`from_settings`); `load` raises it.
        `plugin_folder` (the journal's folder) remembers which apprise plugin serves each scheme
        (icbot/alert_plugins.py)."""
        self.store = store
        self.clock = clock if clock is not None else Clock.from_env()
        self.tag = tag
        self.timeout = timeout
        self.services = tuple(scheme_of(url) for url in urls)  # schemes only: safe to print, unlike the URLs
        self._urls = tuple(urls)
        self._unusable = unusable
        self._plugin_folder = plugin_folder
        self._lock = threading.Lock()
        self._loaded: tuple[apprise.Apprise, apprise.Apprise] | None = None
        # Alerts are sent in the order they were raised, each from its own thread: the first may still be loading
        # the services when the next starts, so each waits for its turn to begin sending (not for the others to end).
        self._turns = threading.Condition()
        self._tickets = itertools.count()
        self._turn = 0
        if load_now:
            self.load()

    def load(self) -> tuple[apprise.Apprise, apprise.Apprise]:
        """The apprise services for normal and for failure alerts, built once; an invalid URL is a ConfigError
        naming only its scheme (no secrets).

        Building them the first time loads every apprise plugin to find the few in use (about 0.2 s of CPU; later
        processes with the same `plugin_folder` import only those, icbot/alert_plugins.py). A notifier made with
        load_now=False does it at its first alert, where an invalid URL becomes that alert's delivery error.
        """
        if self._unusable is not None:
            raise ConfigError(self._unusable)
        with self._lock:
            if self._loaded is None:
                normal, urgent = apprise.Apprise(asset=_asset()), apprise.Apprise(asset=_asset())
                for index, url in enumerate(self._urls, start=1):
                    service = self._service(url, index)
                    normal.add(service)
                    urgent.add(self._service(urgent_url(url), index) if scheme_of(url) in _URGENT_SCHEMES else service)
                self._loaded = normal, urgent
            return self._loaded

    def _service(self, url: str, index: int) -> Any:
        service = alert_plugins.instantiate(url, asset=_asset(), tag=self.tag, folder=self._plugin_folder)
        if not service:
            raise ConfigError(
                f"notification URL #{index} ({scheme_of(url)}://…) is not a valid apprise URL; "
                "see https://appriseit.com/services/"
            )
        service.socket_connect_timeout = min(float(service.socket_connect_timeout), CONNECT_TIMEOUT_S)
        service.socket_read_timeout = min(float(service.socket_read_timeout), READ_TIMEOUT_S)
        return service

    @classmethod
    def from_settings(
        cls,
        apprise_config: Path | None,
        environ: Mapping[str, str],
        *,
        store: Store | None = None,
        clock: Clock | None = None,
        tag: str = "icbot",
        load_now: bool = True,
        plugin_folder: Path | None = None,
    ) -> Notifier:
        """URLs from ICBOT_NOTIFY_URLS and/or the apprise config file (mode 0600 or stricter, else ConfigError).

        Neither configured → a notifier that only journals (delivered False, error "no notification URLs
        configured"); the caller decides whether that deserves a warning. With load_now=False, settings that cannot
        be read (a value without scheme://, an apprise file that is missing or readable by others) are no error
        here either: each alert fails with that reason, as an invalid URL does.
        """
        try:
            urls = parse_url_list(environ.get(ENV_URLS, ""))
            if apprise_config is not None:
                urls += urls_from_config_file(Path(apprise_config).expanduser(), tag=tag)
        except ConfigError as exc:
            if load_now:
                raise
            return cls([], store=store, clock=clock, tag=tag, load_now=False, unusable=str(exc))
        return cls(urls, store=store, clock=clock, tag=tag, load_now=load_now, plugin_folder=plugin_folder)

    @property
    def configured(self) -> bool:
        """True when at least one notification URL is configured (or settings that cannot be read)."""
        return bool(self._urls) or self._unusable is not None

    # -- sending ----------------------------------------------------------------------------------------
    def info(self, title: str, body: str) -> bool:
        return self.notify("info", title, body)

    def warning(self, title: str, body: str) -> bool:
        return self.notify("warning", title, body)

    def failure(self, title: str, body: str) -> bool:
        return self.notify("failure", title, body)

    def notify(self, level: str, title: str, body: str) -> bool:
        """Deliver (bounded wait), journal, return whether at least one service accepted it. Never raises."""
        try:
            ok, error = self._bounded(level, title, body)
        except Exception as exc:  # the guarantee: an alert never breaks the caller
            ok, error = False, f"{type(exc).__name__}: {exc}"
        self._journal(level, title, body, ok, error)
        return ok

    async def anotify(self, level: str, title: str, body: str) -> bool:
        """`notify` for asyncio code: the event loop (and the broker connection on it) keeps running."""
        try:
            loop = asyncio.get_running_loop()
            future: asyncio.Future[Outcome] = loop.create_future()

            def deliver_soon(outcome: Outcome) -> None:
                try:
                    loop.call_soon_threadsafe(_settle, future, outcome)
                except RuntimeError:
                    pass  # the loop closed meanwhile: nobody waits for this answer any more

            self._start(level, title, body, deliver_soon)
            try:
                ok, error = await asyncio.wait_for(asyncio.shield(future), self.timeout + GRACE_S)
            except TimeoutError:
                ok, error = False, self._timeout_message()
        except Exception as exc:
            ok, error = False, f"{type(exc).__name__}: {exc}"
        self._journal(level, title, body, ok, error)
        return ok

    async def ainfo(self, title: str, body: str) -> bool:
        return await self.anotify("info", title, body)

    async def awarning(self, title: str, body: str) -> bool:
        return await self.anotify("warning", title, body)

    async def afailure(self, title: str, body: str) -> bool:
        return await self.anotify("failure", title, body)

    # -- internals --------------------------------------------------------------------------------------
    def _bounded(self, level: str, title: str, body: str) -> Outcome:
        box: list[Outcome] = []
        done = threading.Event()

        def keep(outcome: Outcome) -> None:
            box.append(outcome)
            done.set()

        self._start(level, title, body, keep)
        if not done.wait(self.timeout + GRACE_S):
            return False, self._timeout_message()
        return box[0]

    def _start(self, level: str, title: str, body: str, report: Callable[[Outcome], None]) -> None:
        if level not in LEVELS:
            raise ValueError(f"alert level {level!r} is not one of {', '.join(LEVELS)}")
        if not self.configured:
            report((False, NO_URLS))
            return

        ticket = next(self._tickets)

        def run() -> None:
            try:
                outcome = self._send(level, title, body, ticket)
            except Exception as exc:
                outcome = (False, f"{type(exc).__name__}: {exc}")
            report(outcome)

        # a daemon thread: a hung endpoint must not keep the process alive at exit either
        try:
            threading.Thread(target=run, name="icbot-notify", daemon=True).start()
        except BaseException:
            self._take_turn(ticket)
            raise

    def _take_turn(self, ticket: int) -> None:
        with self._turns:
            self._turn = max(self._turn, ticket + 1)
            self._turns.notify_all()

    def _send(self, level: str, title: str, body: str, ticket: int) -> Outcome:
        with self._turns:  # begin after the alerts raised before this one (a lost turn is waited for no longer)
            self._turns.wait_for(lambda: self._turn >= ticket, timeout=self.timeout)
        try:
            normal, urgent = self.load()
        finally:
            self._take_turn(ticket)
        target = urgent if level == "failure" else normal
        result = target.notify(
            body=body,
            title=title,
            notify_type=LEVELS[level],
            body_format=apprise.NotifyFormat.TEXT,
            timeout=self.timeout,
        )
        if result:
            return True, None
        failures = [
            f"{r.name} {r.url}: {r.status.name}" + "".join(f" — {e.message}" for e in list(r.logs())[-1:])
            for r in result
            if not r
        ]
        error = "; ".join(failures) or f"apprise: {result.status.name}"
        return result.success_count > 0, error[:MAX_ERROR_CHARS]

    def _timeout_message(self) -> str:
        return f"no answer within {self.timeout + GRACE_S:g}s (the message may still arrive)"

    def _journal(self, level: str, title: str, body: str, ok: bool, error: str | None) -> None:
        if ok and error is None:
            log.info("alert delivered: %s", title)
        else:
            log.warning("alert %s: %s (%s)", "partly delivered" if ok else "NOT delivered", title, error)
        if self.store is None:
            return
        try:
            self.store.record_alert(
                level=level if level in LEVELS else "failure",
                title=title,
                body=body,
                delivered=ok,
                error=error,
                at=self.clock.now(),
            )
        except Exception as exc:  # a full disk must not turn an alert into a crash
            log.warning("could not journal alert %r: %s", title, exc)


def _settle(future: asyncio.Future[Outcome], outcome: Outcome) -> None:
    if not future.done():
        future.set_result(outcome)


def urls_from_config_file(path: Path, *, tag: str = "icbot") -> list[str]:
    """The URLs an apprise config file holds for `tag`; ConfigError if missing, too open, or empty."""
    from icbot.config.checks import clip_path  # every message stays one bounded line, however long the path

    shown = clip_path(path)
    try:
        st = path.stat()
    except OSError as exc:
        raise ConfigError(f"notify.apprise_config: cannot read {shown}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"notify.apprise_config: {shown} is not a file")
    if st.st_mode & 0o077:
        raise ConfigError(
            f"notify.apprise_config: {shown} is accessible to group/others (mode {stat.S_IMODE(st.st_mode):04o}) "
            f"and holds notification secrets; run: chmod 600 {shown}"
        )
    config = apprise.AppriseConfig(asset=_asset())
    if not config.add(str(path)):
        raise ConfigError(f"notify.apprise_config: apprise cannot load {shown}")
    services = config.services()
    if not services:
        raise ConfigError(f"notify.apprise_config: {shown} holds no valid apprise URL (YAML or TEXT format)")
    wanted = {tag.lower(), "always"}
    chosen = [s for s in services if not s.tags or wanted & {str(t).lower() for t in s.tags}]
    if not chosen:
        raise ConfigError(f"notify.apprise_config: no URL in {shown} is untagged or tagged {tag!r}")
    return [str(s.url(privacy=False)) for s in chosen]
