"""Tests of latentbridge.eval.classifier: the attribute classifier must learn, must fail on
shuffled labels, and must cache, save and load faithfully."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from torch import nn

from latentbridge.errors import UserError
from latentbridge.eval import attribute_net, classifier_training
from latentbridge.eval import classifier as C
from latentbridge.eval.metrics import attribute_accuracy, chance_level

NUM_CLASSES = [3, 2]  # colour (red, green, blue), shape (square, disc)
NAMES = ["colour", "shape"]
SIZE = 24
FAST = {"steps": 300, "batch_size": 64, "width": 16, "depth": 3}


def make_shapes(n: int, *, seed: int, size: int = SIZE) -> tuple[torch.Tensor, torch.Tensor]:
    """Noisy coloured squares/discs of random size and place on random grey backgrounds, in
    [-1, 1], with labels (n, 2) = (colour, shape)."""
    g = torch.Generator().manual_seed(seed)
    colours = torch.tensor([[0.9, -0.6, -0.6], [-0.6, 0.9, -0.6], [-0.6, -0.6, 0.9]])
    col = torch.randint(0, 3, (n,), generator=g)
    shape = torch.randint(0, 2, (n,), generator=g)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    r = torch.randint(size // 6, size // 4, (n, 1, 1), generator=g)
    cy, cx = torch.randint(size // 4, 3 * size // 4, (2, n, 1, 1), generator=g)
    dy, dx = (yy - cy).abs(), (xx - cx).abs()
    disc = dy**2 + dx**2 <= r**2
    square = (dy <= r * 0.8) & (dx <= r * 0.8)
    mask = torch.where(shape[:, None, None] == 1, disc, square)[:, None].float()
    bg = torch.rand(n, 1, 1, 1, generator=g) * 0.6 - 0.3
    img = bg * (1 - mask) + colours[col][:, :, None, None] * mask
    img = img + 0.1 * torch.randn(n, 3, size, size, generator=g)
    return img.clamp(-1, 1), torch.stack([col, shape], dim=1)


@pytest.fixture(scope="module")
def data() -> dict[str, torch.Tensor]:
    x, y = make_shapes(800, seed=0)
    xt, yt = make_shapes(400, seed=1)
    return {"x": x, "y": y, "xt": xt, "yt": yt}


@pytest.fixture(scope="module")
def trained(data: dict[str, torch.Tensor]) -> C.AttributeClassifier:
    return C.train_attribute_classifier(data["x"], data["y"], NUM_CLASSES, seed=0, **FAST)


def test_reaches_high_held_out_accuracy(trained, data):
    pred = trained.predict(data["xt"], batch_size=128)
    assert pred.dtype == torch.long and pred.shape == data["yt"].shape
    acc = attribute_accuracy(pred, data["yt"], NAMES)
    assert acc["colour"] > 0.95 and acc["shape"] > 0.9, acc


def test_shuffled_labels_score_near_chance(trained, data):
    chance = chance_level(data["y"], NUM_CLASSES, NAMES, eval_labels=data["yt"])
    perm = torch.randperm(len(data["yt"]), generator=torch.Generator().manual_seed(0))
    acc = attribute_accuracy(trained.predict(data["xt"]), data["yt"][perm], NAMES)
    for name in NAMES:
        assert abs(acc[name] - chance[name]) < 0.1, (acc, chance)


def test_trained_on_shuffled_labels_learns_nothing(data):
    """One shuffle is a noisy draw: a classifier that memorised random labels still maps each
    of the three colours to some class, and by luck that mapping can agree with the test set's
    colours well above chance. Over three shuffles it averages near chance, far below what the
    true labels give (test_reaches_high_held_out_accuracy)."""
    chance = chance_level(data["y"], NUM_CLASSES, NAMES, eval_labels=data["yt"])
    accs = []
    for seed in (1, 2, 3):
        perm = torch.randperm(len(data["y"]), generator=torch.Generator().manual_seed(seed))
        clf = C.train_attribute_classifier(data["x"], data["y"][perm], NUM_CLASSES, seed=0, **FAST)
        accs.append(attribute_accuracy(clf.predict(data["xt"]), data["yt"], NAMES)["mean"])
    assert sum(accs) / len(accs) < chance["mean"] + 0.08, (accs, chance)


def test_channels_last_on_the_cpu_reads_as_channels_first(trained, data, monkeypatch):
    """On a CPU the convolutions get channels-last input (faster there); the features and what
    the classifier reads are those of the plain layout."""
    seen: list[bool] = []
    hook = trained.backbone[0].register_forward_pre_hook(
        lambda _m, args: seen.append(args[0].is_contiguous(memory_format=torch.channels_last))
    )
    try:
        fast = trained.features(data["xt"][:64])
        monkeypatch.setattr(attribute_net, "CHANNELS_LAST_ON_CPU", False)
        plain = trained.features(data["xt"][:64])
    finally:
        hook.remove()
    assert seen == [True, False]
    torch.testing.assert_close(fast, plain, atol=1e-4, rtol=1e-4)
    assert torch.equal(trained.predict(data["xt"]), trained.predict(data["xt"]))


def test_features_shape_and_other_sizes(trained, data):
    feats = trained.features(data["xt"][:10])
    assert feats.shape == (10, trained.num_features) and feats.dtype == torch.float32
    small = torch.nn.functional.interpolate(data["xt"][:50], size=(16, 16), mode="bilinear")
    assert trained.predict(small).shape == (50, 2)  # resized to the training size, not an error


def test_deterministic_and_leaves_global_rng_alone(data):
    rng = torch.get_rng_state()
    kw = {"steps": 3, "batch_size": 8, "width": 4, "depth": 2, "seed": 7}
    a = C.train_attribute_classifier(data["x"][:40], data["y"][:40], NUM_CLASSES, **kw)
    b = C.train_attribute_classifier(data["x"][:40], data["y"][:40], NUM_CLASSES, **kw)
    assert torch.equal(torch.get_rng_state(), rng)
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(va, vb), k


def test_save_load_roundtrip(trained, data, tmp_path):
    trained.save(tmp_path / "clf.pt")
    back = C.AttributeClassifier.load(tmp_path / "clf.pt")
    assert torch.equal(back.predict(data["xt"]), trained.predict(data["xt"]))
    assert torch.allclose(back.features(data["xt"][:8]), trained.features(data["xt"][:8]))


def test_load_or_train_uses_cache(data, tmp_path, monkeypatch):
    x, y = data["x"][:40], data["y"][:40]
    kw = {"steps": 2, "batch_size": 8, "width": 4, "depth": 2}
    first = C.load_or_train_classifier(tmp_path, "k1", x, y, NUM_CLASSES, **kw)
    assert len(list(tmp_path.glob("classifier-*.pt"))) == 1

    def boom(*args, **kwargs):
        raise AssertionError("retrained although cached")

    monkeypatch.setattr(C, "train_attribute_classifier", boom)
    again = C.load_or_train_classifier(tmp_path, "k1", x, y, NUM_CLASSES, **kw)
    assert torch.equal(again.predict(x), first.predict(x))
    with pytest.raises(AssertionError, match="retrained"):  # other data key -> other model
        C.load_or_train_classifier(tmp_path, "k2", x, y, NUM_CLASSES, **kw)
    with pytest.raises(AssertionError, match="retrained"):  # other hyper-parameters too
        C.load_or_train_classifier(tmp_path, "k1", x, y, NUM_CLASSES, **{**kw, "steps": 3})


def test_rounds_continue_while_held_out_accuracy_improves(data):
    """A first round too short to learn leaves the held-out accuracy low: training goes on in
    further rounds (each better than the one before) until the target or the round limit."""
    kw = {"steps": 8, "batch_size": 32, "width": 16, "depth": 3, "seed": 0}
    one = C.train_attribute_classifier(data["x"], data["y"], NUM_CLASSES, **kw)
    assert one.training_record == {
        "steps": 8, "rounds": 1, "holdout_images": 0, "holdout_accuracy": []
    }  # fmt: skip
    clf = C.train_attribute_classifier(
        data["x"], data["y"], NUM_CLASSES, rounds=30, target=0.9, min_gain=-1.0, **kw
    )
    rec = clf.training_record
    held = rec["holdout_accuracy"]
    assert (
        rec["holdout_images"] == 80 and rec["rounds"] == len(held) and rec["steps"] == 8 * len(held)
    )
    assert len(held) > 1 and held[0] < 0.9, held  # one round was not enough
    assert len(held) == 30 or held[-1] >= 0.9  # stopped at the target (weakest >= 0.9 => mean too)
    assert held[-1] > held[0] + 0.1, held
    acc = attribute_accuracy(clf.predict(data["xt"]), data["yt"], NAMES)
    acc_one = attribute_accuracy(one.predict(data["xt"]), data["yt"], NAMES)
    assert acc["mean"] > acc_one["mean"] + 0.1, (acc, acc_one)


def test_rounds_stop_at_target_or_when_no_longer_learning(data, trained):
    easy = C.train_attribute_classifier(
        data["x"], data["y"], NUM_CLASSES, rounds=5, target=0.9, seed=0, **FAST
    )
    assert easy.training_record["rounds"] == 1  # 300 steps already read the shapes
    assert min(easy.training_record["holdout_accuracy"]) >= 0.9
    perm = torch.randperm(len(data["y"]), generator=torch.Generator().manual_seed(1))
    noise = C.train_attribute_classifier(
        data["x"], data["y"][perm], NUM_CLASSES, rounds=5, target=0.99, min_gain=0.05,
        steps=20, batch_size=16, width=4, depth=2, seed=0,
    )  # fmt: skip
    held = noise.training_record["holdout_accuracy"]
    assert noise.training_record["rounds"] < 5 and held[-1] - held[-2] < 0.05, held


def test_training_record_saved_and_loaded(data, tmp_path):
    clf = C.train_attribute_classifier(
        data["x"][:200], data["y"][:200], NUM_CLASSES, rounds=2, target=1.01,
        steps=3, batch_size=8, width=4, depth=2,
    )  # fmt: skip
    assert clf.training_record["holdout_images"] == 20
    clf.save(tmp_path / "clf.pt")
    assert C.AttributeClassifier.load(tmp_path / "clf.pt").training_record == clf.training_record


def test_data_key_tracks_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    files = [tmp_path / "data" / f"{i}.png" for i in range(3)]
    files[0].parent.mkdir()
    for f in files:
        f.write_bytes(b"abc")
    key = C.data_key([str(f) for f in files], 32, "faces")
    assert key == C.data_key([str(f) for f in reversed(files)], 32, "faces")  # order-free
    # the same files named relative to another working directory: the same data, the same key
    monkeypatch.chdir(tmp_path)
    assert key == C.data_key([f"data/{f.name}" for f in files], 32, "faces")
    monkeypatch.chdir(files[0].parent)
    assert key == C.data_key([f.name for f in files], 32, "faces")
    assert key != C.data_key([str(f) for f in files], 64, "faces")
    assert key != C.data_key([str(f) for f in files], 32, "digits")
    assert key != C.data_key([str(f) for f in files[:2]], 32, "faces")
    st = files[0].stat()
    os.utime(files[0], ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert key != C.data_key([str(f) for f in files], 32, "faces")


def test_label_validation(data):
    with pytest.raises(ValueError, match="labels must lie"):
        C.train_attribute_classifier(data["x"][:8], data["y"][:8] + 5, NUM_CLASSES, steps=1)
    with pytest.raises(ValueError, match="labels must be"):
        C.train_attribute_classifier(data["x"][:8], data["y"][:7], NUM_CLASSES, steps=1)


class _MeanStd(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x.mean(dim=(2, 3)), x.std(dim=(2, 3))], dim=1)[:, :, None, None]


def test_load_feature_network(tmp_path):
    path = tmp_path / "net.pt"
    torch.jit.save(torch.jit.script(_MeanStd()), str(path))
    x = torch.full((5, 3, 12, 12), -1.0)
    net = C.load_feature_network(path, input_range="[0,1]", input_size=8)
    feats = net.features(x, batch_size=2)
    assert feats.shape == (5, 6)
    assert torch.allclose(feats[:, :3], torch.zeros(5, 3))  # -1 in [-1,1] is 0 in [0,1]
    assert torch.allclose(C.load_feature_network(path)(x)[:, :3], -torch.ones(5, 3))


def test_feature_network_errors(tmp_path):
    with pytest.raises(UserError, match="not found"):
        C.load_feature_network(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not torchscript")
    with pytest.raises(UserError, match="TorchScript"):
        C.load_feature_network(tmp_path / "junk.pt")
    with pytest.raises(UserError, match=r"\(B, F\)"):
        C.FeatureExtractor(nn.Identity())(torch.zeros(2, 3, 4, 4))


def test_gaussian_blur_known_answers():
    """Each image gets its own std; sigma 0 and flat images stay as they are; a point spreads
    into the outer product of the normalised 1-D Gaussian, its sum kept."""
    x = torch.zeros(3, 1, 15, 15)
    x[:, :, 7, 7] = 1.0
    flat = torch.full((1, 3, 9, 9), 0.3)
    assert torch.allclose(C.gaussian_blur(flat, torch.tensor([1.3])), flat)
    assert torch.equal(C.gaussian_blur(x, torch.zeros(3)), x)
    y = C.gaussian_blur(x, torch.tensor([0.0, 0.7, 1.5]))
    assert torch.allclose(y[0], x[0], atol=1e-6)  # sigma 0 beside blurred images: unchanged
    for i, s in ((1, 0.7), (2, 1.5)):
        t = torch.arange(-3, 4, dtype=torch.float32)  # radius ceil(2 * 1.5) = 3
        g = torch.exp(-(t**2) / (2 * s * s))
        g = g / g.sum()
        assert torch.allclose(y[i, 0, 4:11, 4:11], g[:, None] * g[None, :], atol=1e-6)
        assert abs(float(y[i].sum()) - 1.0) < 1e-5
    assert y[2, 0, 7, 7] < y[1, 0, 7, 7] < 1.0


def test_degrade_is_seeded_and_bounded(data):
    x = data["x"][:16]
    a = classifier_training._random_degrade(x, 1.0, 0.1, torch.Generator().manual_seed(3))
    b = classifier_training._random_degrade(x, 1.0, 0.1, torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and not torch.equal(a, x)
    assert a.min() >= -1 and a.max() <= 1
    assert torch.equal(classifier_training._random_degrade(x, 0.0, 0.0, torch.Generator()), x)


def test_blur_augmentation_reads_blurred_images(trained, data):
    """Trained on sharp images only, the classifier reads squares and discs blurred by 1 px at
    about chance; trained through blur of up to 1 px it reads them as well as sharp ones (the
    evaluation classifiers train so: docs/EVAL.md, "Blur")."""
    clf = C.train_attribute_classifier(
        data["x"], data["y"], NUM_CLASSES, seed=0, blur=1 / SIZE, **{**FAST, "steps": 600}
    )
    blurred = C.gaussian_blur(data["xt"], torch.ones(len(data["xt"])))
    sharp = attribute_accuracy(clf.predict(data["xt"]), data["yt"], NAMES)
    soft = attribute_accuracy(clf.predict(blurred), data["yt"], NAMES)
    fragile = attribute_accuracy(trained.predict(blurred), data["yt"], NAMES)
    assert sharp["colour"] > 0.95 and sharp["shape"] > 0.9, sharp
    assert soft["colour"] > 0.95 and soft["shape"] > 0.9, soft
    assert fragile["shape"] < soft["shape"] - 0.2, (fragile, soft)


def test_noise_augmentation_reaches_training(data):
    """``noise`` > 0 changes what the classifier trains on (same seed, other weights); 0 does not."""
    kw = {"steps": 2, "batch_size": 8, "width": 4, "depth": 2, "seed": 5}
    x, y = data["x"][:40], data["y"][:40]
    plain = C.train_attribute_classifier(x, y, NUM_CLASSES, **kw).state_dict()
    again = C.train_attribute_classifier(x, y, NUM_CLASSES, noise=0.0, **kw).state_dict()
    noisy = C.train_attribute_classifier(x, y, NUM_CLASSES, noise=0.1, **kw).state_dict()
    assert all(torch.equal(plain[k], again[k]) for k in plain)
    assert not all(torch.equal(plain[k], noisy[k]) for k in plain)
