"""The one source of defaults: frozen dataclasses, YAML files and ``--set a.b=c`` overrides.

Resolution order (later wins): dataclass defaults -> the method preset -> a YAML file -> ``--set``.
Every key is checked against the dataclass fields; an unknown key or a badly typed value raises
:class:`~latentbridge.errors.UserError` naming the valid keys.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import yaml

from latentbridge.errors import UserError

Norm = Literal["instance", "group", "batch", "lin", "none"]
GanType = Literal["lsgan", "nonsat", "hinge"]
DistanceType = Literal["l1", "l2", "cosine"]
Precision = Literal["auto", "fp32", "bf16", "fp16"]
# torch.compile modes without CUDA graphs: a step runs each network several times before its
# backward, which CUDA-graph replay cannot do (measured: docs/PERFORMANCE.md, section C)
CompileMode = Literal["off", "default", "max-autotune-no-cudagraphs"]


@dataclass(frozen=True)
class DataConfig:
    size: int = 32  # image side in px (square), 16..256; images are resized and centre-cropped
    flip: bool = False  # random horizontal flips (deterministic in seed, step and sample)
    workers: int = 1  # batches prepared ahead in background threads (0 = in the training loop)


@dataclass(frozen=True)
class ModelConfig:
    width: int = 32  # channels after the stem; doubled at every down-sampling
    max_width: int = 256  # channel cap
    down: int = 2  # down-samplings in the encoder (latent side = size / 2**down)
    res_blocks: int = 2  # residual blocks at the end of the encoder and start of the decoder
    # normalisation in encoder and decoder blocks; "lin": U-GAT-IT's layer-instance norm, a
    # learned per-channel mix rho * instance + (1 - rho) * layer normalisation (rho in [0, 1])
    norm: Norm = "instance"
    # the decoder's normalisation, if not ``norm`` ("same"): U-GAT-IT keeps instance norm in the
    # encoder and draws with "lin" (its residual blocks start at rho 0.9, its up-sampling at 0)
    decoder_norm: Literal["same", "instance", "group", "batch", "lin", "none"] = "same"
    up: Literal["nearest", "transpose"] = "nearest"  # decoder up-sampling
    latent: Literal["spatial", "vector"] = "spatial"  # a (C, h, w) latent, or a flat vector
    latent_dim: int = 256  # size of the vector latent (latent=vector only)
    # channels of a spatial code (0 = the encoder's last width, min(width * 2**down, max_width)):
    # a 1x1 linear projection ends the encoder and a 1x1 block begins the decoder, so the code can
    # be narrower than the networks, a bottleneck that holds less of the image than its pixels
    # (the two 1x1 blocks count as blocks for sharing.enc_blocks and sharing.dec_blocks)
    latent_channels: int = 0
    # a per-image style code s beside the content code z (MUNIT's content / style split; 0 =
    # none): ES_d(x) reads s from an image, DE_d(z, s) draws with it. A translation draws its
    # style from N(0, I) in training and uses s = 0 otherwise; the reconstruction and the cycle's
    # way back use the source image's own s, so its pose, light and grain need not ride through
    # the other domain's image
    style_dim: int = 0
    # hidden units of a global-context block at the decoder's start (ParseNet; 0 = none): the
    # code's mean over positions, through an MLP, added back to every position as a learnt
    # pattern, so the decoder draws each pixel knowing the whole face (spatial codes only)
    global_context: int = 0
    disc_width: int = 32  # image discriminator channels after its first layer
    disc_layers: int = 3  # stride-2 layers of the PatchGAN image discriminator
    disc_spectral: bool = False  # spectral normalisation in the image discriminators
    # each image discriminator is this many PatchGANs, the s-th judging the image average-pooled
    # by 2**s (pix2pixHD, UNIT, MUNIT): the coarse ones see a whole face's layout at once, the
    # fine one its strokes; every scale weighs the same in the GAN losses. 1 = one PatchGAN
    disc_scales: int = 1
    latent_disc_width: int = 128  # hidden width of the latent domain discriminator


@dataclass(frozen=True)
class SharingConfig:
    # the last k encoder blocks are one module shared by all domains; k < 0: all but the first -k
    enc_blocks: int = 0
    # the first k decoder blocks are one module shared by all domains; k < 0: all but the last -k
    dec_blocks: int = 0
    disc_layers: int = 0  # the last j layers of the image discriminators are shared
    full: bool = False  # one encoder and one decoder for all domains, told the domain by a flag
    flag: Literal["channel", "norm", "both"] = "both"  # how a fully shared net learns the domain
    # the fully shared encoder is told the domain too (false: a domain-blind encoder, one
    # function for every domain's images; only the decoder knows which domain it draws)
    flag_encoder: bool = True
    # every domain's own (unshared) copy of an encoder / decoder block starts from the same
    # weights: at step 0 EN_a = EN_b and DE_a = DE_b, so codes and colours start aligned and the
    # alignment terms keep them so (with independent inits the per-domain layers of cogan, unit,
    # combogan and xgan mapped skin and hair to the wrong colours; docs/RESULTS.md, "One
    # initialisation for every domain"). false: the papers' independent initialisations
    tied_init: bool = True


@dataclass(frozen=True)
class LossConfig:
    recon: float = 10.0  # x ~ DE_a(EN_a(x))
    recon_type: Literal["l1", "l2"] = "l1"
    recon_grad: float = 0.0  # x_aa's finite differences ~ x's (sharper strokes than recon alone)
    gan: float = 1.0  # D_b judges x_ab
    gan_recon: float = 0.0  # D_a also judges reconstructions x_aa
    # x_ab's batch has the batch means of D_b's hidden activations that real images of b have
    # (Salimans et al. 2016's feature matching, beside the GAN; losses.feature_matching)
    feature_match: float = 0.0
    gan_type: GanType = "lsgan"
    # CoGAN's coupled generation: one draw z ~ N(0, I) of a code's shape is decoded by every
    # domain's decoder, and D_b judges DE_b(z). With shared decoder blocks the domains' samples of
    # one draw are pushed to be corresponding images (Liu & Tuzel 2016), learned without pairs
    gan_prior: float = 0.0
    # EN_b reads DE_b(z) back as a fixed image and is asked for z (L1): the encoder inverts the
    # coupled generator, as CoGAN translates a given image by searching for its z
    invert: float = 0.0
    # gradient penalty of the image discriminators on real images, r1 * mean ||grad_x D_b(x_b)||^2
    # (Mescheder et al. 2018; StyleGAN2, StarGAN v2): keeps D smooth around the data
    r1: float = 0.0
    diffaug: str = ""  # D sees real and fake images augmented, e.g. "color,translation,cutout"
    latent_adv: float = 0.0  # encoders fool the latent domain discriminator (Lample et al.)
    moments: float = 0.0  # z of every domain has the same per-coordinate batch mean and std
    # z of every class has the same mean in every domain, per attribute of labels.csv: uses the
    # training images' labels (in >= 2 domains), so NOT unsupervised; a measure of what aligned
    # codes would buy, and for data whose domains come labelled (losses.class_centroid_distance)
    labels: float = 0.0
    # means: the class means as above; prototypes: every code is classified, by its squared
    # distance, among the class means of all labelled domains pooled (prototypical networks), so
    # each class must also stand out of the code's other variation, in the same place in every
    # domain (losses.prototype_classification)
    labels_type: Literal["means", "prototypes"] = "means"
    # std of Gaussian noise added to x (in [-1, 1]) before EN_a reads it in training; every term
    # still compares with the clean x (denoising auto-encoders: codes and decoders learn to
    # ignore pixel grain, so a grainy domain's grain is not drawn into a flat one)
    input_noise: float = 0.0
    cycle: float = 0.0  # x ~ x_aba (ComboGAN / CycleGAN)
    # CycleGAN's identity mapping: the a -> b translator leaves an image that is already in b
    # alone, x_b ~ DE_b(EN_a(x_b)) (Zhu et al. 2017; Taigman et al. 2017): a translation changes
    # no more than it must, and keeps the colours it has no need to change
    identity: float = 0.0
    # the translation of a mirrored image is the mirrored translation: x_ab ~ flip(DE_b(EN_a(
    # flip(x)))) (GcGAN's geometry consistency, Fu et al. 2019, with a horizontal flip): what
    # a translation adds that no mirror image would agree on (speckle, hidden codes) costs
    mirror: float = 0.0
    # the translation of an image's negative is the same translation: x_ab ~ DE_b(EN_a(-x))
    # for x of the domains in negative_from ("" = every domain): which of ink and ground is the
    # lighter is not content (printed digits, house numbers) and the translation may not keep
    # it. A prior for such domains; wrong where brightness is content (a face's skin tone)
    negative: float = 0.0
    negative_from: str = ""
    # the translation of the image re-exposed and re-white-balanced is the same translation:
    # x_ab ~ DE_b(EN_a(relight(x))) for x of the domains in relight_from ("" = every domain),
    # exposure drawn log-uniformly in [1/(1+relight_gain), 1+relight_gain] and a colour
    # temperature shift up to +-relight_warmth (augment.relight): how the camera exposed a photo
    # is not its subject's skin or hair colour. A prior for photographed domains
    relight: float = 0.0
    relight_from: str = ""
    relight_gain: float = 0.25
    relight_warmth: float = 0.12
    # translations into the domains of relight_from are re-exposed and re-white-balanced (as
    # above) before they are read back for the cycle (and semantic, nce) terms: the way back
    # learns to read a subject under any exposure from translations whose subject it knows
    cycle_relight: bool = False
    # std of Gaussian noise added to x_ab (in [-1, 1]) before EN_b reads it back for the cycle
    # (and semantic, nce) terms: the cycle cannot hide the source in faint patterns (Chu et al.)
    cycle_noise: float = 0.0
    # EN_b reads x_ab back as a fixed image, no gradient into x_ab, for the cycle (and semantic,
    # nce) terms: back-translation (Lample et al. 2018). They then teach the way back only, and
    # cannot teach the translation to hide its source in faint patterns
    back_translate: bool = False
    # the cycle compares x and x_aba average-pooled by this factor (1 = every pixel): a photo's
    # pixel noise and texture need not survive a trip through the other domain
    cycle_scale: int = 1
    # comma-separated domains whose own images make the cycle x -> x_ab -> x_aba ("" = every
    # domain): "cartoon" keeps cartoon -> photo -> cartoon and drops the trip that asks a
    # cartoon to carry a photo's grain and background back
    cycle_from: str = ""
    semantic: float = 0.0  # z ~ z_ab (XGAN semantic consistency)
    semantic_type: DistanceType = "l1"
    style: float = 0.0  # ES_b(x_ab) ~ the style x_ab was drawn with (MUNIT; needs model.style_dim)
    kl: float = 0.0  # Gaussian prior on z (UNIT's VAE); also samples z = mu + noise
    teacher: float = 0.0  # z agrees with a user-supplied feature network (XGAN's teacher)
    # x_ab keeps x's features in the same network: each batch's features standardised within
    # their own domain (x's among the real images of a, x_ab's against the real images of b),
    # then 1 - cosine. An identity loss for a face-embedding network; any image embedding that
    # both domains pass through (e.g. benchmarks/contrastive_teacher.py writes one)
    teacher_keep: float = 0.0
    teacher_net: str = ""  # a TorchScript file or "package.module:attribute"
    color: float = 0.0  # low-frequency colour consistency between x and x_ab
    color_size: int = 4  # side of the colour grid the colour term compares
    # compare the grids in each domain's own colour scale: x's pooled channels are carried into
    # the target domain's mean and std (measured on the step's real images of both domains), so
    # a domain drawn darker or paler as a whole (a shaded photo against a flat cartoon palette)
    # does not pull every translation towards its own brightness. "channel": one mean and std
    # per channel over the whole grid; "cell": per channel and grid cell (backgrounds and faces
    # each in their own scale); "none": raw colours
    color_standardize: Literal["none", "channel", "cell"] = "none"
    # the translations into b, as a batch, have b's distribution of colours on the colour grid
    # (``color_size``): per cell and channel, sorted against the step's real images of b
    color_dist: float = 0.0
    palette: float = 0.0  # x and x_ab have the same colours, wherever they are (sliced Wasserstein)
    palette_size: int = 8  # the palette term compares this many x this many pooled pixels
    edge: float = 0.0  # x and x_ab have their luminance edges in the same places (any colour)
    edge_scale: int = 2  # the edge term compares images average-pooled by this factor
    # x and x_ab group their pixels alike: each pixel's colour distances to its neighbours,
    # relative to their mean, agree (local self-similarity; any colour, any contrast)
    selfsim: float = 0.0
    selfsim_scale: int = 2  # the selfsim term compares images average-pooled by this factor
    selfsim_window: int = 5  # side of the neighbourhood each pixel is compared with (odd)
    # x_ab is no busier than the target domain's real images (mean absolute difference of
    # neighbouring pixels above the real batch's mean is penalised): no speckle in flat domains
    detail: float = 0.0
    # TraVeLGAN's transformation vectors: a siamese network S (trained with the generators)
    # embeds images of every domain, and the vector from one image of the batch to another,
    # S(x_i) - S(x_j), points the same way and is as long after translation as before (cosine +
    # squared distance); S keeps distinct images of a domain at least travel_margin apart so it
    # cannot collapse to a constant (its term, travel_margin, is weighted by travel too). What
    # all images of a domain share may change; what tells one subject from another may not
    travel: float = 0.0
    travel_margin: float = 1.0
    travel_dim: int = 64  # size of S's embedding
    # DistanceGAN: two images' distance (mean |x_i - x_j|) standardised among their domain's
    # pairs is the same after translation, standardised among the target domain's pairs
    distance: float = 0.0
    nce: float = 0.0  # z_ab identifies its own position and image in z (PatchNCE on the code)
    nce_temperature: float = 0.07  # temperature of the nce term's softmax
    nce_patches: int = 64  # latent positions per image the nce term samples
    ramp_steps: int = 0  # the alignment terms (terms.RAMPED_TERMS) ramp from 0 over N steps


@dataclass(frozen=True)
class TrainConfig:
    batch_size: int = 16  # images per domain per step, over all ranks and accumulation steps
    lr: float = 2e-4  # Adam learning rate of the generators (encoders + decoders)
    lr_d: float = 0.0  # learning rate of the discriminators (0 = same as lr)
    beta1: float = 0.5
    beta2: float = 0.999
    weight_decay: float = 0.0
    lr_step: int = 0  # multiply the learning rates by lr_gamma every lr_step steps (0 = constant)
    lr_gamma: float = 0.5
    # the rates fall linearly to 0 over this last fraction of the run's budget (--steps or
    # --minutes; CycleGAN's schedule); 0 = constant. With --minutes the fraction is of the wall
    # time of this invocation, so a resumed run decays over its own new budget
    lr_decay: float = 0.0
    steps: int = 2000  # default length of a run (--steps / --minutes override it)
    warmup: int = 0  # first N steps train the auto-encoders only (recon and kl)
    pairs: Literal["all", "random"] = "all"  # every ordered domain pair per step, or one random
    save_every: int = 500  # checkpoint interval in steps (and one at the end)
    sample_every: int = 250  # PNG sample grid interval in steps
    log_every: int = 10  # TensorBoard / log.jsonl interval in steps
    keep: int = 3  # periodic checkpoints kept besides last.pt (0 = keep all)
    # autocast dtype; auto = bf16 where the device computes it natively, else fp32
    precision: Precision = "auto"
    # torch.compile every network (fused kernels) with this mode; the first steps compile
    compile: CompileMode = "off"
    accumulate: int = 1  # micro-batches per optimizer step (gradient accumulation)
    # decay of a moving average of the generator's weights that translate/eval use (0 = off;
    # train/ema.py): 0.999 averages over the last ~1,000 steps
    ema: float = 0.0
    seed: int = 0


@dataclass(frozen=True)
class Config:
    method: str = "baseline"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    sharing: SharingConfig = field(default_factory=SharingConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


def name_list(value: str) -> list[str]:
    """The names of a comma-separated option such as ``loss.cycle_from`` ("" = none)."""
    return [n.strip() for n in value.split(",") if n.strip()]


def to_dict(cfg: Any) -> dict[str, Any]:
    """The config as nested plain dicts (what ``config.yaml`` and checkpoints hold)."""
    return dataclasses.asdict(cfg)


def valid_keys(cls: type = Config, prefix: str = "") -> list[str]:
    """Every dotted key a config accepts, e.g. ``["method", "data.size", ...]``."""
    keys: list[str] = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if dataclasses.is_dataclass(hints[f.name]):
            keys += valid_keys(hints[f.name], f"{prefix}{f.name}.")
        else:
            keys.append(prefix + f.name)
    return keys


def _check_value(key: str, value: Any, hint: Any) -> Any:
    origin = get_origin(hint)
    if origin is Literal:
        if value not in get_args(hint):
            raise UserError(f"{key} must be one of {list(get_args(hint))}, got {value!r}")
        return value
    if origin in (Union, types.UnionType):
        for arg in get_args(hint):
            try:
                return _check_value(key, value, arg)
            except UserError:
                continue
        raise UserError(f"{key} must be {hint}, got {value!r}")
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is type(None) and value is None:
        return None
    if hint in (int, float, str, bool) and type(value) is hint:
        return value
    if hint is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise UserError(f"{key} must be of type {getattr(hint, '__name__', hint)}, got {value!r}")


def did_you_mean(name: str, choices: list[str]) -> str:
    """`` (did you mean 'x'?)`` for the choice closest to a mistyped ``name``, or ``""``."""
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _unknown_key(key: str) -> UserError:
    valid = valid_keys()
    return UserError(
        f"unknown config key {key!r}{did_you_mean(key, valid)}; valid keys: {', '.join(valid)}"
    )


def replace(cfg: Any, updates: dict[str, Any], prefix: str = "") -> Any:
    """A copy of ``cfg`` with dotted-key ``updates`` applied, each checked against its type."""
    hints = typing.get_type_hints(type(cfg))
    nested: dict[str, dict[str, Any]] = {}
    flat: dict[str, Any] = {}
    for key, value in updates.items():
        head, _, rest = key.partition(".")
        if head not in hints:
            raise _unknown_key(prefix + key)
        sub = hints[head]
        if dataclasses.is_dataclass(sub):
            if not rest:
                if not isinstance(value, dict):
                    raise UserError(
                        f"{prefix + head} is a section; set its keys, e.g. {prefix}{head}.<key>"
                    )
                nested.setdefault(head, {}).update(value)
            else:
                nested.setdefault(head, {})[rest] = value
        elif rest:
            raise _unknown_key(prefix + key)
        else:
            flat[head] = _check_value(prefix + key, value, sub)
    for head, sub_updates in nested.items():
        flat[head] = replace(getattr(cfg, head), sub_updates, f"{prefix}{head}.")
    return dataclasses.replace(cfg, **flat)


def from_dict(data: dict[str, Any]) -> Config:
    """Build a config from nested dicts (a loaded ``config.yaml`` or a checkpoint)."""
    return replace(Config(), data)


def parse_set(items: list[str]) -> dict[str, Any]:
    """Parse ``["a.b=1", "c=x"]``; values are YAML scalars (``1`` int, ``1e-3`` float, ``true``)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise UserError(f"--set takes key=value, got {item!r}")
        try:
            value = yaml.safe_load(raw) if raw else ""
        except yaml.YAMLError:
            value = raw
        # YAML 1.1 reads "1e-3" as a string; accept it as a float.
        if isinstance(value, str):
            try:
                value = float(value) if any(c in value for c in ".eE") else value
            except ValueError:
                pass
        out[key.strip()] = value
    return out


def load_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML config file into nested dicts (checked later by :func:`replace`)."""
    if not path.is_file():
        raise UserError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise UserError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(data, dict):
        raise UserError(f"{path} must hold a mapping of config keys")
    return data


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out


def changed(cfg: Config, base: Config) -> dict[str, Any]:
    """The keys of ``cfg`` whose value differs from ``base``'s, nested as in ``config.yaml``;
    ``method`` always (it names the preset the others are applied to)."""
    flat, ref = flatten(to_dict(cfg)), flatten(to_dict(base))
    out: dict[str, Any] = {"method": cfg.method}
    for key, value in flat.items():
        if key != "method" and value != ref[key]:
            *parents, leaf = key.split(".")
            node = out
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = value
    return out


def to_yaml(data: dict[str, Any]) -> str:
    """Nested config keys as YAML, in the config's own order (what :func:`load_yaml` reads)."""
    return yaml.safe_dump(data, sort_keys=False)


def dump_yaml(cfg: Config, path: Path) -> None:
    """Write the resolved config (every key, with its value) to ``path``."""
    path.write_text(to_yaml(to_dict(cfg)))
