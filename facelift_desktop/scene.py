"""The scene the window shows and exports: a plain Python model (no Qt, no VisPy) that emits events.

The napari pattern: this model owns the state -- the current result, a preview shown while a run
goes, the live filter, the generated views -- and says when it changes; the VisPy viewport (through
facelift_desktop/panels/viewport_panel.py) and the Qt panels listen and draw. Every export reads
:meth:`Scene.filtered`, so what is written is what the sliders keep whether or not a GL viewport
exists. Events are emitted on the caller's thread (the GUI thread: the workers hand results over
through Qt signals first).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import numpy as np

from engine.api import ReconstructionResult
from engine.errors import FaceLiftError
from engine.gaussians import Gaussians

if TYPE_CHECKING:
    import trimesh

T = TypeVar("T")


class Event(Generic[T]):
    """A list of listeners called with one value, in the order they connected."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[T], None]] = []

    def connect(self, listener: Callable[[T], None]) -> None:
        self._listeners.append(listener)

    def disconnect(self, listener: Callable[[T], None]) -> None:
        self._listeners.remove(listener)

    def emit(self, value: T) -> None:
        for listener in list(self._listeners):
            listener(value)


@dataclass(frozen=True)
class FilterSettings:
    """The live filter. ``None`` switches a stage off.

    opacity_threshold: keep opacity > this (0..1); max_scale: keep max std < this (world units,
    or z > 0, the reference's rule); crop_box: (xmin, xmax, ymin, ymax, zmin, zmax), inclusive.
    """

    opacity_threshold: float | None = None
    max_scale: float | None = None
    crop_box: Sequence[float] | None = None

    @property
    def active(self) -> bool:
        return not (self.opacity_threshold is None and self.max_scale is None and self.crop_box is None)

    def mask(self, gaussians: Gaussians) -> np.ndarray:
        """Boolean keep-mask (N,), exactly what ``gaussians.filter(...)`` would keep."""
        masks = gaussians.filter_masks(
            opacity_thres=self.opacity_threshold,
            scaling_thres=self.max_scale,
            floater_thres=None,
            crop_bbx=None if self.crop_box is None else tuple(self.crop_box),
        )
        return masks["crop"]


class Frames(Protocol):
    """An animation of the result (facelift_desktop.animation.Animation): ``frames`` frames of
    ``base`` (the head's Gaussians and its mouth interior) moved."""

    @property
    def frames(self) -> int: ...

    @property
    def base(self) -> Gaussians: ...

    def arrays(self, index: int) -> Any:
        """The viewer's draw attributes of frame ``index`` (viewer.splat_data.SplatArrays)."""


class Scene:
    """What the window shows: ``result`` (or a ``preview`` during a run) through ``filter``,
    or frame ``frame`` of an ``animation`` of the result.

    Events (each passes the scene): ``shown_changed`` when the Gaussians on screen change (a new
    result, a preview, back from a preview), ``result_changed`` when the result itself changes,
    ``filter_changed`` when the filter does, ``animation_changed`` when an animation starts or
    ends (a new result or preview ends it), ``frame_changed`` when its frame does.
    """

    def __init__(self) -> None:
        self.result: ReconstructionResult | None = None
        self.preview: Gaussians | None = None
        self.filter = FilterSettings()
        self.shown_changed: Event[Scene] = Event()
        self.result_changed: Event[Scene] = Event()
        self.filter_changed: Event[Scene] = Event()
        self.animation: Frames | None = None
        self.frame = 0
        self.animation_changed: Event[Scene] = Event()
        self.frame_changed: Event[Scene] = Event()
        self._mask_key: tuple[int, FilterSettings] | None = None
        self._mask: np.ndarray = np.zeros(0, bool)

    # ---- state --------------------------------------------------------------------------

    @property
    def shown(self) -> Gaussians | None:
        """The Gaussians on screen (unfiltered): the preview while one is shown, else the result's."""
        if self.preview is not None:
            return self.preview
        return None if self.result is None else self.result.gaussians

    @property
    def views(self) -> np.ndarray | None:
        """The six generated views (6,H,W,3) uint8 of the result, or None."""
        return None if self.result is None else self.result.views

    @property
    def mesh(self) -> trimesh.Trimesh | None:
        """The head's own mesh (ReconstructionResult.mesh), or None: mesh exports fuse one."""
        return None if self.result is None else self.result.mesh

    @property
    def source(self) -> Path | None:
        """The file the result was opened from (None: a reconstruction)."""
        source = None if self.result is None else self.result.info.get("source")
        return Path(source) if source else None

    def set_result(self, result: ReconstructionResult | None) -> None:
        """A new current result (a finished run, an opened file); drops any preview."""
        self.result = result
        self.preview = None
        self.set_animation(None)
        self.result_changed.emit(self)
        self.shown_changed.emit(self)

    def set_preview(self, gaussians: Gaussians) -> None:
        """Show ``gaussians`` until the run ends (a quick head before the real one)."""
        self.preview = gaussians
        self.set_animation(None)
        self.shown_changed.emit(self)

    def end_preview(self) -> bool:
        """Back to the result after a run that produced nothing; True if a preview was shown."""
        if self.preview is None:
            return False
        self.preview = None
        self.shown_changed.emit(self)
        return True

    def set_animation(self, animation: Frames | None) -> None:
        """Show ``animation`` (of the current result) from its first frame; None: the static head."""
        if animation is None and self.animation is None:
            return
        self.animation = animation
        self.frame = 0
        self.animation_changed.emit(self)

    def set_frame(self, index: int) -> None:
        """Show frame ``index`` (clamped to the animation's frames) of the animation."""
        if self.animation is None:
            return
        index = int(np.clip(index, 0, self.animation.frames - 1))
        if index != self.frame:
            self.frame = index
            self.frame_changed.emit(self)

    def set_filter(self, settings: FilterSettings) -> None:
        if settings != self.filter:
            self.filter = settings
            self.filter_changed.emit(self)

    # ---- what the viewport draws and the exports write -----------------------------------

    def visible_mask(self, gaussians: Gaussians | None = None) -> np.ndarray:
        """Keep-mask (N,) of the filter over ``gaussians`` (default: the shown ones), cached."""
        g = self.shown if gaussians is None else gaussians
        if g is None:
            return np.zeros(0, bool)
        key = (id(g), self.filter)
        if key != self._mask_key:
            self._mask = self.filter.mask(g)
            self._mask_key = key
        return self._mask

    def require_result(self) -> ReconstructionResult:
        if self.result is None:
            raise FaceLiftError("nothing to export yet: reconstruct a photo or open Gaussians first")
        return self.result

    def filtered(self) -> Gaussians:
        """The result's Gaussians the filter keeps: what every export writes."""
        g = self.require_result().gaussians
        if not self.filter.active:
            return g
        kept = g.subset(self.visible_mask(g))
        if len(kept) == 0:
            raise FaceLiftError("the filter keeps no Gaussians: loosen the sliders (View → Reset filters)")
        return kept

    def stem(self, photo: Path | None = None) -> str:
        """A file-name stem for exports: the opened file's, else the photo's, else "head"."""
        from engine.io.formats import FORMATS

        if self.source is not None:
            name = self.source.name
            for suffix in sorted((f.suffix for f in FORMATS), key=len, reverse=True):
                if name.lower().endswith(suffix):
                    return name[: -len(suffix)]
            return name  # a reconstruction folder
        return photo.stem if photo is not None else "head"
