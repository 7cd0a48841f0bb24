"""``cogan_full``: CoGAN's extreme case, one encoder and one decoder for all domains, told the
domain by a flag: one-hot input planes and per-domain normalisation affines (``sharing.flag``).
"""

from latentbridge.methods.base import Method

METHOD = Method(
    name="cogan_full",
    summary="one encoder + one decoder for all domains, with a domain flag (CoGAN's extreme case)",
    overrides={"sharing.full": True, "sharing.flag": "both", "sharing.disc_layers": 3},
    paper="Liu & Tuzel 2016 (full sharing, as described in the seed)",
)
