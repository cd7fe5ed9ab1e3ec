"""Text drawn from cached glyph shapes and cached glyph bitmaps, pixel for pixel as Matplotlib
draws it.

Drawing text was 30% of a scalar chart's time: for every tick label, axis label and legend entry
Agg shapes the string again (`FT2Font._layout`, ~0.3 ms) and renders each glyph again
(`_render_glyph`), though a report draws "0", "100", "step" and "raw" hundreds of times. Here the
shaping of a string in a font is kept, and so is each glyph's bitmap for the sub-pixel position
FreeType rendered it at (positions are 26.6 fixed point: a glyph moved by whole pixels is the same
bitmap moved), so the pixels are exactly Matplotlib's own (tested byte for byte).

The renderer also keeps each font's ascent, descent and line gap: Matplotlib 3.11's text layout
looks them up in the font's tables on every call (~65 times a chart: tick labels are measured
to place the axis labels and to check for collisions), and through `_get_font_height_metrics`,
the renderer's hook for them, it gets the same numbers once per font, size and resolution.

Used from Matplotlib 3.11, whose Agg renderer draws text glyph by glyph through these private
methods; with any other Matplotlib, or for mathtext, Matplotlib draws the text itself.
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import RendererAgg, get_hinting_flag
from matplotlib.font_manager import fontManager, get_font
from matplotlib.ft2font import FT2Font, RenderMode

SUPPORTED = (all(hasattr(FT2Font, name) for name in ("_layout", "_render_glyph", "_set_transform"))
             and matplotlib.__version__.startswith("3.11."))
# Entries kept before a cache starts again; a report's charts use a few thousand glyph bitmaps
# (~0.1-1 KB each) and a few hundred strings.
MAX_ENTRIES = 50_000

_shapes: dict[tuple, tuple[Any, tuple]] = {}
_bitmaps: dict[tuple, tuple[np.ndarray, int, int]] = {}
_heights: dict[tuple, tuple[float | None, float | None, float | None]] = {}
stats = {"shape_hits": 0, "shapes": 0, "glyph_hits": 0, "glyphs": 0, "heights": 0}


def clear() -> None:
    _shapes.clear()
    _bitmaps.clear()
    _heights.clear()


def _kept(cache: dict, key: tuple, value, counter: str):
    """`value`, stored under `key` in `cache` (started again when full) and counted in `stats`."""
    if len(cache) >= MAX_ENTRIES:
        cache.clear()
    cache[key] = value
    stats[counter] += 1
    return value


def _font_key(prop: Any) -> tuple:
    return tuple(prop.__dict__.values())  # what FontProperties.__hash__ hashes


class TextCachingRenderer(RendererAgg):
    """Agg's renderer, with `draw_text` served from the caches above."""

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if ismath or not SUPPORTED:
            return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
        features = mtext.get_fontfeatures() if mtext is not None and hasattr(mtext, "get_fontfeatures") else None
        language = mtext.get_language() if mtext is not None and hasattr(mtext, "get_language") else None
        size = prop.get_size_in_points()
        key = (s, _font_key(prop), features, language, self.dpi)
        font = self._prepare_font(prop)
        shape = _shapes.get(key)
        # A shape holds the FT2Font objects it was laid out in (its glyphs may come from the
        # font's fallbacks, which live only as long as it does), and is used only with that
        # very font: Matplotlib opens its fonts again in a forked process and when its font
        # cache drops one, and FreeType failed on the old objects in the chart workers
        # ("invalid outline", "too many hints").
        if shape is None or shape[0] is not font:
            items = font._layout(s, flags=get_hinting_flag(), features=features, language=language)
            shape = _kept(_shapes, key, (font, tuple((item.ft_object, item.glyph_index, item.x, item.y)
                                                     for item in items)), "shapes")
        else:
            stats["shape_hits"] += 1
        self._draw_glyphs(gc, x, y, angle, size, shape[1])

    def _get_font_height_metrics(self, prop):
        """(ascent, descent, line gap) of the font in pixels, or Nones for Matplotlib to find them."""
        if not SUPPORTED:
            return None, None, None
        key = (_font_key(prop), self.dpi)
        found = _heights.get(key)
        return found if found is not None else _kept(_heights, key, _font_heights(prop, self.dpi), "heights")

    def _draw_glyphs(self, gc, x, y, angle, size, glyphs) -> None:
        # The same arithmetic as RendererAgg._draw_text_glyphs_and_boxes (Matplotlib 3.11).
        cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        antialiased = gc.get_antialiased()
        height = self.height
        for font, glyph_index, dx, dy in glyphs:
            px = round(0x40 * (x + dx * cos - dy * sin))
            py = round(0x40 * (height - y + dx * sin + dy * cos))  # FreeType's y is upwards
            key = (font.fname, size, self.dpi, glyph_index, angle, antialiased, px & 63, py & 63)
            found = _bitmaps.get(key)
            if found is None:
                font.set_size(size, self.dpi)
                font._set_transform((0x10000 * np.array([[cos, -sin], [sin, cos]])).round().astype(int), [px, py])
                bitmap = font._render_glyph(glyph_index, get_hinting_flag(),
                                            RenderMode.NORMAL if antialiased else RenderMode.MONO)
                buffer = np.array(bitmap.buffer, copy=True)
                if not antialiased:
                    buffer *= 0xff
                found = _kept(_bitmaps, key, (buffer, bitmap.left - (px >> 6), bitmap.top - (py >> 6)), "glyphs")
            else:
                stats["glyph_hits"] += 1
            buffer, left, top = found
            self._renderer.draw_text_image(buffer, left + (px >> 6), int(height) - (top + (py >> 6)) + buffer.shape[0],
                                           0, gc)


def _font_heights(prop: Any, dpi: float) -> tuple[float | None, float | None, float | None]:
    # The same lookup and arithmetic as Text._get_layout (Matplotlib 3.11) with no such hook.
    font = get_font(fontManager._find_fonts_by_props(prop))
    os2, hhea = font.get_sfnt_table("OS/2"), font.get_sfnt_table("hhea")
    if os2 is not None:
        gap, ascent, descent = os2["sTypoLineGap"], os2["sTypoAscender"], os2["sTypoDescender"]
    elif hhea is not None:
        gap, ascent, descent = hhea["lineGap"], hhea["ascent"], hhea["descent"]
    else:
        return None, None, None
    head = font.get_sfnt_table("head")
    if head is None:
        return None, None, None
    scale = 1 / head["unitsPerEm"] * prop.get_size_in_points() * dpi / 72
    return ascent * scale, -descent * scale, gap * scale
