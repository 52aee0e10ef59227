"""TWS socket framing and field codecs, as both ib_async 2.1 and IB's ibapi 10.x speak them at server version 178.

A frame is a 4-byte big-endian length and a payload of NUL-terminated ASCII fields; field 0 is the message
id as text (binary ids and protobuf start at server version 201, which the simulator never announces).
The two clients spell "unset" differently — ib_async sends ``""``, ibapi ``1.7976931348623157e+308`` and
``2147483647`` — so every parser here accepts all spellings (reference tws-protocol.md §1.1, §6 item 10).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence

SERVER_VERSION = 178
MIN_CLIENT_VERSION = 157  # below this the layouts differ (faProfile, contractData version field, ...)
UNSET_DOUBLE = 1.7976931348623157e308
UNSET_INTEGER = 2**31 - 1
UNSET_DOUBLE_TEXT = "1.7976931348623157E308"  # TWS writes the Java spelling
MAX_FRAME = 16 * 1024 * 1024
HELLO_PREFIX = b"API\0"

_LEN = struct.Struct(">I")


class ProtocolError(ValueError):
    """The peer sent something that is not the TWS protocol; the connection is closed."""


# -- framing ---------------------------------------------------------------------------------------------
def frame(payload: bytes) -> bytes:
    return _LEN.pack(len(payload)) + payload


def encode_fields(fields: Iterable[object]) -> bytes:
    """One framed message from already-formatted fields (each rendered with `fmt`)."""
    payload = "".join(f"{fmt(f)}\0" for f in fields).encode("ascii", errors="backslashreplace")
    return frame(payload)


class FrameReader:
    """Accumulates bytes and yields complete messages as lists of text fields.

    The first thing a client sends is ``API\\0`` followed by one framed version string; `hello()` consumes
    it. Everything after is `messages()`.
    """

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> None:
        self._buf += data

    def hello(self) -> str | None:
        """The client's ``v<min>..<max>[ options]`` string, or None until it has fully arrived."""
        if len(self._buf) < len(HELLO_PREFIX):
            return None
        if not self._buf.startswith(HELLO_PREFIX):
            raise ProtocolError("client did not start with API\\0")
        body = self._take(len(HELLO_PREFIX))
        if body is None:
            return None
        del self._buf[: len(HELLO_PREFIX)]
        return body.decode("ascii", errors="replace")

    def messages(self) -> list[list[str]]:
        out: list[list[str]] = []
        while True:
            body = self._take(0)
            if body is None:
                return out
            text = body.decode("utf-8", errors="backslashreplace")
            fields = text.split("\0")
            if fields and fields[-1] == "":
                fields.pop()
            if fields:
                out.append(fields)

    def _take(self, offset: int) -> bytes | None:
        """Remove and return one framed payload starting at `offset`, or None if it is incomplete."""
        if len(self._buf) < offset + 4:
            return None
        (size,) = _LEN.unpack_from(self._buf, offset)
        if size > MAX_FRAME:
            raise ProtocolError(f"frame of {size} bytes is too large")
        end = offset + 4 + size
        if len(self._buf) < end:
            return None
        body = bytes(self._buf[offset + 4 : end])
        del self._buf[offset + 4 : end]
        del self._buf[offset : offset + 4]
        return body


def parse_hello(text: str) -> tuple[int, int, str]:
    """``v157..178 +PACEAPI`` → (157, 178, '+PACEAPI'); also accepts a single ``v178``."""
    version, _, options = text.strip().partition(" ")
    if not version.startswith("v"):
        raise ProtocolError(f"bad client version string {text!r}")
    lo, sep, hi = version[1:].partition("..")
    try:
        low = int(lo)
        high = int(hi) if sep else low
    except ValueError:
        raise ProtocolError(f"bad client version string {text!r}") from None
    return low, high, options


# -- formatting outgoing fields --------------------------------------------------------------------------
def fmt(value: object) -> str:
    """Render a field the way TWS does: bools as 1/0, None as empty, floats without exponent noise."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return fmt_float(value)
    return str(value)


def fmt_float(x: float) -> str:
    if x >= UNSET_DOUBLE:
        return UNSET_DOUBLE_TEXT
    if math.isnan(x):
        return UNSET_DOUBLE_TEXT
    if x == int(x) and abs(x) < 1e15:
        return f"{int(x)}.0" if x != 0 else "0.0"
    text = repr(x)
    if "e" in text or "E" in text:
        text = f"{x:.10f}".rstrip("0").rstrip(".")
    return text


def fmt_price(x: float) -> str:
    """A price rounded to a cent-and-a-bit, so float noise (4.8000000001) never reaches the wire."""
    return fmt_float(round(x, 6))


def fmt_qty(x: float) -> str:
    """Quantities as IB sends them at sv ≥ 163 (Decimal text): '1', '2.5'."""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


# -- parsing incoming fields -----------------------------------------------------------------------------
def is_unset(text: str) -> bool:
    t = text.strip()
    return t == "" or t in ("2147483647", "9223372036854775807") or t.lower().startswith("1.7976931348623157e")


def parse_float(text: str) -> float | None:
    if is_unset(text):
        return None
    if text.strip().lower() in ("infinite", "inf"):
        return math.inf
    return float(text)


def parse_int(text: str) -> int | None:
    if is_unset(text):
        return None
    return int(float(text))


def parse_bool(text: str) -> bool:
    t = text.strip()
    return t not in ("", "0", "false", "False")


class FieldReader:
    """Sequential reader over one message's fields; running off the end is a ProtocolError."""

    def __init__(self, fields: Sequence[str], start: int = 0) -> None:
        self.fields = fields
        self.pos = start

    def text(self) -> str:
        if self.pos >= len(self.fields):
            raise ProtocolError(f"message {self.fields[:1]} ended after {len(self.fields)} fields")
        value = self.fields[self.pos]
        self.pos += 1
        return value

    def number(self) -> float | None:
        return parse_float(self.text())

    def integer(self) -> int | None:
        return parse_int(self.text())

    def flag(self) -> bool:
        return parse_bool(self.text())

    def skip(self, n: int) -> None:
        for _ in range(n):
            self.text()

    def remaining(self) -> int:
        return len(self.fields) - self.pos
