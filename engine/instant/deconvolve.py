"""Solve the front layer's colours so its render from the input camera reproduces the photo.

The front layer has one disc per pixel, centred on the pixel; projected, each is a Gaussian of
variance SIGMA2 = k^2 + 0.3 px^2 (its in-plane size k, in pixels because its axes are the steps
to the next pixels, plus the rasteriser's dilation). With geometry and opacities fixed the
render is linear in the colours: pixel p = sum_q w_pq c_q + T_p bg, w from 3DGS's front-to-back
blending of the discs q in p's (2R+1)^2 neighbourhood in depth order (alpha = min(0.99,
o exp(-|p-q|^2 / 2 SIGMA2)), skipped below 1/255). A few conjugate-gradient steps on
||W c - (target - T bg)||^2 (CGLS) undo the blur ("deconvolution"); every RESTART steps the
colours are clipped to what a Gaussian can show (>= 0: the rasteriser clamps negatives) and
CG restarts from there (projected restarts: clipping only once at the end throws away more
than extra steps gain, so more steps made the render worse). The model only holds if nothing
else is drawn over the layer: the reconstructor keeps the mesh's discs behind it.

W is a sparse matrix (scipy CSR) with a row per pixel to fit and a column per disc: only those
pixels and discs take part, and a matrix product is one pass over its entries.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

ALPHA_MAX = 0.99
ALPHA_MIN = 1.0 / 255.0
DILATION = 0.3
RESTART = 3  # CG steps between projections onto [0, upper]
RADIUS = 2  # neighbourhood (2R+1)^2: a disc two pixels away still adds ~6 % (k = 0.65)
_SLOT_BITS = 8  # low bits of a sort key that hold the neighbour's slot (K <= 25 < 2^8)


def _offsets(radius: int, sigma2: float) -> list[tuple[int, int]]:
    """(dy, dx) of the neighbours whose alpha can reach the rasteriser's 1/255 cut."""
    return [
        (dy, dx)
        for dy in range(-radius, radius + 1)
        for dx in range(-radius, radius + 1)
        if ALPHA_MAX * np.exp(-(dy * dy + dx * dx) / (2.0 * sigma2)) >= ALPHA_MIN
    ]


def _depth_keys(depth: np.ndarray) -> np.ndarray:
    """uint64 keys ordered like the float32 ``depth`` (>= 0, inf allowed: for those the IEEE
    bits sort like the numbers), shifted up to leave _SLOT_BITS free: sorting (key | slot)
    is a stable argsort of the depths."""
    keys = depth.view(np.uint32).astype(np.uint64)
    keys <<= np.uint64(_SLOT_BITS)
    return keys


def blend_matrix(
    present: np.ndarray,
    depth: np.ndarray,
    opacity: np.ndarray,
    rows: np.ndarray,
    sigma2: float,
    radius: int = RADIUS,
) -> tuple[sparse.csr_matrix, np.ndarray]:
    """The render's blending weights of the per-pixel discs.

    present (H,W) bool: pixels that have a disc; depth, opacity (H,W) float32; rows (H,W) bool:
    the pixels to render. Returns (W: CSR float32 (R, D), row r = the r-th ``rows`` pixel and
    column d = the d-th ``present`` disc, both in row-major order; T (R,) float32: the
    transmittance left behind the layer at each row pixel).
    """
    offs = _offsets(radius, sigma2)
    k = len(offs)
    width = present.shape[1] + 2 * radius
    pad = ((radius, radius), (radius, radius))
    discs = int(present.sum())
    disc = np.full(present.shape, -1, np.int32)
    disc[present] = np.arange(discs, dtype=np.int32)
    disc_p = np.pad(disc, pad, constant_values=-1).ravel()
    z_p = np.pad(np.where(present, depth, np.float32(np.inf)).astype(np.float32), pad, constant_values=np.inf)
    o_p = np.pad((opacity * present).astype(np.float32), pad).ravel()
    ry, rx = np.nonzero(rows)
    n = len(ry)
    # (R,K) flat indices into the padded images of each row pixel's K neighbours.
    at = ((ry + radius) * width + (rx + radius))[:, None] + np.array([dy * width + dx for dy, dx in offs])
    gain = np.array([np.exp(-(dy * dy + dx * dx) / (2.0 * sigma2)) for dy, dx in offs], np.float32)
    alpha = np.minimum(o_p.take(at) * gain, np.float32(ALPHA_MAX))
    alpha[alpha < ALPHA_MIN] = 0.0
    keys = _depth_keys(z_p.ravel().take(at))
    keys |= np.arange(k, dtype=np.uint64)
    keys.sort(axis=1)  # front to back; equal depths keep the neighbour order (stable)
    keys &= np.uint64((1 << _SLOT_BITS) - 1)
    slot = keys.view(np.int64)
    slot += (np.arange(n) * k)[:, None]
    weights = alpha.ravel().take(slot)  # (R,K) alphas, front to back
    t_before = np.empty_like(weights)
    t_before[:, 0] = 1.0
    np.subtract(np.float32(1.0), weights[:, :-1], out=t_before[:, 1:])
    np.cumprod(t_before, axis=1, out=t_before)
    trans = t_before[:, -1] * (np.float32(1.0) - weights[:, -1])
    weights *= t_before
    # Entries with no disc or an alpha below the cut are dropped.
    keep = weights != 0.0
    indptr = np.zeros(n + 1, np.int32)
    np.cumsum(keep.sum(axis=1), out=indptr[1:])
    cols = disc_p.take(at.ravel().take(slot[keep]))
    matrix = sparse.csr_matrix((weights[keep], cols, indptr), shape=(n, discs))
    return matrix, trans


