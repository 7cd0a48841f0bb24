"""The model: shapes, weight sharing by reference, gradients reaching exactly the right phase."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.flop_counter import FlopCounterMode

from latentbridge import augment, losses, methods, terms
from latentbridge.errors import UserError
from latentbridge.forward import Forward
from latentbridge.model import CPU_CHUNK_PIXELS, Model, translation_chunk
from latentbridge.nn.blocks import RHO_RESIDUAL, DomainNorm, LayerInstanceNorm2d
from latentbridge.nn.networks import GlobalContext
from latentbridge.train.objectives import DisObjective, GenObjective
from latentbridge.train.step import Phase, _optimizer_step, step_pairs
from tests.conftest import tiny

DOMAINS = ["A", "B"]


def build(method: str, **extra: object) -> tuple[Model, object]:
    cfg = methods.resolve(method, overrides=tiny(**extra))
    torch.manual_seed(0)
    return Model(cfg, DOMAINS), cfg


def batch(cfg: object, n: int = 2) -> dict[str, torch.Tensor]:
    s = cfg.data.size  # type: ignore[attr-defined]
    return {d: torch.rand(n, 3, s, s) * 2 - 1 for d in DOMAINS}


_Batch = dict[str, torch.Tensor]
_TermStep = tuple[
    Model, object, _Batch, list[tuple[str, str]], GenObjective, torch.Tensor, _Batch, Forward
]


def _term_step(term: str, n: int = 3) -> _TermStep:
    """Build ``bridge`` with ``loss.<term>=1``, draw a batch of ``n`` images per domain, and run
    the generator objective on it in evaluation mode with that term alone weighted: (model,
    cfg, x, pairs, gen_obj, loss, named values, forward)."""
    model, cfg = build("bridge", **{f"loss__{term}": 1.0})
    x = batch(cfg, n=n)
    pairs = step_pairs(DOMAINS, "all", seed=0, step=0)
    gen_obj = GenObjective(cfg, model.gen, model.dis)
    loss, named, fwd = gen_obj.eval()(x, pairs, {term: 1.0})
    return model, cfg, x, pairs, gen_obj, loss, named, fwd


def _assert_trains_generator(loss: torch.Tensor, model: Model) -> None:
    """Backpropagate ``loss``: its gradients reach the encoders and the decoders."""
    loss.backward()
    reached = {n.split(".")[0] for n, p in model.gen.named_parameters() if p.grad is not None}
    assert {"encoders", "decoders"} <= reached


def _term_keys(named: dict[str, torch.Tensor], term: str) -> set[str]:
    """The generator's named values of one term, e.g. ``gen/relight/A->B``."""
    return {k for k in named if k.startswith(f"gen/{term}/")}


def _assert_from_keeps_the_named_domains(term: str) -> None:
    """``loss.<term>_from=A``: the term reads A's images only, and a name that is not a
    domain is a user error."""
    pairs = step_pairs(DOMAINS, "all", seed=0, step=0)
    only, cfg = build("bridge", **{f"loss__{term}": 1.0, f"loss__{term}_from": "A"})
    _, named, _ = GenObjective(cfg, only.gen, only.dis)(batch(cfg, n=3), pairs, {term: 1.0})
    assert _term_keys(named, term) == {f"gen/{term}/A->{b}" for a, b in pairs if a == "A"}
    bad = methods.resolve("bridge", overrides=tiny(**{f"loss__{term}_from": "A,Z"}))
    with pytest.raises(UserError, match=f"loss.{term}_from"):
        Model(bad, ["A", "B"])


@pytest.mark.parametrize("latent", ["spatial", "vector"])
@pytest.mark.parametrize("method", list(methods.REGISTRY))
def test_translate_shapes(method: str, latent: str) -> None:
    model, cfg = build(method, model__latent=latent)
    x = batch(cfg)["A"]
    z = model.gen.encode(x, "A")
    assert tuple(z.shape[1:]) == model.gen.latent_shape
    y = model.gen.translate(x, "A", "B")
    assert y.shape == x.shape and y.min() >= -1 and y.max() <= 1


@pytest.mark.parametrize("method", list(methods.REGISTRY))
def test_a_narrow_code_is_the_bottleneck_and_every_block_still_learns(method: str) -> None:
    """``model.latent_channels`` sizes the code, not the networks: z has that many channels, the
    decoder reads it back to full width, and the generator phase still reaches every parameter."""
    model, cfg = build(method, model__latent_channels=3, loss__gan_recon=1.0)
    x = batch(cfg)
    z = model.gen.encode(x["A"], "A")
    assert z.shape[1] == 3 and tuple(z.shape[1:]) == model.gen.latent_shape
    assert model.gen.translate(x["A"], "A", "B").shape == x["A"].shape
    wide, _ = build(method)
    assert model.gen.encode(x["A"], "A").shape[2:] == wide.gen.encode(x["A"], "A").shape[2:]
    weights = terms.weights(cfg.loss, step=10**6, warmup=0)
    gen_obj = GenObjective(cfg, model.gen, model.dis)
    loss, _, _ = gen_obj(x, step_pairs(DOMAINS, "all", seed=0, step=0), weights)
    loss.backward()
    g = _grads(model.gen)
    assert all(g.values()), [n for n, ok in g.items() if not ok]


def test_narrow_code_settings_are_checked() -> None:
    for extra in (
        {"model__latent_channels": -1},
        {"model__latent_channels": 8, "model__latent": "vector"},
    ):
        with pytest.raises(UserError, match="model.latent_channels"):
            build("bridge", **extra)
    # the projection and the widening are one more block each that sharing can count: the tiny
    # model has 4 encoder and 4 decoder blocks, 5 each with a narrow code, and every count the
    # check lets through builds (shared_chains itself refuses a count beyond the blocks)
    for key in ("sharing__enc_blocks", "sharing__dec_blocks"):
        for k in (5, -5):
            build("cogan", model__latent_channels=3, **{key: k})
        for k in (6, -6):
            with pytest.raises(UserError, match=key.replace("__", ".")):
                build("cogan", model__latent_channels=3, **{key: k})
        with pytest.raises(UserError, match=key.replace("__", ".")):
            build("cogan", **{key: 5})


@pytest.mark.parametrize("method", ["baseline", "unit", "bridge"])
def test_translation_in_chunks_is_the_same_translation(method: str) -> None:
    """Eval mode keeps no batch statistics: chunks of 1, 3 or all 7 images give one result."""
    model, cfg = build(method)
    model.gen.eval()
    x = batch(cfg, n=7)["A"]
    whole = model.gen.translate(x, "A", "B", chunk=7)
    for chunk in (1, 3):
        assert torch.allclose(model.gen.translate(x, "A", "B", chunk=chunk), whole, atol=1e-5)
    with pytest.raises(UserError, match="at least 1"):
        model.gen.translate(x, "A", "B", chunk=0)


def test_translation_chunk_holds_a_pixel_budget_on_the_cpu() -> None:
    assert CPU_CHUNK_PIXELS == 32 * 32 * 32
    assert [translation_chunk(torch.zeros(64, 3, s, s)) for s in (32, 64, 128, 256)] == [
        32,
        8,
        2,
        1,
    ]
    assert translation_chunk(torch.zeros(5, 3, 16, 16)) == 128  # more than the batch: one pass
    assert translation_chunk(torch.zeros(5, 3, 256, 256, device="meta")) == 5  # not a CPU


