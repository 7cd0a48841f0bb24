"""Loss formulas: pure functions, tensors in, a scalar out. Weights are applied by the caller
(:mod:`latentbridge.terms`); nothing here reads a config."""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional as F

from latentbridge.config import DistanceType, GanType


def reconstruction(x: Tensor, y: Tensor, kind: str = "l1") -> Tensor:
    """Pixel distance: ``mean|x - y|`` (l1) or ``mean (x - y)^2`` (l2)."""
    return F.l1_loss(x, y) if kind == "l1" else F.mse_loss(x, y)


def detail(x: Tensor) -> Tensor:
    """Each image's busyness: the mean absolute difference between neighbouring pixels (its total
    variation per pixel, horizontal and vertical averaged), shape (B,)."""
    x = x.float()
    dx = (x[..., :, 1:] - x[..., :, :-1]).abs().flatten(1).mean(1)
    dy = (x[..., 1:, :] - x[..., :-1, :]).abs().flatten(1).mean(1)
    return (dx + dy) / 2


def gradient_difference(x: Tensor, y: Tensor) -> Tensor:
    """Mean L1 distance between the finite differences of ``x`` and ``y`` along both image axes
    (per channel, signed): the error's high frequencies alone, so thin strokes that a pixel loss
    lets blur away (a cartoon's glasses rims) weigh as much as the areas around them. In the
    spirit of the gradient difference loss of Mathieu et al. 2016."""
    return detail(x.float() - y.float()).mean()


def pooled(x: Tensor, scale: int) -> Tensor:
    """``x`` average-pooled by ``scale`` (unchanged for 1): what a low-frequency comparison sees."""
    return F.avg_pool2d(x, scale) if scale > 1 else x


def distance(a: Tensor, b: Tensor, kind: DistanceType) -> Tensor:
    """Latent distance for semantic consistency (XGAN eq. 3 uses l1): l1, l2, or
    ``1 - cos(a, b)`` over each sample's flattened code."""
    if kind == "cosine":
        return (1 - F.cosine_similarity(a.flatten(1), b.flatten(1), dim=1)).mean()
    return F.l1_loss(a, b) if kind == "l1" else F.mse_loss(a, b)


def gan_generator(fake_logits: Tensor, kind: GanType) -> Tensor:
    """The generator's GAN loss on D's logits for generated images.

    lsgan (Mao et al. 2017): ``mean (D(G(z)) - 1)^2``; nonsat (Goodfellow et al. 2014):
    ``softplus(-D(G(z)))``; hinge (Lim & Ye 2017): ``-mean D(G(z))``.
    """
    if kind == "lsgan":
        return (fake_logits - 1).pow(2).mean()
    if kind == "nonsat":
        return F.softplus(-fake_logits).mean()
    return -fake_logits.mean()


def gan_discriminator(real_logits: Tensor, fake_logits: Tensor, kind: GanType) -> Tensor:
    """The discriminator's GAN loss (the counterpart of :func:`gan_generator`).

    lsgan: ``mean (D(x) - 1)^2 + mean D(G(z))^2``; nonsat: ``softplus(-D(x)) + softplus(D(G(z)))``;
    hinge: ``relu(1 - D(x)) + relu(1 + D(G(z)))``.
    """
    if kind == "lsgan":
        return (real_logits - 1).pow(2).mean() + fake_logits.pow(2).mean()
    if kind == "nonsat":
        return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()


def feature_matching(fake: list[Tensor], real: list[Tensor]) -> Tensor:
    """Salimans et al. (2016)'s feature matching, unpaired: the batch mean of each hidden
    activation map of D (per channel and place) is the same for generated and real images;
    ``sum_layers mean |E_batch f(G) - E_batch f(x)|``. A batch statistic, not a pairing: it asks
    the translations to hold what D sees (a face's glasses, its hair, its skin) as often, where
    and as strongly as real images do."""
    return sum(
        ((g.float().mean(0) - r.float().mean(0)).abs().mean() for g, r in zip(fake, real)),
        fake[0].new_zeros((), dtype=torch.float32),
    )


