"""Colours, line styles and markers that survive colour-blindness and grey printing.

The hues are Okabe & Ito's qualitative palette ("Color Universal Design", 2008), chosen to stay
apart under the three common colour-vision deficiencies. Hue alone never carries identity:
every method also has its own line style and marker, so a figure printed in grey still tells
the methods apart. In comparisons a *family* of methods (evolutionary, gradient, Pareto set
learning, hybridmoo) shares a hue; the methods of a family differ in line style, marker and
shade (lighter / darker versions of the hue).

matplotlib is imported only inside the functions that draw (never at ``import hybridmoo``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

__all__ = ["OKABE_ITO", "Style", "family_of", "method_styles", "plt", "plural", "png_bytes",
           "save"]

#: Okabe–Ito's eight colours, by name.
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9",
    "bluish_green": "#009E73", "yellow": "#F0E442", "blue": "#0072B2",
    "vermillion": "#D55E00", "reddish_purple": "#CC79A7",
}

#: the hue of each method family (hybridmoo's own methods: vermillion, to stand out).
FAMILY_HUES = {
    "hybridmoo": OKABE_ITO["vermillion"], "psl": OKABE_ITO["blue"],
    "gradient": OKABE_ITO["bluish_green"], "evolutionary": OKABE_ITO["orange"],
}
_SPARE_HUES = [OKABE_ITO[k] for k in ("reddish_purple", "sky_blue", "black", "yellow")]

#: line styles and markers cycled within a family (solid first).
LINESTYLES = ["-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (8, 2)), (0, (1, 3)),
              (0, (3, 1, 1, 1)), (0, (6, 2, 2, 2))]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*", "h", "<", ">", "p"]

#: the reference front: light grey; the study front: black.
REFERENCE = "#BBBBBB"
STUDY_FRONT = OKABE_ITO["black"]
#: studies: trials on the outer front against the others.
ON_FRONT = OKABE_ITO["vermillion"]
OFF_FRONT = OKABE_ITO["sky_blue"]


@dataclass(frozen=True)
class Style:
    """How one method (or trial) is drawn: ``color`` (hex), ``linestyle``, ``marker``."""

    color: str
    linestyle: str | tuple
    marker: str

    def line(self) -> dict:
        """Keyword arguments for ``Axes.plot`` of a line."""
        return {"color": self.color, "linestyle": self.linestyle}

    def points(self) -> dict:
        """Keyword arguments for ``Axes.plot`` / ``scatter`` of markers."""
        return {"color": self.color, "marker": self.marker}


def family_of(label: str, family: str) -> str:
    """The colour family of a method: hybridmoo's own (label ``hybridmoo…``) apart."""
    return "hybridmoo" if label.startswith("hybridmoo") else family


def _shade(hex_color: str, k: int) -> str:
    """The k-th shade of a hue: 0 itself, then alternately darker and lighter (at most 45 %)."""
    if k == 0:
        return hex_color
    step = (k + 1) // 2
    amount = min(0.15 * step, 0.45)
    r, g, b = (int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5))
    if k % 2:  # darker
        r, g, b = (c * (1 - amount) for c in (r, g, b))
    else:  # lighter
        r, g, b = (c + (1 - c) * amount for c in (r, g, b))
    return "#" + "".join(f"{round(c * 255):02X}" for c in (r, g, b))


def method_styles(methods: list[tuple[str, str]]) -> dict[str, Style]:
    """One distinct :class:`Style` per method.

    Args:
        methods: ``(label, family)`` pairs, in the order the methods are listed.

    Returns:
        label → Style: methods of one family share its hue (Okabe–Ito); within the family the
        line style, marker and shade change from method to method, so no two methods look the
        same, in colour or in grey.
    """
    hues = dict(FAMILY_HUES)
    spare = iter(_SPARE_HUES * 4)
    seen: dict[str, int] = {}
    out = {}
    for label, family in methods:
        fam = family_of(label, family)
        if fam not in hues:
            hues[fam] = next(spare)
        k = seen.get(fam, 0)
        seen[fam] = k + 1
        out[label] = Style(color=_shade(hues[fam], (k // 3) % 3),
                           linestyle=LINESTYLES[k % len(LINESTYLES)],
                           marker=MARKERS[k % len(MARKERS)])
    return out


def plural(n: int, word: str, words: str | None = None) -> str:
    """``"1 trial"``, ``"2 trials"`` (``words`` for irregular plurals)."""
    return f"{n} {word if n == 1 else (words or word + 's')}"


def plt():
    """matplotlib's pyplot on the Agg backend (imported on first use)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot

    return pyplot


def png_bytes(fig, dpi: int = 110) -> bytes:
    """The figure as PNG bytes (closed afterwards)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt().close(fig)
    return buf.getvalue()


def save(fig, path, dpi: int = 110):
    """Write the figure as a PNG at ``path`` (closed afterwards); returns the path."""
    from pathlib import Path

    path = Path(path)
    path.write_bytes(png_bytes(fig, dpi))
    return path
