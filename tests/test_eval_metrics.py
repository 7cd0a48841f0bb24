"""Tests of latentbridge.eval.metrics: small cases with known answers, and cases where each
metric must report failure."""

from __future__ import annotations

import pytest
import torch
from torchmetrics.image.kid import poly_mmd

from latentbridge.eval import metrics as M
from latentbridge.eval.metrics import attributes


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def blobs(n: int, *, seed: int, size: int = 16) -> torch.Tensor:
    """Smooth random colour images in [-1, 1]: upsampled 4x4 noise."""
    low = torch.rand(n, 3, 4, 4, generator=gen(seed)) * 2 - 1
    return torch.nn.functional.interpolate(low, size=(size, size), mode="bilinear")


# ----------------------------------------------------------------------------- attributes
def test_attribute_accuracy_perfect_and_shuffled():
    y = torch.randint(0, 4, (2000, 2), generator=gen(0))
    names = ["hair", "eyes"]
    assert M.attribute_accuracy(y, y, names) == {"hair": 1.0, "eyes": 1.0, "mean": 1.0}
    shuffled = y[torch.randperm(len(y), generator=gen(1))]
    acc = M.attribute_accuracy(shuffled, y, names)
    chance = M.chance_level(y, [4, 4], names)
    for key in ["hair", "eyes", "mean"]:
        assert abs(acc[key] - 0.25) < 0.04 and abs(chance[key] - 0.25) < 0.04


def test_attribute_accuracy_counts_and_validates():
    pred = torch.tensor([[0, 1], [1, 1], [2, 0], [0, 0]])
    target = torch.tensor([[0, 1], [1, 0], [1, 0], [0, 1]])
    assert M.attribute_accuracy(pred, target, ["a", "b"]) == {"a": 0.75, "b": 0.5, "mean": 0.625}
    with pytest.raises(ValueError):
        M.attribute_accuracy(pred, target[:3], ["a", "b"])
    with pytest.raises(ValueError):
        M.attribute_accuracy(pred, target, ["a"])


def test_attribute_confusion_counts_what_each_class_is_read_as():
    pred = torch.tensor([[0, 1], [1, 1], [2, 0], [0, 0]])
    target = torch.tensor([[0, 1], [1, 0], [1, 0], [0, 1]])
    got = M.attribute_confusion(pred, target, [3, 2], ["a", "b"])
    assert got == {"a": [[2, 0, 0], [0, 1, 1], [0, 0, 0]], "b": [[1, 1], [1, 1]]}
    # the diagonal holds everything when kept; one column when always read as one class
    assert M.attribute_confusion(target, target, [3, 2], ["a", "b"])["b"] == [[2, 0], [0, 2]]
    always = torch.ones_like(target)
    assert M.attribute_confusion(always, target, [3, 2], ["a", "b"])["b"] == [[0, 2], [0, 2]]
    with pytest.raises(ValueError, match="class ids"):
        M.attribute_confusion(pred, target, [2, 2], ["a", "b"])  # class 2 of "a"
    with pytest.raises(ValueError):
        M.attribute_confusion(pred, target[:3], [3, 2], ["a", "b"])


def test_attribute_accuracy_by_group_splits_the_subjects_by_another_attribute():
    # attribute "b" (2 classes) is kept for the subjects of class 0 of "a" and lost for class 1;
    # "a" (3 classes, class 2 absent) is kept for every subject but the last
    target = torch.tensor([[0, 0], [0, 1], [1, 0], [1, 1], [1, 1]])
    pred = torch.tensor([[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]])
    got = M.attribute_accuracy_by_group(pred, target, [3, 2], ["a", "b"])
    assert got == {"a": {"b": [1.0, pytest.approx(2 / 3)]}, "b": {"a": [1.0, 0.0, None]}}
    # the groups' sizes weigh them back into the overall accuracy
    overall = M.attribute_accuracy(pred, target, ["a", "b"])
    assert overall["b"] == (2 * 1.0 + 3 * 0.0) / 5
    assert overall["a"] == pytest.approx((2 * 1.0 + 3 * got["a"]["b"][1]) / 5)
    assert M.attribute_accuracy_by_group(target[:, :1], target[:, :1], [3], ["a"]) == {}
    with pytest.raises(ValueError):
        M.attribute_accuracy_by_group(pred, target, [3], ["a", "b"])


