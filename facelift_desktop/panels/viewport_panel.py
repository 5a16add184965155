"""Viewport panel: the VisPy viewer's adapter to the scene model, view presets, the filter sliders.

The sliders write the scene's filter (facelift_desktop/scene.py); the viewer draws the scene's
shown Gaussians through its visible mask whenever the scene says either changed. Without OpenGL
the sliders still set the filter, so exports honour them all the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from facelift_desktop.models import ViewPreset, view_presets
from facelift_desktop.panels.tool_row import ToolRow
from facelift_desktop.scene import FilterSettings, Scene
from facelift_desktop.window.status_field import StatusField

if TYPE_CHECKING:
    from viewer.canvas import GaussianViewer, ViewerStats

# Slider ranges (integer ticks -> values). The last tick of max-scale and crop means "off".
OPACITY_TICKS = 100  # threshold = tick / 200 -> 0 .. 0.5
SCALE_TICKS = 100  # max scale = 0.002 * 100**(tick/100) -> 0.002 .. 0.2; 100 = off
CROP_TICKS = 100  # half-size = 0.2 + 0.8 * tick/100 -> 0.2 .. 1.0; 100 = off


def opacity_from_tick(tick: int) -> float | None:
    return None if tick <= 0 else tick / 200.0


def scale_from_tick(tick: int) -> float | None:
    return None if tick >= SCALE_TICKS else 0.002 * 100.0 ** (tick / SCALE_TICKS)


def crop_from_tick(tick: int) -> tuple[float, float, float, float, float, float] | None:
    if tick >= CROP_TICKS:
        return None
    h = 0.2 + 0.8 * tick / CROP_TICKS
    return (-h, h, -h, h, -h, h)


EMPTY_HINT = "Drop a portrait photo anywhere\nor File > Open (Ctrl+O)\nthen Reconstruct (Ctrl+R)"


class ViewportPanel(QWidget):
    """The 3D view. With ``use_gl=False`` (tests without a display) a placeholder stands in."""

    stats_changed = Signal(object)  # ViewerStats

    def __init__(self, scene: Scene, use_gl: bool = True, background: str = "dark") -> None:
        super().__init__()
        self.scene = scene
        self.viewer: GaussianViewer | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)

        # the tool row: camera buttons (set_presets), Top, Reset | the mouse hint | Background;
        # what does not fit goes into its "⋯" menu, so the window fits a 1280x720 screen
        self.tool_row = ToolRow()
        self.view_buttons: dict[str, QToolButton] = {}
        self.presets: dict[str, ViewPreset] = {}
        self.top_button = QToolButton()
        self.top_button.setText("Top")
        self.top_button.setToolTip("Top view (Ctrl+4)")
        self.top_button.clicked.connect(lambda: self.set_view("top"))
        self.reset_button = QToolButton()
        self.reset_button.setText("Reset (F)")
        self.reset_button.setToolTip("Back to the front camera (F)")
        self.reset_button.clicked.connect(lambda: self.set_view("front"))
        self.bg_button = QToolButton()
        self.bg_button.setText("Background")
        self.bg_button.setToolTip("Cycle the background colour (B)")
        self.bg_button.clicked.connect(self.toggle_background)
        self.hint = StatusField("Drag: orbit · Shift+drag: pan · Wheel: zoom", Qt.TextElideMode.ElideRight)
        self.hint.setObjectName("dim")
        self.tool_row.set_hint(self.hint)
        self.tool_row.add_trailing(self.bg_button)
        layout.addWidget(self.tool_row)

        if use_gl:
            from viewer.canvas import GaussianViewer

            self.viewer = GaussianViewer(parent=self, background=background)
            self.viewer.stats_listeners.append(self.stats_changed.emit)
            self.viewer.set_message(EMPTY_HINT)
            canvas_widget = self.viewer.native
            layout.addWidget(canvas_widget, 1)  # type: ignore[arg-type]
        else:
            placeholder = QLabel("3D view unavailable (no OpenGL display)")
            placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
            placeholder.setObjectName("viewportPlaceholder")
            layout.addWidget(placeholder, 1)

        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, OPACITY_TICKS)
        self.scale_slider = QSlider(Qt.Orientation.Horizontal)
        self.scale_slider.setRange(0, SCALE_TICKS)
        self.scale_slider.setValue(SCALE_TICKS)
        self.crop_slider = QSlider(Qt.Orientation.Horizontal)
        self.crop_slider.setRange(0, CROP_TICKS)
        self.crop_slider.setValue(CROP_TICKS)
        self.opacity_value = QLabel()
        self.scale_value = QLabel()
        self.crop_value = QLabel()
        filters = QFormLayout()
        filters.setContentsMargins(0, 0, 0, 0)
        for label, slider, value in (
            ("Min opacity", self.opacity_slider, self.opacity_value),
            ("Max scale", self.scale_slider, self.scale_value),
            ("Crop box", self.crop_slider, self.crop_value),
        ):
            row = QHBoxLayout()
            row.addWidget(slider, 1)
            value.setMinimumWidth(64)
            value.setObjectName("dim")
            row.addWidget(value)
            filters.addRow(label, row)
            slider.valueChanged.connect(self._apply_filter)
        layout.addLayout(filters)
        self.set_presets(view_presets(None))
        self._apply_filter()
        scene.shown_changed.connect(self._draw_shown)
        scene.filter_changed.connect(self._draw_filter)
        scene.animation_changed.connect(self._draw_animation)
        scene.frame_changed.connect(self._draw_frame)

    # ---- the scene -------------------------------------------------------------------

    def _draw_shown(self, scene: Scene) -> None:
        if self.viewer is not None:
            shown = scene.shown
            self.viewer.set_gaussians(shown, visible=None if shown is None else scene.visible_mask())
            self.viewer.set_message("" if shown is not None else EMPTY_HINT)

    def _draw_filter(self, scene: Scene) -> None:
        drawn = scene.animation.base if scene.animation is not None else scene.shown
        if self.viewer is not None and drawn is not None:
            self.viewer.set_visible(scene.visible_mask(drawn))

    def _draw_animation(self, scene: Scene) -> None:
        """An animation starts (its frames replace the static head) or ends (the head is back)."""
        if self.viewer is None:
            return
        animation = scene.animation
        self.viewer.set_playing(False)
        self.viewer.set_gaussians(None)  # the viewer's arrays were a frame's: start afresh
        if animation is None:
            self._draw_shown(scene)
            return
        first = animation.arrays(scene.frame)
        self.viewer.set_gaussians(animation.base, visible=scene.visible_mask(animation.base), arrays=first)
        self.viewer.set_message("")
        self._draw_frame(scene)

    def _draw_frame(self, scene: Scene) -> None:
        if self.viewer is not None and scene.animation is not None:
            self.viewer.show_frame(scene.animation.arrays(scene.frame))

    def set_playing(self, playing: bool) -> None:
        """Level of detail while an animation plays, every splat when it stops."""
        if self.viewer is not None:
            self.viewer.set_playing(playing)

    def filter_settings(self) -> FilterSettings:
        """The filter the sliders show."""
        return FilterSettings(
            opacity_threshold=opacity_from_tick(self.opacity_slider.value()),
            max_scale=scale_from_tick(self.scale_slider.value()),
            crop_box=crop_from_tick(self.crop_slider.value()),
        )

    def _apply_filter(self, *_args: object) -> None:
        o = opacity_from_tick(self.opacity_slider.value())
        s = scale_from_tick(self.scale_slider.value())
        c = crop_from_tick(self.crop_slider.value())
        self.opacity_value.setText("off" if o is None else f"> {o:.3f}")
        self.scale_value.setText("off" if s is None else f"< {s:.3f}")
        self.crop_value.setText("off" if c is None else f"±{c[1]:.2f}")
        self.scene.set_filter(self.filter_settings())

    def reset_filters(self) -> None:
        for slider, value in (
            (self.opacity_slider, 0),
            (self.scale_slider, SCALE_TICKS),
            (self.crop_slider, CROP_TICKS),
        ):
            slider.blockSignals(True)
            slider.setValue(value)
            slider.blockSignals(False)
        self._apply_filter()

    # ---- camera ----------------------------------------------------------------------

    def set_presets(self, presets: list[ViewPreset]) -> None:
        """One button per camera of the picked model, named and placed like it (front, ...)."""
        for button in self.view_buttons.values():
            if button is self.top_button:
                continue
            button.hide()  # until deleteLater runs it would still be drawn, out of the row
            button.deleteLater()
        self.presets = {p.name: p for p in presets}
        self.view_buttons = {}
        for p in presets:
            b = QToolButton()
            b.setText(p.name.replace("_", " ").capitalize())
            b.setToolTip(
                f"The model's {p.name} camera (azimuth {p.azimuth:.0f}°, elevation {p.elevation:.0f}°, "
                f"distance {p.distance:.2f})"
            )
            b.clicked.connect(lambda _=False, n=p.name: self.set_view(n))
            self.view_buttons[p.name] = b
        self.view_buttons["top"] = self.top_button
        self.tool_row.set_leading([*self.view_buttons.values(), self.reset_button])

    def set_view(self, name: str) -> None:
        """A camera of the picked model by its view name, else a viewer preset (left, top, ...)."""
        if self.viewer is None:
            return
        preset = self.presets.get(name)
        if preset is not None:
            self.viewer.set_orbit_view(preset.azimuth, preset.elevation, preset.distance)
        else:
            self.viewer.set_view(name)

    def reset_view(self) -> None:
        self.set_view("front")

    def toggle_background(self) -> str:
        return self.viewer.toggle_background() if self.viewer is not None else ""

    def stats(self) -> ViewerStats | None:
        return None if self.viewer is None else self.viewer.stats()

    def close_viewer(self) -> None:
        if self.viewer is not None:
            self.viewer.close()
