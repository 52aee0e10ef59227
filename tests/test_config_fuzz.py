"""Property: whatever the file holds, loading it gives a valid config or ConfigError (exit 2) with one bounded line.

Three generators: any bytes; any YAML tree (real section and key names mixed with junk, values of every YAML type
and the values that used to slip through: base 60, octal, hex, NUL, ~user, 400 digits, lone surrogates); and raw
YAML text built from lines that mix those tokens with anchors, aliases, merge keys, tags and deep brackets. A config
that loads must also render the way `icbot config check` renders it (JSON and the table).
"""

from __future__ import annotations

import io
import json
import tempfile
from dataclasses import fields, is_dataclass
from pathlib import Path

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rich.console import Console

from icbot.config import Config, load_config, redacted
from icbot.config.checks import defaults_of
from icbot.errors import EXIT_USAGE, ConfigError
from icbot.render import config_table

MAX_LINE = 400
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SECTIONS = {name: value for name, value in defaults_of(Config()).items() if name != "mode"}
SECTION_KEYS = {name: [f.name for f in fields(value)] for name, value in SECTIONS.items() if is_dataclass(value)}
TOP_KEYS = ["mode", *SECTION_KEYS]
ALL_KEYS = sorted({k for keys in SECTION_KEYS.values() for k in keys})
TRICKY = [
    "11:30",
    "66:40",
    "0x1F",
    "017",
    "0o17",
    "0b1010",
    "1_000",
    "1e400",
    "9" * 400,
    "~nouser_fuzz/x",
    "a\0b",
    "\ud800",
    "x" * 2000,
    "/" + "d" * 300,
    "SPX",
    "SPXW",
    "XSP",
    "paper",
    "live",
    "experiment",
    "DU1234567",
    "U7654321",
    "midpoint",
    "fixed",
    "net_liquidation_pct",
    "[/x]",
    "",
    " ",
]


def _check(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.yaml"
        path.write_bytes(raw)
        try:
            config = load_config(path, environ={})
        except ConfigError as exc:
            message = str(exc)
            assert exc.exit_code == EXIT_USAGE
            assert message and len(message) <= MAX_LINE, (len(message), message[:200])
            assert not any(ord(c) < 0x20 or ord(c) == 0x7F or c in "\u2028\u2029" for c in message), message
            message.encode("utf-8")  # no lone surrogate: the line can be printed
            event("refused: " + message.split(": ", 2)[1][:30] if ": " in message else "refused")
            return
        event("valid config")
        view = redacted(config)  # what `icbot config check` shows
        json.dumps(view)
        Console(file=io.StringIO(), width=120).print(config_table(view))


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**500), max_value=10**500),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(TRICKY),
    st.sampled_from(ALL_KEYS),
)
trees = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.sampled_from(ALL_KEYS), inner, max_size=4)
    ),
    max_leaves=16,
)
plausible = st.one_of(
    st.integers(-5, 70_000),
    st.floats(-1, 100, allow_nan=False),
    st.sampled_from([0.05, 0.01, 0.1, 2, 5, 20, 25, 3.0, 16.9, 10, 15, "11:30", "15:45", 11, 1, 4002]),
    st.sampled_from(TRICKY),
)
values = st.one_of(plausible, plausible, scalars, trees)


def _section(name: str) -> st.SearchStrategy[dict[str, object]]:
    real = st.fixed_dictionaries({}, optional={key: values for key in SECTION_KEYS[name]})
    junk = st.dictionaries(st.sampled_from(ALL_KEYS) | st.text(max_size=10), values, max_size=6)
    return st.one_of(real, real, real, junk)


modes = st.sampled_from(["paper", "live", "experiment"]) | values
real_documents = st.fixed_dictionaries({}, optional={"mode": modes, **{n: _section(n) for n in SECTION_KEYS}})
documents = st.one_of(
    real_documents,
    real_documents,
    real_documents,
    st.dictionaries(st.sampled_from(TOP_KEYS) | st.text(max_size=10), values, max_size=8),
    trees,
)


@SETTINGS
@given(st.binary(max_size=3000))
def test_any_bytes_load_or_fail_with_one_line(raw: bytes) -> None:
    _check(raw)


@SETTINGS
@given(documents, st.booleans(), st.sampled_from([None, True, False]))
def test_any_yaml_tree_loads_or_fails_with_one_line(doc: object, unicode: bool, flow: bool | None) -> None:
    try:
        text = yaml.safe_dump(doc, allow_unicode=unicode, default_flow_style=flow, width=10_000)
    except (yaml.YAMLError, UnicodeEncodeError, ValueError):  # ints beyond str() conversion, say
        text = repr(doc)[:5000]
    _check(text.encode("utf-8", "surrogatepass"))


TOKENS = st.sampled_from(
    [
        *TRICKY,
        "&a",
        "*a",
        "<<",
        "!!binary aGVsbG8=",
        "!!timestamp 2026-13-45",
        "!!int 0x1F",
        "!!float abc",
        "!!python/object:os.system",
        "? ",
        "{",
        "}",
        "[",
        "]",
        "[" * 40,
        "- ",
        "|",
        ">",
        "'",
        '"',
        "#",
        "---",
        "...",
        "\t",
        "%YAML 1.1",
        "4002",
        "16.9",
        ".nan",
        "-.inf",
        "null",
        "~",
        "yes",
    ]
)


@st.composite
def yaml_lines(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        indent = " " * draw(st.sampled_from([0, 0, 2, 4, 1]))
        key = draw(st.sampled_from(TOP_KEYS) | st.sampled_from(ALL_KEYS) | TOKENS)
        value = draw(st.lists(TOKENS | scalars.map(str), max_size=3)).copy()
        lines.append(f"{indent}{key}: {' '.join(value)}".rstrip())
    return "\n".join(lines) + "\n"


@SETTINGS
@given(yaml_lines())
def test_any_yaml_text_loads_or_fails_with_one_line(text: str) -> None:
    _check(text.encode("utf-8", "surrogatepass"))
