"""``baseline``: the seed's two auto-encoders with an image discriminator each, no alignment.

Trained as separate auto-encoders, EN_a and EN_b learn unrelated codes; the translation comes out
sharp but "clearly not the same person". They start from one set of weights (``sharing.tied_init``,
every preset's default) and still drift apart: with no alignment term nothing keeps the start.
It is the control every remedy is measured against.
Weights: recon 10, LSGAN 1 (UNIT's balance).
"""

from latentbridge.methods.base import Method

METHOD = Method(
    name="baseline",
    summary="two auto-encoders + image discriminators, no alignment (the seed's failing control)",
    overrides={"loss.recon": 10.0, "loss.gan": 1.0, "loss.gan_recon": 0.0},
    paper="the seed's baseline",
)
