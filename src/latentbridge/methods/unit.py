"""``unit``: UNIT (Liu, Breuel & Kautz, NIPS 2017): VAE encoders with a Gaussian prior, weight
sharing, GAN and cycle consistency.

From the official configs: LSGAN; gan 1, recon 10, kl 0.01, cycle 10; Adam 1e-4,
betas (0.5, 0.999), weight decay 1e-4; the paper's face branch shares one encoder block and one
decoder block (the official code's current branch dropped sharing). LR halving every 100k
iterations is left to ``train.lr_step`` since runs here are far shorter.
"""

from latentbridge.methods.base import Method

METHOD = Method(
    name="unit",
    summary="VAE prior + shared blocks + GAN + cycle consistency (UNIT)",
    overrides={
        "sharing.enc_blocks": 1,
        "sharing.dec_blocks": 1,
        "loss.kl": 0.01,
        "loss.cycle": 10.0,
        "loss.recon": 10.0,
        "loss.gan": 1.0,
        "train.lr": 1e-4,
        "train.beta1": 0.5,
        "train.weight_decay": 1e-4,
    },
    paper="Liu, Breuel & Kautz, Unsupervised Image-to-Image Translation Networks, NIPS 2017",
)
