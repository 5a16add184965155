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
"""

from __future__ import annotations

import numpy as np

ALPHA_MAX = 0.99
ALPHA_MIN = 1.0 / 255.0
DILATION = 0.3
RESTART = 3  # CG steps between projections onto [0, upper]
RADIUS = 2  # neighbourhood (2R+1)^2: a disc two pixels away still adds ~6 % (k = 0.65)


def _offsets(radius: int) -> list[tuple[int, int]]:
    return [(dy, dx) for dy in range(-radius, radius + 1) for dx in range(-radius, radius + 1)]


def _shift(img: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """out[y, x] = img[y + dy, x + dx] (zero outside)."""
    out = np.zeros_like(img)
    dst, src = _slices(img.shape[0], img.shape[1], dy, dx)
    out[dst] = img[src]
    return out


def blend_weights(
    present: np.ndarray, depth: np.ndarray, opacity: np.ndarray, sigma2: float, radius: int | None = None
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """Blending weights of the per-pixel discs.

    present (H,W) bool: pixels that have a disc; depth, opacity (H,W). Returns
    (weights (K,H,W): weight of the disc at offset k for pixel p, transmittance T (H,W) left
    behind the layer, offsets [(dy, dx)] * K).
    """
    # Offsets whose alpha never reaches the rasteriser's 1/255 cut are left out.
    offs = [
        (dy, dx)
        for dy, dx in _offsets(RADIUS if radius is None else radius)
        if ALPHA_MAX * np.exp(-(dy * dy + dx * dx) / (2.0 * sigma2)) >= ALPHA_MIN
    ]
    k = len(offs)
    h, w = present.shape
    alpha = np.zeros((k, h, w), np.float32)
    z = np.full((k, h, w), np.inf, np.float32)
    for i, (dy, dx) in enumerate(offs):
        a = opacity * np.exp(-(dy * dy + dx * dx) / (2.0 * sigma2))
        a = np.minimum(a, ALPHA_MAX) * present
        a = np.where(a < ALPHA_MIN, 0.0, a)
        alpha[i] = _shift(a, dy, dx)
        z[i] = np.where(_shift(present, dy, dx), _shift(depth, dy, dx), np.inf)
    order = np.argsort(z, axis=0, kind="stable")
    a_sorted = np.take_along_axis(alpha, order, axis=0)
    t_before = np.cumprod(np.concatenate([np.ones((1, h, w), np.float32), 1.0 - a_sorted[:-1]]), axis=0)
    w_sorted = a_sorted * t_before
    weights = np.zeros_like(w_sorted)
    np.put_along_axis(weights, order, w_sorted, axis=0)
    trans = t_before[-1] * (1.0 - a_sorted[-1])
    return weights, trans, offs


def _slices(h: int, w: int, dy: int, dx: int) -> tuple[tuple[slice, slice], tuple[slice, slice]]:
    """(destination, source) windows with out[dst] = img[src] for out[y, x] = img[y + dy, x + dx]."""
    ys, yd = (slice(dy, h), slice(0, h - dy)) if dy >= 0 else (slice(0, h + dy), slice(-dy, h))
    xs, xd = (slice(dx, w), slice(0, w - dx)) if dx >= 0 else (slice(0, w + dx), slice(-dx, w))
    return (yd, xd), (ys, xs)


def _forward(c: np.ndarray, weights: np.ndarray, offs: list[tuple[int, int]]) -> np.ndarray:
    """(3,H,W) render of colours c (3,H,W) (channels first: the per-pixel weights broadcast
    over the leading axis): sum over offsets of w_k(p) c(p + off_k)."""
    return _apply(c, weights, offs, adjoint=False)


def _adjoint(r: np.ndarray, weights: np.ndarray, offs: list[tuple[int, int]]) -> np.ndarray:
    """The transpose of _forward applied to a residual r (3,H,W)."""
    return _apply(r, weights, offs, adjoint=True)


def _apply(x: np.ndarray, weights: np.ndarray, offs: list[tuple[int, int]], adjoint: bool) -> np.ndarray:
    """W x (forward: pixel p gathers w_k(p) x(p + off_k)) or W^T x (adjoint: the same products
    handed back from p to the disc at p + off_k), for x (3,H,W)."""
    out = np.zeros_like(x)
    h, w = x.shape[1:]
    tmp = np.empty_like(x)
    for i, (dy, dx) in enumerate(offs):
        (yd, xd), (ys, xs) = _slices(h, w, dy, dx)
        (yr, xr), (yw, xw) = ((yd, xd), (ys, xs)) if adjoint else ((ys, xs), (yd, xd))  # read, write
        t = tmp[:, yd, xd]
        np.multiply(weights[i, yd, xd], x[:, yr, xr], out=t)
        out[:, yw, xw] += t
    return out


def _cgls(
    c: np.ndarray,
    b: np.ndarray,
    f: np.ndarray,
    free3: np.ndarray,
    weights: np.ndarray,
    offs: list[tuple[int, int]],
    iterations: int,
) -> None:
    """``iterations`` CGLS steps on ||f (W c) - b||^2 over the free discs, updating c (3,H,W)
    in place."""
    r = b - _forward(c, weights, offs) * f
    s = _adjoint(r, weights, offs) * free3
    p = s.copy()
    gamma = float((s * s).sum())
    for _ in range(iterations):
        q = _forward(p, weights, offs) * f
        qq = float((q * q).sum())
        if qq <= 1e-20 or gamma <= 1e-20:
            break
        step = gamma / qq
        c += step * p
        r -= step * q
        s = _adjoint(r, weights, offs) * free3
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
    depth, opacity (H,W); fit (H,W) bool pixels to match. Work is cropped to the discs'
    bounding box. Colours are clipped to [0, upper] (above 1 lets a bright line keep its
    contrast after the blur). ``fixed`` (H,W) bool: discs that keep their start colour (they
    still count in the blend).
    """
    ys, xs = np.nonzero(present)
    if len(ys) == 0:
        return start
    m = 3
    y0, y1 = max(ys.min() - m, 0), min(ys.max() + m + 1, present.shape[0])
    x0, x1 = max(xs.min() - m, 0), min(xs.max() + m + 1, present.shape[1])
    box = (slice(y0, y1), slice(x0, x1))
    pres = present[box]
    weights, trans, offs = blend_weights(
        pres, depth[box].astype(np.float32), opacity[box].astype(np.float32), sigma2
    )
    f = (fit[box] & (trans < 0.5)).astype(np.float32)
    b = (
        np.ascontiguousarray((target[box] - trans[:, :, None] * background).transpose(2, 0, 1), np.float32)
        * f
    )
    c = np.ascontiguousarray(start[box].transpose(2, 0, 1), np.float32) * pres
    free = pres if fixed is None else pres & ~fixed[box]
    free3 = free.astype(np.float32)
    done = 0
    while done < iterations:
        # CGLS on the unconstrained problem, restarted from the clipped colours every
        # RESTART steps: plain CG overshoots beyond what a Gaussian can show (< 0), and
        # clipping only at the end would then undo more than the extra steps gained.
        steps = min(RESTART, iterations - done)
        _cgls(c, b, f, free3, weights, offs, steps)
        np.clip(c, 0.0, upper, out=c)
        done += steps
    out = start.astype(np.float64).copy()
    out[box] = np.where(free[:, :, None], np.clip(c.transpose(1, 2, 0), 0.0, upper), out[box])
    return out
