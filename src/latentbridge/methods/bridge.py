"""``bridge``: this project's own recipe for short budgets, tuned on the faces benchmark
(docs/RESULTS.md holds the runs that chose it and what each change bought).

One encoder and one decoder for all domains with a domain flag (``cogan_full``'s sharing, image
discriminators sharing their last layers), cycle consistency (ComboGAN), and a low-frequency
colour-consistency prior (``loss.color``: x and x_ab agree on a 4x4 grid of mean colours, the
prior face-to-cartoon tools use to keep skin and hair colour). The balance is the point: the GAN
weighs 3 against cycle 5 and colour 3 (with the papers' gan 1 / cycle 10 the translations stay
noisy copies of the input, far from the target domain, and the target domain's classifier cannot
read them). The auto-encoders are warm-started for 200 steps (recon only) before the GAN and
cycle terms switch on. Reconstruction weighs 30 (was 10 until 2026-11-27 23:25): at the demo's
budget the auto-encoders themselves lost part of every attribute, and the heavier weight raised
attribute preservation in 3 of 3 paired seeds (+0.02 to +0.04, docs/RESULTS.md). The learning
rate is 1e-3 (was the papers' 2e-4 until 2026-11-28 01:45): at the demo's ~1,300 steps the
auto-encoders were still blurred, and the higher rate raised preservation by 0.06-0.07 in each of
three seeds (2e-3 and Adam's beta1 = 0.9 were worse; docs/RESULTS.md). Translations come from a
moving average of the generator's weights over ~200 steps (``train.ema=0.995``, since
2026-11-29): at Adam 1e-3 the averaged weights kept more of the subject than the trained ones in
5 of 6 paired 7-minute runs (-0.008 to +0.061, +0.030 on average) and by +0.12 in the demo; at
2e-4 the average had changed nothing. The pixel cycle stays although it costs 30 % of a step:
at 7 minutes the latent cycle (``loss.semantic``) in its place did as well, but over an hour it
collapsed to one face per direction after ~6,000 steps (docs/RESULTS.md). The decoder doubles
its side with 4x4 transposed convolutions (``model.up=transpose``, since 2026-11-29; was nearest
up-sampling + 3x3 conv): a cheaper step (15-25 % more steps in the same minutes) whose
auto-encoders keep more, ahead of nearest up-sampling in 3 of 4 same-seed 7-minute pairs (-0.020
to +0.087, +0.035 on average; docs/RESULTS.md). A local self-similarity prior (``loss.selfsim=3``,
since 2026-12-02: within every 5x5 neighbourhood of the half-size images, x_ab groups its pixels as
x does, whatever the colours) keeps hair length across (+0.06 to +0.12 photo->cartoon) and raised
mean preservation in 3 of 3 paired 7-minute seeds (+0.014 to +0.033; weight 10 lost 0.13), and
on digits in 2 of 2 (+0.08, +0.12). Each image discriminator judges the image at three scales
(``model.disc_scales=3``, since 2026-12-05: the image, and the image pooled by 2 and by 4, as
pix2pixHD, UNIT and MUNIT do): ahead in 3 of 3 paired 7-minute faces seeds (+0.011 to +0.016,
mostly cartoon->photo) and on digits (+0.010), though a step costs about a sixth more; at the
demo's own budget three scales against one were a wash over three seeds (mean -0.015 to +0.027).
Instance norm stays, though U-GAT-IT's layer-instance norm (``model.norm=lin``) keeps more on
faces (the demo trains with it; its best hours 0.848 and 0.851 mean against 0.830): on digits,
beside the colour prior, it lets the translations into MNIST keep the printed digits' colours
and halves printed->MNIST (docs/RESULTS.md, "The layer-instance norm for the demo").
"""

from latentbridge.methods.base import Method

METHOD = Method(
    name="bridge",
    summary="full sharing + cycle + colour and self-similarity priors, GAN-heavy balance, AE warm "
    "start, Adam 1e-3, weight average, transposed up-sampling, 3-scale critics (this project's)",
    overrides={
        "sharing.full": True,
        "sharing.flag": "both",
        "sharing.disc_layers": 3,
        "loss.recon": 30.0,
        "loss.gan": 3.0,
        "loss.cycle": 5.0,
        "loss.color": 3.0,
        "train.warmup": 200,
        "train.lr": 1e-3,
        "train.ema": 0.995,
        "model.up": "transpose",
        "loss.selfsim": 3.0,
        "model.disc_scales": 3,
    },
    paper="latentbridge (docs/RESULTS.md); sharing from Liu & Tuzel 2016, cycle from Anoosheh et al. 2018",
)
