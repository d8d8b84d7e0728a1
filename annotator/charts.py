"""Server-side SVG charts for the agreement dashboard: no script, no external library.

Each function returns SVG markup (``markupsafe.Markup``) with every text
escaped, a ``<title>`` and ``role="img"`` for screen readers, and colours as
presentation attributes (allowed by a strict Content-Security-Policy, unlike
inline styles). Cells and bars that lead somewhere are SVG links.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

_FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _shade(share: float) -> str:
    """A blue from white (0) to dark (1); text switches to white on dark cells."""
    share = min(max(share, 0.0), 1.0)
    low, high = (247, 251, 255), (8, 69, 148)
    r, g, b = (round(lo + (hi - lo) * share) for lo, hi in zip(low, high, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def _diverging(value: float) -> str:
    """Red for -1, white for 0, green for 1 (kappa and alpha)."""
    value = min(max(value, -1.0), 1.0)
    target = (26, 150, 65) if value >= 0 else (215, 48, 39)
    share = abs(value)
    r, g, b = (round(255 + (t - 255) * share) for t in target)
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap(
    title: str,
    row_names: Sequence[str],
    column_names: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    text: Callable[[int, int], str],
    link: Callable[[int, int], str | None] | None = None,
    diverging: bool = False,
    row_axis: str = "",
    column_axis: str = "",
) -> Markup:
    """A grid of coloured cells; ``values`` are shares in [0, 1] (or [-1, 1] when
    ``diverging``), None for an empty cell; ``text`` labels a cell, ``link`` its URL."""
    cell, left, top = 84, 130, 40
    width = left + cell * len(column_names) + 10
    height = top + cell * len(row_names) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" {_FONT}>',
        f"<title>{escape(title)}</title>",
    ]
    if column_axis:
        parts.append(
            f'<text x="{left + cell * len(column_names) / 2}" y="12" text-anchor="middle" '
            f'fill="#555">{escape(column_axis)}</text>'
        )
    for j, name in enumerate(column_names):
        parts.append(
            f'<text x="{left + cell * j + cell / 2}" y="{top - 8}" text-anchor="middle">'
            f"{escape(_short(name, 13))}<title>{escape(name)}</title></text>"
        )
    for i, name in enumerate(row_names):
        y = top + cell * i
        parts.append(
            f'<text x="{left - 8}" y="{y + cell / 2 + 4}" text-anchor="end">'
            f"{escape(_short(name, 18))}<title>{escape(name)}</title></text>"
        )
        for j in range(len(column_names)):
            value = values[i][j]
            x = left + cell * j
            if value is None:
                fill, ink = "#f2f2f2", "#777"
            else:
                fill = _diverging(value) if diverging else _shade(value)
                ink = "#fff" if (abs(value) if diverging else value) > 0.55 else "#111"
            label = escape(text(i, j))
            rect = (
                f'<rect x="{x + 1}" y="{y + 1}" width="{cell - 2}" height="{cell - 2}" '
                f'rx="3" fill="{fill}" stroke="#ccc"/>'
                f'<text x="{x + cell / 2}" y="{y + cell / 2 + 4}" text-anchor="middle" '
                f'fill="{ink}">{label}</text>'
            )
            url = link(i, j) if link else None
            if url:
                description = f"{row_names[i]} × {column_names[j]}: {text(i, j)}"
                parts.append(
                    f'<a href="{escape(url)}" aria-label="{escape(description)}">'
                    f"<title>{escape(description)}</title>{rect}</a>"
                )
            else:
                parts.append(rect)
    if row_axis:
        parts.append(f'<text x="4" y="{height - 8}" fill="#555">{escape(row_axis)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class Bar:
    """One bar: its name, value (None: undefined, with ``note``) and optional link."""

    name: str
    value: float | None
    note: str = ""
    link: str | None = None


def bars(
    title: str,
    items: Sequence[Bar],
    *,
    low: float = 0.0,
    high: float = 1.0,
    marks: Sequence[float] = (),
) -> Markup:
    """Horizontal bars on a fixed scale [low, high] with dashed reference ``marks``."""
    row, left, plot = 28, 150, 300
    width = left + plot + 170
    height = 20 + row * len(items) + 10

    def x_of(value: float) -> float:
        return left + plot * (min(max(value, low), high) - low) / (high - low)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" {_FONT}>',
        f"<title>{escape(title)}</title>",
    ]
    zero = x_of(0.0)
    for i, item in enumerate(items):
        y = 20 + row * i
        parts.append(
            f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">{escape(_short(item.name, 20))}'
            f"<title>{escape(item.name)}</title></text>"
        )
        if item.value is None:
            body = (
                f'<text x="{left + 4}" y="{y + 15}" fill="#777">— {escape(_short(item.note, 60))}'
                f"<title>{escape(item.note)}</title></text>"
            )
        else:
            end = x_of(item.value)
            start, stop = sorted((zero, end))
            colour = "#2b8cbe" if item.value >= 0 else "#d7301f"
            body = (
                f'<rect x="{start:.1f}" y="{y + 3}" width="{max(stop - start, 1):.1f}" height="18" '
                f'fill="{colour}"/><text x="{left + plot + 8}" y="{y + 15}">'
                f"{item.value:.3f}{escape(' ' + item.note if item.note else '')}</text>"
            )
        if item.link:
            parts.append(f'<a href="{escape(item.link)}">{body}</a>')
        else:
            parts.append(body)
    for mark in marks:
        x = x_of(mark)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="14" y2="{height - 6}" stroke="#555" '
            f'stroke-dasharray="4 3"/><text x="{x:.1f}" y="11" text-anchor="middle" '
            f'fill="#555">{mark:g}</text>'
        )
    parts.append(f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="14" y2="{height - 6}" stroke="#999"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _short(text: str, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
