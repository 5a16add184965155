"""Per-Gaussian draw attributes for the splat visual, computed once per result (numpy only).

The viewer never changes a result: it computes these arrays once when a Gaussians object
arrives, then filters and sorts by *indexing* them, so a slider move or a re-sort does no
maths on the covariances again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import geometry
from engine.gaussians import Gaussians


def covariances(gaussians: Gaussians, chunk: int = 262_144) -> np.ndarray:
    """World-space covariances as their 6 distinct entries (N,6) float32.

    Order: xx, xy, xz, yy, yz, zz of Sigma = R diag(s^2) R^T, with s = exp(log_scales).
    Computed in chunks so 1.5 M Gaussians need no (N,3,3) temporaries at once.
    """
    n = len(gaussians)
    out = np.empty((n, 6), dtype=np.float32)
    for start in range(0, n, chunk):
        sl = slice(start, min(n, start + chunk))
        cov = geometry.covariances(gaussians.quats[sl], np.exp(gaussians.log_scales[sl]), np.float32)
        out[sl] = cov[:, [0, 0, 0, 1, 1, 2], [0, 1, 2, 1, 2, 2]]
    return out


@dataclass(frozen=True)
class SplatArrays:
    """What the GPU needs per Gaussian, all float32 C-contiguous.

    pos  (N,3) centres; cov_a (N,3) = xx, xy, xz; cov_b (N,3) = yy, yz, zz;
    rgba (N,4) base colour clamped to [0,1] and opacity in (0,1);
    lod_rank (N,) a fixed random permutation rank in [0, N): the level-of-detail subset of
    fraction p is ``lod_rank < p * N``, so it is spatially uniform and stable across frames.
    """

    pos: np.ndarray
    cov_a: np.ndarray
    cov_b: np.ndarray
    rgba: np.ndarray
    lod_rank: np.ndarray

    def __len__(self) -> int:
        return int(self.pos.shape[0])

    @classmethod
    def from_gaussians(cls, gaussians: Gaussians, seed: int = 0) -> SplatArrays:
        cov = covariances(gaussians)
        rgba = np.empty((len(gaussians), 4), dtype=np.float32)
        rgba[:, :3] = np.clip(gaussians.colors, 0.0, 1.0)
        rgba[:, 3] = gaussians.opacities
        rank = np.empty(len(gaussians), dtype=np.int64)
        rank[np.random.default_rng(seed).permutation(len(gaussians))] = np.arange(len(gaussians))
        return cls(
            pos=np.ascontiguousarray(gaussians.xyz, dtype=np.float32),
            cov_a=np.ascontiguousarray(cov[:, :3]),
            cov_b=np.ascontiguousarray(cov[:, 3:]),
            rgba=rgba,
            lod_rank=rank,
        )

    def gather(self, index: np.ndarray) -> dict[str, np.ndarray]:
        """The draw attributes of the Gaussians ``index`` (K,) in that order, ready to upload."""
        return {
            "a_pos": np.ascontiguousarray(self.pos[index]),
            "a_cov_a": np.ascontiguousarray(self.cov_a[index]),
            "a_cov_b": np.ascontiguousarray(self.cov_b[index]),
            "a_rgba": np.ascontiguousarray(self.rgba[index]),
        }
