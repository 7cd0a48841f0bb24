"""Which of the photos' own variation costs the photo->cartoon translation its subject.

The faces benchmark's photos vary in much more than the four attributes: background (gradient,
blotches, a wall edge, bokeh), pose (position, size, roll, yaw), light (direction, colour,
ambient), camera (exposure, vignetting, defocus, sensor noise) and texture (hair strands, skin
blotches and pores). This script renders the test subjects' attributes again with
``latentbridge.data.faces_photo``, once as the benchmark renders them and once with each kind of
variation held fixed — every other draw unchanged, since the fixed variant replaces what the
renderer drew after drawing it — and last with all of them held, and translates every set with
a trained run into cartoons. Per variant it prints the cartoon classifier's mean attribute
preservation with its 95 % interval and each attribute's, the difference from the photos as
rendered with its paired 95 % interval (the same subjects and draws, so the pairing is tight),
what the cartoon classifier reads off the photos untranslated, and what the photo classifier
reads off them (a variant those still read well is still a photo to the evaluation). Last, how
often the translations of the subjects with glasses are read as wearing them, by the colour of
the frames the renderer drew (black, brown, gold, silver), and of those without. The
classifiers and weights are those ``latentbridge eval`` uses; the test split's photo labels
give the subjects.

    python benchmarks/photo_factors.py --run runs/NAME --data /tmp/fd32n --device cpu
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable

import numpy as np

import latentbridge.data.faces_photo as photo
import latentbridge.data.photo_hair_glasses as hair_glasses
import latentbridge.data.photo_scene as photo_scene
from _evaluated import evaluated_run
from _factors import Patch, add_render_arguments, patched, read_variants, translated, with_all_held
from latentbridge.eval.evaluate import Evaluator


def _flat_background(draw: Callable) -> Callable:
    """Each background replaced by its own mean colour."""

    def background(
        rng: np.random.Generator, n: int, size: int, s: photo_scene._Scene
    ) -> np.ndarray:
        img = draw(rng, n, size, s)
        return np.broadcast_to(img.mean(axis=(2, 3), keepdims=True), img.shape).copy()

    return background


def _frontal(draw: Callable) -> Callable:
    """Every head centred, upright, facing the camera, of the mean size."""

    def scene(rng: np.random.Generator, n: int, size: int) -> photo_scene._Scene:
        s = draw(rng, n, size)
        zero = np.zeros_like(s.cx)
        return dataclasses.replace(
            s,
            cx=zero,
            cy=zero - 0.1,
            a=np.full_like(s.a, 0.48),
            b=np.full_like(s.b, 0.62),
            cos=np.ones_like(s.cos),
            sin=np.zeros_like(s.sin),
            yaw=np.zeros_like(s.yaw),
        )

    return scene


def _even_light(draw: Callable) -> Callable:
    """One white light from above the camera, the same ambient level, for every image."""

    def scene(rng: np.random.Generator, n: int, size: int) -> photo_scene._Scene:
        s = draw(rng, n, size)
        light = np.tile(np.array([[0.0, -np.sqrt(0.5), np.sqrt(0.5)]]), (n, 1))
        return dataclasses.replace(
            s,
            light=photo_scene._col(light),
            light_rgb=np.ones_like(s.light_rgb),
            ambient=np.full_like(s.ambient, 0.19),
        )

    return scene


def _clean_camera(draw: Callable) -> Callable:
    """No exposure change, vignetting, defocus or sensor noise: only the sRGB encoding."""

    def camera(rng: np.random.Generator, img: np.ndarray, s: photo_scene._Scene) -> np.ndarray:
        out = np.clip(img, 0, 1) ** (1 / photo_scene._GAMMA)
        return (out * 255 + 0.5).astype(np.uint8).transpose(0, 2, 3, 1)

    return camera


def _smooth_hair(draw: Callable) -> Callable:
    """The hair's strands blurred away (a Gaussian of 1/16 of the image's side), its shading and
    sheen kept."""

    def hair(rng: np.random.Generator, s: photo_scene._Scene, f: object, hs: object) -> np.ndarray:
        sigma = s.x.shape[-1] / 16
        return photo_scene._blur(photo_scene._blur(draw(rng, s, f, hs), sigma, 2), sigma, 3)

    return hair


def _smooth_skin(draw: Callable) -> Callable:
    """No blotches or pores on the skin."""

    def texture(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
        return np.ones_like(draw(rng, n, size))

    return texture


VARIANTS: dict[str, Patch] = {
    "as rendered": {},
    "flat background": {"_background": _flat_background},
    "frontal pose": {"_scene": _frontal},
    "even light": {"_scene": _even_light},
    "clean camera": {"_camera": _clean_camera},
    "smooth textures": {"_hair_colour": _smooth_hair, "_skin_texture": _smooth_skin},
}


def render(attrs: dict[str, np.ndarray], size: int, seed: int, patch: Patch) -> np.ndarray:
    """The photos of ``attrs`` (uint8, (B, size, size, 3)) with ``patch`` applied."""
    with patched(photo, patch):
        return photo.render_photos(attrs, size, np.random.default_rng(seed))


FRAMES = ("black", "brown", "gold", "silver")  # the renderer's frame colours, in its order


def glasses_by_frame(ev: Evaluator, attrs: dict[str, np.ndarray], seed: int) -> str:
    """What the cartoon classifier reads on the translations of the subjects with glasses, by
    the colour of the frames the renderer drew them (the photos as rendered): one line."""
    drawn: dict[str, np.ndarray] = {}

    def record(draw: Callable) -> Callable:
        def style(rng: np.random.Generator, on: np.ndarray) -> hair_glasses._Glasses:
            g = draw(rng, on)
            drawn["rgb"] = g.rgb[:, :, 0, 0]
            return g

        return style

    assert len(FRAMES) == len(hair_glasses._FRAME_RGB)
    images = render(attrs, ev.pipe.size, seed, {"_glasses_style": record})
    frames = photo_scene._lin(hair_glasses._FRAME_RGB)
    kind = np.argmin(((drawn["rgb"][:, None] - frames[None]) ** 2).sum(-1), axis=1)
    _, x_ab = translated(ev, "photo", "cartoon", images)
    assert ev.attrs is not None
    read = ev.clf["cartoon"].predict(x_ab)[:, ev.attrs.names.index("glasses")].numpy()
    on = attrs["glasses"] == 1
    parts = []
    for k, name in enumerate(FRAMES):
        group = on & (kind == k)
        if group.any():
            parts.append(f"{name} {read[group].mean():.2f} of {int(group.sum())}")
    none = read[~on].mean() if (~on).any() else float("nan")
    return (
        f"glasses read on the cartoons of wearers, by frame colour: {', '.join(parts)}; "
        f"on those of non-wearers {none:.2f} of {int((~on).sum())}"
    )


def _more(p: argparse.ArgumentParser) -> None:
    add_render_arguments(p)


def main() -> None:
    ev, args = evaluated_run(__doc__, _more)
    if ev.attrs is None or not {"photo", "cartoon"} <= set(ev.clf):
        raise SystemExit(f"{ev.data} is not a faces benchmark with photo and cartoon classifiers")
    labels = ev.test["photo"].labels
    attrs = {n: labels[:, k].numpy() for k, n in enumerate(ev.attrs.names)}
    print(f"{len(labels)} subjects, the test split's attributes, renderer seed {args.seed}")
    read_variants(
        ev,
        "photo",
        "cartoon",
        with_all_held(VARIANTS),
        lambda patch: (render(attrs, ev.pipe.size, args.seed, patch), labels),
        args.grid,
    )
    print(glasses_by_frame(ev, attrs, args.seed))


if __name__ == "__main__":
    main()
