"""Errors that the command line turns into one line and a non-zero exit (never a traceback)."""

from __future__ import annotations


class UserError(Exception):
    """A mistake in what the user asked for (a bad option, a missing folder, an unknown name).

    The CLI prints ``error: <message>`` and exits with status 2.
    """


class TrainingDiverged(Exception):
    """A loss term became NaN or infinite; the message names the step, the term and the last
    good checkpoint. The CLI prints it and exits with status 3."""