def test_attribute_interval_is_the_test_set_s_binomial_noise():
    """Known answers for the bootstrap interval: perfect predictions give [1, 1]; half of n
    right gives about the normal approximation's 0.5 ± 1.96 sqrt(0.25 / n), and 4n images half
    that width; it holds the estimate; attributes lost together leave the mean's interval as
    wide as one attribute's, attributes lost independently narrow it by about sqrt(A)."""
    g = torch.Generator().manual_seed(0)
    target = torch.randint(0, 3, (400, 3), generator=g)
    names = ["a", "b", "c"]
    assert M.attribute_interval(target, target, names) == {n: [1.0, 1.0] for n in [*names, "mean"]}

    def half_right(n: int, together: bool) -> tuple[torch.Tensor, torch.Tensor]:
        t = torch.zeros(n, 3, dtype=torch.long)
        wrong = torch.arange(n) % 2 == 0  # exactly half of the images
        if together:
            return torch.where(wrong[:, None], 1, 0).expand(n, 3), t
        cols = [wrong[torch.randperm(n, generator=g)] for _ in range(3)]
        return torch.stack(cols, dim=1).long(), t

    def half_width(span: list[float]) -> float:
        return (span[1] - span[0]) / 2

    pred, t = half_right(400, together=True)
    got = M.attribute_interval(pred, t, names)
    normal = 1.96 * (0.25 / 400) ** 0.5  # 0.049
    for n in [*names, "mean"]:
        assert sum(got[n]) / 2 == pytest.approx(0.5, abs=0.006)  # centred on the estimate
        assert half_width(got[n]) == pytest.approx(normal, rel=0.15)
    quartiles = M.attribute_interval(pred, t, names, level=0.5)["mean"]  # 0.5 ± 0.674 sigma
    for side in (0.5 - quartiles[0], quartiles[1] - 0.5):
        assert side == pytest.approx(0.674 * (0.25 / 400) ** 0.5, rel=0.25)
    pred4, t4 = half_right(1600, together=True)
    narrow = half_width(M.attribute_interval(pred4, t4, names)["mean"])
    assert narrow == pytest.approx(half_width(got["mean"]) / 2, rel=0.2)
    pred, t = half_right(400, together=False)
    apart = M.attribute_interval(pred, t, names)
    assert half_width(apart["mean"]) == pytest.approx(half_width(apart["a"]) / 3**0.5, rel=0.2)
    # seeded; the level sets the coverage; bad arguments are refused
    again = M.attribute_interval(pred, t, names, seed=3)
    assert again == M.attribute_interval(pred, t, names, seed=3)
    assert half_width(M.attribute_interval(pred, t, names, level=0.5)["a"]) < half_width(apart["a"])
    for bad in ({"level": 1.0}, {"level": 0.0}, {"resamples": 0}):
        with pytest.raises(ValueError):
            M.attribute_interval(pred, t, names, **bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        M.attribute_interval(pred, t[:3], names)


def test_attribute_interval_in_chunks_is_the_same_interval(monkeypatch):
    """A large test split is resampled a chunk of resamples at a time; the chunks draw the same
    resamples as one gather would, so the interval does not depend on the chunk size."""
    g = torch.Generator().manual_seed(1)
    target = torch.randint(0, 2, (300, 2), generator=g)
    pred = torch.where(torch.rand(300, 2, generator=g) < 0.3, 1 - target, target)
    whole = M.attribute_interval(pred, target, ["a", "b"])
    monkeypatch.setattr(attributes, "_BOOTSTRAP_ELEMENTS", 300 * 2 * 7)  # 7 resamples per chunk
    assert M.attribute_interval(pred, target, ["a", "b"]) == whole


def test_attribute_interval_against_another_reading_is_paired():
    """Two readers of the same 400 test images: equal readings differ by exactly 0; one that
    gets 10 more images right than the other differs by 0.025, an interval clear of 0, although
    each reading's own interval (± 0.05) holds the other's accuracy."""
    names = ["a", "b"]
    target = torch.zeros(400, 2, dtype=torch.long)
    half = torch.where((torch.arange(400) % 2 == 0)[:, None], 1, 0).expand(400, 2).clone()
    assert M.attribute_interval(half, target, names, against=half) == {
        n: [0.0, 0.0] for n in [*names, "mean"]
    }
    better = half.clone()
    better[:20:2] = 0  # ten of the images the first reading got wrong, now right
    got = M.attribute_interval(better, target, names, against=half)
    assert 0 < got["mean"][0] < 0.025 < got["mean"][1] < 0.05
    alone = M.attribute_interval(half, target, names)["mean"]
    assert alone[0] < 0.525 < alone[1]  # unpaired, the better reading's 0.525 looks the same
    flipped = M.attribute_interval(half, target, names, against=better)["mean"]
    assert flipped == pytest.approx([-got["mean"][1], -got["mean"][0]], abs=0.003)
    with pytest.raises(ValueError):
        M.attribute_interval(better, target, names, against=half[:3])


def test_chance_level_is_majority_rate():
    train = torch.tensor([[0, 2], [0, 2], [0, 1], [1, 0]])
    assert M.chance_level(train, [2, 3], ["a", "b"]) == {"a": 0.75, "b": 0.5, "mean": 0.625}
    evals = torch.tensor([[1, 2], [1, 0]])  # majority of train is 0 for "a", 2 for "b"
    out = M.chance_level(train, [2, 3], eval_labels=evals)
    assert out == {"attr0": 0.0, "attr1": 0.5, "mean": 0.25}


# ----------------------------------------------------------------------------- KID / FID
@pytest.fixture(scope="module")
def feats() -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(400, 32, generator=gen(0)), torch.randn(400, 32, generator=gen(1))


def test_kid_identical_zero_same_distribution_small_shift_large(feats):
    a, b = feats
    mean, std = M.kid(a, a, subset_size=200, subsets=10)
    assert abs(mean) < 0.01 and std < 0.01
    same, _ = M.kid(a, b, subset_size=200, subsets=10)
    shifted, _ = M.kid(a, b + 0.5, subset_size=200, subsets=10)
    assert abs(same) < 0.02 and shifted > 0.3 and shifted > 20 * abs(same)


def test_kid_agrees_with_torchmetrics_and_is_seeded(feats):
    a, b = feats
    ours, _ = M.kid(a, b + 0.5, subset_size=400, subsets=1)
    ref = float(poly_mmd(a.double(), b.double() + 0.5))
    assert ours == pytest.approx(ref, rel=0.05)
    assert M.kid(a, b, subset_size=50, seed=3) == M.kid(a, b, subset_size=50, seed=3)
    assert M.kid(a, b, subset_size=50, seed=3) != M.kid(a, b, subset_size=50, seed=4)


def test_fid_known_values(feats):
    a, b = feats
    assert abs(M.fid(a, a)) < 1e-6
    # a mean shift d with equal covariance gives exactly |d|^2 = 32 * 0.5^2 = 8
    assert M.fid(a, a + 0.5) == pytest.approx(8.0, abs=1e-4)
    assert 0 < M.fid(a, b) < 8.0  # two samples of one law: small positive bias only
    assert M.fid(a, 2 * b) > M.fid(a, b) + 10  # covariance 4I vs I: 32 * (1 + 4 - 4) = 32


# ----------------------------------------------------------------------------- two-sample test
def test_two_sample_same_distribution_near_half():
    real, fake = blobs(300, seed=0), blobs(300, seed=1)
    acc = M.two_sample_accuracy(real, fake, seed=0, steps=150)
    assert 0.35 < acc < 0.65


def test_two_sample_different_distributions_near_one():
    real = blobs(300, seed=0)
    fake = (blobs(300, seed=1) + 0.3 * torch.randn(300, 3, 16, 16, generator=gen(2))).clamp(-1, 1)
    assert M.two_sample_accuracy(real, fake, seed=0, steps=150) > 0.9


def test_two_sample_deterministic_and_validates():
    real, fake = blobs(24, seed=0, size=8), blobs(30, seed=1, size=8)
    kw = {"seed": 5, "steps": 5, "batch_size": 8, "width": 4}
    assert M.two_sample_accuracy(real, fake, **kw) == M.two_sample_accuracy(real, fake, **kw)
    with pytest.raises(ValueError):
        M.two_sample_accuracy(real, blobs(24, seed=1, size=16), **kw)


# ----------------------------------------------------------------------------- paired images
def test_paired_l1_known_values():
    a = blobs(4, seed=0)
    assert M.paired_l1(a, a) == 0.0
    assert M.paired_l1(-torch.ones(2, 3, 4, 4), torch.ones(2, 3, 4, 4)) == 1.0
    assert M.paired_l1(torch.zeros(2, 3, 4, 4), torch.full((2, 3, 4, 4), 0.5)) == 0.25


def test_ssim_identical_one_unrelated_low():
    a, b = blobs(8, seed=0, size=32), blobs(8, seed=1, size=32)
    assert M.ssim(a, a) == pytest.approx(1.0, abs=1e-6)
    noisy = (a + 0.05 * torch.randn(a.shape, generator=gen(2))).clamp(-1, 1)
    assert M.ssim(a, b) < 0.5 < M.ssim(a, noisy) < 0.99
    assert M.ssim(blobs(2, seed=0, size=6), blobs(2, seed=0, size=6)) == pytest.approx(1.0)


# ----------------------------------------------------------------------------- latents
def test_linear_probe_separable_and_random():
    z = torch.randn(600, 8, generator=gen(0))
    y = (z[:, 0] > 0).long()
    assert M.linear_probe_accuracy(z[:400], y[:400], z[400:], y[400:]) > 0.95
    y_rand = torch.randint(0, 2, (600,), generator=gen(1))
    acc = M.linear_probe_accuracy(z[:400], y_rand[:400], z[400:], y_rand[400:])
    assert 0.35 < acc < 0.65


def test_domain_probe_aligned_half_shifted_one():
    z_a = torch.randn(400, 4, 4, generator=gen(0))  # latents of any shape are flattened
    z_b = torch.randn(400, 4, 4, generator=gen(1))
    assert 0.35 < M.domain_probe_accuracy(z_a, z_b) < 0.65
    assert M.domain_probe_accuracy(z_a, z_b + 1.0) > 0.95


def _latents(hair: torch.Tensor, eyes: torch.Tensor, dims: dict[str, int], seed: int):
    """8-d latents: noise, plus each attribute's +-1.5 signal in its own dimension."""
    z = torch.randn(len(hair), 8, generator=gen(seed))
    glasses = torch.randint(0, 2, hair.shape, generator=gen(seed + 100))
    for name, attr in (("hair", hair), ("eyes", eyes), ("glasses", glasses)):
        if name in dims:
            z[:, dims[name]] += 3.0 * attr - 1.5
    return z, torch.stack([hair, eyes], dim=1)


def test_attribute_probe_transfer_same_dims_high_different_dims_low():
    n, names = 600, ["hair", "eyes"]
    ha, ea, hb, eb = torch.randint(0, 2, (4, n), generator=gen(0))
    z_x, y_x = _latents(ha, ea, {"hair": 1, "eyes": 2}, seed=1)
    # the seed's failure: dims 1-2 mean hair and eyes for X but hair and glasses for Y
    z_y, y_y = _latents(hb, eb, {"hair": 1, "glasses": 2, "eyes": 3}, seed=2)
    out = M.attribute_probe_transfer(z_x, y_x, z_y, y_y, names)
    assert out["within"]["hair"] > 0.85 and out["within"]["eyes"] > 0.85
    assert out["transfer"]["hair"] > 0.85
    assert out["transfer"]["eyes"] < 0.65 and abs(out["chance"]["eyes"] - 0.5) < 0.1
    z_y, y_y = _latents(hb, eb, {"hair": 1, "eyes": 2}, seed=2)  # aligned
    aligned = M.attribute_probe_transfer(z_x, y_x, z_y, y_y, names)
    assert aligned["transfer"]["mean"] > 0.85 > out["transfer"]["mean"]


def test_retrieval_identical_one_random_chance():
    z = torch.randn(100, 16, generator=gen(0))
    assert M.retrieval_top1(z, z) == 1.0
    assert M.retrieval_top1(z, 3.0 * z + 0.1 * torch.randn(100, 16, generator=gen(2))) == 1.0
    assert M.retrieval_top1(z, torch.randn(100, 16, generator=gen(1))) < 0.06  # chance 0.01
    with pytest.raises(ValueError):
        M.retrieval_top1(z, z[:50])