def gradient_penalty(logits: Tensor, x: Tensor) -> Tensor:
    """R1: ``mean_i ||d sum(logits_i) / d x_i||^2`` over the batch, differentiable (the graph is
    kept, so the penalty trains the network that produced ``logits`` from ``x``)."""
    (grad,) = torch.autograd.grad(logits.sum(), x, create_graph=True)
    return grad.float().pow(2).flatten(1).sum(1).mean()


def domain_classification(logits: Tensor, domain: int) -> Tensor:
    """D_z's loss: cross-entropy of its domain logits (B, N) against the true ``domain``."""
    target = torch.full((logits.shape[0],), domain, dtype=torch.long, device=logits.device)
    return F.cross_entropy(logits, target)


def domain_confusion(logits: Tensor) -> Tensor:
    """The encoders' latent-adversarial loss: cross-entropy of D_z's logits against the uniform
    distribution over domains, ``-mean_k log softmax(logits)_k``. Its minimum (log N) is reached
    when D_z cannot tell the domain; with N = 2 it plays the role of Lample et al.'s flipped label
    without pushing codes into the *other* domain."""
    return -F.log_softmax(logits.float(), dim=1).mean()


def kl_unit_gaussian(mu: Tensor) -> Tensor:
    """UNIT's KL term for q(z|x) = N(mu, I) against the prior N(0, I): ``mean mu^2``
    (the constant part vanishes with a fixed unit variance; UNIT eq. 2)."""
    return mu.pow(2).mean()


def moment_distance(za: Tensor, zb: Tensor) -> Tensor:
    """Latent moment matching: ``mean |mean_a - mean_b| + mean |std_a - std_b|`` of every latent
    coordinate over the batch (a diagonal form of Deep CORAL, Sun & Saenko 2016). Zero when the
    two batches of codes have the same per-coordinate mean and spread; unlike a latent
    discriminator it has no adversary to balance."""
    a, b = za.float().flatten(1), zb.float().flatten(1)
    return F.l1_loss(a.mean(0), b.mean(0)) + F.l1_loss(a.std(0), b.std(0))


def class_centroid_distance(za: Tensor, ya: Tensor, zb: Tensor, yb: Tensor) -> Tensor:
    """Class-conditional code alignment: for every attribute k and class c with at least two
    samples in each batch, the squared distance between the mean code of a's samples of class c
    and b's, per code coordinate, averaged over the (k, c) measured (0 when none is).

    Each squared distance is the unbiased estimate (a linear-kernel MMD; Gretton et al. 2012):
    ``mean_{i != i'} <a_i, a_i'> + mean_{j != j'} <b_j, b_j'> - 2 mean_{i, j} <a_i, b_j>``. Its
    expectation is the squared distance of the two classes' true mean codes, so it does not
    shrink the codes within a class the way the plain distance of batch means would (that one is
    larger by the means' sampling variance, which a smaller spread reduces); it can read below 0.
    ``ya``, ``yb``: (B, A) class ids."""
    a, b = za.float().flatten(1), zb.float().flatten(1)
    total, count = a.new_zeros(()), 0
    for k in range(ya.shape[1]):
        classes = int(max(ya[:, k].max(), yb[:, k].max())) + 1
        oa = F.one_hot(ya[:, k], classes).to(a.dtype)  # (B, C)
        ob = F.one_hot(yb[:, k], classes).to(b.dtype)
        na, nb = oa.sum(0), ob.sum(0)
        sa, sb = oa.T @ a, ob.T @ b  # (C, D): per-class sums
        qa, qb = oa.T @ (a * a).sum(1), ob.T @ (b * b).sum(1)  # (C,): per-class sums of |z|^2
        valid = (na >= 2) & (nb >= 2)
        if not valid.any():
            continue
        na, nb, sa, sb, qa, qb = (t[valid] for t in (na, nb, sa, sb, qa, qb))
        within_a = ((sa * sa).sum(1) - qa) / (na * (na - 1))
        within_b = ((sb * sb).sum(1) - qb) / (nb * (nb - 1))
        across = (sa * sb).sum(1) / (na * nb)
        total = total + (within_a + within_b - 2 * across).sum() / a.shape[1]
        count += int(valid.sum())
    return total / count if count else (a.sum() + b.sum()) * 0.0


