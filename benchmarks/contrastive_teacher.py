"""A feature network for ``loss.teacher_keep``, learned from a benchmark's unlabelled images.

A small CNN is trained contrastively (SimCLR's NT-Xent: two augmented views of an image must
pick each other out of the batch) on the training images of every domain together, with crops,
flips, small rotations, brightness, contrast and saturation changes, blur and noise — what an
image may undergo and stay the same subject. No label is read for training. The network is
saved as TorchScript (images (B, 3, H, W) in [-1, 1] -> features (B, dim)), which
``--set loss.teacher_keep=W --set loss.teacher_net=PATH`` reads.

Where the data has labels, the script then says how much of the subject the features carry
across domains: for each test image of one domain, its nearest training image of the other
domain (cosine, each domain's features standardised by their own mean and std, as
``loss.teacher_keep`` compares them) and how often the two share each attribute, beside chance
(the agreement of independent draws from the two domains' label frequencies), and beside the
same reading for the images' own pixels average-pooled to 8 x 8 (what any descriptor should beat).

    python benchmarks/contrastive_teacher.py --data /tmp/fd32n --out teacher.ts --minutes 12
    python benchmarks/contrastive_teacher.py --data /tmp/fd32n --load teacher.ts   # the reading only
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from latentbridge.data.folders import find_domains
from latentbridge.eval.labelled import DomainSet, load_split


def augment(x: Tensor, generator: torch.Generator) -> Tensor:
    """One random view of each image of ``x`` (B, 3, H, W) in [-1, 1]."""
    b = x.shape[0]

    def u(lo: float, hi: float) -> Tensor:
        return torch.rand(b, generator=generator) * (hi - lo) + lo

    scale, angle, flip = u(0.7, 1.0), u(-0.2, 0.2), torch.where(u(0, 1) < 0.5, -1.0, 1.0)
    tx, ty = u(-0.15, 0.15), u(-0.15, 0.15)
    cos, sin = scale * torch.cos(angle), scale * torch.sin(angle)
    theta = torch.stack(
        [torch.stack([cos * flip, -sin, tx], 1), torch.stack([sin * flip, cos, ty], 1)], 1
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, padding_mode="border", align_corners=False)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * u(0.6, 1.4).view(b, 1, 1, 1) + mean + u(-0.3, 0.3).view(b, 1, 1, 1)
    grey = x.mean(1, keepdim=True)
    x = grey + (x - grey) * u(0.5, 1.5).view(b, 1, 1, 1)
    blurred = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, 1)
    x = torch.where((u(0, 1) < 0.5).view(b, 1, 1, 1), blurred, x)
    noisy = (u(0, 1) < 0.5).view(b, 1, 1, 1)
    x = x + 0.05 * noisy * torch.randn(x.shape, generator=generator)
    return x.clamp(-1.5, 1.5)


def embedding(width: int = 32, dim: int = 128) -> nn.Module:
    """Four stride-2 blocks (width, 2, 4, 4 x width channels), global average: (B, dim)."""

    def block(cin: int, cout: int) -> list[nn.Module]:
        return [
            nn.Conv2d(cin, cout, 3, 1, 1),
            nn.BatchNorm2d(cout),
            nn.ReLU(),
            nn.Conv2d(cout, cout, 3, 2, 1),
            nn.BatchNorm2d(cout),
            nn.ReLU(),
        ]

    widths = [3, width, 2 * width, 4 * width, dim]
    layers = [m for i in range(4) for m in block(widths[i], widths[i + 1])]
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())


def nt_xent(z: Tensor, temperature: float) -> Tensor:
    """SimCLR's loss for 2N embeddings where rows i and i + N are two views of one image."""
    z = F.normalize(z, dim=1)
    sim = z @ z.t() / temperature
    sim = sim.masked_fill(torch.eye(len(z), dtype=torch.bool), float("-inf"))
    n = len(z) // 2
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(n)])
    return F.cross_entropy(sim, target)


