"""The One-Euro filter (Casiez, Roussel, Vogel 2012) on arrays: little lag on fast motion,
strong smoothing when still."""

from __future__ import annotations

import numpy as np

MIN_CUTOFF = 1.5  # Hz
BETA = 0.3
D_CUTOFF = 1.0  # Hz


def _alpha(cutoff: float, dt: float) -> float:
    tau = 1.0 / (2.0 * np.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuro:
    """Filter one array-valued signal sampled at ``rate`` Hz; ``__call__(x)`` returns the
    filtered value (same shape as x). The speed term uses the largest component's speed, so
    all components of a landmark set are filtered alike."""

    def __init__(
        self, rate: float, min_cutoff: float = MIN_CUTOFF, beta: float = BETA, d_cutoff: float = D_CUTOFF
    ) -> None:
        self.dt = 1.0 / float(rate)
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self._x: np.ndarray | None = None
        self._dx = 0.0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if self._x is None:
            self._x = x.copy()
            return x.copy()
        speed = float(np.abs(x - self._x).max()) / self.dt
        a_d = _alpha(self.d_cutoff, self.dt)
        self._dx = a_d * speed + (1.0 - a_d) * self._dx
        cutoff = self.min_cutoff + self.beta * self._dx
        a = _alpha(cutoff, self.dt)
        self._x = a * x + (1.0 - a) * self._x
        return self._x.copy()