def prototype_classification(codes: list[Tensor], labels: list[Tensor]) -> Tensor:
    """Prototypical classification of codes by their labels (Snell et al. 2017), the domains
    pooled: per attribute, each code's logits are minus its mean squared distance to every
    class's mean code (the prototypes, computed over the codes of all domains together; its own
    class's mean leaves the code itself out), divided by the codes' mean per-coordinate variance
    (a constant, so the scale of the code does not set the temperature); the loss is the
    cross-entropy with its class, averaged over the codes whose class has another member and over
    the attributes. Low only when every class stands out of the rest of the codes' variation, at
    the same prototype for every domain. The variance also holds the distances between the
    classes, so even classes of one point each leave a floor above 0 (about 0.2 for three
    balanced classes): the term keeps asking the rest of the variation to shrink.
    ``codes``: (B_d, ...) per domain; ``labels``: (B_d, A)."""
    z = torch.cat([c.float().flatten(1) for c in codes])
    y = torch.cat(labels)
    scale = z.var(0).mean().detach().clamp_min(1e-8)
    sq = (z * z).mean(1, keepdim=True)  # (N, 1)
    total, count = z.new_zeros(()), 0
    for k in range(y.shape[1]):
        yk = y[:, k]
        onehot = F.one_hot(yk, int(yk.max()) + 1).to(z.dtype)  # (N, C)
        n = onehot.sum(0)
        own = n[yk]
        keep = own >= 2  # a code alone in its class has no prototype to be classified by
        if not keep.any() or int((n > 0).sum()) < 2:
            continue
        protos = (onehot.T @ z) / n.clamp_min(1)[:, None]  # (C, D)
        d2 = sq - 2 * z @ protos.T / z.shape[1] + (protos * protos).mean(1)[None]  # (N, C)
        loo = (own / (own - 1).clamp_min(1)) ** 2  # the own prototype without the code itself
        d2 = d2 * (1 + onehot * (loo - 1)[:, None])
        logits = (-d2 / scale).masked_fill(n[None] == 0, float("-inf"))
        total = total + F.cross_entropy(logits[keep], yk[keep])
        count += 1
    return total / count if count else z.sum() * 0.0


def low_frequency_color(
    x: Tensor,
    y: Tensor,
    grid: int,
    scales: tuple[Tensor, Tensor] | None = None,
    per: str = "channel",
) -> Tensor:
    """Colour consistency on a coarse grid: ``mean |pool(x) - pool(y)|`` with both images
    average-pooled to ``grid x grid``. Only the low frequencies (skin, hair, background colour)
    are compared, so the shapes are free to change (a prior common in face -> cartoon tools).

    ``scales`` = (real images of x's domain, real images of y's domain): x's pooled colours are
    first carried into y's domain per channel — minus the mean of x's domain, over its std, times
    the std of y's, plus its mean, all measured on the pooled real images (constants, not trained
    through) — so the term asks for the same colour *relative to each domain's palette*: a face
    as much paler than the average photo as its cartoon is than the average cartoon. ``per``:
    ``channel`` (one mean and std per channel) or ``cell`` (per channel and grid cell)."""
    px, py = F.adaptive_avg_pool2d(x, grid), F.adaptive_avg_pool2d(y, grid)
    if scales is not None:
        (mx, sx), (my, sy) = (_color_stats(s, grid, per) for s in scales)
        px = (px - mx) / sx * sy + my
    return F.l1_loss(px, py)


