"""Both clients' own decoders behind recording wrappers: what a message the simulator sends decodes to in
ib_async and in ibapi (tests/sim/test_wire.py; tests/sim/test_untidy.py uses it for the sentinel ticks)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from ib_async.decoder import Decoder as AsyncDecoder
from ibapi.decoder import Decoder as ApiDecoder
from ibapi.wrapper import EWrapper

from icbot.sim.protocol import SERVER_VERSION, encode_fields

SV = SERVER_VERSION  # the version the simulator speaks


class AsyncRecorder:
    """Stands in for ib_async's Wrapper behind its real Decoder: records each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.defaultTimezone = UTC
        self.ib = type("TZ", (), {"TimezoneTWS": None})()

    def __getattr__(self, name: str) -> Any:
        def record(*args: Any) -> None:
            self.calls.append((name, args))

        return record


class ApiRecorder(EWrapper):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, tuple[Any, ...]]] = []


def _recording(name: str) -> Any:
    def record(self: ApiRecorder, *args: Any) -> None:
        self.calls.append((name, args))

    return record


for _name in dir(EWrapper):
    if not _name.startswith("_") and callable(getattr(EWrapper, _name)):
        setattr(ApiRecorder, _name, _recording(_name))


def wire_fields(fields: list[object]) -> list[str]:
    """Round-trip through the real encoder so the test sees exactly what goes on the socket."""
    payload = encode_fields(fields)[4:].decode("ascii")
    parts = payload.split("\0")
    assert parts[-1] == ""
    return parts[:-1]


def decode_both(fields: list[object]) -> tuple[list[tuple[str, tuple[Any, ...]]], list[tuple[str, tuple[Any, ...]]]]:
    text = wire_fields(fields)
    a = AsyncRecorder()
    AsyncDecoder(a, SV).interpret(list(text))  # type: ignore[arg-type]
    w = ApiRecorder()
    dec = ApiDecoder(w, SV)
    msg_id = int(text[0])
    body = [s.encode() for s in text[1:]]
    info = dec.msgId2handleInfo[msg_id]
    if info.wrapperMeth is not None:
        dec.interpretWithSignature(body, info)
    else:
        it = iter(body)
        info.processMeth(dec, it)
        leftover = list(it)
        assert not leftover, f"ibapi left {len(leftover)} fields unread in message {msg_id}: {leftover[:5]}"
    return a.calls, w.calls