def _grads(module: torch.nn.Module) -> dict[str, bool]:
    return {
        n: p.grad is not None and bool(p.grad.abs().sum() > 0) for n, p in module.named_parameters()
    }


@pytest.mark.parametrize("method", list(methods.REGISTRY))
def test_generator_phase_reaches_every_generator_parameter_and_no_discriminator(
    method: str,
) -> None:
    model, cfg = build(method, loss__gan_recon=1.0)
    weights = terms.weights(cfg.loss, step=10**6, warmup=0)
    gen_obj = GenObjective(cfg, model.gen, model.dis)
    loss, named, fwd = gen_obj(batch(cfg), step_pairs(DOMAINS, "all", seed=0, step=0), weights)
    loss.backward()
    g = _grads(model.gen)
    assert all(g.values()), [n for n, ok in g.items() if not ok]
    assert not any(p.grad is not None for p in model.dis.parameters())
    assert all(torch.isfinite(v) for v in named.values())


@pytest.mark.parametrize("method", list(methods.REGISTRY))
def test_discriminator_phase_reaches_every_discriminator_parameter_and_no_generator(
    method: str,
) -> None:
    model, cfg = build(method, loss__gan_recon=1.0)
    weights = terms.weights(cfg.loss, step=10**6, warmup=0)
    pairs = step_pairs(DOMAINS, "all", seed=0, step=0)
    gen_obj = GenObjective(cfg, model.gen, model.dis)
    _, _, fwd = gen_obj(batch(cfg), pairs, weights)
    dis_obj = DisObjective(gen_obj, model.dis)
    loss, _ = dis_obj(fwd, pairs, terms.discriminator_weights(cfg.loss, weights))
    loss.backward()
    d = _grads(model.dis)
    assert d and all(d.values()), [n for n, ok in d.items() if not ok]
    assert not any(p.grad is not None for p in model.gen.parameters())


def test_partial_sharing_is_by_reference_and_counted_once() -> None:
    model, cfg = build(
        "cogan", sharing__enc_blocks=2, sharing__dec_blocks=2, sharing__disc_layers=2
    )
    ea, eb = model.gen.encoders["A"], model.gen.encoders["B"]
    assert ea.parts[1] is eb.parts[1] and len(ea.parts[1]) == 2  # the last 2 encoder blocks
    assert ea.parts[0] is not eb.parts[0]
    da, db = model.gen.decoders["A"], model.gen.decoders["B"]
    assert da.parts[0] is db.parts[0] and len(da.parts[0]) == 2  # the first 2 decoder blocks
    assert model.dis.image["A"].parts[1] is model.dis.image["B"].parts[1]
    params = list(model.gen.parameters())
    assert len(params) == len({id(p) for p in params})
    unshared, _ = build("baseline")
    n_shared = sum(p.numel() for p in ea.parts[1].parameters()) + sum(
        p.numel() for p in da.parts[0].parameters()
    )
    total = lambda m: sum(p.numel() for p in m.gen.parameters())  # noqa: E731
    assert total(unshared) - total(model) == n_shared  # shared weights are stored once, not twice


def test_negative_sharing_counts_keep_only_the_outermost_blocks_apart() -> None:
    model, cfg = build("cogan", sharing__enc_blocks=-1, sharing__dec_blocks=-1)
    n = 1 + cfg.model.down + cfg.model.res_blocks  # type: ignore[attr-defined]
    ea, eb = model.gen.encoders["A"], model.gen.encoders["B"]
    assert ea.parts[1] is eb.parts[1] and len(ea.parts[1]) == n - 1  # all but the stem
    assert len(ea.parts[0]) == 1 and ea.parts[0] is not eb.parts[0]
    da, db = model.gen.decoders["A"], model.gen.decoders["B"]
    assert da.parts[0] is db.parts[0] and len(da.parts[0]) == n - 1  # all but the to-image layer
    assert len(da.parts[1]) == 1 and da.parts[1] is not db.parts[1]
    with pytest.raises(UserError, match=rf"sharing.enc_blocks must be in -{n}..{n}"):
        build("cogan", sharing__enc_blocks=-(n + 1))
    with pytest.raises(UserError, match=rf"sharing.dec_blocks must be in -{n}..{n}"):
        build("cogan", sharing__dec_blocks=-(n + 1))


def test_shared_parameter_in_optimizer_once_and_updated_once() -> None:
    model, cfg = build("cogan")
    opt = torch.optim.SGD(model.gen.parameters(), lr=1.0)
    ids = [id(p) for g in opt.param_groups for p in g["params"]]
    assert len(ids) == len(set(ids))
    p = next(model.gen.encoders["A"].parts[1].parameters())
    before = p.detach().clone()
    p.grad = torch.ones_like(p)
    opt.step()
    assert torch.allclose(p.detach(), before - 1.0)  # one update of lr * grad, not two


@pytest.mark.parametrize("flag", ["channel", "norm", "both"])
def test_full_sharing_one_network_with_domain_flag(flag: str) -> None:
    model, cfg = build("cogan_full", sharing__flag=flag)
    ea, eb = model.gen.encoders["A"], model.gen.encoders["B"]
    assert (
        ea.parts[0] is eb.parts[0]
        and model.gen.decoders["A"].parts[0] is model.gen.decoders["B"].parts[0]
    )
    x = batch(cfg)["A"]
    model.eval()
    with torch.no_grad():  # the flag makes the shared decoder's output depend on the domain
        z = model.gen.encode(x, "A")
        if flag != "channel":  # the per-domain affines start equal; make them differ
            for m in model.gen.modules():
                if hasattr(m, "gamma"):
                    m.gamma[1].fill_(2.0)
        gap = (model.gen.decode(z, "A") - model.gen.decode(z, "B")).abs().max()
        assert gap > 1e-3  # not float noise: a flag that instance norm erased read ~6e-7


def test_domain_blind_encoder_codes_every_domain_alike() -> None:
    """``sharing.flag_encoder=false``: EN is one function for all domains (no flag planes, no
    per-domain norms), while the decoder still draws each domain differently."""
    blind, cfg = build("cogan_full", sharing__flag_encoder=False)
    told, _ = build("cogan_full")
    x = batch(cfg)["A"]
    for m in (blind, told):
        for mod in m.gen.modules():  # make per-domain affines differ where there are any
            if hasattr(mod, "gamma"):
                mod.gamma.data[1].fill_(2.0)
    blind.eval(), told.eval()
    with torch.no_grad():
        assert torch.equal(blind.gen.encode(x, "A"), blind.gen.encode(x, "B"))
        assert not torch.allclose(told.gen.encode(x, "A"), told.gen.encode(x, "B"))
        z = blind.gen.encode(x, "A")
        assert not torch.allclose(blind.gen.decode(z, "A"), blind.gen.decode(z, "B"))
    n_blind = sum(p.numel() for p in blind.gen.encoders["A"].parameters())
    n_told = sum(p.numel() for p in told.gen.encoders["A"].parameters())
    assert n_blind < n_told  # neither flag planes nor per-domain affines


def test_latent_adversarial_is_one_blind_encoder_with_a_latent_critic() -> None:
    """The preset as Fader Networks build it: one encoder that is not told the domain, a decoder
    that is, and D_z on the code."""
    model, cfg = build("latent_adversarial")
    x = batch(cfg)["A"]
    model.eval()
    with torch.no_grad():
        assert torch.equal(model.gen.encode(x, "A"), model.gen.encode(x, "B"))
        z = model.gen.encode(x, "A")
        assert not torch.allclose(model.gen.decode(z, "A"), model.gen.decode(z, "B"))
    assert model.dis.latent is not None
    params = {d: {id(p) for p in model.gen.encoders[d].parameters()} for d in DOMAINS}
    assert params["A"] == params["B"]  # one set of weights