def _color_stats(real: Tensor, grid: int, per: str) -> tuple[Tensor, Tensor]:
    """Mean and std (floored) of images average-pooled to ``grid x grid``, over the batch and,
    for ``per="channel"``, the grid cells."""
    ref = F.adaptive_avg_pool2d(real.detach().float(), grid)
    dims = (0, 2, 3) if per == "channel" else (0,)
    return ref.mean(dim=dims, keepdim=True), ref.std(dim=dims, keepdim=True).clamp_min(1e-3)


def color_distribution(y: Tensor, real: Tensor, grid: int) -> Tensor:
    """Batch-level colour consistency with the target domain: both batches average-pooled to
    ``grid x grid``, and every cell's every channel compared as a distribution over the batch
    (sorted values of ``y`` against the same quantiles of ``real``: a 1-D Wasserstein distance per
    cell and channel). No image is paired with another; what is asked is that the translations,
    taken together, have the target domain's skin, hair and background colours in the target
    domain's proportions, so a source domain drawn darker (a shaded photo) cannot make every
    translation a shade darker than its palette. ``real``: the target domain's real images (a
    constant: no gradient reaches them); any batch size."""
    py = F.adaptive_avg_pool2d(y.float(), grid).flatten(1)  # (B, 3 * grid**2)
    pr = F.adaptive_avg_pool2d(real.detach().float(), grid).flatten(1)
    sy = py.sort(dim=0).values
    if pr.shape[0] == py.shape[0]:
        sr = pr.sort(dim=0).values
    else:  # the real batch's quantiles at the translations' ranks
        q = (torch.arange(py.shape[0], device=py.device, dtype=py.dtype) + 0.5) / py.shape[0]
        sr = torch.quantile(pr, q, dim=0)
    return F.l1_loss(sy, sr)


