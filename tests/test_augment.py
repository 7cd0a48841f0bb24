"""DiffAugment's operations on small cases with known answers."""

from __future__ import annotations

import pytest
import torch

from latentbridge import augment, methods
from latentbridge.errors import UserError
from latentbridge.model import Model
from tests.conftest import tiny


def test_translation_shifts_whole_images_within_its_range() -> None:
    torch.manual_seed(0)
    x = torch.randn(64, 3, 16, 16)
    y = augment.translation(x, ratio=0.125)  # up to 2 pixels each way
    for i in range(len(x)):
        matches = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if torch.equal(y[i, :, 2:-2, 2:-2], x[i, :, 2 + dy : 14 + dy, 2 + dx : 14 + dx])
        ]
        assert len(matches) == 1  # the interior is x moved by one of the allowed shifts
    assert (y == 0).any()  # some border was uncovered and filled with mid-grey


def test_cutout_blanks_at_most_one_square_per_image() -> None:
    torch.manual_seed(0)
    x = torch.ones(256, 3, 16, 16)
    y = augment.cutout(x, ratio=0.5)  # an 8x8 square, possibly cut by the border
    blank = (y == 0).all(dim=1).flatten(1).sum(1)
    assert int(blank.max()) == 64 and int(blank.min()) >= 16
    assert float(blank.float().mean()) > 40


def test_color_keeps_shape_and_is_differentiable() -> None:
    torch.manual_seed(0)
    x = torch.rand(8, 3, 8, 8, requires_grad=True)
    y = augment.color(x)
    assert y.shape == x.shape and not torch.allclose(y, x)
    y.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_policy_is_parsed_and_checked() -> None:
    assert augment.augmenter("") is None
    torch.manual_seed(0)
    x = torch.rand(4, 3, 16, 16, requires_grad=True)
    out = augment.augmenter("color, translation,cutout")(x)  # type: ignore[misc]
    out.mean().backward()
    assert out.shape == x.shape and x.grad is not None
    with pytest.raises(ValueError, match="flip"):
        augment.parse("color,flip")
    cfg = methods.resolve("baseline", overrides={**tiny(), "loss.diffaug": "colour"})
    with pytest.raises(UserError, match="loss.diffaug"):
        Model(cfg, ["A", "B"])


def test_discriminators_see_augmented_images_in_both_phases() -> None:
    from latentbridge import terms
    from latentbridge.train.objectives import DisObjective, GenObjective

    cfg = methods.resolve("baseline", overrides=tiny(loss__diffaug="translation,cutout"))
    model = Model(cfg, ["A", "B"])
    seen: list[torch.Tensor] = []
    for d in model.dis.image.values():
        d.register_forward_pre_hook(lambda m, args: seen.append(args[0].detach()))
    torch.manual_seed(0)
    x = {d: torch.rand(4, 3, 16, 16) * 2 - 1 for d in ("A", "B")}
    pairs = [("A", "B"), ("B", "A")]
    weights = terms.weights(cfg.loss, step=10**6, warmup=0)
    gen = GenObjective(cfg, model.gen, model.dis)
    loss, _, fwd = gen(x, pairs, weights)
    loss.backward()
    assert all(p.grad is not None for p in model.gen.parameters() if p.requires_grad)
    n_gen = len(seen)
    d_weights = terms.discriminator_weights(cfg.loss, weights)
    DisObjective(gen, model.dis)(fwd, pairs, d_weights)[0].backward()
    assert n_gen == 2 and len(seen) == 6  # two translations; then a real and a fake per pair
    # no discriminator input is an untouched real batch: every one was cut out somewhere
    for s in seen:
        assert all(not torch.equal(s, x[d]) for d in x)
        assert ((s == 0).all(dim=1).flatten(1).sum(1) > 0).all()