def train_embedding(
    images: Tensor, *, minutes: float, steps: int, batch: int, seed: int, temperature: float = 0.2
) -> tuple[nn.Module, int]:
    """Train :func:`embedding` on ``images`` until ``steps`` or ``minutes``, whichever is first.
    Returns the network (eval mode) and the steps it trained."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net, head = embedding(), nn.Sequential(nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 64))
    opt = torch.optim.Adam([*net.parameters(), *head.parameters()], 1e-3)
    start, step = time.monotonic(), 0
    while step < steps and time.monotonic() - start < minutes * 60:
        x = images[torch.randint(len(images), (batch,), generator=gen)]
        loss = nt_xent(head(net(torch.cat([augment(x, gen), augment(x, gen)]))), temperature)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 100 == 0:
            print(f"step {step}: contrastive loss {loss.item():.3f}", flush=True)
    return net.eval(), step


@torch.no_grad()
def features(net: nn.Module, images: Tensor) -> Tensor:
    return torch.cat([net(images[i : i + 256]) for i in range(0, len(images), 256)])


def neighbour_agreement(
    source: Tensor, target: Tensor, source_labels: Tensor, target_labels: Tensor
) -> Tensor:
    """Per attribute, how often each source row's nearest target row (cosine, each side
    standardised by its own mean and std) has the same label. Labels (N, A)."""

    def standard(v: Tensor) -> Tensor:
        return F.normalize((v - v.mean(0)) / v.std(0).clamp_min(1e-4), dim=1)

    nearest = (standard(source) @ standard(target).t()).argmax(1)
    return (source_labels == target_labels[nearest]).float().mean(0)


def chance_agreement(a: Tensor, b: Tensor, num_classes: list[int]) -> Tensor:
    """Per attribute, the agreement of independent draws from the two label frequencies."""
    out = []
    for k, c in enumerate(num_classes):
        pa = torch.bincount(a[:, k], minlength=c).double() / len(a)
        pb = torch.bincount(b[:, k], minlength=c).double() / len(b)
        out.append(float((pa * pb).sum()))
    return torch.tensor(out)


def pooled_pixels(images: Tensor) -> Tensor:
    """The baseline descriptor: each image average-pooled to 8 x 8, flattened."""
    return F.adaptive_avg_pool2d(images, 8).flatten(1)


def report(
    net: nn.Module,
    data: Path,
    size: int,
    domains: list[str],
    train: dict[str, DomainSet] | None = None,
) -> None:
    """Cross-domain nearest-neighbour agreement, per direction, where the data has labels and
    a test split: of the network's features, and of the pooled pixels. ``train``: the training
    split when the caller has decoded it already."""
    from latentbridge.data.labels import read_attributes

    attrs = read_attributes(data)
    if attrs is None or not find_domains(data, "test"):
        print(f"{data} has no labelled test split: nothing to read the features against")
        return
    train = train or load_split(data, "train", size, domains)
    test = load_split(data, "test", size, domains)
    if any(s.labels is None for s in (*train.values(), *test.values())):
        print(f"{data} has images without labels: nothing to read the features against")
        return
    for a in domains:
        for b in domains:
            if a == b:
                continue
            src: DomainSet = test[a]
            tgt: DomainSet = train[b]
            assert src.labels is not None and tgt.labels is not None
            chance = chance_agreement(src.labels, tgt.labels, attrs.num_classes)
            for what, describe in (
                ("features", lambda x: features(net, x)),
                ("pixels", pooled_pixels),
            ):
                agree = neighbour_agreement(
                    describe(src.images), describe(tgt.images), src.labels, tgt.labels
                )
                each = ", ".join(
                    f"{n} {x:.2f} ({c:.2f})"
                    for n, x, c in zip(attrs.names, agree, chance, strict=True)
                )
                print(
                    f"{a}->{b} {what}: nearest {b} training image shares {agree.mean():.3f} of "
                    f"the attributes (chance {chance.mean():.3f}); {each}"
                )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="a benchmark folder (train split)")
    p.add_argument("--out", type=Path, help="the TorchScript file to write")
    p.add_argument("--load", type=Path, help="read this TorchScript network instead of training")
    p.add_argument("--size", type=int, default=32, help="image side the network is trained at")
    p.add_argument("--minutes", type=float, default=12.0)
    p.add_argument("--steps", type=int, default=1_000_000)
    p.add_argument("--batch", type=int, default=256, help="images per step (two views each)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    if (args.out is None) == (args.load is None):
        p.error("give --out (train a network) or --load (read one)")
    domains = sorted(find_domains(args.data, "train"))
    if args.load is not None:
        report(torch.jit.load(str(args.load)).eval(), args.data, args.size, domains)
        return
    train = load_split(args.data, "train", args.size, domains)
    images = torch.cat([s.images for s in train.values()])
    print(f"{len(images)} training images of {domains}, {args.size} px")
    net, steps = train_embedding(
        images, minutes=args.minutes, steps=args.steps, batch=args.batch, seed=args.seed
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.jit.script(net).save(str(args.out))
    print(f"wrote {args.out} after {steps} steps")
    report(net, args.data, args.size, domains, train)


if __name__ == "__main__":
    main()
