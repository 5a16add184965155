"""Colours for the surface the photo does not show, synthesised from what it does show.

For each image row the photo gives a strip of "source" pixels: above the chin the hair pixels
(foreground outside the face that differs from the skin; the skin itself for a bald head),
below it everything outside the face (neck, clothes). A hidden surface point takes the
colour of its row's strip at its position around the head: the strip is laid along the
azimuth (one photo pixel per pixel of arc), mirrored at its ends so it repeats without a
jump. Below the chin each row has one colour instead (the clothes' median): strips of
lapels and collars tiled round the shoulders read as streaks. So the back of the head carries the visible hair's own texture, row by row (a crown to
nape gradient survives), instead of a flat average or the face seen through the head; rows
without enough hair borrow the nearest row above that has it (hair falls downwards).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

HAIR_MARGIN_PX = 8  # ears and the face's edge are not hair
HAIR_SKIN_DISTANCE = 0.2  # RGB distance from the skin's median (shadowed skin stays below it)
MIN_STRIP = 8  # pixels a row's strip needs to be used
MIN_HAIR_SHARE = 0.25  # of the head's width: hair rows thinner than this borrow from above
SKIN_FALLBACK = np.array([0.78, 0.6, 0.5])
ROW_SMOOTH = 3.0  # rows: the body colours' vertical smoothing


def skin_and_hair(
    rgb: np.ndarray, mask: np.ndarray, face: np.ndarray, chin_row: float
) -> tuple[np.ndarray, np.ndarray]:
    """(skin (3,), hair_mask (H,W) bool) from the photo.

    rgb (H,W,3) float in [0,1]; mask: foreground; face: mesh-covered pixels; chin_row: the
    chin's pixel row. Hair = foreground above the chin, outside the face, unlike skin.
    """
    core = ndimage.binary_erosion(face, iterations=6) if face.any() else face
    skin = np.median(rgb[core], axis=0) if core.sum() > 50 else SKIN_FALLBACK
    rows = np.arange(rgb.shape[0])[:, None]
    candidates = mask & ~ndimage.binary_dilation(face, iterations=HAIR_MARGIN_PX) & (rows < chin_row)
    diff = np.linalg.norm(rgb - skin, axis=2)
    return skin, candidates & (diff > HAIR_SKIN_DISTANCE)


@dataclass(frozen=True)
class StripTable:
    """Per-row colour strips: table (H,K,3) float [0,1], counts (H,) (>= MIN_STRIP); period:
    the arc length (px) every row's strip is stretched to, so neighbouring rows stay in step
    (vertical structure such as strands survives instead of breaking into horizontal bands)."""

    table: np.ndarray
    counts: np.ndarray
    period: float

    def colour(self, row: np.ndarray, arc_px: np.ndarray) -> np.ndarray:
        """(N,3) colours at image rows ``row`` (N,) float and arc positions ``arc_px`` (N,)."""
        h = len(self.counts)
        r = np.clip(np.floor(row).astype(np.int64), 0, h - 1)
        n = self.counts[r]
        t = np.mod(arc_px / self.period, 2.0)
        t = np.where(t > 1.0, 2.0 - t, t)  # mirrored repeat: no jump where it wraps
        k = np.clip(np.floor(t * n).astype(np.int64), 0, n - 1)
        return np.asarray(self.table[r, k])


def _strips(
    rgb: np.ndarray, source: np.ndarray, fill: np.ndarray, min_strip: float = MIN_STRIP
) -> StripTable:
    """Strips of the ``source`` (H,W) pixels per row; rows with fewer than ``min_strip`` borrow
    the nearest good row above (else below); no good row at all: the single colour ``fill``."""
    h = rgb.shape[0]
    counts = source.sum(axis=1)
    good = counts >= max(min_strip, MIN_STRIP)
    k = int(max(counts.max(), MIN_STRIP))
    table = np.empty((h, k, 3))
    table[:] = fill
    for r in np.nonzero(good)[0]:
        table[r, : counts[r]] = rgb[r][source[r]]
    if not good.any():
        return StripTable(table, np.full(h, MIN_STRIP), float(MIN_STRIP))
    rows = np.arange(h)
    good_rows = rows[good]
    above = np.searchsorted(good_rows, rows, side="right") - 1
    below = np.clip(above + 1, 0, len(good_rows) - 1)
    pick = np.where(above >= 0, good_rows[np.clip(above, 0, None)], good_rows[below])
    return StripTable(table[pick], counts[pick].astype(np.int64), float(np.median(counts[good])))


def _row_colours(rgb: np.ndarray, source: np.ndarray, fill: np.ndarray) -> StripTable:
    """One colour per row: the median of its ``source`` (H,W) pixels, rows without enough
    borrowing the nearest good row above (else below), smoothed over ROW_SMOOTH rows.
    Clothes laid around the body as strips tile the front's folds, lapels and collar into
    vertical streaks; their median colour with a top-to-bottom gradient does not."""
    h = rgb.shape[0]
    table = np.empty((h, 1, 3))
    table[:] = fill
    counts = source.sum(axis=1)
    good = counts >= MIN_STRIP
    for r in np.nonzero(good)[0]:
        table[r, 0] = np.median(rgb[r][source[r]], axis=0)
    if good.any():
        rows = np.arange(h)
        good_rows = rows[good]
        above = np.searchsorted(good_rows, rows, side="right") - 1
        pick = np.where(above >= 0, good_rows[np.clip(above, 0, None)], good_rows[0])
        table = ndimage.gaussian_filter1d(table[pick], ROW_SMOOTH, axis=0, mode="nearest")
    return StripTable(table, np.ones(h, np.int64), 1.0)


@dataclass(frozen=True)
class UnseenColours:
    """Hidden-surface colours: head strips above ``chin_row``, body strips below."""

    head: StripTable
    body: StripTable
    chin_row: float
    ramp_px: float

    def __call__(self, row: np.ndarray, arc_px: np.ndarray) -> np.ndarray:
        """(N,3) in [0,1] for image rows (N,) and arc positions in pixels (N,)."""
        t = np.clip((row - self.chin_row) / self.ramp_px + 0.5, 0.0, 1.0)[:, None]
        return np.asarray((1.0 - t) * self.head.colour(row, arc_px) + t * self.body.colour(row, arc_px))


def unseen_colours(
    rgb: np.ndarray, mask: np.ndarray, face: np.ndarray, chin_row: float, head_width_px: float
) -> UnseenColours:
    """The synthesiser for a photo: rgb (H,W,3) [0,1] (solid colours, no white fringe), mask
    (H,W) foreground, face (H,W) mesh-covered pixels, chin_row, head width in pixels."""
    skin, hair = skin_and_hair(rgb, mask, face, chin_row)
    if hair.sum() < 4 * MIN_STRIP:  # bald, or hair the matte lost: the skin outside the face
        hair = mask & ~face & (np.arange(rgb.shape[0])[:, None] < chin_row)
    smooth = ndimage.gaussian_filter(rgb, (0.7, 0.7, 0.0))
    body_src = mask & ~ndimage.binary_dilation(face, iterations=2)
    return UnseenColours(
        # A row with only a few hair pixels (a fringe, an ear's shadow) is not the hair's texture.
        head=_strips(smooth, hair, skin, MIN_HAIR_SHARE * head_width_px),
        body=_row_colours(smooth, body_src, skin),
        chin_row=chin_row,
        ramp_px=max(6.0, 0.15 * head_width_px),
    )
