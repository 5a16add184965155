"""An independent float32 numpy transcription of 3DGS preprocess + renderCUDA: one loop over
the depth-sorted Gaussians, each blended into the pixels of the 16-px tiles its 3-sigma square
touches, with per-pixel "done" flags. Slow, for small images only. It shares no code with
engine/render, so the renderer tests and the doctor's render expectation can be checked against it.
"""

from __future__ import annotations

import math

import numpy as np

from engine.gaussians import Gaussians


def reference_render(g: Gaussians, c2w, k, width, height, bg):
    f32 = np.float32
    w2c = np.linalg.inv(np.asarray(c2w, np.float64)).astype(f32)
    fx, fy, cx, cy = (f32(v) for v in k)
    scales = g.scales.astype(f32)
    q = g.rotations.astype(f32)
    w, x, y, z = q.T
    rot = np.stack(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    ).transpose(2, 0, 1)
    m = rot * scales[:, None, :]
    sigma = m @ m.transpose(0, 2, 1)
    p = g.xyz.astype(f32) @ w2c[:3, :3].T + w2c[:3, 3]
    tanx, tany = f32(width / (2 * fx)), f32(height / (2 * fy))
    colours = np.maximum(g.colors.astype(f32), 0)
    opac = g.opacities.astype(f32)
    grid_x, grid_y = (width + 15) // 16, (height + 15) // 16
    rgb = np.zeros((height, width, 3), f32)
    t = np.ones((height, width), f32)
    done = np.zeros((height, width), bool)
    py, px = np.mgrid[0:height, 0:width].astype(f32)
    for i in np.argsort(p[:, 2], kind="stable"):
        tx, ty, tz = p[i]
        if tz <= 0.2:
            continue
        cx_ = np.clip(tx / tz, -1.3 * tanx, 1.3 * tanx) * tz
        cy_ = np.clip(ty / tz, -1.3 * tany, 1.3 * tany) * tz
        jac = np.array([[fx / tz, 0, -fx * cx_ / tz**2], [0, fy / tz, -fy * cy_ / tz**2]], f32)
        tm = jac @ w2c[:3, :3]
        cov = tm @ sigma[i] @ tm.T
        a, b, c = cov[0, 0] + f32(0.3), cov[0, 1], cov[1, 1] + f32(0.3)
        det = a * c - b * b
        if det <= 0:
            continue
        mid = f32(0.5) * (a + c)
        radius = math.ceil(3 * math.sqrt(mid + math.sqrt(max(0.1, mid * mid - det))))
        # 3DGS pixel coordinates: centres at integers.
        mx = fx * tx / tz + cx - f32(0.5)
        my = fy * ty / tz + cy - f32(0.5)
        x0 = min(grid_x, max(0, int((mx - radius) / 16)))
        y0 = min(grid_y, max(0, int((my - radius) / 16)))
        x1 = min(grid_x, max(0, int((mx + radius + 15) / 16)))
        y1 = min(grid_y, max(0, int((my + radius + 15) / 16)))
        if (x1 - x0) * (y1 - y0) == 0:
            continue
        sl = (slice(y0 * 16, y1 * 16), slice(x0 * 16, x1 * 16))
        dx, dy = mx - px[sl], my - py[sl]
        con = np.array([c, -b, a], f32) / det
        power = f32(-0.5) * (con[0] * dx * dx + con[2] * dy * dy) - con[1] * dx * dy
        alpha = np.minimum(f32(0.99), opac[i] * np.exp(power))
        use = (power <= 0) & (alpha >= f32(1 / 255)) & ~done[sl]
        t_sl = t[sl]
        test_t = t_sl * (1 - alpha)
        stop = use & (test_t < f32(1e-4))
        done[sl] |= stop
        use &= ~stop
        rgb[sl] += np.where(use[..., None], colours[i] * (alpha * t_sl)[..., None], 0)
        t[sl] = np.where(use, test_t, t_sl)
    return rgb + t[..., None] * np.asarray(bg, f32), 1 - t
