"""A vectorised pure-torch Gaussian rasteriser (CPU, and the GPU fallback).

Same blending as 3DGS ``renderCUDA``: per pixel, Gaussians in view-depth order;
alpha = min(0.99, o exp(power)); skip alpha < 1/255 (3DGS also skips power > 0, which
cannot happen for a dilated, positive-definite conic beyond rounding); stop (without adding the
Gaussian) once T (1 - alpha) would fall below 1e-4; colour = sum(c alpha T) + T bg.
As in 3DGS a Gaussian is evaluated at every pixel of the 16-px tiles its 3-sigma square
touches (``getRect``), not only inside its radius.

How it is vectorised: the image is cut into small sub-tiles (4x4 px). A Gaussian is listed in
a sub-tile when the sub-tile lies in one of its reference tiles AND inside the box where its
alpha can reach 1/255 (an exact bound, so no pixel that the reference would blend is lost).
The (sub-tile, Gaussian) pairs are sorted by (sub-tile, depth) with integer radix sorts.
Then a loop over depth steps processes K list entries of every still-active sub-tile at once
as an (A, K, 16) tensor: o exp(power) is one small matrix product of per-pair coefficients
with the pixel monomials [1, u, v, u^2, v^2, uv], a cumulative product gives the
transmittance inside the chunk, the transmittance is carried between chunks, and sub-tiles
whose pixels are all finished (or whose lists ran out) leave the active set. K grows as the
active set shrinks so each step does similar work (sizes tuned on 2 cores with bench/render.py).

Memory: the pair lists cost ~40 bytes per (sub-tile, Gaussian) pair, and large Gaussians (a
scene's background, an untrained network's output) can make hundreds of millions of pairs in
one frame. When a frame has more than ``pair_budget`` pairs, the sub-tile grid is halved
(the longer side first) until each region's pairs fit, and the regions are blended one after
another: every sub-tile gets the same list, so the image is the same.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch

from engine.render.projection import ALPHA_MAX, ALPHA_MIN, T_MIN, TILE, Projected

SUBTILE = 4
STEP_BUDGET = 1 << 18
"""Target number of (sub-tile, Gaussian, pixel) evaluations per chunk step (memory ~ 40x this in bytes)."""
PAIR_BUDGET = 1 << 24
"""Most (sub-tile, Gaussian) pairs listed at once (~40 bytes each while listed: ~670 MB). A
frame over it is blended in regions, at some cost in time (each region runs its own depth steps)."""
_BBOX_MARGIN_PX = 1e-2

Region = tuple[int, int, int, int]
"""A block of the sub-tile grid: x0, y0, x1, y1 (sub-tiles, end exclusive)."""


def rasterize(
    proj: Projected,
    width: int,
    height: int,
    background: torch.Tensor,
    subtile: int = SUBTILE,
    step_budget: int = STEP_BUDGET,
    pair_budget: int = PAIR_BUDGET,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Blend projected Gaussians into an image.

    pair_budget: most (sub-tile, Gaussian) pairs listed at once (the frame is blended region
    by region above it; a single sub-tile's list is never split). background: (3,) tensor. Returns rgb (H,W,3), alpha (H,W), depth (H,W) on proj's device,
    dtype of proj.means2d. depth is the alpha-normalised expected view depth (0 where alpha 0).
    """
    if TILE % subtile:
        raise ValueError(f"subtile must divide {TILE}, got {subtile}")
    dev, dtype = proj.means2d.device, proj.means2d.dtype
    gx = -(-width // TILE) * (TILE // subtile)
    gy = -(-height // TILE) * (TILE // subtile)
    n_tiles = gx * gy
    npx = subtile * subtile

    feats, lo, hi = _sorted_boxes(proj, subtile, gx, gy)
    out_t = torch.ones(n_tiles, npx, dtype=dtype, device=dev)
    out_acc = torch.zeros(n_tiles, npx, 5, dtype=dtype, device=dev)
    for region in _regions(lo, hi, (0, 0, gx, gy), pair_budget):
        pair_g, counts, starts = _pairs(lo, hi, region)
        _blend(feats, pair_g, counts, starts, region, gx, subtile, step_budget, out_t, out_acc)

    return _assemble(out_t, out_acc, background, gx, gy, subtile, width, height)


def _blend(
    feats: torch.Tensor,
    pair_g: torch.Tensor,
    counts: torch.Tensor,
    starts: torch.Tensor,
    region: Region,
    gx: int,
    subtile: int,
    step_budget: int,
    out_t: torch.Tensor,
    out_acc: torch.Tensor,
) -> None:
    """Blend one region's pair lists (``_pairs``) into the frame's sub-tile buffers.

    out_t (gx*gy, P) transmittance and out_acc (gx*gy, P, 5) [r, g, b, depth, weight] sums,
    P = subtile^2, are written for the region's sub-tiles that have a list.
    """
    dev, dtype = feats.device, feats.dtype
    npx = subtile * subtile
    x0, y0, x1, _ = region
    # Pixel centres relative to their sub-tile's centre, and the monomials of the expanded
    # quadratic form: power(u, v) = coef . [1, u, v, u^2, v^2, u v].
    half = subtile / 2.0
    local = torch.arange(npx, device=dev)
    u = (local % subtile).to(dtype) + 0.5 - half
    v = torch.div(local, subtile, rounding_mode="floor").to(dtype) + 0.5 - half
    mono = torch.stack([torch.ones_like(u), u, v, u * u, v * v, u * v])  # (6,P)

    in_region = torch.nonzero(counts > 0).squeeze(1)
    starts_a, counts_a = starts.index_select(0, in_region), counts.index_select(0, in_region)
    ax = in_region % (x1 - x0) + x0
    ay = torch.div(in_region, x1 - x0, rounding_mode="floor") + y0
    active = ay * gx + ax  # sub-tile ids in the whole frame
    centre = torch.stack([ax, ay], -1).to(dtype) * subtile + half
    t_a = torch.ones(len(active), npx, dtype=dtype, device=dev)
    acc_a = torch.zeros(len(active), npx, 5, dtype=dtype, device=dev)
    done_a = torch.zeros(len(active), npx, dtype=torch.bool, device=dev)
    pos = 0
    sentinel = len(feats) - 1
    n_pairs = len(pair_g)
    pair_g = torch.cat([pair_g, torch.tensor([sentinel], dtype=pair_g.dtype, device=dev)])
    while len(active):
        k = _chunk_len(len(active) * npx, step_budget)
        offs = pos + torch.arange(k, device=dev)
        idx = starts_a[:, None] + offs  # (A,K)
        idx = torch.where(offs < counts_a[:, None], idx, n_pairs)
        rows = pair_g.index_select(0, idx.reshape(-1))
        f = feats.index_select(0, rows).reshape(
            *idx.shape, feats.shape[1]
        )  # mx, my, a, b, c, log o, r, g, b, z, 1
        # alpha before the cap = o exp(power) = exp(coef @ mono) with d = m - p = e - (u, v).
        ex = f[..., 0] - centre[:, None, 0]
        ey = f[..., 1] - centre[:, None, 1]
        ca, cb, cc = f[..., 2], f[..., 3], f[..., 4]
        coef = torch.stack(
            [
                f[..., 5] - 0.5 * (ca * ex * ex + cc * ey * ey) - cb * ex * ey,
                ca * ex + cb * ey,
                cc * ey + cb * ex,
                -0.5 * ca,
                -0.5 * cc,
                -cb,
            ],
            dim=-1,
        )
        alpha = torch.matmul(coef, mono).exp_().clamp_max_(ALPHA_MAX)  # (A,K,P)
        # Skip alpha < 1/255 (threshold keeps x > 1/255; equality is a measure-zero case).
        alpha = torch.threshold_(alpha, ALPHA_MIN, 0.0)
        # Finished pixels carry T = 0 so nothing more is added to them.
        t_eff = t_a.masked_fill(done_a, 0.0)
        t_after = torch.cumprod(1.0 - alpha, dim=1).mul_(t_eff[:, None, :])
        weight = alpha.mul_(torch.cat([t_eff[:, None, :], t_after[:, :-1]], dim=1))
        # 3DGS does not blend the Gaussian that would take T below 1e-4, nor any after it;
        # T only falls, so the blended ones are the prefix with T_after >= 1e-4.
        weight.masked_fill_(t_after < T_MIN, 0.0)
        acc_step = torch.bmm(weight.transpose(1, 2), f[..., 6:11])  # (A,P,5); last = sum of weights
        acc_a += acc_step
        # sum of a prefix's weights telescopes to T_start - T_end.
        t_a = torch.where(done_a, t_a, t_eff - acc_step[..., 4])
        done_a |= t_after[:, -1, :] < T_MIN
        pos += k
        still = (counts_a > pos) & ~done_a.all(dim=1)
        if not bool(still.all()):
            gone = torch.nonzero(~still).squeeze(1)
            out_t[active[gone]] = t_a[gone]
            out_acc[active[gone]] = acc_a[gone]
            keep = torch.nonzero(still).squeeze(1)
            active, centre, starts_a, counts_a = (
                x.index_select(0, keep) for x in (active, centre, starts_a, counts_a)
            )
            t_a, acc_a, done_a = (x.index_select(0, keep) for x in (t_a, acc_a, done_a))


def _chunk_len(active_px: int, budget: int) -> int:
    """Gaussians per step: a power of two in [8, 1024] near budget / active pixels."""
    k = 8
    while k < 1024 and k * 2 * active_px <= budget:
        k *= 2
    return k


def _sorted_boxes(
    proj: Projected, subtile: int, gx: int, gy: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The visible Gaussians that reach a sub-tile, in depth order, with their sub-tile boxes.

    Returns feats (Nv+1, 11) [mx, my, conic a,b,c, log opacity, r, g, b, depth, 1] in depth
    order with a zero-opacity sentinel row last; lo, hi (Nv, 2) int64: the box of sub-tiles
    (x, y; hi exclusive, inside the gx x gy grid) where each one's alpha can reach 1/255.
    """
    dev, dtype = proj.means2d.device, proj.means2d.dtype
    # index_select, not x[idx]: advanced indexing is several times slower on the CPU.
    vis = torch.nonzero(proj.visible).squeeze(1)
    table = torch.cat(
        [proj.means2d, proj.conic, torch.log(proj.opacity)[:, None], proj.colour, proj.depth[:, None]], dim=1
    ).index_select(0, vis)  # (Nv,10): mx, my, a, b, c, log o, r, g, b, z
    rect = proj.rect.index_select(0, vis)
    m, conic = table[:, 0:2], table[:, 2:5]

    # Box (in px) where alpha = o exp(-q/2) can reach 1/255: q <= 2 ln(255 o), and the
    # ellipse q <= t has half-extents sqrt(t Sigma_xx), sqrt(t Sigma_yy), Sigma = conic^-1.
    thr = 2.0 * torch.clamp_min(table[:, 5] + math.log(255.0), 0.0)
    det_inv = conic[:, 0] * conic[:, 2] - conic[:, 1] * conic[:, 1]
    sxx = conic[:, 2] / det_inv
    syy = conic[:, 0] / det_inv
    ext = torch.stack([torch.sqrt(thr * sxx), torch.sqrt(thr * syy)], -1) * 1.0001 + _BBOX_MARGIN_PX
    mc = m.clamp(-1e6, 1e6)
    sub_lo = torch.floor((torch.ceil(mc - ext - 0.5)) / subtile).to(torch.int64)
    sub_hi = torch.floor((torch.floor(mc + ext - 0.5)) / subtile).to(torch.int64) + 1
    per = TILE // subtile
    grid = torch.tensor([gx, gy], device=dev)
    lo = torch.maximum(sub_lo, rect[:, :2] * per).clamp_min(0)
    hi = torch.minimum(torch.minimum(sub_hi, rect[:, 2:] * per), grid)
    n_xy = (hi - lo).clamp_min(0)

    # Gaussians that reach no sub-tile are dropped.
    used = torch.nonzero(n_xy[:, 0] * n_xy[:, 1] > 0).squeeze(1)
    order = used.index_select(0, _stable_argsort_positive(table[:, 9].index_select(0, used)))
    feats = torch.cat(
        [table.index_select(0, order), torch.ones(len(order), 1, dtype=dtype, device=dev)], dim=1
    )
    sentinel = torch.zeros(1, feats.shape[1], dtype=dtype, device=dev)
    sentinel[0, 5] = -torch.inf  # opacity 0: never blended
    return torch.cat([feats, sentinel]), lo.index_select(0, order), hi.index_select(0, order)


def _clip(lo: torch.Tensor, hi: torch.Tensor, region: Region) -> tuple[torch.Tensor, torch.Tensor]:
    """Boxes (N, 2) cut to ``region``, in the region's own sub-tile coordinates, and their
    sizes (N, 2) (0 where a box misses the region)."""
    x0, y0, x1, y1 = region
    start = torch.tensor([x0, y0], device=lo.device)
    r_lo = torch.maximum(lo, start) - start
    r_hi = torch.minimum(hi, torch.tensor([x1, y1], device=lo.device)) - start
    return r_lo, (r_hi - r_lo).clamp_min(0)


def _pair_count(lo: torch.Tensor, hi: torch.Tensor, region: Region) -> int:
    """How many (sub-tile, Gaussian) pairs ``region`` lists."""
    _, n_xy = _clip(lo, hi, region)
    return int((n_xy[:, 0] * n_xy[:, 1]).sum())


def _regions(lo: torch.Tensor, hi: torch.Tensor, region: Region, budget: int) -> Iterator[Region]:
    """``region``, or its halves (the longer side cut first, recursively) when it lists more than
    ``budget`` pairs; a single sub-tile is never cut."""
    x0, y0, x1, y1 = region
    if (x1 - x0) * (y1 - y0) <= 1 or _pair_count(lo, hi, region) <= budget:
        yield region
        return
    if x1 - x0 >= y1 - y0:
        mid = (x0 + x1) // 2
        halves = [(x0, y0, mid, y1), (mid, y0, x1, y1)]
    else:
        mid = (y0 + y1) // 2
        halves = [(x0, y0, x1, mid), (x0, mid, x1, y1)]
    for half in halves:
        yield from _regions(lo, hi, half, budget)


def _pairs(
    lo: torch.Tensor, hi: torch.Tensor, region: Region
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """List the Gaussians (rows of ``_sorted_boxes``' feats, depth order) per sub-tile of ``region``.

    Returns pair_g (M,) feats rows grouped by sub-tile (depth order inside a group); counts
    (rw*rh,) list lengths; starts (rw*rh,) list offsets; sub-tiles numbered row by row inside
    the region (rw x rh sub-tiles).
    """
    dev = lo.device
    x0, y0, x1, y1 = region
    rw = x1 - x0
    r_lo, n_xy = _clip(lo, hi, region)
    # One pair per sub-tile of each box, generated without a Python loop; int32 halves the
    # memory traffic of the per-pair arithmetic (ids stay far below 2^31).
    ints = torch.stack([r_lo[:, 1] * rw + r_lo[:, 0], n_xy[:, 0], n_xy[:, 0] * n_xy[:, 1]], dim=-1).to(
        torch.int32
    )
    cnt = ints[:, 2]
    first = torch.cumsum(cnt, 0, dtype=torch.int32) - cnt
    per_g = torch.stack([first, ints[:, 0], ints[:, 1]], dim=-1)
    g_rep = torch.repeat_interleave(torch.arange(len(ints), device=dev, dtype=torch.int32), cnt)
    info = per_g.index_select(0, g_rep)  # first, base tile, box width
    within = torch.arange(len(g_rep), device=dev, dtype=torch.int32) - info[:, 0]
    row = torch.div(within, info[:, 2], rounding_mode="floor")
    tile_id = info[:, 1] + row * rw + (within - row * info[:, 2])
    n_region = rw * (y1 - y0)
    key_dtype = torch.int16 if n_region <= torch.iinfo(torch.int16).max else torch.int32
    sort_idx = torch.sort(tile_id.to(key_dtype), stable=True).indices  # radix sort on small ints
    pair_g = g_rep.index_select(0, sort_idx)
    counts = torch.bincount(tile_id, minlength=n_region)  # int64
    starts = torch.cumsum(counts, 0) - counts
    return pair_g, counts, starts


def _stable_argsort_positive(x: torch.Tensor) -> torch.Tensor:
    """Stable argsort of positive floats; float32 is sorted through its int32 bit pattern
    (same order for positive values, and torch sorts integers faster)."""
    if x.dtype == torch.float32:
        return torch.sort(x.view(torch.int32), stable=True).indices
    return torch.argsort(x, stable=True)


def _assemble(
    out_t: torch.Tensor,
    out_acc: torch.Tensor,
    background: torch.Tensor,
    gx: int,
    gy: int,
    subtile: int,
    width: int,
    height: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Sub-tile buffers -> images cropped to height x width."""

    def img(x: torch.Tensor) -> torch.Tensor:
        c = x.shape[-1] if x.dim() == 3 else 1
        x = (
            x.reshape(gy, gx, subtile, subtile, c)
            .permute(0, 2, 1, 3, 4)
            .reshape(gy * subtile, gx * subtile, c)
        )
        return x[:height, :width]

    trans = img(out_t)[..., 0]
    acc = img(out_acc)
    alpha = 1.0 - trans
    rgb = acc[..., :3] + trans[..., None] * background.to(acc.dtype)
    depth = torch.where(alpha > 0, acc[..., 3] / torch.clamp_min(alpha, 1e-12), torch.zeros_like(alpha))
    return rgb, alpha, depth
