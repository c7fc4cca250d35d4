"""The latent noise that keeps the painting wandering on its own, even without a signal."""

from __future__ import annotations

import numpy as np


class LatentDrift:
    """A noise vector that glides smoothly through random points of the latent space.

    The path is a Catmull-Rom spline through Gaussian key points, rescaled to the typical
    length ``sqrt(noise_dim)`` of a Gaussian vector. It depends only on the seed and the total
    time stepped, not on how that time was cut into steps, so it looks the same at any rate.

    Parameters
    ----------
    noise_dim : int
        Length of the noise vector (0 gives empty vectors).
    seed : int
        Seed of the key points.
    speed : float
        Key points passed per second (0.1: one every 10 s); 0 stands still.
    """

    def __init__(self, noise_dim: int, seed: int = 0, speed: float = 0.1) -> None:
        if noise_dim < 0 or speed < 0:
            raise ValueError("noise_dim and speed must not be negative")
        self.noise_dim = int(noise_dim)
        self.speed = float(speed)
        self._rng = np.random.default_rng(seed)
        self._keys = [self._draw() for _ in range(4)]  # the spline runs between keys 1 and 2
        self._u = 0.0

    @property
    def current(self) -> np.ndarray:
        """The noise vector at the current time, float32 (noise_dim,)."""
        p0, p1, p2, p3 = self._keys
        u = self._u
        # Catmull-Rom: passes through p1 (u=0) and p2 (u=1) with matching slopes at the keys.
        point = 0.5 * (
            2 * p1
            + (p2 - p0) * u
            + (2 * p0 - 5 * p1 + 4 * p2 - p3) * u * u
            + (3 * p1 - p0 - 3 * p2 + p3) * u * u * u
        )
        norm = float(np.linalg.norm(point))
        if norm > 0:
            point = point * (np.sqrt(self.noise_dim) / norm)
        return point.astype(np.float32)

    def step(self, dt: float) -> np.ndarray:
        """Advance ``dt`` seconds and return the noise vector, float32 (noise_dim,)."""
        self._u += max(float(dt), 0.0) * self.speed
        while self._u >= 1.0:
            self._u -= 1.0
            self._keys = self._keys[1:] + [self._draw()]
        return self.current

    def _draw(self) -> np.ndarray:
        return self._rng.standard_normal(self.noise_dim)
