"""The viewport's camera presets, background colour and centred message (a mixin of
viewer.canvas.GaussianViewer, which creates the camera, canvas and message it works on)."""

from __future__ import annotations

from vispy import scene

from engine.geometry import FOV_DEG, ORBIT_RADIUS
from viewer.gl_setup import BACKGROUNDS, PRESETS, SplatCanvas, vispy_azimuth


class ViewControls:
    """Camera presets (front/left/right/back/top), reset (F), background toggle (B), a message."""

    camera: scene.TurntableCamera
    canvas: SplatCanvas
    message: scene.visuals.Text
    background: str

    # ---- camera ----------------------------------------------------------------------

    def set_view(self, name: str) -> None:
        """Jump to a preset: front, left, right, back, top."""
        if name not in PRESETS:
            raise ValueError(f"unknown view {name!r}; choose one of {', '.join(PRESETS)}")
        azimuth, elevation = PRESETS[name]
        self._look_from(azimuth, elevation, ORBIT_RADIUS)

    def set_orbit_view(self, azimuth_deg: float, elevation_deg: float, distance: float) -> None:
        """Look at the origin from a point on the orbit: azimuth in engine.geometry's convention
        (270 = FaceLift's front camera), elevation in degrees, at ``distance`` (a model's camera)."""
        self._look_from(vispy_azimuth(azimuth_deg), elevation_deg, distance)

    def _look_from(self, vispy_az: float, elevation: float, distance: float) -> None:
        self.camera.set_state(
            {
                "azimuth": vispy_az,
                "elevation": elevation,
                "center": (0.0, 0.0, 0.0),
                "fov": FOV_DEG,
                "roll": 0.0,
            }
        )
        self.camera.distance = distance
        self.camera.view_changed()

    def reset_view(self) -> None:
        """Back to the front view at the FaceLift camera distance (key F)."""
        self.set_view("front")

    def orbit(self, d_azimuth: float, d_elevation: float = 0.0) -> None:
        """Turn the camera around +Z by degrees (what dragging does)."""
        self.camera.orbit(d_azimuth, d_elevation)

    def set_message(self, text: str) -> None:
        """Text in the middle of the view (empty-state hints; "\\n" breaks lines); "" hides it."""
        self.message.text = text
        self.message.visible = bool(text)
        self.canvas.update()

    def _place_message(self, _event: object = None) -> None:
        w, h = self.canvas.size
        self.message.pos = (w / 2, h / 2)

    def set_background(self, name: str) -> None:
        if name not in BACKGROUNDS:
            raise ValueError(f"unknown background {name!r}; choose one of {', '.join(BACKGROUNDS)}")
        self.background = name
        self.canvas.bgcolor = BACKGROUNDS[name]
        self.canvas.update()

    def toggle_background(self) -> str:
        """Cycle dark -> light -> black -> white; returns the new name (key B)."""
        names = list(BACKGROUNDS)
        self.set_background(names[(names.index(self.background) + 1) % len(names)])
        return self.background

    def _on_key(self, event: object) -> None:
        key = getattr(getattr(event, "key", None), "name", "")
        if key == "F":
            self.reset_view()
        elif key == "B":
            self.toggle_background()
