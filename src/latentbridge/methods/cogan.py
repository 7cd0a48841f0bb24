"""``cogan``: partial weight sharing (CoGAN, Liu & Tuzel 2016; UNIT, Liu et al. 2017).

The last encoder blocks and the first decoder blocks are one module for all domains, so
high-level features are computed by the same weights in every domain. UNIT's face branch shares
one encoder and one decoder block; here the residual blocks at the latent (2 by default) are
shared on both sides, and, as in CoGAN, the image discriminators share all but their first layer.
Adam 2e-4, betas (0.5, 0.999) as in CoGAN.

CoGAN's coupled generation (every decoder draws the same z ~ N(0, I), each judged by its domain's
discriminator) is ``loss.gan_prior``, and its translation by searching for an image's z is
``loss.invert``; both are off here. At this preset's balance the coupled draw changed nothing in
5 minutes on digits, where the printed auto-encoder itself is not yet learnt; in ``bridge``'s
balance it lifted MNIST->printed in 2 of 2 seeds (docs/RESULTS.md, "CoGAN's coupled generation").
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