def _times(m: sparse.csr_matrix, x: np.ndarray) -> np.ndarray:
    """m @ x for channels-first x (3,N): one product per channel (about twice as fast as
    scipy's product with an (N,3) block)."""
    return np.stack([m @ x[j] for j in range(len(x))])


def _cgls(
    c: np.ndarray,
    b: np.ndarray,
    w: sparse.csr_matrix,
    wt: sparse.csr_matrix,
    free: np.ndarray,
    iterations: int,
) -> None:
    """``iterations`` CGLS steps on ||W c - b||^2 over the free discs, updating c (3,D) in
    place; b (3,R); wt = W^T; free (D,) float 0/1."""
    r = b - _times(w, c)
    s = _times(wt, r) * free
    p = s.copy()
    gamma = float((s * s).sum())
    for i in range(iterations):
        q = _times(w, p)
        qq = float((q * q).sum())
        if qq <= 1e-20 or gamma <= 1e-20:
            break
        step = gamma / qq
        c += step * p
        if i == iterations - 1:
            break  # the next direction would go unused
        r -= step * q
        s = _times(wt, r) * free
        g_new = float((s * s).sum())
        p = s + (g_new / gamma) * p
        gamma = g_new


def solve_colours(
    target: np.ndarray,
    start: np.ndarray,
    present: np.ndarray,
    depth: np.ndarray,
    opacity: np.ndarray,
    fit: np.ndarray,
    sigma2: float,
    iterations: int = 8,
    background: float = 1.0,
    upper: float = 1.6,
    fixed: np.ndarray | None = None,
) -> np.ndarray:
    """(H,W,3) colours of the per-pixel discs whose render matches ``target`` on ``fit``.

    target (H,W,3) [0,1] the photo; start (H,W,3) initial colours; present (H,W) bool discs;
    depth (H,W) camera depth (>= 0), opacity (H,W); fit (H,W) bool pixels to match (where the
    layer covers them: transmittance below 1/2). Colours are clipped to [0, upper] (above 1
    lets a bright line keep its contrast after the blur). ``fixed`` (H,W) bool: discs that
    keep their start colour (they still count in the blend).
    """
    if not present.any():
        return start
    w, trans = blend_matrix(present, depth.astype(np.float32), opacity.astype(np.float32), fit, sigma2)
    covered = (trans < 0.5).astype(np.float32)
    # Pixels the layer leaves see-through are not fitted: their rows of W and b are zeroed.
    w.data *= np.repeat(covered, np.diff(w.indptr))
    wt = w.T.tocsr()
    b = (target[fit].T - trans * background).astype(np.float32) * covered
    c = np.ascontiguousarray(start[present].T, np.float32)
    free = np.ones(c.shape[1], bool) if fixed is None else ~fixed[present]
    free1 = free.astype(np.float32)
    done = 0
    while done < iterations:
        # CGLS on the unconstrained problem, restarted from the clipped colours every
        # RESTART steps: plain CG overshoots beyond what a Gaussian can show (< 0), and
        # clipping only at the end would then undo more than the extra steps gained.
        steps = min(RESTART, iterations - done)
        _cgls(c, b, w, wt, free1, steps)
        np.clip(c, 0.0, upper, out=c)
        done += steps
    out = start.astype(np.float64).copy()
    solved = out[present]
    solved[free] = c.T[free]
    out[present] = solved
    return out
