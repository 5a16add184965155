"""The model folders the window knows: the released FaceLift one and fine-tuned ones the user added.

A model folder describes itself (engine.weights.model_folder: its cameras, view names, default
framing); this module reads each listed folder into a :class:`ModelEntry` (its description, or the
one-line error "<file>: <problem>" of a broken one), words that description for the Models
dialog, and turns the cameras into the viewer's camera presets. Qt-free.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.cameras import DEFAULT_CAMERAS_JSON, SLOT_ORDER, load_cameras_json, rig_radius
from engine.errors import FaceLiftError
from engine.geometry import VIEW_NAMES
from engine.weights.locate import missing_weights, weights_present
from engine.weights.model_folder import CAMERAS_JSON, ModelDescription, describe_model

SUBJECTS = {"face": "human faces", "object": "any subject (its mask)", "none": "the whole photo"}
"""The subject a framing mode expects, as the dialog words it."""


@dataclass(frozen=True)
class ViewPreset:
    """A viewer camera preset: one of a model's cameras as an orbit around the origin.

    azimuth: degrees in engine.geometry's convention (270 = FaceLift's front camera, on -Y);
    elevation: degrees above the horizon (-90..90); distance: the camera's distance to the origin.
    """

    name: str
    azimuth: float
    elevation: float
    distance: float


@dataclass(frozen=True)
class ModelEntry:
    """One listed folder. released: the folder the weights search finds (FaceLift's own).
    description: None when the folder is broken; error: then the one-line reason, else ""."""

    folder: Path
    released: bool
    description: ModelDescription | None
    error: str

    @property
    def usable(self) -> bool:
        return self.description is not None

    @property
    def title(self) -> str:
        if self.description is not None:
            return self.description.name
        return f"{self.folder.name} (broken)"


def read_entry(folder: Path | str, released: bool = False) -> ModelEntry:
    """Describe one folder (cheap: json and tensor headers, no network loads)."""
    root = Path(folder)
    if not root.is_dir():
        return ModelEntry(root, released, None, f"{root}: folder not found")
    if not weights_present(root):
        return ModelEntry(root, released, None, f"{root}: {missing_weights(root)}")
    try:
        return ModelEntry(root, released, describe_model(root), "")
    except FaceLiftError as exc:
        return ModelEntry(root, released, None, " ".join(str(exc).split()))


def view_presets(description: ModelDescription | None) -> list[ViewPreset]:
    """The model's cameras as viewer presets, one per view in view order, named by its views
    (None: FaceLift's six released cameras)."""
    if description is None:
        cameras = load_cameras_json(DEFAULT_CAMERAS_JSON, order=SLOT_ORDER)
        names: tuple[str, ...] = VIEW_NAMES
    else:
        cameras, names = description.cameras, description.view_names
    presets = []
    for name, (x, y, z) in zip(names, cameras.centers.astype(np.float64)):
        distance = float(math.sqrt(x * x + y * y + z * z))
        azimuth = math.degrees(math.atan2(y, x)) % 360.0
        elevation = math.degrees(math.asin(max(-1.0, min(1.0, z / distance)))) if distance > 0 else 0.0
        presets.append(ViewPreset(name, azimuth, elevation, distance))
    return presets


def describe_columns(entry: ModelEntry) -> dict[str, str]:
    """What the Models dialog shows of an entry: name, views, cameras, framing, subject, folder."""
    d = entry.description
    if d is None:
        return {
            "name": entry.title,
            "views": "—",
            "cameras": "—",
            "framing": "—",
            "subject": "—",
            "folder": str(entry.folder),
            "error": entry.error,
        }
    if not any(what.startswith("cameras") for what, _ in d.overrides):
        cameras = "FaceLift's six"
    else:
        elevations = [p.elevation for p in view_presets(d)]
        cameras = (
            f"{CAMERAS_JSON}: radius {rig_radius(d.cameras):.2f}, "
            f"elevation {min(elevations):.0f}..{max(elevations):.0f}°"
        )
    framing = d.framing if d.framing != "object" else f"object (target ratio {d.target_ratio:g})"
    return {
        "name": d.name,
        "views": f"{d.num_views}: {', '.join(d.view_names)}",
        "cameras": cameras,
        "framing": framing,
        "subject": SUBJECTS[d.framing],
        "folder": str(entry.folder),
        "error": "",
    }