# Colour directions the palette term projects pixels on: R, G, B, luminance and two opponent axes.
_PALETTE_AXES = torch.tensor(
    [[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [1, 1, 1], [1, -1, 0], [1, 1, -2]]
)


def palette(x: Tensor, y: Tensor, grid: int) -> Tensor:
    """Colour-distribution consistency, free of where the colours are: both images average-pooled
    to ``grid x grid``, their pixels projected on a few colour axes, and each projection's sorted
    values compared (a sliced 1-D Wasserstein distance per image). A face's skin and hair colours
    must stay present in the translation wherever its shapes put them."""
    axes = F.normalize(_PALETTE_AXES, dim=1).to(x.device)
    px = F.adaptive_avg_pool2d(x.float(), grid).flatten(2).transpose(1, 2) @ axes.t()
    py = F.adaptive_avg_pool2d(y.float(), grid).flatten(2).transpose(1, 2) @ axes.t()
    return F.l1_loss(px.sort(dim=1).values, py.sort(dim=1).values)


def edge_map(x: Tensor, scale: int) -> Tensor:
    """Where the image changes, free of colour and polarity: the luminance (channel mean),
    average-pooled by ``scale`` (so pixel noise and fine texture drop out), its finite-difference
    gradient magnitude, divided by the image's mean magnitude. Shape (B, 1, H', W')."""
    lum = pooled(x.float().mean(dim=1, keepdim=True), scale)
    gx = F.pad(lum[..., :, 1:] - lum[..., :, :-1], (0, 1, 0, 0))
    gy = F.pad(lum[..., 1:, :] - lum[..., :-1, :], (0, 0, 0, 1))
    mag = (gx.square() + gy.square() + 1e-6).sqrt()
    return mag / mag.mean(dim=(1, 2, 3), keepdim=True)


def edge_consistency(x: Tensor, y: Tensor, scale: int) -> Tensor:
    """Structure consistency: ``mean |edge_map(x) - edge_map(y)|``. Dark-on-light and
    light-on-dark strokes give the same map, and colours are free to change, so a digit's stroke
    or a face's outline must stay where it was while its rendering changes."""
    return F.l1_loss(edge_map(x, scale), edge_map(y, scale))


def self_similarity(x: Tensor, scale: int, window: int, floor: float = 0.01) -> Tensor:
    """Which neighbours of each pixel are made of the same stuff, free of what the stuff looks
    like (the local self-similarity descriptor of Shechtman & Irani 2007, as a loss in the spirit
    of Zheng et al. 2021): ``x`` average-pooled by ``scale``, for every pixel the mean squared
    colour distance to each other pixel of the ``window x window`` patch around it, divided by
    that pixel's mean distance plus ``floor`` (squared units of [-1, 1] images), so that the
    contrast drops out at outlines and pixel noise below the floor stays flat. Shape
    (B, window**2 - 1, H', W')."""
    p = pooled(x.float(), scale)
    b, c, h, w = p.shape
    r = window // 2
    patches = F.unfold(F.pad(p, (r, r, r, r), mode="replicate"), window)
    d = (patches.view(b, c, window * window, h, w) - p.unsqueeze(2)).square().mean(dim=1)
    centre = (window * window) // 2
    d = torch.cat([d[:, :centre], d[:, centre + 1 :]], dim=1)
    return d / (d.mean(dim=1, keepdim=True) + floor)


def self_similarity_consistency(x: Tensor, y: Tensor, scale: int, window: int) -> Tensor:
    """Structure consistency by grouping: ``mean |self_similarity(x) - self_similarity(y)|``.
    Hair, skin, glasses and background may all change colour, but what belongs together in x
    must belong together in y: a long fringe of hair stays one region down to the shoulders,
    glasses stay a band that differs from the skin around it, however strong the contrast."""
    return F.l1_loss(self_similarity(x, scale, window), self_similarity(y, scale, window))


def excess_detail(y: Tensor, reference: Tensor) -> Tensor:
    """A detail budget: ``mean_i relu(detail(y_i) - mean detail(reference))``. A translation may
    be as busy as the target domain's own images (the step's real batch, no gradient) and no
    busier: flat cartoons may not carry a photo's grain and hair texture as speckle, while a
    translation into a grainy domain is not asked to be smooth."""
    return F.relu(detail(y) - detail(reference.detach()).mean()).mean()


def patch_nce(q: Tensor, k: Tensor, temperature: float, patches: int) -> Tensor:
    """Contrastive correspondence of two codes (PatchNCE, Park et al. 2020, on the latent grid):
    each position of ``q`` (the translation's code, shape (B, C, H, W) or (B, C)) must pick the
    same position of the same image in ``k`` (the source's code, the anchor: no gradient) out of
    every sampled position of every image in the batch. Cross-entropy of the cosine similarities
    over ``temperature``; ``patches`` positions are drawn at random, the same ones in every image
    (all of them when the grid is smaller). A code that keeps which subject and which part it is scores low,
    however its values are rendered; a copy of another subject's code does not."""
    if q.dim() == 2:
        q, k = q[..., None, None], k[..., None, None]
    qf, kf = q.float().flatten(2), k.detach().float().flatten(2)  # (B, C, HW)
    if qf.shape[2] > patches:
        keep = torch.randperm(qf.shape[2], device=qf.device)[:patches]
        qf, kf = qf[..., keep], kf[..., keep]
    qn = F.normalize(qf.transpose(1, 2).flatten(0, 1), dim=1)  # (B * P, C)
    kn = F.normalize(kf.transpose(1, 2).flatten(0, 1), dim=1)
    logits = qn @ kn.t() / temperature
    return F.cross_entropy(logits, torch.arange(len(qn), device=qn.device))


def _batch_scale(v: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and std (floored at 1e-3) of a batch over its first dimension, as constants: the
    scale a domain's real images set for standardising another batch in that domain."""
    v = v.detach()
    return v.mean(0), v.std(0, correction=0).clamp_min(1e-3)


def _pair_vectors(e: Tensor) -> Tensor:
    """e_i - e_j for every pair i < j of a batch of embeddings (B, D): (B (B - 1) / 2, D)."""
    i, j = torch.triu_indices(len(e), len(e), offset=1, device=e.device)
    return e[i] - e[j]


def pair_distances(source: Tensor, translated: Tensor, target_real: Tensor) -> Tensor:
    """DistanceGAN's consistency (Benaim and Wolf 2017): two images far apart in their domain
    are as far apart, in the target domain's scale, after translation. Every pair i < j of the
    batch: ``d_ij`` = mean |x_i - x_j| of the sources, ``d'_ij`` of their translations, each
    standardised by the mean and std of its own domain's pair distances (measured on the step's
    real images, as constants: the paper's dataset statistics, estimated per batch), and
    ``mean |std_a(d_ij) - std_b(d'_ij)|``. Only the order of distances carries over, not
    their size: a domain of flat images may have smaller distances than a domain of busy ones."""
    if len(source) < 3 or len(target_real) < 3:  # too few pairs for a spread
        return (source.float() - translated.float()).sum() * 0

    def dists(x: Tensor) -> Tensor:
        return _pair_vectors(x.float().flatten(1)).abs().mean(dim=1)

    d_src, d_out = dists(source.detach()), dists(translated)
    (mu_a, sd_a), (mu_b, sd_b) = _batch_scale(d_src), _batch_scale(dists(target_real))
    return ((d_src - mu_a) / sd_a - (d_out - mu_b) / sd_b).abs().mean()


def transformation_vectors(source: Tensor, translated: Tensor) -> Tensor:
    """TraVeLGAN's consistency (Amodio and Krishnaswamy 2019) of two batches of embeddings in
    which image i of one is the translation of image i of the other: every vector between two
    images, v_ij = e_i - e_j, must be the same after translation — ``1 - cos(v_ij, v'_ij)`` plus
    ``|v_ij - v'_ij|^2``, averaged over pairs. Moving every image by one vector costs nothing;
    translating two subjects to one costs their distance."""
    if len(source) < 2:  # no pair to compare
        return (source.float() - translated.float()).sum() * 0
    v, w = _pair_vectors(source.float()), _pair_vectors(translated.float())
    cos = F.cosine_similarity(v, w, dim=1, eps=1e-6)
    return (1 - cos).mean() + (v - w).pow(2).sum(dim=1).mean()


def siamese_margin(e: Tensor, margin: float) -> Tensor:
    """TraVeLGAN's contrastive term for the siamese network: distinct images at least ``margin``
    apart, ``mean relu(margin - |e_i - e_j|)^2`` over pairs (a constant embedding scores
    ``margin^2``, one that tells every image apart scores 0)."""
    if len(e) < 2:
        return e.float().sum() * 0
    d = _pair_vectors(e.float()).norm(dim=1)
    return F.relu(margin - d).pow(2).mean()


def kept_features(source: Tensor, target_real: Tensor, translated: Tensor) -> Tensor:
    """How far a translation's features point from its source's, each in its own domain's scale:
    ``1 - cos(std_a(source), std_b(translated))`` averaged over the batch, where ``std_a``
    subtracts the mean of the source batch's features and divides by their std, and ``std_b``
    does the same with the mean and std of ``target_real`` (real images of the target domain);
    the statistics are constants. What all images of a domain share in the feature space drops
    out, what tells one image from the rest of its domain must stay. Features (B, ...)."""
    s, r, t = (v.flatten(1).float() for v in (source, target_real, translated))
    (ms, ss), (mr, sr) = _batch_scale(s), _batch_scale(r)
    return 1 - F.cosine_similarity(((s - ms) / ss).detach(), (t - mr) / sr, dim=1).mean()


def relational_agreement(z: Tensor, t: Tensor) -> Tensor:
    """Agreement of a code with a teacher's features, free of their dimensions: the mean squared
    difference of the two (B, B) cosine-similarity matrices of the batch (relational distillation,
    Park et al. 2019), standing in for XGAN's teacher loss when the widths differ."""
    zn = F.normalize(z.flatten(1).float(), dim=1)
    tn = F.normalize(t.flatten(1).float(), dim=1)
    return F.mse_loss(zn @ zn.t(), tn @ tn.t())
