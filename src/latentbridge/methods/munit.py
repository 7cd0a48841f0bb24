"""``munit``: MUNIT (Huang, Liu, Belongie & Kautz, ECCV 2018): each image is a content code z,
which the domains share, and a style code s of its own domain (``model.style_dim``).

A translation keeps z and draws the target domain's style from N(0, I) (s = 0 when translating
for use); the content is read back from the translation (content reconstruction, here
``loss.semantic``) and so is the drawn style (``loss.style``), and the way back of the cycle
decodes with the source's own style, so the source's lighting, background and grain need not ride
through the other domain's image. From its configs: LSGAN; gan 1, image reconstruction 10,
content and style reconstruction 1, style_dim 8; Adam 1e-4, betas (0.5, 0.999), weight decay
1e-4; its optional explicit cycle (``recon_x_cyc_w``) at 10. No weight sharing (MUNIT has none).
Here the style reaches the decoder as learnt planes beside z, not through AdaIN.
"""

from latentbridge.methods.base import Method

METHOD = Method(
    name="munit",
    summary="content code shared, style code per domain; content, style and cycle "
    "reconstruction (MUNIT)",
    overrides={
        "model.style_dim": 8,
        "loss.style": 1.0,
        "loss.semantic": 1.0,
        "loss.cycle": 10.0,
        "loss.recon": 10.0,
        "loss.gan": 1.0,
        "train.lr": 1e-4,
        "train.beta1": 0.5,
        "train.weight_decay": 1e-4,
    },
    paper="Huang, Liu, Belongie & Kautz, Multimodal Unsupervised Image-to-Image Translation, "
    "ECCV 2018",
)
