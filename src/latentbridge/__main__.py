"""`python -m latentbridge ...` (also what `torchrun -m latentbridge` starts)."""

from latentbridge.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
