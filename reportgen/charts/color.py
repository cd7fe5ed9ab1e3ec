"""Colours: TensorBoard's run palette and its HCL lightness ramp, in plain numpy.

TensorBoard colours the slices of an offset histogram with
`d3.scaleLinear().range([hcl(c).brighter(), hcl(c).darker()]).interpolate(d3.interpolateHcl)`
over the step domain. d3's CIE-LCh ("HCL") uses D50-adapted sRGB matrices and moves lightness by
18 per brighter()/darker() step; the same constants are used here so that a run's ramp matches
what TensorBoard draws.
"""

from __future__ import annotations

import numpy as np

# TensorBoard's run colours, ordered so that neighbours are far apart in hue (its own order puts
# orange and red third apart, and the first and third run of a report were hard to tell apart).
PALETTE = ("#ff7043", "#0077bb", "#009988", "#ee3377", "#33bbee", "#cc3311", "#bbbbbb")

# d3-color: lightness change of one brighter()/darker() step in Lab/HCL.
LIGHTNESS_STEP = 18.0

# d3-color's D50 white point and Bradford-adapted sRGB <-> XYZ matrices.
_WHITE = np.array([0.96422, 1.0, 0.82521])
_RGB_TO_XYZ = np.array([
    [0.4360747, 0.3850649, 0.1430804],
    [0.2225045, 0.7168786, 0.0606169],
    [0.0139322, 0.0971045, 0.7141733],
])
_XYZ_TO_RGB = np.array([
    [3.1338561, -1.6168667, -0.4906146],
    [-0.9787684, 1.9161415, 0.0334540],
    [0.0719453, -0.2289914, 1.4052427],
])
_T0, _T1 = 4 / 29, 6 / 29
_T2, _T3 = 3 * _T1 * _T1, _T1 ** 3


def hex_to_rgb(color: str) -> np.ndarray:
    """'#rrggbb' -> floats in [0, 1]."""
    text = color.lstrip("#")
    return np.array([int(text[i:i + 2], 16) for i in (0, 2, 4)]) / 255.0


def rgb_to_hex(rgb: np.ndarray) -> str:
    channels = np.clip(np.round(np.asarray(rgb, dtype=float) * 255), 0, 255).astype(int)
    return "#" + "".join(f"{c:02x}" for c in channels)


def rgb_to_hcl(rgb: np.ndarray) -> tuple[float, float, float]:
    """sRGB in [0, 1] -> (hue in degrees, chroma, lightness), as d3.hcl computes them."""
    rgb = np.asarray(rgb, dtype=float)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = _RGB_TO_XYZ @ linear / _WHITE
    f = np.where(xyz > _T3, np.cbrt(xyz), xyz / _T2 + _T0)
    lightness = 116 * f[1] - 16
    a, b = 500 * (f[0] - f[1]), 200 * (f[1] - f[2])
    return float(np.degrees(np.arctan2(b, a)) % 360), float(np.hypot(a, b)), float(lightness)


def hcl_to_rgb(hue: float, chroma: float, lightness: float) -> np.ndarray:
    """(hue, chroma, lightness) -> sRGB in [0, 1], clipped to the gamut like d3's rgb()."""
    a, b = chroma * np.cos(np.radians(hue)), chroma * np.sin(np.radians(hue))
    fy = (lightness + 16) / 116
    f = np.array([fy + a / 500, fy, fy - b / 200])
    xyz = _WHITE * np.where(f > _T1, f ** 3, _T2 * (f - _T0))
    linear = _XYZ_TO_RGB @ xyz
    rgb = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * np.abs(linear) ** (1 / 2.4) - 0.055)
    return np.clip(rgb, 0.0, 1.0)


def lightness_of(color: str) -> float:
    return rgb_to_hcl(hex_to_rgb(color))[2]


def step_ramp(color: str, positions: np.ndarray) -> list[str]:
    """Colours for positions in [0, 1] (0 = oldest step, 1 = newest).

    Lightness goes linearly from L+18 (oldest, lighter) to L-18 (newest, darker) at the run's
    hue and chroma, as d3.interpolateHcl between brighter() and darker() does.
    """
    hue, chroma, lightness = rgb_to_hcl(hex_to_rgb(color))
    positions = np.clip(np.asarray(positions, dtype=float), 0.0, 1.0)
    levels = lightness + LIGHTNESS_STEP - 2 * LIGHTNESS_STEP * positions
    return [rgb_to_hex(hcl_to_rgb(hue, chroma, level)) for level in levels]


def shade(color: str, lightness_change: float) -> str:
    """The same hue and chroma, lightness moved by `lightness_change`."""
    hue, chroma, lightness = rgb_to_hcl(hex_to_rgb(color))
    return rgb_to_hex(hcl_to_rgb(hue, chroma, lightness + lightness_change))
