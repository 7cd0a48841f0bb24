"""``xgan``: XGAN (Royer et al. 2017): shared high-level encoder/decoder layers, a latent domain
adversary, semantic consistency z ~ EN_b(DE_b(z)) and a GAN on translations.

XGAN weighs reconstruction, domain-adversarial, semantic and GAN terms equally up to the GAN's
smaller weight; here recon 10 (the shared pixel scale of this tool), latent_adv 1, semantic 1
(l1), gan 1. The teacher term is available (``loss.teacher``, ``loss.teacher_net``) but off, since
it needs a feature network the user supplies.
"""

from latentbridge.methods.base import Method

METHOD = Method(
    name="xgan",
    summary="sharing + latent adversary + semantic consistency z ~ z_ab + GAN (XGAN)",
    overrides={
        "sharing.enc_blocks": 1,
        "sharing.dec_blocks": 1,
        "loss.latent_adv": 1.0,
        "loss.semantic": 1.0,
        "loss.semantic_type": "l1",
        "loss.ramp_steps": 500,
    },
    paper="Royer et al., XGAN: Unsupervised Image-to-Image Translation for Many-to-Many Mappings",
)
