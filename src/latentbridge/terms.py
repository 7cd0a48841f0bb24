"""Named loss terms: each reads the step's :class:`~latentbridge.forward.Forward` and calls the
pure formulas of :mod:`latentbridge.losses`, one scalar per direction.

A term returns ``{"<term>/<a>-><b>": loss}`` (or ``"<term>/<a>"`` for per-domain terms),
unweighted; :func:`weights` says how much each counts at a given step. ``GEN_TERMS`` train the
encoders and decoders, ``DIS_TERMS`` the discriminators. Which terms are on is the method's config.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from latentbridge import losses
from latentbridge.config import LossConfig, name_list
from latentbridge.forward import Forward

Pair = tuple[str, str]


@dataclass
class Context:
    """What terms need besides the forward pass."""

    cfg: LossConfig
    pairs: list[Pair]
    domains: list[str]  # the domains that take part in this step
    index: dict[str, int]  # domain name -> index (D_z's classes)
    d_image: Callable[[str, Tensor], Tensor]  # D_b's logits
    d_features: Callable[[str, Tensor], list[Tensor]]  # D_b's hidden activations
    d_latent: Callable[[Tensor], Tensor] | None  # D_z's logits
    teacher: Callable[[Tensor], Tensor] | None


Term = Callable[[Forward, Context], dict[str, Tensor]]


def recon(f: Forward, c: Context) -> dict[str, Tensor]:
    return {
        f"recon/{a}->{a}": losses.reconstruction(f.x_aa(a), f.x[a], c.cfg.recon_type)
        for a in c.domains
    }


def recon_grad(f: Forward, c: Context) -> dict[str, Tensor]:
    return {
        f"recon_grad/{a}->{a}": losses.gradient_difference(f.x_aa(a), f.x[a]) for a in c.domains
    }


def gan(f: Forward, c: Context) -> dict[str, Tensor]:
    return {
        f"gan/{a}->{b}": losses.gan_generator(c.d_image(b, f.x_ab(a, b)), c.cfg.gan_type)
        for a, b in c.pairs
    }


def feature_match(f: Forward, c: Context) -> dict[str, Tensor]:
    with torch.no_grad():  # each target's real batch through its critic once, whatever the sources
        real = {b: c.d_features(b, f.x[b]) for b in {b for _, b in c.pairs}}
    return {
        f"feature_match/{a}->{b}": losses.feature_matching(c.d_features(b, f.x_ab(a, b)), real[b])
        for a, b in c.pairs
    }


def gan_recon(f: Forward, c: Context) -> dict[str, Tensor]:
    return {
        f"gan_recon/{a}->{a}": losses.gan_generator(c.d_image(a, f.x_aa(a)), c.cfg.gan_type)
        for a in c.domains
    }


def gan_prior(f: Forward, c: Context) -> dict[str, Tensor]:
    return {
        f"gan_prior/{b}": losses.gan_generator(c.d_image(b, f.x_prior(b)), c.cfg.gan_type)
        for b in c.domains
    }


def invert(f: Forward, c: Context) -> dict[str, Tensor]:
    z = f.z_prior()
    return {f"invert/{b}": losses.distance(f.mu_prior(b).float(), z, "l1") for b in c.domains}


def latent_adv(f: Forward, c: Context) -> dict[str, Tensor]:
    assert c.d_latent is not None
    return {f"latent_adv/{a}": losses.domain_confusion(c.d_latent(f.z(a))) for a in c.domains}


def moments(f: Forward, c: Context) -> dict[str, Tensor]:
    return {
        f"moments/{a}|{b}": losses.moment_distance(f.mu(a), f.mu(b))
        for i, a in enumerate(c.domains)
        for b in c.domains[i + 1 :]
    }


def labels(f: Forward, c: Context) -> dict[str, Tensor]:
    known = [a for a in c.domains if a in f.y]  # this step's labelled domains
    if len(known) < 2:  # (a step of N domains may draw a pair without labels)
        return {}
    if c.cfg.labels_type == "prototypes":
        codes, ids = [f.mu(a) for a in known], [f.y[a] for a in known]
        return {f"labels/{'|'.join(known)}": losses.prototype_classification(codes, ids)}
    return {
        f"labels/{a}|{b}": losses.class_centroid_distance(f.mu(a), f.y[a], f.mu(b), f.y[b])
        for i, a in enumerate(known)
        for b in known[i + 1 :]
    }


def cycle(f: Forward, c: Context) -> dict[str, Tensor]:
    k, only = c.cfg.cycle_scale, name_list(c.cfg.cycle_from)
    return {
        f"cycle/{a}->{b}": losses.reconstruction(
            losses.pooled(f.x_aba(a, b), k), losses.pooled(f.x[a], k), c.cfg.recon_type
        )
        for a, b in c.pairs
        if not only or a in only
    }


def identity(f: Forward, c: Context) -> dict[str, Tensor]:
    return {
        f"identity/{a}->{b}": losses.reconstruction(f.x_id(a, b), f.x[b], c.cfg.recon_type)
        for a, b in c.pairs
    }


def mirror(f: Forward, c: Context) -> dict[str, Tensor]:
    return {
        f"mirror/{a}->{b}": losses.reconstruction(
            f.x_ab_mirror(a, b), f.x_ab(a, b), c.cfg.recon_type
        )
        for a, b in c.pairs
    }


def negative(f: Forward, c: Context) -> dict[str, Tensor]:
    only = name_list(c.cfg.negative_from)
    return {
        f"negative/{a}->{b}": losses.reconstruction(
            f.x_ab_negative(a, b), f.x_ab(a, b), c.cfg.recon_type
        )
        for a, b in c.pairs
        if not only or a in only
    }


def relight(f: Forward, c: Context) -> dict[str, Tensor]:
    only, cfg = name_list(c.cfg.relight_from), c.cfg
    return {
        f"relight/{a}->{b}": losses.reconstruction(
            f.x_ab_relit(a, b, cfg.relight_gain, cfg.relight_warmth), f.x_ab(a, b), cfg.recon_type
        )
        for a, b in c.pairs
        if not only or a in only
    }


def semantic(f: Forward, c: Context) -> dict[str, Tensor]:
    return {
        f"semantic/{a}->{b}": losses.distance(f.mu_ab(a, b), f.mu(a), c.cfg.semantic_type)
        for a, b in c.pairs
    }


def style(f: Forward, c: Context) -> dict[str, Tensor]:
    out = {}
    for a, b in c.pairs:
        drawn = f.s_drawn(a, b)
        assert drawn is not None, "loss.style needs model.style_dim (config_checks.check_config)"
        out[f"style/{a}->{b}"] = losses.distance(f.s_ab(a, b).float(), drawn.float(), "l1")
    return out


def nce(f: Forward, c: Context) -> dict[str, Tensor]:
    return {
        f"nce/{a}->{b}": losses.patch_nce(
            f.mu_ab(a, b), f.mu(a), c.cfg.nce_temperature, c.cfg.nce_patches
        )
        for a, b in c.pairs
    }


def travel(f: Forward, c: Context) -> dict[str, Tensor]:
    out = {
        f"travel/{a}->{b}": losses.transformation_vectors(f.e(a), f.e_ab(a, b)) for a, b in c.pairs
    }
    for a in c.domains:  # trains S only: the real images' embeddings do not depend on G
        out[f"travel_margin/{a}"] = losses.siamese_margin(f.e(a), c.cfg.travel_margin)
    return out


def distance(f: Forward, c: Context) -> dict[str, Tensor]:
    return {
        f"distance/{a}->{b}": losses.pair_distances(f.x[a], f.x_ab(a, b), f.x[b])
        for a, b in c.pairs
    }


def kl(f: Forward, c: Context) -> dict[str, Tensor]:
    return {f"kl/{a}": losses.kl_unit_gaussian(f.mu(a)) for a in c.domains}


def teacher_keep(f: Forward, c: Context) -> dict[str, Tensor]:
    assert c.teacher is not None
    real = {d: c.teacher(f.x[d]) for d in c.domains}
    return {
        f"teacher_keep/{a}->{b}": losses.kept_features(real[a], real[b], c.teacher(f.x_ab(a, b)))
        for a, b in c.pairs
    }


def teacher(f: Forward, c: Context) -> dict[str, Tensor]:
    assert c.teacher is not None
    return {
        f"teacher/{a}": losses.relational_agreement(f.mu(a), c.teacher(f.x[a])) for a in c.domains
    }


def color(f: Forward, c: Context) -> dict[str, Tensor]:
    per = c.cfg.color_standardize
    return {
        f"color/{a}->{b}": losses.low_frequency_color(
            f.x[a], f.x_ab(a, b), c.cfg.color_size, None if per == "none" else (f.x[a], f.x[b]), per
        )
        for a, b in c.pairs
    }


def color_dist(f: Forward, c: Context) -> dict[str, Tensor]:
    return {
        f"color_dist/{a}->{b}": losses.color_distribution(f.x_ab(a, b), f.x[b], c.cfg.color_size)
        for a, b in c.pairs
    }


def palette(f: Forward, c: Context) -> dict[str, Tensor]:
    return {
        f"palette/{a}->{b}": losses.palette(f.x[a], f.x_ab(a, b), c.cfg.palette_size)
        for a, b in c.pairs
    }


def edge(f: Forward, c: Context) -> dict[str, Tensor]:
    return {
        f"edge/{a}->{b}": losses.edge_consistency(f.x[a], f.x_ab(a, b), c.cfg.edge_scale)
        for a, b in c.pairs
    }


def selfsim(f: Forward, c: Context) -> dict[str, Tensor]:
    return {
        f"selfsim/{a}->{b}": losses.self_similarity_consistency(
            f.x[a], f.x_ab(a, b), c.cfg.selfsim_scale, c.cfg.selfsim_window
        )
        for a, b in c.pairs
    }


def detail(f: Forward, c: Context) -> dict[str, Tensor]:
    return {f"detail/{a}->{b}": losses.excess_detail(f.x_ab(a, b), f.x[b]) for a, b in c.pairs}


def d_gan(f: Forward, c: Context) -> dict[str, Tensor]:
    return {
        f"gan/{a}->{b}": losses.gan_discriminator(
            c.d_image(b, f.x[b]), c.d_image(b, f.x_ab(a, b).detach()), c.cfg.gan_type
        )
        for a, b in c.pairs
    }


def d_gan_recon(f: Forward, c: Context) -> dict[str, Tensor]:
    return {
        f"gan_recon/{a}->{a}": losses.gan_discriminator(
            c.d_image(a, f.x[a]), c.d_image(a, f.x_aa(a).detach()), c.cfg.gan_type
        )
        for a in c.domains
    }


def d_gan_prior(f: Forward, c: Context) -> dict[str, Tensor]:
    return {
        f"gan_prior/{b}": losses.gan_discriminator(
            c.d_image(b, f.x[b]), c.d_image(b, f.x_prior(b).detach()), c.cfg.gan_type
        )
        for b in c.domains
    }


def d_r1(f: Forward, c: Context) -> dict[str, Tensor]:
    out = {}
    for b in c.domains:
        x = f.x[b].detach().requires_grad_(True)
        # D reads a view of x, not the leaf itself: module hooks (the FLOP counter of `bench`)
        # cannot follow autograd.grad back to a leaf that a module took as its input
        out[f"r1/{b}"] = losses.gradient_penalty(c.d_image(b, x.view_as(x)), x)
    return out


def d_latent(f: Forward, c: Context) -> dict[str, Tensor]:
    assert c.d_latent is not None
    return {
        f"latent_adv/{a}": losses.domain_classification(c.d_latent(f.z(a).detach()), c.index[a])
        for a in c.domains
    }


GEN_TERMS: dict[str, Term] = {
    "recon": recon,
    "recon_grad": recon_grad,
    "gan": gan,
    "feature_match": feature_match,
    "gan_recon": gan_recon,
    "gan_prior": gan_prior,
    "invert": invert,
    "latent_adv": latent_adv,
    "moments": moments,
    "labels": labels,
    "cycle": cycle,
    "identity": identity,
    "mirror": mirror,
    "negative": negative,
    "relight": relight,
    "semantic": semantic,
    "style": style,
    "nce": nce,
    "travel": travel,
    "distance": distance,
    "kl": kl,
    "teacher": teacher,
    "teacher_keep": teacher_keep,
    "color": color,
    "color_dist": color_dist,
    "edge": edge,
    "palette": palette,
    "selfsim": selfsim,
    "detail": detail,
}
DIS_TERMS: dict[str, Term] = {
    "gan": d_gan,
    "gan_recon": d_gan_recon,
    "gan_prior": d_gan_prior,
    "latent_adv": d_latent,
    "r1": d_r1,
}
AUTOENCODER_TERMS = ("recon", "recon_grad", "kl")  # the only terms of the warm-up phase
# the alignment terms that loss.ramp_steps ramps
RAMPED_TERMS = ("latent_adv", "moments", "labels", "semantic", "nce", "teacher")


def weights(cfg: LossConfig, *, step: int, warmup: int) -> dict[str, float]:
    """Weight of every active generator term at ``step`` (inactive terms are absent).

    During the first ``warmup`` steps only the auto-encoder terms train; the alignment terms then
    ramp linearly from 0 to their weight over ``cfg.ramp_steps`` steps.
    """
    out: dict[str, float] = {}
    for name in GEN_TERMS:
        w = float(getattr(cfg, name))
        if w <= 0 or (step < warmup and name not in AUTOENCODER_TERMS):
            continue
        if name in RAMPED_TERMS and cfg.ramp_steps > 0:
            w *= min(1.0, (step - warmup + 1) / cfg.ramp_steps)
        out[name] = w
    return out


def discriminator_weights(cfg: LossConfig, gen_weights: dict[str, float]) -> dict[str, float]:
    """Weight of every active discriminator term: a GAN term trains (weight 1) when its generator
    counterpart is active; the gradient penalty ``r1`` (weight ``cfg.r1``) when the GAN is."""
    out = {name: 1.0 for name in DIS_TERMS if name in gen_weights}
    if cfg.r1 > 0 and any(g in gen_weights for g in ("gan", "gan_recon", "gan_prior")):
        out["r1"] = cfg.r1
    return out
