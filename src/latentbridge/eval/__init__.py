"""Evaluation: per-domain attribute classifiers, feature networks and pure metric functions.

``classifier`` trains the small CNN that judges *semantic preservation* (does the target domain's
classifier read the source's attributes off the translation?) and whose penultimate layer is the
feature space of KID/FID; ``metrics`` holds the metric functions (tensors in, numbers out).
Import the submodules directly; this package imports nothing heavy.
"""
