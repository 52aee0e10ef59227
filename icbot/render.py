"""Rich renderables for the terminal: pure functions from plain data to tables, no I/O.

Commands build plain dicts (the same ones `--json` prints) and hand them here, so what a script reads and
what a human sees can never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table
from rich.text import Text


def _cell(value: Any) -> Text:
    if value is None:
        return Text("null", style="dim")
    if isinstance(value, bool):
        return Text("true" if value else "false")
    if value == "":
        return Text('""', style="dim")
    if isinstance(value, float) and value.is_integer():
        return Text(str(int(value)))  # 15 as written, not 15.0
    return Text(str(value))


def config_table(view: Mapping[str, Any]) -> Table:
    """The effective configuration (already redacted) as one key/value table, sections in file order."""
    source = view.get("source")
    title = f"icbot configuration — {source}" if source else "icbot configuration — built-in defaults"
    # Text, not a markup string: a path like "/tmp/[/x].yaml" is a file name, not rich markup
    table = Table(title=Text(title), title_justify="left", show_header=True, header_style="bold")
    table.add_column("key", style="cyan", no_wrap=True)
    table.add_column("value", overflow="fold")
    for key, value in view.items():
        if key == "source":
            continue
        if isinstance(value, Mapping):
            for sub, subvalue in value.items():
                table.add_row(f"{key}.{sub}", _cell(subvalue))
        else:
            table.add_row(key, _cell(value))
    return table


def schedule_table(rows: Sequence[Mapping[str, Any]], *, zone_label: str, title: str) -> Table:
    """Sessions and skipped weekdays, New York times next to the chosen local zone.

    Each row is one entry of `icbot schedule --json`'s "days": kind "session" (entry/deadline/exit in
    both zones, early close and clamped exit noted) or kind "holiday" (a weekday without a session).
    """
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("date", no_wrap=True)
    table.add_column("entry · deadline · exit (ET)", no_wrap=True)
    table.add_column("close", no_wrap=True)
    table.add_column(f"entry · deadline · exit ({zone_label})", no_wrap=True)
    table.add_column("note", overflow="fold")
    for row in rows:
        day = f"{row['date']} {row['weekday']}"
        if row["kind"] != "session":
            table.add_row(Text(day, style="dim"), "—", "—", "—", Text(f"no session: {row['name']}", style="yellow"))
            continue
        et = f"{row['entry_et']} · {row['deadline_et']} · {row['time_exit_et']}"
        local = f"{row['entry_local']} · {row['deadline_local']} · {row['time_exit_local']} {row['local_abbrev']}"
        notes = []
        if row["early_close"]:
            notes.append(f"early close {row['close_et']}")
        usual, actual = row.get("usual_offset_hours"), row.get("local_offset_hours")
        if usual is not None and actual is not None and usual != actual:
            notes.append(f"DST mismatch: ET{actual:+g}h, usually {usual:+g}h")
        if row["time_exit_clamped"]:
            notes.append(f"time exit clamped to {row['time_exit_et']}")
        close = Text(row["close_et"], style="bold yellow" if row["early_close"] else "")
        table.add_row(day, et, close, local, Text("; ".join(notes), style="yellow"))
    return table
