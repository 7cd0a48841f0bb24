"""``cogan``: partial weight sharing (CoGAN, Liu & Tuzel 2016; UNIT, Liu et al. 2017).

The last encoder blocks and the first decoder blocks are one module for all domains, so
high-level features are computed by the same weights in every domain. UNIT's face branch shares
one encoder and one decoder block; here the residual blocks at the latent (2 by default) are
shared on both sides, and, as in CoGAN, the image discriminators share all but their first layer.
Adam 2e-4, betas (0.5, 0.999) as in CoGAN.
"""

from latentbridge.methods.base import Method

METHOD = Method(
    name="cogan",
    summary="last encoder / first decoder blocks shared by all domains (CoGAN, UNIT)",
    overrides={
        "sharing.enc_blocks": 2,
        "sharing.dec_blocks": 2,
        "sharing.disc_layers": 3,
        "train.lr": 2e-4,
        "train.beta1": 0.5,
    },
    paper="Liu & Tuzel, Coupled Generative Adversarial Networks, NIPS 2016",
)
