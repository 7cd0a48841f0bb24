"""What a configuration must hold before a model is built from it: the image size against the
encoder's and the discriminators' halvings, the sharing against the blocks there are, each loss
weight and its options, the training schedules. Each refusal is a `UserError` that says why."""

from __future__ import annotations

from collections.abc import Sequence

from latentbridge import augment, terms
from latentbridge.config import Config, name_list
from latentbridge.errors import UserError
from latentbridge.nn.networks import trunk_width


def check_config(cfg: Config, domains: Sequence[str]) -> None:
    """Reject configurations the networks cannot be built from, with a message that says why."""
    if len(domains) < 2:
        raise UserError(f"need at least 2 domains, got {len(domains)}")
    _check_shapes(cfg)
    _check_sharing(cfg)
    _check_losses(cfg, domains)
    _check_training(cfg)


def _check_shapes(cfg: Config) -> None:
    """The image size against the halvings of the encoder and the discriminators, the code."""
    size, m = cfg.data.size, cfg.model
    if not 16 <= size <= 256:
        raise UserError(f"data.size must be between 16 and 256, got {size}")
    if size % 2**m.down or size // 2**m.down < 2:
        raise UserError(f"data.size={size} cannot be halved model.down={m.down} times (min side 2)")
    if size % 2**m.disc_layers or size // 2**m.disc_layers < 1:
        raise UserError(f"data.size={size} is too small for model.disc_layers={m.disc_layers}")
    if m.disc_scales < 1:
        raise UserError(f"model.disc_scales must be >= 1, got {m.disc_scales}")

    def judged(scales: int) -> bool:  # the coarsest scale still takes disc_layers halvings
        side = size >> (scales - 1)
        return side >= 2**m.disc_layers and side % 2**m.disc_layers == 0

    if not judged(m.disc_scales):
        fits = max(s for s in range(1, m.disc_scales) if judged(s))
        raise UserError(
            f"model.disc_scales={m.disc_scales} is too many at data.size={size}: the coarsest "
            f"scale, {size} px halved {m.disc_scales - 1} times, must still be divisible by "
            f"2**model.disc_layers={2**m.disc_layers}; at {size} px at most {fits} fit(s) "
            f"(--set model.disc_scales={fits}, or fewer model.disc_layers)"
        )
    if m.latent_channels < 0 or (m.latent_channels and m.latent == "vector"):
        raise UserError(
            "model.latent_channels must be >= 0 (0 = the encoder's width) and sizes a spatial "
            f"code only (a vector code has model.latent_dim), got {m.latent_channels}"
        )
    if m.style_dim < 0:
        raise UserError(f"model.style_dim must be >= 0 (0 = no style code), got {m.style_dim}")
    if m.global_context < 0 or (m.global_context and m.latent == "vector"):
        raise UserError(
            "model.global_context must be >= 0 (0 = none) and needs a spatial code (a vector "
            f"code is global already), got {m.global_context} with model.latent={m.latent}"
        )


def _check_sharing(cfg: Config) -> None:
    """How many blocks can be shared: as many as the networks have, counted from either end."""
    m = cfg.model
    # EN ends with a 1x1 projection to the code's channels, and DE begins with a 1x1 block back
    # to its width unless a style merge does that
    projected = m.latent_channels > 0
    widened = projected and m.latent_channels != trunk_width(m) and not m.style_dim
    n_enc = 1 + m.down + m.res_blocks + (m.latent == "vector") + projected
    if not -n_enc <= cfg.sharing.enc_blocks <= n_enc:
        raise UserError(f"sharing.enc_blocks must be in -{n_enc}..{n_enc} for this model")
    n_dec = 1 + m.down + m.res_blocks + (m.latent == "vector") + widened + (m.global_context > 0)
    if not -n_dec <= cfg.sharing.dec_blocks <= n_dec:
        raise UserError(f"sharing.dec_blocks must be in -{n_dec}..{n_dec} for this model")
    if not 0 <= cfg.sharing.disc_layers <= m.disc_layers + 1:
        raise UserError(f"sharing.disc_layers must be in 0..{m.disc_layers + 1}")


def _check_losses(cfg: Config, domains: Sequence[str]) -> None:
    """The loss terms' own settings: scales within the image, positive temperatures and
    margins, augmentations that exist, domains the data has."""
    size, loss = cfg.data.size, cfg.loss
    for key in ("color_size", "palette_size", "edge_scale", "cycle_scale", "selfsim_scale"):
        value = getattr(loss, key)
        if not 1 <= value <= size // 2:
            raise UserError(f"loss.{key} must be between 1 and data.size / 2, got {value}")
    window = loss.selfsim_window
    if window < 3 or window % 2 == 0 or window > size // loss.selfsim_scale:
        raise UserError(
            "loss.selfsim_window must be odd, >= 3 and at most data.size / loss.selfsim_scale, "
            f"got {window}"
        )
    if loss.nce_temperature <= 0 or loss.nce_patches < 1:
        raise UserError(
            "loss.nce_temperature must be > 0 and loss.nce_patches >= 1, got "
            f"{loss.nce_temperature} and {loss.nce_patches}"
        )
    try:
        augment.parse(loss.diffaug)
    except ValueError as e:
        raise UserError(f"loss.diffaug: {e}") from None
    # every term's weight (a negative one would read as "off" without a word) and the noises
    for key in (*terms.GEN_TERMS, "r1", "cycle_noise", "input_noise"):
        if getattr(loss, key) < 0:
            raise UserError(f"loss.{key} must be >= 0 (0 = off), got {getattr(loss, key)}")
    if loss.travel_margin <= 0 or loss.travel_dim < 1:
        raise UserError(
            "loss.travel_margin must be > 0 and loss.travel_dim >= 1, got "
            f"{loss.travel_margin} and {loss.travel_dim}"
        )
    if (loss.teacher > 0 or loss.teacher_keep > 0) and not loss.teacher_net:
        raise UserError(
            "loss.teacher and loss.teacher_keep read a feature network: set loss.teacher_net to "
            "a TorchScript file or package.module:attribute"
        )
    if loss.feature_match > 0 and loss.gan <= 0:
        raise UserError(
            "loss.feature_match reads the image critics, which train with loss.gan: set "
            "loss.gan > 0"
        )
    if loss.style > 0 and not cfg.model.style_dim:
        raise UserError("loss.style reads the translations' style codes: set model.style_dim > 0")
    for key in ("cycle_from", "negative_from", "relight_from"):
        unknown = set(name_list(getattr(loss, key))) - set(domains)
        if unknown:
            raise UserError(
                f"loss.{key} names {sorted(unknown)}, not domains of the data {list(domains)}"
            )


def _check_training(cfg: Config) -> None:
    """Schedules within their ranges, and no compiled step where a term needs double backward."""
    t = cfg.train
    if cfg.loss.r1 > 0 and t.compile != "off":
        raise UserError(
            "loss.r1 differentiates the discriminators' gradients, and torch.compile has no "
            "double backward: leave train.compile off with loss.r1"
        )
    if not 0 <= t.lr_decay <= 1:
        raise UserError(f"train.lr_decay must be in [0, 1] (0 = off), got {t.lr_decay}")
    if not 0 <= t.ema < 1:
        raise UserError(f"train.ema must be in [0, 1) (0 = off), got {t.ema}")
