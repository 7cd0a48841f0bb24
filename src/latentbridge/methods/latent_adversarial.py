"""``latent_adversarial``: a latent domain discriminator D_z guesses the domain of z and the
encoders learn to fool it (Lample et al., Fader Networks 2017; Unsupervised MT 2018).

Fader Networks ramp the latent weight from 0 to 1e-4 over 500k iterations because a strong
latent adversary destroys reconstruction; the ramp is kept (``loss.ramp_steps``) but shortened to
this tool's budgets, and the weight is on this tool's loss scale (uniform-target cross-entropy).
"""

from latentbridge.methods.base import Method

METHOD = Method(
    name="latent_adversarial",
    summary="a latent discriminator on z; encoders learn to fool it (Lample et al.)",
    overrides={"loss.latent_adv": 1.0, "loss.ramp_steps": 500},
    paper="Lample et al., Fader Networks, NIPS 2017",
)
