"""The Export dialog: every format the head can be written as, each with its expected size.

The Gaussian and mesh formats are engine/io/formats.py's table (what ``facelift export`` writes,
sizes from its expected_size: exact for PLY, compressed PLY and .splat, estimates for SPZ and
meshes); the window adds the turntable video, the current view as PNG and the six generated views,
whose sizes are estimates from the pixel count (marked "about").
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.gaussians import Gaussians
from engine.io.formats import FORMATS, expected_size, format_named
from engine.weights.verify import human_size
from facelift_desktop.settings import ExportSettings

WINDOW_KINDS: dict[str, str] = {
    "turntable": "Turntable video (MP4, GIF)",
    "png": "Current view (PNG)",
    "views": "The six generated views (PNG)",
}
"""What the window exports besides engine/io/formats.py's formats (name -> label)."""
KINDS: tuple[str, ...] = tuple(f.name for f in FORMATS) + tuple(WINDOW_KINDS)

# Bytes per pixel of our encoded images, measured on heads over a plain background (estimates).
PNG_BYTES_PER_PIXEL = 1.2
VIDEO_BYTES_PER_PIXEL = {"mp4": 0.06, "gif": 0.45}


@dataclass(frozen=True)
class ExportSubject:
    """What there is to export: the filtered Gaussians, the generated views' (count, H, W) or
    None, the head's own mesh triangle count (None: a mesh is fused) and the PNG's (W, H)."""

    gaussians: Gaussians
    views_shape: tuple[int, int, int] | None = None
    own_mesh_triangles: int | None = None
    png_size: tuple[int, int] = (512, 512)


def label_of(kind: str) -> str:
    return WINDOW_KINDS[kind] if kind in WINDOW_KINDS else format_named(kind).label


def estimated_bytes(kind: str, subject: ExportSubject, s: ExportSettings) -> tuple[int, bool]:
    """(bytes, exact) of exporting ``subject`` as ``kind`` with settings ``s``."""
    if kind == "png":
        w, h = subject.png_size
        return int(w * h * PNG_BYTES_PER_PIXEL), False
    if kind == "views":
        n, h, w = subject.views_shape or (0, 0, 0)
        return int(n * h * w * PNG_BYTES_PER_PIXEL), False
    if kind == "turntable":
        size = s.video_size // 8 * 8
        per = VIDEO_BYTES_PER_PIXEL.get(s.video_format, 0.1)
        return int(s.video_frames * size * size * per), False
    fmt = format_named(kind)
    triangles = subject.own_mesh_triangles or s.mesh_triangles
    texture = 0 if subject.own_mesh_triangles else s.mesh_texture
    flavour = "inria" if s.ply_flavour == "inria" else "facelift"
    size = expected_size(fmt, subject.gaussians, flavour, triangles, texture)
    return size, fmt.name in ("ply", "compressed.ply", "splat")


def size_text(kind: str, subject: ExportSubject, s: ExportSettings) -> str:
    n, exact = estimated_bytes(kind, subject, s)
    return human_size(n) if exact else f"about {human_size(n)}"