def test_tied_init_starts_every_domain_from_one_set_of_weights() -> None:
    """``sharing.tied_init`` (the default): separate per-domain parameters that hold equal values
    at step 0, so a translation starts as the auto-encoder of the source; one optimiser step on
    domain A's reconstruction moves A's copy only. ``false``: independent initialisations."""
    tied, cfg = build("combogan")
    free, _ = build("combogan", sharing__tied_init=False)
    x = batch(cfg)["A"]
    tied.eval(), free.eval()
    with torch.no_grad():
        assert torch.equal(tied.gen.encode(x, "A"), tied.gen.encode(x, "B"))
        assert torch.equal(tied.gen.translate(x, "A", "B"), tied.gen.translate(x, "A", "A"))
        assert not torch.allclose(free.gen.encode(x, "A"), free.gen.encode(x, "B"))
    ids = {d: {id(p) for p in tied.gen.encoders[d].parameters()} for d in DOMAINS}
    assert not ids["A"] & ids["B"]  # two sets of weights, not one shared set
    opt = torch.optim.SGD(tied.gen.parameters(), lr=0.1)
    tied.train()
    (tied.gen.decode(tied.gen.encode(x, "A"), "A") - x).abs().mean().backward()
    opt.step()
    tied.eval()
    with torch.no_grad():
        assert not torch.allclose(tied.gen.encode(x, "A"), tied.gen.encode(x, "B"))


def test_random_pair_is_a_function_of_seed_and_step() -> None:
    doms = ["A", "B", "C", "D"]
    seen = {tuple(step_pairs(doms, "random", seed=1, step=s)[0]) for s in range(40)}
    assert len(seen) > 3
    assert step_pairs(doms, "random", seed=1, step=7) == step_pairs(doms, "random", seed=1, step=7)
    assert len(step_pairs(doms, "all", seed=0, step=0)) == 12


def test_fast_upsample_matches_interpolate_forward_and_backward() -> None:
    """``blocks.upsample2x`` is nearest x2 up-sampling, values and gradients exactly."""
    from torch.nn import functional as F

    from latentbridge.nn.blocks import upsample2x

    x = torch.randn(2, 3, 5, 7, dtype=torch.float64, requires_grad=True)
    assert torch.equal(upsample2x(x), F.interpolate(x, scale_factor=2, mode="nearest"))
    g = torch.randn(2, 3, 10, 14, dtype=torch.float64)
    (ours,) = torch.autograd.grad(upsample2x(x), x, g)
    (ref,) = torch.autograd.grad(F.interpolate(x, scale_factor=2, mode="nearest"), x, g)
    assert torch.allclose(ours, ref)


def test_layer_instance_norm_mixes_the_two_norms_and_its_mix_stays_in_bounds() -> None:
    """``norm`` / ``decoder_norm`` "lin" (U-GAT-IT): rho = 1 is instance norm, rho = 0 layer
    norm; ``model.decoder_norm`` puts it in the decoder only, residual blocks starting at rho
    0.9 and the rest at 0; an optimiser step that pushes rho out of [0, 1] is clamped back."""
    torch.manual_seed(0)
    x = torch.randn(4, 8, 6, 6) * 3 + 1
    norm = LayerInstanceNorm2d(8)
    with torch.no_grad():
        norm.rho.fill_(1.0)
    assert torch.allclose(norm(x), F.instance_norm(x), atol=1e-4)
    with torch.no_grad():
        norm.rho.fill_(0.0)
    assert torch.allclose(norm(x), F.layer_norm(x, x.shape[1:]), atol=1e-4)
    assert not torch.allclose(norm(x), F.instance_norm(x), atol=1e-2)

    cfg = methods.resolve("bridge", overrides=tiny(model__decoder_norm="lin"))
    model = Model(cfg, ["A", "B"])
    enc = [m for m in model.gen.encoders.modules() if isinstance(m, LayerInstanceNorm2d)]
    dec = [m for m in model.gen.decoders.modules() if isinstance(m, LayerInstanceNorm2d)]
    assert not enc and dec
    starts = {round(m.rho.mean().item(), 3) for m in dec}
    assert starts == {0.0, RHO_RESIDUAL}
    params = [p for p in model.gen.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=100.0)
    phase = Phase("gen", nn.Identity(), optimizer, lr=100.0)
    for p in params:
        p.grad = torch.ones_like(p) * (-1.0 if p is dec[0].rho else 1.0)
    _optimizer_step(phase)
    assert dec[0].rho.min().item() == 1.0  # pushed up by 100, clamped to 1
    assert all(m.rho.max().item() == 0.0 for m in dec[1:])  # pushed down by 100, clamped to 0


def test_layer_instance_norm_with_its_affine_inside_is_the_mix_then_the_affine() -> None:
    """The norm runs the affine inside its two group-norm passes (weight * rho, weight * (1 -
    rho)); values and every gradient are those of the two norms mixed and then scaled, for a
    layer's own affine, for none, and for a domain's (``DomainNorm``, full sharing)."""
    torch.manual_seed(0)
    x = torch.randn(4, 8, 6, 6) * 3 + 1
    g = torch.randn(4, 8, 6, 6)

    def written_out(
        x: torch.Tensor, rho: torch.Tensor, w: torch.Tensor | None, b: torch.Tensor | None
    ) -> torch.Tensor:
        inst, layer = F.instance_norm(x), F.layer_norm(x, x.shape[1:])
        out = layer + rho.clamp(0, 1).view(1, -1, 1, 1) * (inst - layer)
        return out if w is None or b is None else out * w.view(1, -1, 1, 1) + b.view(1, -1, 1, 1)

    def value_and_grads(y: torch.Tensor, params: list[torch.Tensor]) -> list[torch.Tensor]:
        return [y, *torch.autograd.grad(y, params, g)]

    for affine in (True, False):
        norm = LayerInstanceNorm2d(8, affine=affine)
        with torch.no_grad():
            norm.rho.copy_(torch.linspace(-0.2, 1.2, 8))  # clamped at both ends
            if affine:
                norm.weight.uniform_(0.5, 1.5), norm.bias.normal_()
        xs = x.clone().requires_grad_()
        params = [xs, *norm.parameters()]
        ours = value_and_grads(norm(xs), params)
        ref = value_and_grads(written_out(xs, norm.rho, norm.weight, norm.bias), params)
        for a, b in zip(ours, ref, strict=True):
            assert torch.allclose(a, b, atol=1e-4)

    dn = DomainNorm(8, 2, "lin")
    with torch.no_grad():
        dn.norm.rho.uniform_(0, 1), dn.gamma.uniform_(0.5, 1.5), dn.beta.normal_()
    for d in (0, 1):
        xs = x.clone().requires_grad_()
        params = [xs, dn.norm.rho, dn.gamma, dn.beta]
        ours = value_and_grads(dn(xs, d), params)
        ref = value_and_grads(written_out(xs, dn.norm.rho, dn.gamma[d], dn.beta[d]), params)
        for a, b in zip(ours, ref, strict=True):
            assert torch.allclose(a, b, atol=1e-4)


