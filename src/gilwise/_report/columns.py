"""Fitting a table to the console: which columns show, and how wide each is.

Terminal output is designed for 80 columns first: a table keeps the columns that answer the
question (priority 0) and adds the others, lowest priority number first, while the width allows.
A figure is never cut: a column that holds figures is at least as wide as its widest cell, so its
cells never wrap (its header may, at spaces); only label columns (``wraps``) give up width,
wrapping at spaces, and a word wider than its column folds rather than ending in ``…``. The widths are
computed here rather than left to rich, whose last-resort shrinking ends cells with ``…``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich.table import Table
from rich.text import Text

LABEL_COMFORT = 20
"""Width a label column is given before a detail column may take the room (it wraps below)."""


@dataclass(frozen=True)
class TableColumn:
    """One column of a fitted table."""

    header: str
    priority: int
    """0: always shown; 1, 2, ...: shown while the width allows, the lowest number first."""
    min_width: int = 1
    """The narrowest the column may be, whatever its cells (a floor under the measured width)."""
    wraps: bool = False
    """A label that may wrap at spaces; a column of figures never wraps."""
    justify: Literal["left", "right"] = "right"


@dataclass(frozen=True)
class FittedColumns:
    """The columns a table shows at one width, their content widths, and those left out."""

    shown: tuple[int, ...]
    """Indexes into the registry the table was fitted from, in registry order."""
    widths: tuple[int, ...]
    dropped: tuple[str, ...]
    """Headers of the columns left out for want of width."""
    fits: bool
    """False when even the always-shown columns, labels wrapped to their longest word, are wider."""


def cell_width(markup: str) -> int:
    """Terminal cells a table cell takes on one line (its markup excluded)."""
    return Text.from_markup(markup).cell_len


def _longest_word(markup: str) -> int:
    return max((_plain_width(word) for word in Text.from_markup(markup).plain.split()), default=0)


def _plain_width(text: str) -> int:
    """Terminal cells of text already stripped of markup (``[0.79–1.82]`` is no tag to drop)."""
    return Text(text).cell_len


def table_overhead(columns: int) -> int:
    """Borders and padding of a boxed table: a space either side of each cell, the rules."""
    return 3 * columns + 1


def fit_columns(registry: Sequence[TableColumn], rows: Sequence[Sequence[str]], width: int) -> FittedColumns:
    """Choose the columns of ``registry`` (``rows`` hold their cells, as markup, in registry
    order) that fit ``width`` terminal cells, and size each one."""
    least, most = [], []
    for index, column in enumerate(registry):
        cells = [row[index] for row in rows]
        widest = max([cell_width(c) for c in cells] + [column.min_width])
        header_word = max(_plain_width(word) for word in column.header.split())
        # A header wraps at its spaces when the room is short; a figure never does.
        if column.wraps:
            least.append(max([_longest_word(c) for c in cells] + [header_word, column.min_width]))
        else:
            least.append(max(widest, header_word))
        most.append(max(widest, _plain_width(column.header)))

    def wanted(index: int) -> int:
        if registry[index].wraps:
            return min(most[index], max(least[index], LABEL_COMFORT))
        return least[index]

    shown = [i for i, c in enumerate(registry) if c.priority == 0]
    extras = sorted((i for i, c in enumerate(registry) if c.priority > 0), key=lambda i: registry[i].priority)
    for index in extras:
        trial = [*shown, index]
        if sum(wanted(i) for i in trial) + table_overhead(len(trial)) <= width:
            shown = trial
    shown.sort()
    widths = {i: least[i] for i in shown}
    room = width - table_overhead(len(shown)) - sum(widths.values())
    fits = room >= 0
    labels = [i for i in shown if registry[i].wraps]
    texts = {i: [Text.from_markup(row[i]).plain for row in rows] + [registry[i].header] for i in labels}
    room = _widen_labels(widths, most, texts, room)
    # Room still left unwraps labels, then the headers of the figures, nearest to one line first.
    for group in (labels, [i for i in shown if not registry[i].wraps]):
        for i in sorted(group, key=lambda i: most[i] - widths[i]):
            extra = max(0, min(room, most[i] - widths[i]))
            widths[i] += extra
            room -= extra
    dropped = tuple(registry[i].header for i in extras if i not in shown)
    return FittedColumns(tuple(shown), tuple(widths[i] for i in shown), dropped, fits)


def _wrapped_lines(text: str, width: int) -> int:
    """Lines ``text`` takes wrapped at spaces into ``width`` cells (as rich wraps a cell)."""
    lines, used = 1, 0
    for word in text.split():
        size = _plain_width(word)
        if used and used + 1 + size > width:
            lines, used = lines + 1, size
        else:
            used += size + (1 if used else 0)
    return lines


def _widen_labels(widths: dict[int, int], most: list[int], texts: dict[int, list[str]], room: int) -> int:
    """Give the spare width to the label columns where it saves the most table lines (a row is
    as tall as its most wrapped cell); returns the room no label can use to save a line."""
    height = len(next(iter(texts.values()), []))

    def table_lines(trial: dict[int, int]) -> int:
        return sum(max(_wrapped_lines(texts[i][row], trial[i]) for i in texts) for row in range(height))

    while room > 0:
        now = table_lines(widths)
        best: tuple[float, int, int] | None = None
        for i in texts:
            for extra in range(1, min(room, most[i] - widths[i]) + 1):
                saved = now - table_lines({**widths, i: widths[i] + extra})
                if saved > 0:
                    if best is None or saved / extra > best[0]:
                        best = (saved / extra, i, extra)
                    break
        if best is None:
            return room
        _, i, extra = best
        widths[i] += extra
        room -= extra
    return room


def fitted_table(
    registry: Sequence[TableColumn],
    rows: Sequence[Sequence[str]],
    fitted: FittedColumns,
    *,
    show_lines: bool = False,
) -> Table:
    """A rich table of the fitted columns, each at its computed width: nothing for rich to shrink.
    Its title is printed by the caller, as a line that wraps at the console's width."""
    table = Table(header_style="bold", show_lines=show_lines)
    for index, width in zip(fitted.shown, fitted.widths, strict=True):
        column = registry[index]
        table.add_column(
            Text(column.header),  # a header is text, not markup: "[min–max]" is no tag
            justify=column.justify,
            width=width,
            # Figures fit their width by construction, so only labels and headers wrap; a word
            # wider than its column folds onto the next line rather than ending in "…".
            overflow="fold",
        )
    for row in rows:
        table.add_row(*(row[i] for i in fitted.shown))
    return table


def dropped_note(dropped: Sequence[str], also: str = "the JSON and HTML reports always have them") -> str:
    """The one line that says which columns the width left out, and how to see them."""
    return f"Not shown at this width: {', '.join(dropped)} (`--wide` shows every column; {also})"
