"""latentbridge: unpaired image-to-image translation through one latent space shared by all domains."""

from __future__ import annotations

__version__ = "0.1.0"