def test_image_priors_and_moments_are_wired_into_the_generator_phase() -> None:
    cfg = methods.resolve(
        "baseline",
        overrides=tiny(
            loss__edge=1.0,
            loss__selfsim=1.0,
            loss__palette=1.0,
            loss__moments=1.0,
            loss__nce=1.0,
            loss__recon_grad=1.0,
            loss__cycle=1.0,
            loss__cycle_scale=2,
            loss__color=1.0,
            loss__color_standardize="cell",
            loss__color_dist=1.0,
            loss__distance=1.0,
            loss__detail=1.0,
        ),  # fmt: skip
    )
    model = Model(cfg, ["A", "B"])
    x = {d: torch.rand(4, 3, 16, 16) * 2 - 1 for d in ("A", "B")}
    weights = terms.weights(cfg.loss, step=10**6, warmup=0)
    loss, named, _ = GenObjective(cfg, model.gen, model.dis)(x, [("A", "B"), ("B", "A")], weights)
    keys = ("gen/edge/A->B", "gen/palette/B->A", "gen/moments/A|B", "gen/nce/A->B")
    for key in (
        *keys,
        "gen/selfsim/B->A",
        "gen/recon_grad/A->A",
        "gen/cycle/B->A",
        "gen/color/A->B",
        "gen/color_dist/B->A",
        "gen/distance/A->B",
        "gen/detail/B->A",
    ):
        assert key in named and torch.isfinite(named[key])
    loss.backward()
    assert all(p.grad is not None for p in model.gen.parameters() if p.requires_grad)


def test_coupled_generation_decodes_one_draw_in_every_domain() -> None:
    """``loss.gan_prior`` (CoGAN): every decoder draws the same z ~ N(0, I) and its domain's
    discriminator judges the sample; ``loss.invert``: the encoder reads a sample back as a fixed
    image and is asked for its z, so it trains the encoder and never the decoder."""
    torch.manual_seed(0)
    cfg = methods.resolve("cogan", overrides=tiny(loss__gan_prior=1.0, loss__invert=1.0))
    model = Model(cfg, ["A", "B"])
    x = {d: torch.rand(64, 3, 16, 16) * 2 - 1 for d in ("A", "B")}
    weights = terms.weights(cfg.loss, step=10**6, warmup=0)
    objective = GenObjective(cfg, model.gen, model.dis).eval()
    _, named, fwd = objective(x, [("A", "B"), ("B", "A")], weights)
    z = fwd.z_prior()
    assert z.shape == fwd.mu("A").shape and abs(z.mean().item()) < 0.05
    assert abs(z.std().item() - 1) < 0.05
    with torch.no_grad():
        for d in ("A", "B"):  # one draw, decoded by each domain's decoder
            assert torch.allclose(fwd.x_prior(d), model.gen.decode(z, d), atol=1e-6)
            mu = model.gen.encode(fwd.x_prior(d), d)
            expected = (mu - z).abs().mean()
            assert torch.allclose(named[f"gen/invert/{d}"], expected, atol=1e-6)
    assert {"gen/gan_prior/A", "gen/gan_prior/B"} <= set(named)

    def trains(term: str) -> tuple[bool, bool]:
        """Whether the term alone sends gradient to (A's encoder, A's decoder)."""
        model.gen.zero_grad(set_to_none=True)
        loss, _, _ = objective(x, [("A", "B"), ("B", "A")], {term: 1.0})
        loss.backward()
        enc, dec = (
            any(p.grad is not None and p.grad.abs().sum() > 0 for p in nets["A"].parameters())
            for nets in (model.gen.encoders, model.gen.decoders)
        )
        return enc, dec

    assert trains("invert") == (True, False)
    assert trains("gan_prior") == (False, True)
    d_weights = terms.discriminator_weights(cfg.loss, weights)
    assert d_weights["gan_prior"] == 1.0
    _, d_named = DisObjective(objective, model.dis)(fwd, [("A", "B"), ("B", "A")], d_weights)
    assert {"dis/gan_prior/A", "dis/gan_prior/B"} <= set(d_named)
    # the gradient penalty turns on with the coupled draw alone, as with any image GAN term
    alone = methods.resolve(
        "baseline", overrides=tiny(loss__gan=0.0, loss__gan_prior=1.0, loss__r1=1.0)
    )
    w = terms.weights(alone.loss, step=10**6, warmup=0)
    assert terms.discriminator_weights(alone.loss, w) == {"gan_prior": 1.0, "r1": 1.0}


def test_coupled_draws_take_a_drawn_style_in_training() -> None:
    """With a style code, each domain's sample of the draw is drawn with a style from N(0, I)
    in training (as translations are), and with s = 0 otherwise."""
    cfg = methods.resolve("munit", overrides=tiny(loss__gan_prior=1.0, model__style_dim=4))
    model = Model(cfg, ["A", "B"])
    x = {d: torch.rand(4, 3, 16, 16) * 2 - 1 for d in ("A", "B")}
    objective = GenObjective(cfg, model.gen, model.dis)
    weights = {"gan_prior": 1.0}
    _, _, fwd = objective.train()(x, [("A", "B"), ("B", "A")], weights)
    with torch.no_grad():  # training: the sample is not the style-less decoding of the draw
        z = fwd.z_prior()
        assert not torch.allclose(fwd.x_prior("A"), model.gen.decode(z, "A"), atol=1e-4)
    _, _, fwd = objective.eval()(x, [("A", "B"), ("B", "A")], weights)
    with torch.no_grad():  # otherwise it is, with s = 0
        assert torch.allclose(fwd.x_prior("A"), model.gen.decode(fwd.z_prior(), "A"), atol=1e-6)


def test_travel_trains_the_siamese_network_with_the_generators_and_only_there() -> None:
    """TraVeLGAN's S is built only with loss.travel, embeds real images and translations, and
    the generator phase trains it (both its terms) while the discriminator phase never does."""
    assert build("bridge")[0].gen.siamese is None
    model, cfg = build("bridge", loss__travel=1.0, loss__travel_dim=5)
    assert model.gen.siamese is not None
    x = batch(cfg, n=3)
    pairs = step_pairs(DOMAINS, "all", seed=0, step=0)
    weights = terms.weights(cfg.loss, step=10**6, warmup=0)
    gen_obj = GenObjective(cfg, model.gen, model.dis)
    loss, named, fwd = gen_obj(x, pairs, weights)
    assert fwd.e("A").shape == (3, 5)
    assert torch.equal(fwd.e_ab("A", "B"), model.gen.siamese(fwd.x_ab("A", "B")))
    margin = losses.siamese_margin(fwd.e("B"), cfg.loss.travel_margin)
    assert torch.allclose(named["gen/travel_margin/B"], margin)
    expected = losses.transformation_vectors(fwd.e("A"), fwd.e_ab("A", "B"))
    assert torch.allclose(named["gen/travel/A->B"], expected)
    # the margin alone reaches S and nothing else
    siamese = {id(p) for p in model.gen.siamese.parameters()}
    named_terms = terms.travel(fwd, gen_obj.context(pairs, frozen=True))
    margins = sum(v for k, v in named_terms.items() if "margin" in k)
    margins.backward(retain_graph=True)  # type: ignore[union-attr]
    assert all((p.grad is not None) == (id(p) in siamese) for p in model.gen.parameters())
    model.gen.zero_grad(set_to_none=True)
    loss.backward(retain_graph=True)
    assert all(p.grad is not None for p in model.gen.siamese.parameters())
    model.gen.zero_grad(set_to_none=True)
    dis_obj = DisObjective(gen_obj, model.dis)
    d_loss, _ = dis_obj(fwd, pairs, terms.discriminator_weights(cfg.loss, weights))
    d_loss.backward()
    assert all(p.grad is None for p in model.gen.siamese.parameters())
    for bad in ({"loss__travel_margin": 0.0}, {"loss__travel_dim": 0}):
        with pytest.raises(UserError, match="loss.travel_"):
            build("bridge", loss__travel=1.0, **bad)


