"""What a run's decoders draw from the prior: ``n`` draws z ~ N(0, I) of the run's code shape,
each decoded by every domain's decoder (CoGAN's coupled generation, ``loss.gan_prior``), one row
per domain in a PNG; and how well each encoder reads its decoder's draws back (``loss.invert``'s
L1; 0.80 is what an encoder answering 0 scores).

    python benchmarks/prior_draws.py --run runs/dgP_coganB_gp_s0 --out prior_draws.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from latentbridge import api
from latentbridge.imaging import grid, save_png


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--n", type=int, default=12)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    args = p.parse_args()
    pipe = api.load(args.run, device=args.device)
    gen = pipe.gen.eval()
    blank = torch.zeros(1, 3, pipe.size, pipe.size, device=pipe.device)
    shape = pipe.encode(blank, pipe.domains[0]).shape[1:]
    z = torch.randn((args.n, *shape), generator=torch.Generator().manual_seed(args.seed))
    z = z.to(pipe.device)
    rows = []
    with torch.no_grad():
        for d in pipe.domains:
            x = gen.decode(z, d).clamp(-1, 1)
            back = (gen.encode(x, d) - z).abs().mean().item()
            print(f"{d}: code {tuple(shape)}, draws read back with L1 {back:.3f}")
            rows.append(x.cpu())
    save_png(grid(rows), args.out)
    print(f"rows ({', '.join(pipe.domains)}) in {args.out}")


if __name__ == "__main__":
    main()
