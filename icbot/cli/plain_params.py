"""Option values without pydantic, for the commands that must start fast (`icbot status`).

typer (0.29) coerces every option value through a pydantic TypeAdapter — even the value of ``--help`` when it is
not given — and importing pydantic costs about 0.1 s: a third of what `icbot status --offline` may take in all
(docs/simulator.md, "Benchmarks"). The root group and `status` therefore convert their few plain values (flags, a
path, a string, numbers with the ranges declared on the options) themselves, by giving each such parameter its
coercion up front.

This uses typer's lazily built ``_runtime_param`` (typer/core.py) and its `coerce(value, param=, ctx=)` contract.
Should a typer release stop using it, nothing breaks: typer's own coercion applies again, only slower, and
tests/cli/test_status_cli.py (which checks that `status --offline` loads no pydantic) says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup


def _flag(value: bool) -> bool:
    return bool(value)


class PlainValue:
    """One parameter's coercion: `convert` on the command line's text, then the option's min/max if any."""

    def __init__(self, convert: Callable[[Any], Any], low: float | None = None, high: float | None = None) -> None:
        self.convert, self.low, self.high = convert, low, high

    def coerce(self, value: Any, param: Any = None, ctx: Any = None) -> Any:
        if value is None:
            return None
        try:
            out = self.convert(value)
        except (TypeError, ValueError):
            raise typer.BadParameter(f"{value!r} is not a {self.convert.__name__}", ctx=ctx, param=param) from None
        if (self.low is not None and out < self.low) or (self.high is not None and out > self.high):
            low = "" if self.low is None else f"{self.low:g}"
            high = "" if self.high is None else f"{self.high:g}"
            raise typer.BadParameter(f"{value} is not in the range {low}..{high}", ctx=ctx, param=param)
        return out


def install(params: Any, converters: Mapping[str, Callable[[Any], Any]]) -> None:
    """Give each of `params` named in `converters` its plain coercion (unless it already has one)."""
    for param in params:
        convert = converters.get(param.name or "")
        if convert is not None and getattr(param, "_runtime_param", 0) is None:
            param._runtime_param = PlainValue(convert, getattr(param, "min", None), getattr(param, "max", None))


def _help_option(option: Any) -> Any:
    """The --help option (click creates it lazily, outside `params`), with its flag coercion."""
    if option is not None:
        install([option], {"help": _flag})
    return option


class PlainGroup(TyperGroup):
    """The root group: `--help` and `--version` are flags, nothing for pydantic."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        install(self.params, {"version": _flag})

    def get_help_option(self, ctx: Any) -> Any:
        return _help_option(super().get_help_option(ctx))


def plain_command(converters: Mapping[str, Callable[[Any], Any]]) -> type[TyperCommand]:
    """A command class converting the parameters named in `converters` (plus --help) without pydantic."""

    class PlainCommand(TyperCommand):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            install(self.params, converters)

        def get_help_option(self, ctx: Any) -> Any:
            return _help_option(super().get_help_option(ctx))

    return PlainCommand
