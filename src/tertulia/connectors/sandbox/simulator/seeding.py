"""The simulator's only source of randomness."""

from __future__ import annotations

import random


def seeded(*parts: object) -> random.Random:
    """A generator determined by `parts` alone.

    A str seed is hashed with SHA-512 by `random.seed` (version 2), not with
    `hash()`, so it gives the same stream in every process and on every run.
    This is simulation, not security: the predictability is the point.
    """
    return random.Random(":".join(str(p) for p in parts))  # noqa: S311 - seeded simulation, not security
