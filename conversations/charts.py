"""Charts as PNG images (matplotlib, Agg backend), for the chat and for reports.

matplotlib is imported inside :func:`bar_chart_png` only: the CLI and the engine start without it (it
costs about half a second), and only the turn that draws pays for it. The fonts are the ones the PDFs use
(``bot/fonts``: Noto Sans with Noto Sans Arabic as fallback), so every offered language reads right,
Arabic shaped and right to left (matplotlib lays text out with libraqm).

Use :func:`bar_chart_png` for any chart of labelled values: the budget chart does
(:func:`conversations.budget.chart_png`), a yearly report can.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

COLOURS = {  # calm colours that stay apart for people with red-green colour blindness
    "neutral": "#78909c", "ok": "#2e7d32", "over": "#c62828", "info": "#1565c0", "ahead": "#f9a825",
    "waiting": "#8e24aa",
}


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    colour: str = COLOURS["neutral"]  # a name in COLOURS or any matplotlib colour
    text: str | None = None  # written beside the bar instead of value_text(value), e.g. "< 5" for a hidden count


_fonts_registered = False


def _register_fonts() -> list[str]:
    """Our shipped fonts, registered once; returns the family list for ``font.family``."""
    global _fonts_registered
    from matplotlib import font_manager

    # Here, not at the top: conversations.documents imports fpdf (about 35 MB resident), which a running bot
    # that draws no chart does without.
    from conversations.documents import FONTS

    if not _fonts_registered:
        for path in sorted(FONTS.glob("*.ttf")):
            font_manager.fontManager.addfont(str(path))
        _fonts_registered = True
    return ["Noto Sans", "Noto Sans Arabic", "DejaVu Sans"]


def bar_chart_png(title: str, bars: Sequence[Bar], value_text: Callable[[float], str], *,
                  subtitle: str | None = None, axis_label: str | None = None, rtl: bool = False,
                  limit: tuple[float, str] | None = None) -> bytes:
    """Horizontal bars with their values written beside them, a title and an optional subtitle.

    ``limit``: a vertical line at a value with its label (e.g. the budget). ``rtl``: labels on the right,
    for right-to-left readers.
    """
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure  # no pyplot: no global state, safe in a server thread

    families = _register_fonts()
    with matplotlib.rc_context({"font.family": families, "font.size": 11}):
        figure = Figure(figsize=(7.2, 1.2 + 0.55 * len(bars)), dpi=110)
        axes = figure.add_subplot()
        labels = [b.label for b in bars]
        values = [max(b.value, 0.0) for b in bars]
        positions = list(range(len(bars)))[::-1]  # first bar on top
        axes.barh(positions, values, color=[COLOURS.get(b.colour, b.colour) for b in bars], height=0.6)
        top = max([*values, limit[0] if limit else 0.0, 1.0])
        axes.set_xlim(0, top * 1.3)
        for position, value, bar in zip(positions, values, bars, strict=True):
            axes.text(value + top * 0.015, position, bar.text if bar.text is not None else value_text(value),
                      va="center", ha="left", fontsize=10)
        axes.set_yticks(positions, labels)
        if rtl:
            axes.yaxis.tick_right()
            axes.invert_xaxis()
            for text, (position, value) in zip(axes.texts, zip(positions, values, strict=True), strict=True):
                text.set_position((value + top * 0.015, position))
                text.set_horizontalalignment("right")
        if limit:
            axes.axvline(limit[0], color="#37474f", linestyle="--", linewidth=1)
            axes.text(limit[0], len(bars) - 0.45, limit[1], ha="center", va="bottom", fontsize=9, color="#37474f")
        if axis_label:
            axes.set_xlabel(axis_label)
        axes.xaxis.set_major_formatter(lambda value, _pos: value_text(value))
        for side in ("top", "right") if not rtl else ("top", "left"):
            axes.spines[side].set_visible(False)
        figure.suptitle(title, fontsize=13, fontweight="bold", x=0.98 if rtl else 0.02,
                        ha="right" if rtl else "left")
        if subtitle:
            axes.set_title(subtitle, fontsize=10, loc="right" if rtl else "left", color="#455a64")
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png")
    return out.getvalue()
