"""The attributes shared by the two faces domains (photo and cartoon), and their palettes.

An attribute is a categorical variable with K classes, stored as an integer id 0..K-1. Both
renderers read the same palettes, so "skin tone 2" is the same colour in a photo (before shading,
lighting and camera) and in a cartoon (as a flat fill). Nothing else is shared between domains.
"""

from __future__ import annotations

import numpy as np

#: Attribute name -> class names, in class-id order. This is the table written to
#: ``attributes.json`` and ``README.txt``.
FACE_ATTRIBUTES: dict[str, list[str]] = {
    "skin_tone": ["pale", "beige", "brown", "dark"],
    "hair_color": ["black", "brown", "blonde", "red", "grey"],
    "glasses": ["no", "yes"],
    "hair_length": ["short", "long"],
}

#: sRGB colours (0-255) of each skin tone class (a flat cartoon fill; the photo's albedo).
SKIN_RGB: np.ndarray = np.array(
    [[243, 213, 192], [217, 164, 124], [168, 105, 63], [92, 58, 36]], dtype=np.float32
)

#: sRGB colours (0-255) of each hair colour class.
HAIR_RGB: np.ndarray = np.array(
    [[28, 23, 20], [96, 60, 34], [222, 186, 112], [176, 70, 30], [190, 187, 182]],
    dtype=np.float32,
)


def sample_attributes(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Draw ``n`` subjects, every attribute independent and uniform over its classes.

    Returns attribute name -> int64 array of shape (n,), in ``FACE_ATTRIBUTES`` order.
    """
    return {
        name: rng.integers(0, len(classes), size=n, dtype=np.int64)
        for name, classes in FACE_ATTRIBUTES.items()
    }


def hex_colour(rgb: np.ndarray) -> str:
    """``[r, g, b]`` (0-255) -> ``"rrggbb"`` (the form DiceBear's colour options take)."""
    return "".join(f"{int(round(float(c))):02x}" for c in rgb)
