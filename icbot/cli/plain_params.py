"""Option values without pydantic: every icbot command starts about 0.1 s sooner.

typer (0.29) coerces every option value through a pydantic TypeAdapter — even the value of ``--help`` when it is
not given — and importing pydantic and building the adapters costs about 0.1 s of CPU per process. icbot is many
short processes (`check` every few minutes, `status`, the scheduler's firings; the test suite starts hundreds),
and its options are all plain: flags, strings, numbers with a declared range, paths without existence checks,
repeated strings. So every command and group gets its coercion up front, derived from the parameter's own
annotation and typer's declaration of it; a parameter whose declaration asks for more (a parser, a click type,
clamping, existence or file/dir checks, resolving, a dash for stdin) keeps typer's own coercion.

This uses typer's lazily built ``_runtime_param`` (typer/core.py), its `coerce(value, param=, ctx=)` contract and
the parameter's ``type_descriptor``. Should a typer release stop using them, nothing breaks: typer's own coercion
applies again, only slower, and tests/cli/test_status_cli.py (which checks that `status --offline` loads no
pydantic) and tests/cli/test_flags_and_usage.py (every command's values) say so.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args, get_origin

import typer
from typer.core import TyperCommand, TyperGroup


def _flag(value: bool) -> bool:
    return bool(value)


_SIMPLE: dict[Any, Callable[[Any], Any]] = {bool: _flag, str: str, int: int, float: float}
_NOUNS: dict[Any, str] = {int: "a whole number", float: "a number"}


class PlainValue:
    """One parameter's coercion: `convert` on the command line's text (each text, for a repeated option), then the
    option's min/max if any, and for a path the checks typer runs on an existing one (`_check_path`)."""

    def __init__(
        self,
        convert: Callable[[Any], Any],
        low: float | None = None,
        high: float | None = None,
        *,
        many: bool = False,
        path_checks: Any = None,
    ) -> None:
        self.convert, self.low, self.high, self.many = convert, low, high, many
        self.path_checks = path_checks  # typer's ParameterInfo of a Path option: file_okay, dir_okay, readable

    def coerce(self, value: Any, param: Any = None, ctx: Any = None) -> Any:
        if value is None:
            return () if self.many else None
        if self.many:
            values = value if isinstance(value, list | tuple) else (value,)
            return [self._one(v, param, ctx) for v in values]
        return self._one(value, param, ctx)

    def _one(self, value: Any, param: Any, ctx: Any) -> Any:
        try:
            out = self.convert(value)
        except (TypeError, ValueError):
            noun = _NOUNS.get(self.convert, f"a {self.convert.__name__}")
            raise typer.BadParameter(f"{value!r} is not {noun}", ctx=ctx, param=param) from None
        # "not >=" rather than "<": a NaN passes no bound (`--watch nan` would redraw in a tight loop)
        if (self.low is not None and not out >= self.low) or (self.high is not None and not out <= self.high):
            low = "" if self.low is None else f"{self.low:g}"
            high = "" if self.high is None else f"{self.high:g}"
            raise typer.BadParameter(f"{value} is not in the range {low}..{high}", ctx=ctx, param=param)
        if self.path_checks is not None:
            _check_path(out, self.path_checks, param, ctx)
        return out


def _check_path(path: Path, info: Any, param: Any, ctx: Any) -> None:
    """typer's checks of an existing path that need no option beyond file_okay, dir_okay and readable."""
    try:
        st = os.stat(path)
    except OSError:
        return  # a path that does not exist (yet) is the command's to judge
    label = "file" if not info.dir_okay else "dir" if not info.file_okay else "path"
    shown = repr(str(path))
    if not info.file_okay and stat.S_ISREG(st.st_mode):
        raise typer.BadParameter(f"{label} {shown} is a file.", ctx=ctx, param=param)
    if not info.dir_okay and stat.S_ISDIR(st.st_mode):
        raise typer.BadParameter(f"{label} {shown} is a directory.", ctx=ctx, param=param)
    if info.readable and not os.access(path, os.R_OK):
        raise typer.BadParameter(f"{label} {shown} is not readable.", ctx=ctx, param=param)


def _plain_path(info: Any) -> bool:
    """A Path option declared with no check beyond those `_check_path` runs as typer would
    (typer/_param_types.py)."""
    return (
        not getattr(info, "exists", False)
        and not getattr(info, "writable", False)
        and not getattr(info, "resolve_path", False)
        and not getattr(info, "allow_dash", False)
        and getattr(info, "path_type", None) is None
    )


def plain_coercion(param: Any) -> PlainValue | None:
    """The coercion of a plain parameter, or None where typer's own must apply."""
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None or descriptor.file_annotation is not None:
        return None
    info = descriptor.parameter_info
    if any(getattr(info, name, None) for name in ("parser", "click_type", "clamp")):
        return None
    annotation, many = descriptor.annotation, False
    if get_origin(annotation) is list and getattr(param, "multiple", False) and param.nargs == 1:
        (annotation,) = get_args(annotation)
        many = True
    elif getattr(param, "multiple", False) or param.nargs != 1:
        return None
    low, high = getattr(info, "min", None), getattr(info, "max", None)
    if annotation is bool and not (getattr(param, "is_flag", False) and getattr(info, "envvar", None) is None):
        return None  # a bool given as text ("false") is typer's to read; a plain flag arrives as True/False
    if annotation in _SIMPLE:
        return PlainValue(_SIMPLE[annotation], low, high, many=many)
    if annotation is Path and _plain_path(info):
        return PlainValue(Path, many=many, path_checks=info)
    return None


def install(params: Any) -> None:
    """Give each plain parameter among `params` its coercion (unless it already has one)."""
    for param in params:
        if getattr(param, "_runtime_param", 0) is not None:
            continue  # not a typer parameter, or its coercion is built already
        coercion = plain_coercion(param)
        if coercion is not None:
            param._runtime_param = coercion


def _help_option(option: Any) -> Any:
    """The --help option (click creates it lazily, outside `params`), with its flag coercion."""
    if option is not None and getattr(option, "_runtime_param", 0) is None:
        option._runtime_param = PlainValue(_flag)
    return option


class _Plain:
    """Gives a typer command or group (the class after this one in the bases) its plain coercions and --help."""

    params: list[Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        install(self.params)

    def get_help_option(self, ctx: Any) -> Any:
        return _help_option(super().get_help_option(ctx))  # type: ignore[misc]


class PlainGroup(_Plain, TyperGroup):
    """A group (the root, `config`, `schedule`) whose own options and --help need nothing from pydantic."""


class PlainCommand(_Plain, TyperCommand):
    """A command whose options and --help need nothing from pydantic. Every icbot command is registered with it."""
