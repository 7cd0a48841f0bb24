"""The loss formulas on small cases with known answers."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch.nn import functional as F

from latentbridge import losses, terms


def _stroke(shift: int = 0) -> torch.Tensor:
    """A bright vertical bar on black, (1, 3, 16, 16) in [-1, 1]."""
    x = -torch.ones(1, 3, 16, 16)
    x[..., 2:14, 6 + shift : 9 + shift] = 1.0
    return x


def test_edge_consistency_ignores_colour_and_polarity_but_not_position() -> None:
    x = _stroke()
    inverted = -x  # dark stroke on white
    tinted = x.clone()
    tinted[:, 0] = tinted[:, 0] * 0.5 + 0.3  # another colour, same shape
    moved = _stroke(shift=4)
    assert losses.edge_consistency(x, x, 2).item() < 1e-6
    assert losses.edge_consistency(x, inverted, 2).item() < 1e-6
    assert losses.edge_consistency(x, tinted, 2).item() < 1e-2
    assert losses.edge_consistency(x, moved, 2).item() > 0.5


def test_self_similarity_ignores_colour_and_contrast_but_not_grouping() -> None:
    """``loss.selfsim``: recolouring, inverting or fading a shape keeps which pixels belong
    together (up to the floor's share at low contrast); moving the shape does not, and pixel noise
    below the floor costs a fraction of what the move costs."""
    torch.manual_seed(0)
    x = _stroke()
    tinted = x.clone()
    tinted[:, 0] = tinted[:, 0] * 0.5 + 0.3
    faded = 0.5 * x  # a quarter of the squared contrast
    noisy = x + 0.05 * torch.randn_like(x)
    cost = {
        name: losses.self_similarity_consistency(x, y, 1, 5).item()
        for name, y in [
            ("same", x),
            ("inverted", -x),
            ("tinted", tinted),
            ("faded", faded),
            ("noisy", noisy),
            ("moved", _stroke(shift=4)),
        ]
    }
    assert cost["same"] < 1e-6 and cost["inverted"] < 1e-6
    assert cost["tinted"] < 0.01 and cost["faded"] < 0.02
    assert cost["moved"] > 0.3
    assert cost["noisy"] < cost["moved"] / 3
    # a pixel whose neighbours all share its colour reads zero everywhere; one at an outline
    # reads more for the neighbours across it than for those on its own side
    s = losses.self_similarity(x, 1, 3)
    assert s.shape == (1, 8, 16, 16)
    assert s[0, :, 8, 0].abs().max().item() < 1e-6
    left, right = s[0, 3, 8, 6].item(), s[0, 4, 8, 6].item()  # at the bar's left edge
    assert left > 1.0 > right


def test_gradient_difference_sees_a_blurred_stroke_not_a_colour_offset() -> None:
    x = _stroke()
    offset = x + 0.2  # every pixel off by the same amount: no gradient changes
    blurred = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
    assert losses.gradient_difference(x, x).item() < 1e-6
    assert losses.gradient_difference(x, offset).item() < 1e-6
    assert losses.gradient_difference(x, blurred).item() > 0.01
    # a one-pixel step of height h along x, in a w-wide image of height w: each row differs
    # by h at one of its w - 1 differences, so the mean over that axis is h / (w - 1)
    step = torch.zeros(1, 1, 8, 8)
    step[..., 4:] = 1.0
    assert abs(losses.gradient_difference(step, torch.zeros_like(step)).item() - 0.5 / 7) < 1e-6


def test_a_pooled_cycle_ignores_pixel_noise_but_not_a_colour_change() -> None:
    """``loss.cycle_scale=2``: x_aba may differ from x by noise that averages out over 2x2 pixels
    (a photo's grain) at no cost; a change of colour still costs what it costs per pixel."""
    x = _stroke()
    grain = torch.tensor([[0.3, -0.3], [-0.3, 0.3]]).repeat(8, 8)  # zero mean in every 2x2 block
    recolored = x.clone()
    recolored[:, 1] += 0.2
    f = SimpleNamespace(x={"A": x}, x_aba=lambda a, b: back[0])
    c = SimpleNamespace(
        pairs=[("A", "B")], cfg=SimpleNamespace(recon_type="l1", cycle_scale=2, cycle_from="")
    )
    back = [x + grain]
    assert terms.cycle(f, c)["cycle/A->B"].item() < 1e-6  # type: ignore[arg-type]
    c.cfg.cycle_scale = 1
    assert abs(terms.cycle(f, c)["cycle/A->B"].item() - 0.3) < 1e-6  # type: ignore[arg-type]
    back[0] = recolored
    for k in (1, 2):
        c.cfg.cycle_scale = k
        assert abs(terms.cycle(f, c)["cycle/A->B"].item() - 0.2 / 3) < 1e-6  # type: ignore[arg-type]


def test_edge_map_pools_away_pixel_noise() -> None:
    torch.manual_seed(0)
    x = _stroke()
    noisy = x + 0.3 * torch.randn_like(x)
    assert losses.edge_consistency(x, noisy, 4) < losses.edge_consistency(x, noisy, 1)


def test_detail_budget_costs_only_what_is_busier_than_the_target_domain() -> None:
    """``loss.detail``: a translation as busy as the target's images, or flatter, costs nothing;
    speckle on a flat domain costs its excess, and the gradient smooths it."""
    torch.manual_seed(0)
    flat = _stroke().repeat(4, 1, 1, 1)  # a flat domain: one outline per image
    speckled = (flat + 0.3 * torch.randn_like(flat)).requires_grad_(True)
    # one neighbour difference of 2 per row of the 3-pixel stroke's two edges: 12 rows x 2 edges
    # x 2 / (16 x 15) horizontally, 2 rows x 3 x 2 / (15 x 16) vertically
    assert torch.allclose(losses.detail(flat), torch.full((4,), (0.2 + 0.05) / 2))
    assert losses.excess_detail(flat, flat).item() == 0.0
    assert losses.excess_detail(flat.flip(-1), flat).item() == 0.0  # as busy, elsewhere
    assert losses.excess_detail(-torch.ones_like(flat), flat).item() == 0.0  # flatter
    cost = losses.excess_detail(speckled, flat)
    excess = (losses.detail(speckled) - losses.detail(flat).mean()).mean()
    assert cost.item() == pytest.approx(excess.item(), rel=1e-6) and cost.item() > 0.1
    assert losses.excess_detail(flat, speckled).item() == 0.0  # a grainy target asks nothing
    (grad,) = torch.autograd.grad(cost, speckled)
    smoother = speckled.detach() - 0.5 * grad / grad.abs().max()
    assert losses.detail(smoother).mean() < losses.detail(speckled.detach()).mean()


def test_low_frequency_color_sees_colour_not_shape() -> None:
    x = torch.zeros(1, 3, 16, 16)
    x[..., :8, :] = 1.0  # top half white
    swapped = x.flip(3)  # left-right mirror: the same 4x4 grid of means
    assert losses.low_frequency_color(x, swapped, 4).item() < 1e-6
    assert abs(losses.low_frequency_color(x, -x, 4).item() - 1.0) < 1e-6


def test_standardized_color_forgives_a_domain_wide_shift_not_a_subject_change() -> None:
    """``loss.color_standardize``: a target domain drawn 0.4 brighter and 1.5x as contrasted as
    the source on the whole costs nothing; a translation that keeps the source's raw colours
    instead (the plain term's answer) costs; so does one that swaps two subjects' colours. The
    domain statistics are constants: no gradient reaches the real images through them."""
    torch.manual_seed(0)
    dark = (torch.rand(8, 3, 16, 16) - 1.0).requires_grad_()  # a darker domain, x in [-1, 0]
    bright = dark.detach() * 1.5 + 0.4  # the same subjects in the other domain's palette
    scales = (dark, bright)
    assert losses.low_frequency_color(dark, bright, 4, scales).item() < 1e-5
    assert losses.low_frequency_color(dark, bright, 4).item() > 0.1  # the plain term pulls
    raw = losses.low_frequency_color(dark, dark.detach(), 4, scales).item()
    swapped = losses.low_frequency_color(dark, bright.roll(1, 0), 4, scales).item()
    assert raw > 0.1 and swapped > 0.05
    x = dark.detach().clone().requires_grad_()
    losses.low_frequency_color(x, bright.roll(1, 0), 4, scales).backward()
    assert dark.grad is None and x.grad is not None
    # per cell: a target whose border (background) is shifted more than its centre (the face)
    shift = torch.full((1, 1, 16, 16), 0.6)
    shift[..., 4:12, 4:12] = 0.1
    other = dark.detach() + shift
    by_cell = losses.low_frequency_color(dark, other, 4, (dark, other), per="cell").item()
    by_channel = losses.low_frequency_color(dark, other, 4, (dark, other), per="channel").item()
    assert by_cell < 1e-5 < 0.05 < by_channel


def test_palette_ignores_where_colours_are_but_not_which() -> None:
    torch.manual_seed(0)
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    shuffled = x.flatten(2)[..., torch.randperm(256)].view_as(x)  # same pixels, other places
    recoloured = x.clone()
    recoloured[:, 0] += 0.5  # redder
    assert losses.palette(x, x, 16).item() < 1e-6
    assert losses.palette(x, shuffled, 16).item() < 1e-6
    assert losses.palette(x, recoloured, 16).item() > 0.05


def test_color_distribution_asks_for_the_batch_not_each_image() -> None:
    """``loss.color_dist``: translations that are the target's real images in another order
    cost nothing (no image is paired); a batch a shade darker than the target domain costs the
    shade; a batch of another size is read against the real batch's quantiles; no gradient
    reaches the real images."""
    torch.manual_seed(0)
    real = torch.rand(8, 3, 16, 16) * 2 - 1
    assert losses.color_distribution(real, real, 4).item() < 1e-6
    assert losses.color_distribution(real.roll(3, 0), real, 4).item() < 1e-6
    darker = losses.color_distribution(real - 0.2, real, 4).item()
    assert abs(darker - 0.2) < 1e-5
    # every image the same average colour: the batch lacks the domain's spread
    flat = real.mean(dim=0, keepdim=True).expand(8, -1, -1, -1)
    assert losses.color_distribution(flat, real, 4).item() > 0.01
    many = torch.cat([real, real])  # 16 reals: the 8 translations meet the same quantiles
    assert losses.color_distribution(real, many, 4).item() < 1e-5
    y = real.clone().requires_grad_()
    r = real.clone().requires_grad_()
    losses.color_distribution(y - 0.1, r, 4).backward()
    assert r.grad is None and y.grad is not None and y.grad.abs().sum() > 0


def test_pair_distances_keep_the_order_of_the_batch_not_its_scale() -> None:
    """``loss.distance`` (DistanceGAN): a translation that scales and shifts every source (a
    domain of fainter images) costs nothing; the same images assigned to the wrong sources
    cost, and so does a batch collapsed to one image; no gradient reaches the sources or the
    real images, whose distances are the constants of the standardisation."""
    torch.manual_seed(0)
    x = torch.rand(8, 3, 16, 16) * 2 - 1
    fainter = 0.5 * x + 0.2  # the target domain: the same images at half the contrast
    assert losses.pair_distances(x, fainter, fainter).item() < 1e-5
    swapped = losses.pair_distances(x, fainter.roll(3, 0), fainter).item()
    assert swapped > 0.3
    one = fainter[:1].expand(8, -1, -1, -1)
    assert losses.pair_distances(x, one, fainter).item() > swapped
    # a translated batch twice as far apart as the target domain's pairs is not standardised
    # away: only the real images set the scale
    assert losses.pair_distances(x, x, fainter).item() > 0.3
    src, y, real = (t.clone().requires_grad_() for t in (x, fainter.roll(3, 0), fainter))
    losses.pair_distances(src, y, real).backward()
    assert src.grad is None and real.grad is None and y.grad is not None
    assert y.grad.abs().sum() > 0
    assert losses.pair_distances(x[:2], fainter[:2], fainter[:2]).item() == 0.0


def test_moment_distance_is_zero_for_same_statistics_and_sees_shift_and_scale() -> None:
    torch.manual_seed(0)
    z = torch.randn(64, 8, 2, 2)
    permuted = z[torch.randperm(64)]  # the same codes in another order
    assert losses.moment_distance(z, permuted).item() < 1e-6
    assert abs(losses.moment_distance(z, z + 1).item() - 1.0) < 1e-5
    assert losses.moment_distance(z, 3 * z).item() > 1.5


def test_transformation_vectors_forgive_a_shared_move_not_a_swapped_subject() -> None:
    torch.manual_seed(0)
    e = torch.randn(6, 8)
    assert losses.transformation_vectors(e, e).item() < 1e-6
    # every image moved by one vector (a domain's look): the vectors between them are the same
    assert losses.transformation_vectors(e, e + torch.randn(1, 8) * 5).item() < 1e-5
    # two subjects exchanged, or everything collapsed to one image: vectors change
    swapped = e[[1, 0, 2, 3, 4, 5]]
    assert losses.transformation_vectors(e, swapped).item() > 0.5
    collapsed = e[:1].expand(6, 8)
    # every vector becomes 0: cosine 0 (1 - 0 = 1) plus the mean squared length of the vectors
    sq = torch.cdist(e, e).pow(2)[torch.triu_indices(6, 6, 1).unbind()].mean().item()
    assert losses.transformation_vectors(e, collapsed).item() == pytest.approx(1 + sq, rel=1e-4)
    # scale matters through the distance, direction through the cosine
    assert losses.transformation_vectors(e, 2 * e).item() == pytest.approx(sq, rel=1e-4)
    assert losses.transformation_vectors(e[:1], e[:1]).item() == 0.0  # one image: no pair


def test_siamese_margin_is_paid_by_images_closer_than_the_margin_only() -> None:
    far = torch.tensor([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])
    assert losses.siamese_margin(far, margin=1.0).item() == 0.0
    same = torch.zeros(3, 2)
    assert losses.siamese_margin(same, margin=2.0).item() == pytest.approx(4.0)
    near = torch.tensor([[0.0, 0.0], [0.5, 0.0]])  # one pair, 0.5 apart: (1 - 0.5)^2
    assert losses.siamese_margin(near, margin=1.0).item() == pytest.approx(0.25)
    assert losses.siamese_margin(same[:1], margin=2.0).item() == 0.0  # one image: no pair


def test_patch_nce_finds_each_position_of_each_image_and_nothing_else() -> None:
    torch.manual_seed(0)
    k = torch.randn(4, 16, 3, 3)  # 4 images, 9 positions: 36 codes in all
    other_subject = k[[1, 2, 3, 0]]  # each image given another image's code
    moved = k.flatten(2)[..., torch.randperm(9)].view_as(k)  # the right image, wrong places
    exact = losses.patch_nce(k, k, temperature=0.05, patches=64).item()
    assert exact < 0.01
    assert abs(losses.patch_nce(3 * k + 0, k, 0.05, 64).item() - exact) < 1e-5  # cosine: scale-free
    assert losses.patch_nce(other_subject, k, 0.05, 64).item() > 5.0
    assert losses.patch_nce(moved, k, 0.05, 64).item() > 5.0
    # a vector code: each translation must pick its own image out of the batch
    v = torch.randn(8, 32)
    assert losses.patch_nce(v, v, 0.05, 1).item() < 0.01
    assert losses.patch_nce(v.roll(1, 0), v, 0.05, 1).item() > 5.0


def test_patch_nce_samples_positions_and_trains_only_the_query() -> None:
    torch.manual_seed(0)
    q = torch.randn(2, 8, 8, 8, requires_grad=True)
    k = torch.randn(2, 8, 8, 8, requires_grad=True)
    loss = losses.patch_nce(q, k, 0.07, patches=5)
    loss.backward()
    assert q.grad is not None and k.grad is None
    assert int((q.grad.flatten(2).abs().sum(1) > 0).sum()) == 2 * 5  # 5 positions per image


def test_gradient_penalty_of_a_linear_critic_is_its_squared_weight_norm() -> None:
    # D(x) = <w, x> per sample has gradient w everywhere, so R1 = ||w||^2 for any batch
    w = torch.randn(3, 4, 4)
    x = torch.randn(5, 3, 4, 4, requires_grad=True)
    penalty = losses.gradient_penalty((x * w).flatten(1).sum(1), x)
    assert abs(penalty.item() - w.pow(2).sum().item()) < 1e-4
    # a constant critic has no gradient: no penalty
    x2 = torch.randn(5, 3, 4, 4, requires_grad=True)
    assert losses.gradient_penalty(x2.sum(dim=(1, 2, 3)) * 0 + 1.0, x2).item() == 0.0


def _brute_centroid_distance(
    za: torch.Tensor, ya: torch.Tensor, zb: torch.Tensor, yb: torch.Tensor
):
    """The unbiased class-conditional distance, pair by pair, for the formula to be checked."""
    a, b = za.flatten(1).double(), zb.flatten(1).double()
    values = []
    for k in range(ya.shape[1]):
        for c in range(int(max(ya[:, k].max(), yb[:, k].max())) + 1):
            sa, sb = a[ya[:, k] == c], b[yb[:, k] == c]
            if len(sa) < 2 or len(sb) < 2:
                continue
            within = [
                sum(float(s[i] @ s[j]) for i in range(len(s)) for j in range(len(s)) if i != j)
                / (len(s) * (len(s) - 1))
                for s in (sa, sb)
            ]
            across = float((sa @ sb.T).mean())
            values.append((within[0] + within[1] - 2 * across) / a.shape[1])
    return sum(values) / len(values)


def test_class_centroid_distance_is_the_pairwise_unbiased_estimate() -> None:
    gen = torch.Generator().manual_seed(0)
    za, zb = torch.randn(12, 3, 2, 2, generator=gen), torch.randn(10, 3, 2, 2, generator=gen)
    ya = torch.stack([torch.arange(12) % 3, torch.arange(12) % 2], 1)
    yb = torch.stack([torch.arange(10) % 4, torch.arange(10) // 5], 1)  # class 3: b only
    got = losses.class_centroid_distance(za, ya, zb, yb).item()
    assert got == pytest.approx(_brute_centroid_distance(za, ya, zb, yb), rel=1e-5)


def test_class_centroid_distance_measures_the_class_means_not_the_spread() -> None:
    """Over many batches it reads the squared distance of the two domains' class means, per
    coordinate: 0 for the same class-conditional codes however wide, |shift|^2 / D for one class
    moved; the plain distance of batch means would read the sampling variance on top."""
    gen = torch.Generator().manual_seed(1)
    y = torch.arange(16).remainder(4)[:, None]  # four classes, four samples each
    means = torch.randn(4, 8, generator=gen) * 3

    def draw(shift: torch.Tensor | None = None) -> torch.Tensor:
        z = means[y[:, 0]] + 2.0 * torch.randn(16, 8, generator=gen)  # spread 2 around the mean
        return z if shift is None else z + shift * (y == 2)

    same = torch.tensor([losses.class_centroid_distance(draw(), y, draw(), y) for _ in range(400)])
    assert abs(same.mean().item()) < 0.1  # the plain estimate would read about 2 * 4 / 4 = 2
    shift = torch.tensor([3.0, 0, 0, 0, 0, 0, 0, 0])  # class 2 moved by 3 in one of 8 coordinates
    moved = [losses.class_centroid_distance(draw(), y, draw(shift), y) for _ in range(400)]
    # one class of four moved: the mean over classes is (9 / 8) / 4
    assert torch.tensor(moved).mean().item() == pytest.approx(9 / 8 / 4, abs=0.1)


def test_class_centroid_distance_skips_classes_too_rare_to_measure() -> None:
    za = torch.randn(4, 5, requires_grad=True)
    zb = torch.randn(4, 5)
    ya = torch.tensor([[0], [0], [1], [2]])  # only class 0 has two samples in a
    yb = torch.tensor([[1], [1], [2], [2]])  # and b has none of it
    d = losses.class_centroid_distance(za, ya, zb, yb)
    assert d.item() == 0.0
    d.backward()  # still a graph: a step whose batches share no class trains nothing from it
    assert za.grad is not None and not za.grad.any()


def test_prototype_classification_is_the_leave_one_out_cross_entropy() -> None:
    gen = torch.Generator().manual_seed(2)
    za, zb = torch.randn(7, 2, 2, 2, generator=gen), torch.randn(6, 2, 2, 2, generator=gen)
    ya = torch.tensor([[0, 1], [0, 0], [1, 1], [1, 0], [2, 1], [0, 0], [1, 1]])
    yb = torch.tensor([[0, 0], [2, 1], [1, 0], [0, 1], [1, 1], [3, 0]])  # class 3: one code
    z, y = torch.cat([za, zb]).flatten(1).double(), torch.cat([ya, yb])
    scale = z.var(0).mean()
    expected = []
    for k in range(2):
        rows = []
        for i in range(len(z)):
            members = [j for j in range(len(z)) if y[j, k] == y[i, k] and j != i]
            if not members:
                continue  # a class of one: nothing to classify it by
            logits = []
            for c in range(int(y[:, k].max()) + 1):
                pool = members if c == y[i, k] else [j for j in range(len(z)) if y[j, k] == c]
                d2 = ((z[i] - z[pool].mean(0)) ** 2).mean() if pool else None
                logits.append(-d2 / scale if d2 is not None else float("-inf"))
            rows.append(F.cross_entropy(torch.tensor(logits)[None], y[i, k][None]))
        expected.append(torch.stack(rows).mean())
    got = losses.prototype_classification([za, zb], [ya, yb])
    assert got.item() == pytest.approx(torch.stack(expected).mean().item(), rel=1e-5)


def test_prototype_classification_asks_each_class_to_stand_out_in_the_same_place() -> None:
    gen = torch.Generator().manual_seed(3)
    y = torch.arange(12).remainder(3)[:, None]
    means = torch.randn(3, 16, generator=gen) * 4

    def codes(order: list[int]) -> torch.Tensor:
        return means[torch.tensor(order)[y[:, 0]]] + 0.1 * torch.randn(12, 16, generator=gen)

    aligned = losses.prototype_classification([codes([0, 1, 2]), codes([0, 1, 2])], [y, y])
    swapped = losses.prototype_classification([codes([0, 1, 2]), codes([1, 2, 0])], [y, y])
    # aligned: the floor the variance-scaled temperature leaves (about 0.2 for three classes)
    assert aligned.item() < 0.3  # and the same classes at other places in b: near ln 3 = 1.10
    assert swapped.item() > 0.9
    spread = [codes([0, 1, 2]) + 4 * torch.randn(12, 16, generator=gen) for _ in range(2)]
    assert losses.prototype_classification(spread, [y, y]).item() > 0.5  # drowned by the rest
    big = [10 * c for c in spread]  # the code's scale does not matter
    assert losses.prototype_classification(big, [y, y]).item() == pytest.approx(
        losses.prototype_classification(spread, [y, y]).item(), rel=1e-4
    )


def test_kept_features_ignore_each_domains_scale_and_reward_the_source_direction() -> None:
    """``kept_features``: 0 when the translation's features stand in the target domain where the
    source's stand in theirs (whatever each domain's offset and scale), 2 when they point the
    other way, about 1 for unrelated features; only the translation gets a gradient."""
    g = torch.Generator().manual_seed(0)
    source, other = torch.randn(16, 8, generator=g), torch.randn(16, 8, generator=g)
    shift, gain = torch.randn(8, generator=g) * 5, torch.rand(8, generator=g) + 0.5
    target_real = source * gain + shift  # the same images as seen in the other domain
    translated = (source * gain + shift).requires_grad_()
    assert losses.kept_features(source, target_real, translated).item() == pytest.approx(
        0, abs=1e-5
    )
    flipped = 2 * target_real.mean(0) - target_real  # reflected about the domain's mean
    assert losses.kept_features(source, target_real, flipped).item() == pytest.approx(2, abs=1e-5)
    unrelated = losses.kept_features(source, target_real, other * gain + shift).item()
    assert 0.6 < unrelated < 1.4
    loss = losses.kept_features(source.requires_grad_(), target_real, translated * 1.5)
    loss.backward()
    assert source.grad is None and translated.grad is not None