def test_identity_asks_the_translator_to_leave_the_target_domain_alone() -> None:
    """``loss.identity``: for every pair a -> b, x_b read by EN_a and drawn by DE_b is compared
    with x_b itself; it reaches the encoder and the decoder, starts after the warm-up, and a
    translator that is the identity on b's images pays nothing."""
    # separate initialisations, so that EN_A and EN_B (and DE_A, DE_B) differ from the start
    model, cfg = build("combogan", loss__identity=1.0, sharing__tied_init=False)
    x = batch(cfg, n=3)
    pairs = step_pairs(DOMAINS, "all", seed=0, step=0)
    assert "identity" not in terms.weights(cfg.loss, step=5, warmup=10)
    weights = {"identity": 1.0}
    gen_obj = GenObjective(cfg, model.gen, model.dis)
    loss, named, fwd = gen_obj.eval()(x, pairs, weights)
    assert set(named) >= {"gen/identity/A->B", "gen/identity/B->A"}
    with torch.no_grad():
        drawn = model.gen.decode(model.gen.encode(x["B"], "A"), "B")
        assert torch.allclose(fwd.x_id("A", "B"), drawn, atol=1e-6)
        assert not torch.allclose(fwd.x_id("A", "B"), fwd.x_aa("B"), atol=1e-3)
        expected = (drawn - x["B"]).abs().mean()
        assert torch.allclose(named["gen/identity/A->B"], expected, atol=1e-6)
        assert float(named["gen/identity/A->B"]) > 0.05  # an untrained translator is no identity
    _assert_trains_generator(loss, model)
    f = Forward(model.gen, {"A": x["A"], "B": x["B"]}, sample=False)
    f._cache[("x_id", "A", "B")] = x["B"].clone()  # a perfect identity on B's batch
    context = gen_obj.context(pairs, frozen=True)
    assert float(terms.identity(f, context)["identity/A->B"]) == 0.0


def test_feature_match_compares_batch_means_of_the_critic_s_hidden_activations() -> None:
    """``loss.feature_match``: the batch mean of every hidden activation of D_b (each scale) for
    x_ab against real images of b; gradients reach the generator and never the critic, a batch
    of real images pays nothing, and a batch with the same mean activations pays nothing even
    when no image of it is real (a statistic, not a pairing)."""
    model, cfg, x, pairs, gen_obj, loss, named, fwd = _term_step("feature_match", n=4)
    critic = model.dis.image["B"]
    with torch.no_grad():
        fake, real = critic(fwd.x_ab("A", "B"), features=True), critic(x["B"], features=True)
        # disc_layers halvings at each of the disc_scales scales
        assert len(fake) == cfg.model.disc_layers * cfg.model.disc_scales
        expected = sum((g.mean(0) - r.mean(0)).abs().mean() for g, r in zip(fake, real))
    assert torch.allclose(named["gen/feature_match/A->B"], expected, atol=1e-6)
    assert float(expected) > 1e-3
    _assert_trains_generator(loss, model)
    assert all(p.grad is None for p in model.dis.parameters())
    context = gen_obj.context(pairs, frozen=True)
    f = Forward(model.gen, x, sample=False)
    f._cache[("x_ab", "A", "B")] = x["B"].clone()
    assert float(terms.feature_match(f, context)["feature_match/A->B"]) == 0.0
    f._cache[("x_ab", "A", "B")] = x["B"].flip(0)  # the same images in another order
    assert float(terms.feature_match(f, context)["feature_match/A->B"]) < 1e-6
    f._cache[("x_ab", "A", "B")] = -x["B"]
    assert float(terms.feature_match(f, context)["feature_match/A->B"]) > 1e-3
    one, cfg_one = build("bridge", loss__feature_match=1.0, model__disc_scales=1)  # a bare Chain
    hidden = one.dis.image["B"](x["B"], features=True)
    assert [h.shape[1] for h in hidden] == [
        min(cfg_one.model.disc_width * 2**i, cfg_one.model.max_width)
        for i in range(cfg_one.model.disc_layers)
    ]
    with pytest.raises(UserError, match="loss.feature_match"):  # no GAN, no trained critic
        build("bridge", loss__feature_match=1.0, loss__gan=0.0)


def test_mirror_compares_the_mirrored_translation_of_the_mirror_image() -> None:
    """``loss.mirror``: x_ab against the translation of x's mirror image, mirrored back; an
    untrained translator is not mirror-symmetric and pays, gradients reach the encoder and the
    decoder, and a translator whose two answers agree pays nothing."""
    model, cfg, x, pairs, gen_obj, loss, named, fwd = _term_step("mirror")
    with torch.no_grad():
        mirrored = model.gen.decode(model.gen.encode(x["A"].flip(-1), "A"), "B").flip(-1)
        assert torch.allclose(fwd.x_ab_mirror("A", "B"), mirrored, atol=1e-6)
        expected = (mirrored - fwd.x_ab("A", "B")).abs().mean()
        assert torch.allclose(named["gen/mirror/A->B"], expected, atol=1e-6)
        assert float(expected) > 1e-3
    _assert_trains_generator(loss, model)
    f = Forward(model.gen, x, sample=False)
    f._cache[("x_ab", "A", "B")] = f._cache[("x_ab_mirror", "A", "B")] = x["B"].clone()
    assert float(terms.mirror(f, gen_obj.context(pairs, frozen=True))["mirror/A->B"]) == 0.0
    # with the VAE prior the mirror image's code takes x's own noise, mirrored
    noisy = Forward(model.gen, x, sample=True)
    with torch.no_grad():
        noise = noisy.z("A") - noisy.mu("A")
        assert noise.abs().mean() > 0.1
        code = model.gen.encode(x["A"].flip(-1), "A") + noise.flip(-1)
        expected = model.gen.decode(code, "B").flip(-1)
        assert torch.allclose(noisy.x_ab_mirror("A", "B"), expected, atol=1e-5)


def test_negative_compares_the_translation_of_the_negative_image() -> None:
    """``loss.negative``: x_ab against the translation of -x; an untrained translator answers
    differently and pays, gradients reach the encoder and the decoder, a translator whose two
    answers agree pays nothing, ``negative_from`` keeps the named domains' images only (a name
    that is not a domain is a user error), and with the VAE prior -x's code takes x's noise."""
    model, cfg, x, pairs, gen_obj, loss, named, fwd = _term_step("negative")
    with torch.no_grad():
        inverted = model.gen.decode(model.gen.encode(-x["A"], "A"), "B")
        assert torch.allclose(fwd.x_ab_negative("A", "B"), inverted, atol=1e-6)
        expected = (inverted - fwd.x_ab("A", "B")).abs().mean()
        assert torch.allclose(named["gen/negative/A->B"], expected, atol=1e-6)
        assert float(expected) > 1e-3
    assert _term_keys(named, "negative") == {f"gen/negative/{a}->{b}" for a, b in pairs}
    _assert_trains_generator(loss, model)
    f = Forward(model.gen, x, sample=False)
    f._cache[("x_ab", "A", "B")] = f._cache[("x_ab_negative", "A", "B")] = x["B"].clone()
    assert float(terms.negative(f, gen_obj.context(pairs, frozen=True))["negative/A->B"]) == 0.0
    _assert_from_keeps_the_named_domains("negative")
    noisy = Forward(model.gen, x, sample=True)
    with torch.no_grad():
        noise = noisy.z("A") - noisy.mu("A")
        assert noise.abs().mean() > 0.1
        expected = model.gen.decode(model.gen.encode(-x["A"], "A") + noise, "B")
        assert torch.allclose(noisy.x_ab_negative("A", "B"), expected, atol=1e-5)