class ExportDialog(QDialog):
    """Choose the format (each listed with its expected size) and its options.

    ``kind``: the format to show first (KINDS); kinds the subject cannot give (no generated
    views) are listed but disabled. ``result_settings()`` holds the choices after OK.
    """

    def __init__(
        self,
        subject: ExportSubject,
        settings: ExportSettings,
        kind: str = "ply",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, windowTitle="Export")
        self.subject = subject
        self.settings = settings
        self.format = QComboBox()
        for name in KINDS:
            self.format.addItem(label_of(name), name)
            if name == "views" and subject.views_shape is None:
                item = self.format.model().item(self.format.count() - 1)  # type: ignore[attr-defined]
                item.setEnabled(False)
        self.size_label = QLabel()
        self.size_label.setObjectName("exportSize")
        self.flavour = QComboBox()
        self.flavour.addItem("FaceLift (62 properties, as the reference writes)", "facelift")
        self.flavour.addItem("INRIA 3DGS (SH degree as stored)", "inria")
        self.up_axis = QComboBox()
        self.up_axis.addItem("+Z up (FaceLift world)", "z")
        self.up_axis.addItem("+Y up, face toward +Z (web viewers, Blender glTF)", "y")
        self.triangles = QSpinBox()
        self.triangles.setRange(1_000, 2_000_000)
        self.triangles.setSingleStep(10_000)
        self.texture = QComboBox()
        for px in (0, 1024, 2048, 4096):
            self.texture.addItem("vertex colours" if px == 0 else f"{px} × {px} texture", px)
        self.video_format = QComboBox()
        self.video_format.addItem("MP4 (H.264)", "mp4")
        self.video_format.addItem("GIF", "gif")
        self.frames = QSpinBox()
        self.frames.setRange(8, 600)
        self.fps = QSpinBox()
        self.fps.setRange(5, 60)
        self.size = QSpinBox()
        self.size.setRange(128, 2048)
        self.size.setSingleStep(64)
        self.elevation = QDoubleSpinBox()
        self.elevation.setRange(-60.0, 60.0)
        self.elevation.setSuffix("°")
        self._load(settings)

        self.form = QFormLayout()
        self.form.addRow("Format", self.format)
        self.form.addRow("Expected size", self.size_label)
        self._rows: dict[str, QWidget] = {
            "Flavour": self.flavour,
            "Up axis": self.up_axis,
            "Triangles": self.triangles,
            "Colour": self.texture,
            "Video": self.video_format,
            "Frames": self.frames,
            "Frames per second": self.fps,
            "Size (pixels)": self.size,
            "Elevation": self.elevation,
        }
        for label, widget in self._rows.items():
            self.form.addRow(label, widget)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(buttons)
        for box in (self.format, self.flavour, self.up_axis, self.texture, self.video_format):
            box.currentIndexChanged.connect(self._refresh)
        for spin in (self.triangles, self.frames, self.size):
            spin.valueChanged.connect(self._refresh)
        self.format.setCurrentIndex(max(0, self.format.findData(kind)))
        self._refresh()

    def _load(self, s: ExportSettings) -> None:
        self.flavour.setCurrentIndex(max(0, self.flavour.findData(s.ply_flavour)))
        self.up_axis.setCurrentIndex(max(0, self.up_axis.findData(s.up_axis)))
        self.triangles.setValue(s.mesh_triangles)
        self.texture.setCurrentIndex(max(0, self.texture.findData(s.mesh_texture)))
        self.video_format.setCurrentIndex(max(0, self.video_format.findData(s.video_format)))
        self.frames.setValue(s.video_frames)
        self.fps.setValue(s.video_fps)
        self.size.setValue(s.video_size)
        self.elevation.setValue(s.video_elevation)

    @property
    def kind(self) -> str:
        return str(self.format.currentData())

    def _visible_rows(self) -> set[str]:
        kind = self.kind
        if kind == "turntable":
            return {"Video", "Frames", "Frames per second", "Size (pixels)", "Elevation"}
        if kind in ("png", "views"):
            return set()
        fmt = format_named(kind)
        rows = set() if fmt.fixed_up else {"Up axis"}
        if fmt.name == "ply":
            rows.add("Flavour")
        if fmt.mesh and self.subject.own_mesh_triangles is None:
            rows |= {"Triangles", "Colour"}
        return rows

    def _refresh(self, *_args: object) -> None:
        shown = self._visible_rows()
        for label, widget in self._rows.items():
            self.form.setRowVisible(widget, label in shown)
        text = size_text(self.kind, self.subject, self.result_settings(remember=False))
        if self.kind in ("glb", "obj"):
            own = self.subject.own_mesh_triangles
            text += (
                f" (the head's own mesh, {own:,} triangles)" if own else " (a mesh fused from the Gaussians)"
            )
        self.size_label.setText(text)

    def result_settings(self, remember: bool = True) -> ExportSettings:
        """The settings with this dialog's choices (``remember``: into the settings it was given)."""
        from dataclasses import replace

        s = replace(
            self.settings,
            kind=self.kind,
            ply_flavour=str(self.flavour.currentData()),
            up_axis=str(self.up_axis.currentData()),
            mesh_triangles=int(self.triangles.value()),
            mesh_texture=int(self.texture.currentData()),
            video_format=str(self.video_format.currentData()),
            video_frames=int(self.frames.value()),
            video_fps=int(self.fps.value()),
            video_size=int(self.size.value()),
            video_elevation=float(self.elevation.value()),
        )
        if remember:
            self.settings = s
        return s
