"""latentbridge: unpaired image-to-image translation through one latent space shared by all domains."""

from __future__ import annotations

__version__ = "0.1.0"

from latentbridge.api import Pipeline, load  # noqa: E402

__all__ = ["Pipeline", "__version__", "load"]