def test_relight_changes_exposure_and_white_balance_as_asked() -> None:
    """``augment.relight``: no gain and no warmth leave the image as it was; an exposure alone
    scales every unclipped pixel of a sample by one factor in linear light, a different factor
    per sample within [1 / (1 + gain), 1 + gain]; a colour temperature alone moves red and blue
    by opposite factors; the result stays in [-1, 1]."""
    x = torch.rand(64, 3, 6, 6) * 1.3 - 0.8  # linear light 0.006-0.53: 1.5 times does not clip
    assert torch.allclose(augment.relight(x, 0.0, 0.0), x, atol=1e-5)

    def linear(im: torch.Tensor) -> torch.Tensor:
        return ((im + 1) / 2) ** 2.2

    torch.manual_seed(0)
    y = augment.relight(x, 0.5, 0.0)
    assert -1 <= float(y.min()) and float(y.max()) <= 1
    ratio = linear(y) / linear(x)
    per_sample = ratio.flatten(1)
    assert torch.allclose(per_sample, per_sample[:, :1].expand_as(per_sample), rtol=1e-3)
    assert 1 / 1.5 - 1e-3 <= float(per_sample.min()) and float(per_sample.max()) <= 1.5 + 1e-3
    assert float(per_sample[:, 0].std()) > 0.1  # each sample its own exposure
    warm = linear(augment.relight(x, 0.0, 0.2)) / linear(x)  # (B, 3, H, W)
    red, green, blue = (warm[:, c].mean(dim=(1, 2)) for c in range(3))
    assert torch.allclose(red - 1, 1 - blue, atol=1e-3)
    assert torch.allclose(green - 1, (red - 1) / 10, atol=1e-3)
    assert float((red - 1).abs().max()) > 0.1
    fixed = linear(augment.expose(x, 1.5)) / linear(x)  # one fixed exposure for every sample
    assert torch.allclose(fixed, torch.full_like(fixed, 1.5), rtol=1e-3)


def test_relight_compares_the_translation_of_the_relit_image() -> None:
    """``loss.relight``: x_ab against the translation of x re-exposed and re-white-balanced; an
    untrained translator answers differently and pays, the translation of an image relit by
    nothing pays nothing, gradients reach the encoder and the decoder, and ``relight_from``
    keeps the named domains' images only (a name that is not a domain is a user error)."""
    model, cfg, x, pairs, gen_obj, loss, named, fwd = _term_step("relight")
    with torch.no_grad():
        relit = fwd.x_ab_relit("A", "B", cfg.loss.relight_gain, cfg.loss.relight_warmth)
        expected = (relit - fwd.x_ab("A", "B")).abs().mean()
        assert torch.allclose(named["gen/relight/A->B"], expected, atol=1e-6)
        assert float(expected) > 1e-3
        # asked again with other factors it relights again (not the cached draw); no relight
        # at all is the translation itself
        unlit = fwd.x_ab_relit("A", "B", 0.0, 0.0)
        assert torch.allclose(unlit, fwd.x_ab("A", "B"), atol=1e-5)
    assert _term_keys(named, "relight") == {f"gen/relight/{a}->{b}" for a, b in pairs}
    _assert_trains_generator(loss, model)
    same, cfg0 = build(
        "bridge", loss__relight=1.0, loss__relight_gain=0.0, loss__relight_warmth=0.0
    )
    _, named0, _ = GenObjective(cfg0, same.gen, same.dis).eval()(x, pairs, {"relight": 1.0})
    assert float(named0["gen/relight/A->B"]) < 1e-5
    _assert_from_keeps_the_named_domains("relight")


def test_cycle_relight_reads_relit_translations_back_in_training_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``loss.cycle_relight``: in training, a translation into a domain of ``relight_from`` is
    relit (``augment.relight`` with ``relight_gain`` / ``relight_warmth``) before the way back
    reads it; translations into other domains are read as they are, and so is every
    translation outside training."""
    calls: list[tuple[float, float]] = []

    def halve(x: torch.Tensor, gain: float, warmth: float) -> torch.Tensor:
        calls.append((gain, warmth))
        return x * 0.5

    monkeypatch.setattr("latentbridge.forward.relight", halve)
    model, cfg = build("bridge", loss__cycle=1.0, loss__cycle_relight=True, loss__relight_from="B")
    x = batch(cfg, n=3)
    pairs = step_pairs(DOMAINS, "all", seed=0, step=0)
    gen_obj = GenObjective(cfg, model.gen, model.dis)
    _, _, fwd = gen_obj.train()(x, pairs, {"cycle": 1.0})
    with torch.no_grad():
        relit_b = model.gen.encode(fwd.x_ab("A", "B") * 0.5, "B")
        assert torch.allclose(fwd.mu_ab("A", "B"), relit_b, atol=1e-5)
        plain_a = model.gen.encode(fwd.x_ab("B", "A"), "A")
        assert torch.allclose(fwd.mu_ab("B", "A"), plain_a, atol=1e-5)
    assert calls == [(cfg.loss.relight_gain, cfg.loss.relight_warmth)]
    _, _, evaluated = gen_obj.eval()(x, pairs, {"cycle": 1.0})
    with torch.no_grad():
        plain_b = model.gen.encode(evaluated.x_ab("A", "B"), "B")
        assert torch.allclose(evaluated.mu_ab("A", "B"), plain_b, atol=1e-5)
    assert len(calls) == 1
    off, cfg_off = build("bridge", loss__cycle=1.0, loss__relight_from="B")
    _, _, plain = GenObjective(cfg_off, off.gen, off.dis).train()(x, pairs, {"cycle": 1.0})
    plain.mu_ab("A", "B")
    assert len(calls) == 1  # the switch off: nothing relit


def test_the_warm_start_trains_the_reconstruction_terms_only() -> None:
    cfg = methods.resolve("baseline", overrides=tiny(loss__recon_grad=2.0, loss__cycle=1.0))
    assert set(terms.weights(cfg.loss, step=5, warmup=10)) == {"recon", "recon_grad"}
    assert {"recon_grad", "cycle", "gan"} <= set(terms.weights(cfg.loss, step=10, warmup=10))


def test_bad_prior_sizes_are_user_errors() -> None:
    sizes = ("loss.edge_scale", "loss.palette_size", "loss.color_size", "loss.cycle_scale")
    for key in (*sizes, "loss.selfsim_scale", "loss.nce_patches", "loss.nce_temperature"):
        cfg = methods.resolve("baseline", overrides={**tiny(), key: 0})
        with pytest.raises(UserError, match=key):
            Model(cfg, ["A", "B"])
    for window in (1, 4, 99):  # too small, even, wider than the pooled image
        cfg = methods.resolve("baseline", overrides={**tiny(), "loss.selfsim_window": window})
        with pytest.raises(UserError, match="loss.selfsim_window"):
            Model(cfg, ["A", "B"])


def test_cycle_from_keeps_the_named_domains_trip_only() -> None:
    """``loss.cycle_from=A``: A -> B -> A is a term, B -> A -> B is not (nor does it count in the
    loss); every domain's trip without it; a name that is not a domain is a user error."""
    pairs = [("A", "B"), ("B", "A")]
    x = {d: torch.rand(4, 3, 16, 16) * 2 - 1 for d in ("A", "B")}
    totals = {}
    for only in ("", "A"):
        cfg = methods.resolve("combogan", overrides=tiny(loss__cycle_from=only))
        torch.manual_seed(0)
        model = Model(cfg, ["A", "B"])
        w = {"cycle": 1.0}  # the cycle alone, so the total is its sum
        loss, named, _ = GenObjective(cfg, model.gen, model.dis)(x, pairs, w)
        cycles = {k: float(v) for k, v in named.items() if k.startswith("gen/cycle/")}
        totals[only] = (float(loss.detach()), cycles)
    (every, both), (loss_a, only_a) = totals[""], totals["A"]
    assert set(both) == {"gen/cycle/A->B", "gen/cycle/B->A"} and set(only_a) == {"gen/cycle/A->B"}
    assert only_a["gen/cycle/A->B"] == pytest.approx(both["gen/cycle/A->B"])
    assert every == pytest.approx(sum(both.values())) and loss_a == pytest.approx(
        sum(only_a.values())
    )
    with pytest.raises(UserError, match="loss.cycle_from"):
        Model(methods.resolve("combogan", overrides=tiny(loss__cycle_from="A,C")), ["A", "B"])


