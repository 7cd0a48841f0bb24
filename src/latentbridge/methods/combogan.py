"""``combogan``: cycle consistency x ~ DE_a(EN_b(DE_b(EN_a(x)))) (ComboGAN, Anoosheh et al. 2018).

One encoder/decoder per domain; for N > 2 domains one random pair of domains trains per step, as
in ComboGAN (all ranks agree on the pair: it is drawn from the seed and the step). Cycle weight
10 and LSGAN as in CycleGAN/ComboGAN; ComboGAN's latent-cycle term is off by default there too.
"""

from latentbridge.methods.base import Method

METHOD = Method(
    name="combogan",
    summary="cycle consistency x ~ x_aba; one random domain pair per step for N > 2 (ComboGAN)",
    overrides={"loss.cycle": 10.0, "train.pairs": "random"},
    paper="Anoosheh et al., ComboGAN, CVPR Workshops 2018",
)
