"""Charts drawn on the server as SVG: no script, no library in the browser, readable by a screen reader (a
title, and the same figures in the table beside every chart), and crisp at any zoom."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

COLOURS = ("#1d4e89", "#b3261e")  # both at least 4.5:1 against white


def grouped_bars(labels: list[str], series: list[tuple[str, list[int]]], title: str) -> Markup:
    """One row per label, one bar per series, scaled to the largest figure."""
    row_h, bar_h, left, width = 34, 12, 170, 640
    top = 30
    height = top + row_h * max(len(labels), 1) + 10
    peak = max([v for _, values in series for v in values] + [1])
    span = width - left - 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="chart-title" class="chart">',
        f'<title id="chart-title">{escape(title)}</title>',
    ]
    for i, (name, _) in enumerate(series):
        x = left + i * 150
        parts.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{COLOURS[i % 2]}"/>')
        parts.append(f'<text x="{x + 18}" y="17" font-size="13">{escape(name)}</text>')
    for row, label in enumerate(labels):
        y = top + row * row_h
        parts.append(f'<text x="{left - 8}" y="{y + 18}" font-size="13" text-anchor="end">{escape(label[:24])}</text>')
        for i, (_, values) in enumerate(series):
            value = values[row]
            w = round(span * value / peak)
            by = y + 4 + i * (bar_h + 2)
            parts.append(f'<rect x="{left}" y="{by}" width="{max(w, 1)}" height="{bar_h}" fill="{COLOURS[i % 2]}"/>')
            parts.append(f'<text x="{left + w + 6}" y="{by + 11}" font-size="12">{value}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