def test_a_negative_loss_weight_is_refused_not_read_as_off() -> None:
    """Terms with a weight <= 0 are off (``terms.weights``), so a sign slip in ``--set`` would
    silently drop a term: every term's weight, and ``r1``'s, must be >= 0."""
    for key in ("gan", "color_dist", "cycle", "r1"):
        with pytest.raises(UserError, match=f"loss.{key} must be >= 0"):
            Model(methods.resolve("bridge", overrides=tiny(**{f"loss__{key}": -1.0})), DOMAINS)


def test_cycle_noise_reaches_the_read_back_code_in_training_only() -> None:
    """``loss.cycle_noise``: EN_b reads x_ab through pixel noise while training (the cycle's
    code differs from the clean one), and evaluation-mode objectives read it clean."""
    model, cfg = build("combogan", loss__cycle_noise=0.5)
    x = batch(cfg, n=4)
    pairs, w = [("A", "B"), ("B", "A")], terms.weights(cfg.loss, step=10**6, warmup=0)
    objective = GenObjective(cfg, model.gen, model.dis)
    model.eval()  # fixed normalisation statistics: the only randomness left is the noise
    with torch.no_grad():
        clean = model.gen.encode(model.gen.decode(model.gen.encode(x["A"], "A"), "B"), "B")
        objective.train()
        noisy = objective(x, pairs, w)[2].mu_ab("A", "B")
        objective.eval()
        read = objective(x, pairs, w)[2].mu_ab("A", "B")
    assert torch.allclose(read, clean, atol=1e-5)
    assert not torch.allclose(noisy, clean, atol=1e-3)
    with pytest.raises(UserError, match="cycle_noise"):
        Model(methods.resolve("combogan", overrides=tiny(loss__cycle_noise=-1.0)), DOMAINS)


def test_input_noise_reaches_the_codes_in_training_only_and_the_targets_stay_clean() -> None:
    """``loss.input_noise``: EN_a reads x through pixel noise while training (the code differs
    from the clean one), the reconstruction still compares with the clean x, and
    evaluation-mode objectives read x clean."""
    model, cfg = build("bridge", loss__input_noise=0.5)
    x = batch(cfg, n=4)
    pairs, w = [("A", "B"), ("B", "A")], {"recon": 1.0}
    objective = GenObjective(cfg, model.gen, model.dis)
    model.eval()  # fixed normalisation statistics: the only randomness left is the noise
    with torch.no_grad():
        clean = model.gen.encode(x["A"], "A")
        objective.train()
        _, named, f = objective(x, pairs, w)
        against_clean = (model.gen.decode(f.z("A"), "A") - x["A"]).abs().mean()
        objective.eval()
        read = objective(x, pairs, w)[2].mu("A")
    assert torch.allclose(read, clean, atol=1e-5)
    assert not torch.allclose(f.mu("A"), clean, atol=1e-3)
    assert named["gen/recon/A->A"].item() == pytest.approx(against_clean.item(), rel=1e-5)
    with pytest.raises(UserError, match="input_noise"):
        Model(methods.resolve("bridge", overrides=tiny(loss__input_noise=-1.0)), DOMAINS)


def test_r1_trains_the_discriminators_on_real_images_only_when_the_gan_does() -> None:
    model, cfg = build("bridge", loss__r1=10.0)
    pairs = step_pairs(DOMAINS, "all", seed=0, step=0)
    assert "r1" not in terms.discriminator_weights(
        cfg.loss, terms.weights(cfg.loss, step=0, warmup=10)
    )
    weights = terms.weights(cfg.loss, step=10**6, warmup=0)
    d_weights = terms.discriminator_weights(cfg.loss, weights)
    assert d_weights["r1"] == 10.0
    gen_obj = GenObjective(cfg, model.gen, model.dis)
    _, _, fwd = gen_obj(batch(cfg), pairs, weights)
    dis_obj = DisObjective(gen_obj, model.dis)
    loss, named = dis_obj(fwd, pairs, {"r1": 1.0})
    assert set(named) == {"dis/r1/A", "dis/r1/B"} and all(v > 0 for v in named.values())
    loss.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.dis.parameters())
    assert not any(p.grad is not None for p in model.gen.parameters())


def test_r1_runs_under_the_flop_counter_and_counts_its_double_backward() -> None:
    model, cfg = build("bridge", loss__r1=1.0)
    pairs = step_pairs(DOMAINS, "all", seed=0, step=0)
    weights = terms.weights(cfg.loss, step=10**6, warmup=0)
    gen_obj = GenObjective(cfg, model.gen, model.dis)
    _, _, fwd = gen_obj(batch(cfg), pairs, weights)
    dis_obj = DisObjective(gen_obj, model.dis)
    flops = {}
    for name, d_weights in (("gan", {"gan": 1.0}), ("gan+r1", {"gan": 1.0, "r1": 1.0})):
        with FlopCounterMode(display=False) as counter:  # what `latentbridge bench` runs a step in
            dis_obj(fwd, pairs, d_weights)[0].backward()
        flops[name] = counter.get_total_flops()
    assert flops["gan+r1"] > flops["gan"] > 0


def test_r1_with_the_compiler_is_a_user_error() -> None:
    with pytest.raises(UserError, match="double backward"):
        build("bridge", loss__r1=1.0, train__compile="default")


