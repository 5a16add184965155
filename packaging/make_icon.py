"""Draw the app icon: a head and shoulders made of soft Gaussian splats on a rounded tile.

Writes resources/icons/facelift-desktop.{svg,png (256x256),ico}. The SVG and the PNG come from
the same list of splats (the PNG is rendered with numpy, 4x supersampled), so they match.
Deterministic: running it again gives the same files.

    python packaging/make_icon.py
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "resources" / "icons"
SIZE = 256
CORNER = 52
BG_TOP = (32, 44, 84)
BG_BOTTOM = (18, 24, 48)
LIGHT = np.array([255, 196, 150], dtype=np.float64)
SHADE = np.array([222, 96, 66], dtype=np.float64)
SHADES = 12


@dataclass(frozen=True)
class Splat:
    """An isotropic Gaussian: centre (x, y) px in the 256 frame, sigma px, colour RGB 0..255."""

    x: float
    y: float
    sigma: float
    rgb: tuple[int, int, int]
    opacity: float


def _inside_silhouette(x: float, y: float) -> bool:
    head = ((x - 128) / 50) ** 2 + ((y - 104) / 62) ** 2 <= 1.0
    neck = abs(x - 128) <= 20 and 150 <= y <= 186
    shoulders = y >= 176 and ((x - 128) / 88) ** 2 + ((y - 236) / 62) ** 2 <= 1.0
    return head or neck or shoulders


def splats() -> list[Splat]:
    """Splats on a jittered hexagonal grid inside the silhouette, lit from the upper left."""
    rng = np.random.default_rng(4)
    out: list[Splat] = []
    step = 13.0
    for row in range(-2, 24):
        for col in range(-2, 24):
            x = col * step + (step / 2 if row % 2 else 0.0) + rng.uniform(-2.5, 2.5)
            y = row * step * 0.87 + 28 + rng.uniform(-2.5, 2.5)
            if not _inside_silhouette(x, y):
                continue
            t = float(np.clip(((x - 70) * 0.6 + (y - 50) * 0.8) / 190.0, 0.0, 1.0))
            t = round(t * (SHADES - 1)) / (SHADES - 1)  # a few shades: one SVG gradient each
            rgb = (1 - t) * LIGHT + t * SHADE
            out.append(
                Splat(x, y, float(rng.uniform(6.5, 9.0)), tuple(int(c) for c in rgb), 0.8)  # type: ignore[arg-type]
            )
    return out


def _tile_mask(n: int) -> np.ndarray:
    """(n,n) float coverage of the rounded square, anti-aliased by the supersampling."""
    c = (np.arange(n) + 0.5) * SIZE / n
    x, y = np.meshgrid(c, c)
    dx = np.maximum(np.maximum(CORNER - x, x - (SIZE - CORNER)), 0.0)
    dy = np.maximum(np.maximum(CORNER - y, y - (SIZE - CORNER)), 0.0)
    return (dx**2 + dy**2 <= CORNER**2).astype(np.float64)


def render_png(path: Path, supersample: int = 4) -> None:
    n = SIZE * supersample
    c = (np.arange(n) + 0.5) * SIZE / n
    x, y = np.meshgrid(c, c)
    t = (y / SIZE)[..., None]
    rgb = (1 - t) * np.array(BG_TOP, np.float64) + t * np.array(BG_BOTTOM, np.float64)
    for s in splats():
        a = s.opacity * np.exp(-((x - s.x) ** 2 + (y - s.y) ** 2) / (2 * s.sigma**2))
        a = a * (a > 1e-3)
        rgb = rgb * (1 - a[..., None]) + np.array(s.rgb, np.float64) * a[..., None]
    alpha = _tile_mask(n)
    rgba = np.concatenate([rgb * alpha[..., None], alpha[..., None] * 255], axis=-1)
    small = rgba.reshape(SIZE, supersample, SIZE, supersample, 4).mean(axis=(1, 3))
    cover = small[..., 3:4] / 255.0
    small[..., :3] = np.where(cover > 0, small[..., :3] / np.maximum(cover, 1e-6), 0.0)
    img = Image.fromarray(np.clip(np.round(small), 0, 255).astype(np.uint8), "RGBA")
    img.save(path, optimize=True)
    img.save(path.with_suffix(".ico"), sizes=[(16, 16), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])


def render_svg(path: Path) -> None:
    # A Gaussian as a radial gradient: opacity exp(-r^2/2s^2) sampled at a few radii, out to 3s;
    # one gradient per colour (a gradient's currentColor does not follow the referencing shape).
    all_splats = splats()
    colours = sorted({s.rgb for s in all_splats})
    gradient_id = {rgb: f"g{i}" for i, rgb in enumerate(colours)}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" viewBox="0 0 {SIZE} {SIZE}">',
        "<title>FaceLift Desktop</title>",
        "<defs>",
        f'<linearGradient id="bg" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="rgb{BG_TOP}"/>'
        f'<stop offset="1" stop-color="rgb{BG_BOTTOM}"/></linearGradient>',
    ]
    for rgb in colours:
        stops = "".join(
            f'<stop offset="{r / 3:.3f}" stop-color="rgb{rgb}" stop-opacity="{math.exp(-(r**2) / 2):.4f}"/>'
            for r in (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0)
        )
        parts.append(f'<radialGradient id="{gradient_id[rgb]}">{stops}</radialGradient>')
    parts += ["</defs>", f'<rect width="{SIZE}" height="{SIZE}" rx="{CORNER}" fill="url(#bg)"/>']
    for s in all_splats:
        parts.append(
            f'<circle cx="{s.x:.1f}" cy="{s.y:.1f}" r="{3 * s.sigma:.1f}" '
            f'fill="url(#{gradient_id[s.rgb]})" opacity="{s.opacity}"/>'
        )
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")


def main() -> None:
    ICONS.mkdir(parents=True, exist_ok=True)
    render_png(ICONS / "facelift-desktop.png")
    render_svg(ICONS / "facelift-desktop.svg")
    print(f"wrote {ICONS}/facelift-desktop.{{png,svg,ico}}")


if __name__ == "__main__":
    main()