@pytest.mark.parametrize(
    ("method", "latent"), [("baseline", "spatial"), ("bridge", "spatial"), ("munit", "vector")]
)
def test_style_code_reaches_the_image_and_the_way_back_keeps_the_source_style(
    method: str, latent: str
) -> None:
    """``model.style_dim`` (MUNIT's content / style split): two styles draw one code differently
    away from the borders too (instance norm does not erase them); ``translate`` uses s = 0; in
    training each step's translation draws a new style, while the reconstruction and the cycle's
    way back decode with ES_a(x); ``loss.style`` reads the drawn style back; every generator
    parameter, style encoders and planes included, gets a gradient."""
    model, cfg = build(
        method, model__style_dim=4, model__latent=latent, loss__style=1.0, loss__cycle=1.0
    )
    gen, x = model.gen, batch(cfg, n=3)
    with torch.no_grad():
        z = gen.encode(x["A"], "A")
        y1, y2 = gen.decode(z, "B", torch.randn(3, 4)), gen.decode(z, "B", torch.randn(3, 4))
        assert (y1 - y2)[..., 2:-2, 2:-2].abs().mean() > 1e-3
        s0 = gen.decode(z, "B", torch.zeros(3, 4))
        assert torch.allclose(gen.translate(x["A"], "A", "B"), s0, atol=1e-6)
    pairs, w = [("A", "B"), ("B", "A")], terms.weights(cfg.loss, step=10**6, warmup=0)
    objective = GenObjective(cfg, gen, model.dis).train()
    loss, named, f = objective(x, pairs, w)
    assert {"gen/style/A->B", "gen/style/B->A"} <= set(named)
    drawn = f.s_drawn("A", "B")
    assert drawn is not None and drawn.abs().sum() > 0
    with torch.no_grad():
        assert torch.allclose(f.x_aa("A"), gen.reconstruct(x["A"], "A"), atol=1e-5)
        back = gen.cycle(f.x_ab("A", "B"), x["A"], "A", "B")
        assert torch.allclose(f.x_aba("A", "B"), back, atol=1e-5)
        again = objective(x, pairs, w)[2].x_ab("A", "B")
        assert not torch.allclose(again, f.x_ab("A", "B"), atol=1e-4)  # a new style each step
        objective.eval()
        evaluated = objective(x, pairs, w)[2]
        assert torch.equal(evaluated.s_drawn("A", "B"), torch.zeros(3, 4))
        assert torch.allclose(evaluated.x_ab("A", "B"), s0, atol=1e-5)
    loss.backward()
    g = _grads(gen)
    assert any(n.startswith("style_encoders.") for n in g) and all(g.values()), [
        n for n, ok in g.items() if not ok
    ]


def test_global_context_lets_every_position_see_the_whole_code() -> None:
    """``model.global_context`` (ParseNet's global context): the block starts as the identity;
    once trained, a change at one corner of the code changes the opposite corner; it is the
    decoder's, counts as a block for ``sharing.dec_blocks``, and a vector code refuses it."""
    torch.manual_seed(0)
    block = GlobalContext(4, 6, 8)
    x = torch.randn(2, 4, 6, 6)
    assert torch.equal(block(x, 0), x)
    torch.nn.init.normal_(block.mlp[-1].weight)
    moved = x.clone()
    moved[:, :, 5, 5] += 1.0
    assert not torch.allclose(block(x, 0)[:, :, 0, 0], block(moved, 0)[:, :, 0, 0], atol=1e-4)

    # the tiny decoder: to_image, 2 ups, 1 residual block, and the context block = 5 blocks
    with pytest.raises(UserError, match="dec_blocks"):
        build("cogan", sharing__dec_blocks=5)
    model, cfg = build("cogan", model__global_context=8, sharing__dec_blocks=5)
    assert sum(isinstance(m, GlobalContext) for m in model.gen.decoders.modules()) == 1
    assert not any(isinstance(m, GlobalContext) for m in model.gen.encoders.modules())
    z = model.gen.encode(batch(cfg)["A"], "A")
    model.gen.decode(z, "B").sum().backward()
    with pytest.raises(UserError, match="global_context"):
        build("baseline", model__global_context=8, model__latent="vector")
    with pytest.raises(UserError, match="global_context must be >= 0"):
        build("baseline", model__global_context=-1)


def test_style_settings_are_checked() -> None:
    with pytest.raises(UserError, match="loss.style"):
        build("baseline", loss__style=1.0)
    with pytest.raises(UserError, match="style_dim"):
        build("baseline", model__style_dim=-1)
    model, cfg = build("baseline")
    z = model.gen.encode(batch(cfg)["A"], "A")
    with pytest.raises(UserError, match="no style code"):
        model.gen.decode(z, "B", torch.zeros(2, 4))


@pytest.mark.parametrize("method", ["combogan", "bridge"])
def test_back_translation_reads_the_translation_as_a_fixed_image(method: str) -> None:
    """``loss.back_translate``: the cycle and semantic terms reach the way back (EN_b, DE_a)
    but not the translation x_ab itself; without it they reach x_ab too; the values are the
    same either way."""
    values = {}
    for detached in (False, True):
        model, cfg = build(method, loss__back_translate=detached, loss__semantic=1.0)
        x = batch(cfg, n=3)
        w = {"cycle": 1.0, "semantic": 1.0}  # the read-back terms alone
        loss, named, f = GenObjective(cfg, model.gen, model.dis)(x, [("A", "B")], w)
        x_ab = f.x_ab("A", "B")
        (grad,) = torch.autograd.grad(loss, x_ab, allow_unused=True, retain_graph=True)
        assert (grad is None or not grad.any()) if detached else bool(grad.abs().sum() > 0)
        loss.backward()
        reached = [p for p in model.gen.parameters() if p.grad is not None and p.grad.any()]
        assert reached  # the way back still trains
        values[detached] = float(loss.detach())
    assert values[True] == pytest.approx(values[False])


def test_multi_scale_discriminators_judge_pooled_images_and_weigh_each_scale_alike() -> None:
    """``model.disc_scales=2``: D_d is two PatchGANs, the second judging the image pooled by 2;
    the coarse logits fill the fine grid, so a GAN loss's mean weighs both scales alike, and
    the discriminator phase trains both. One scale is the plain chain, as before."""
    from torch.nn import functional as F

    model, cfg = build("bridge", model__disc_scales=2)  # tiny: 16 px, two stride-2 layers
    d = model.dis.image["A"]
    fine, coarse = d.scales
    x = torch.randn(3, 3, 16, 16)
    out, c = d(x), coarse(F.avg_pool2d(x, 2))
    assert out.shape == (3, 2, 4, 4) and c.shape == (3, 1, 2, 2)
    torch.testing.assert_close(out[:, :1], fine(x))
    torch.testing.assert_close(out[:, 1:], c.repeat_interleave(2, -2).repeat_interleave(2, -1))
    both = losses.gan_generator(out, "lsgan")
    each = (losses.gan_generator(fine(x), "lsgan") + losses.gan_generator(c, "lsgan")) / 2
    torch.testing.assert_close(both, each)
    weights = terms.weights(cfg.loss, step=10**6, warmup=0)
    pairs = step_pairs(DOMAINS, "all", seed=0, step=0)
    gen_obj = GenObjective(cfg, model.gen, model.dis)
    _, _, fwd = gen_obj(batch(cfg), pairs, weights)
    loss, _ = DisObjective(gen_obj, model.dis)(
        fwd, pairs, terms.discriminator_weights(cfg.loss, weights)
    )
    loss.backward()
    g = _grads(model.dis)
    assert any(".scales.1." in n for n in g) and all(g.values()), g
    one, _ = build("bridge", model__disc_scales=1)
    assert not any("scales" in k for k in one.dis.state_dict())  # old checkpoints still load
    with pytest.raises(UserError, match="model.disc_scales must be >= 1"):
        build("bridge", model__disc_scales=0)
    # 16 px pooled 3 times is 2 px, too small for two stride-2 layers: the message names what fits
    with pytest.raises(UserError, match=r"at 16 px at most 3 fit.*model.disc_scales=3"):
        build("bridge", model__disc_scales=4)
    build("bridge", model__disc_scales=3)  # 4 px at the coarsest: one logit
