"""What a weights folder says about itself beyond its networks: a self-describing model folder.

Optional files beside the weights override the released model's defaults (docs/CUSTOM_MODELS.md)::

    <dir>/opencv_cameras.json      the cameras the views are generated for and GS-LRM uses
                                   (FaceLift's schema; frames in view order unless
                                   facelift-model.json gives "camera_order")
    <dir>/facelift-model.json      {"name", "licence", "framing", "target_ratio",
                                    "view_names", "camera_order"}: all optional
    <dir>/mvdiffusion/clr_embeds.(safetensors|pt)   prompt embeddings: one per view

The number of views is the number of prompt embeddings, and it must equal the number of
cameras. :func:`describe_model` reads and checks all of it cheaply (json and a tensor header,
no network loads), so a broken folder is a one-line WeightsError naming the file before any
model runs. Plain Python + numpy (torch only for a ``.pt`` embeddings file).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from engine.cameras import DEFAULT_CAMERAS_JSON, RESOURCES, SLOT_ORDER, CameraSet, load_cameras_json
from engine.errors import InputError, WeightsError
from engine.geometry import VIEW_NAMES
from engine.settings import (
    DEFAULT_FRAMING,
    DEFAULT_TARGET_RATIO,
    FRAMING_NAMES,
    FramingName,
)
from engine.weights.files import load_file, tensor_shapes

MODEL_JSON = "facelift-model.json"
CAMERAS_JSON = "opencv_cameras.json"
PROMPT_EMBEDS_NAMES = ("clr_embeds.safetensors", "clr_embeds.pt")
SHIPPED_PROMPT_EMBEDS = RESOURCES / "clr_embeds.safetensors"
RELEASED_NAME = "FaceLift (released)"
_MODEL_KEYS = {"name", "licence", "license", "framing", "target_ratio", "view_names", "camera_order"}


@dataclass(frozen=True)
class ModelDescription:
    """A model folder's own settings, checked.

    cameras: V cameras in view order (intrinsics at the file's image size).
    view_names: V names (FaceLift's six for the released rig, else from facelift-model.json,
        else view_1..view_V). framing / target_ratio: the default preprocessing for this model.
    overrides: (what, file) for every default the folder overrides, in a fixed order.
    """

    root: Path
    name: str
    licence: str | None
    framing: FramingName
    target_ratio: float
    cameras: CameraSet
    view_names: tuple[str, ...]
    prompt_embeds: Path
    overrides: tuple[tuple[str, Path], ...]

    @property
    def num_views(self) -> int:
        return len(self.cameras)

    def override_lines(self) -> list[str]:
        """One line per override, for ``facelift weights verify``."""
        if not self.overrides:
            return ["none: the released FaceLift defaults (six cameras, face framing)"]
        return [f"{what}: {path}" for what, path in self.overrides]


def prompt_embeds_file(weights_dir: Path) -> Path:
    """The folder's prompt embeddings (``mvdiffusion/clr_embeds.*``), else the shipped ones."""
    for name in PROMPT_EMBEDS_NAMES:
        candidate = Path(weights_dir) / "mvdiffusion" / name
        if candidate.is_file():
            return candidate
    return SHIPPED_PROMPT_EMBEDS


def prompt_embeds_count(path: Path) -> int:
    """How many views a prompt-embeddings file describes (its first dimension), read cheaply."""
    if path.suffix == ".safetensors":
        shapes = tensor_shapes(path)
        shape = shapes.get("prompt_embeds", next(iter(shapes.values()), None))
    else:
        data: Any = load_file(path)
        tensor: Any = data.get("prompt_embeds") if isinstance(data, dict) else data
        shape = tuple(tensor.shape) if hasattr(tensor, "shape") else None
    if shape is None or len(shape) != 3:
        raise WeightsError(f"{path}: no (views, tokens, width) prompt_embeds tensor")
    return int(shape[0])


def _read_model_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise WeightsError(f"{path}: not readable json ({' '.join(str(exc).split())[:160]})") from exc
    if not isinstance(data, dict):
        raise WeightsError(f"{path}: must be a json object")
    unknown = sorted(set(data) - _MODEL_KEYS)
    if unknown:
        raise WeightsError(
            f"{path}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_MODEL_KEYS))}"
        )
    return data


def _framing(data: dict[str, Any], path: Path) -> tuple[FramingName, float]:
    framing = data.get("framing", DEFAULT_FRAMING)
    if framing not in FRAMING_NAMES:
        raise WeightsError(f"{path}: unknown framing mode {framing!r}; choose {', '.join(FRAMING_NAMES)}")
    ratio = data.get("target_ratio", DEFAULT_TARGET_RATIO)
    if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0.05 <= float(ratio) <= 1.0:
        raise WeightsError(f"{path}: target_ratio must be a number in 0.05..1, got {ratio!r}")
    return cast(FramingName, framing), float(ratio)


def _camera_order(data: dict[str, Any], path: Path) -> tuple[int, ...] | None:
    order = data.get("camera_order")
    if order is None:
        return None
    if (
        not isinstance(order, list)
        or not order
        or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in order)
    ):
        raise WeightsError(f"{path}: camera_order must be a list of frame indices, got {order!r}")
    return tuple(order)


def _cameras(file: Path, order: tuple[int, ...] | None, model_json: Path) -> CameraSet:
    try:
        return load_cameras_json(file, order=order)
    except InputError as exc:
        if order is not None and "IndexError" in str(exc):
            raise WeightsError(f"{model_json}: camera_order {list(order)} names frames {file} lacks") from exc
        raise WeightsError(str(exc)) from exc


def model_cameras(weights_dir: Path | str) -> tuple[CameraSet, Path]:
    """The folder's cameras in view order and the file they come from (its opencv_cameras.json,
    ordered by facelift-model.json's camera_order; else the released six). Unlike
    :func:`describe_model` the prompt embeddings are not read (GS-LRM alone needs no more).
    Raises WeightsError naming the file."""
    root = Path(weights_dir)
    model_json = root / MODEL_JSON
    data = _read_model_json(model_json) if model_json.is_file() else {}
    return _cameras_of(root, _camera_order(data, model_json), model_json)


def _cameras_of(root: Path, order: tuple[int, ...] | None, model_json: Path) -> tuple[CameraSet, Path]:
    cameras_json = root / CAMERAS_JSON
    if cameras_json.is_file():
        return _cameras(cameras_json, order, model_json), cameras_json
    if order is not None:
        raise WeightsError(f"{model_json}: camera_order given but the folder has no {CAMERAS_JSON}")
    return load_cameras_json(DEFAULT_CAMERAS_JSON, order=SLOT_ORDER), DEFAULT_CAMERAS_JSON


def describe_model(weights_dir: Path | str) -> ModelDescription:
    """Read and check a model folder's own files (see the module docstring).

    Raises WeightsError "<file>: <problem>" for an unreadable or invalid facelift-model.json
    (unknown key, unknown framing mode, bad target_ratio or names), a bad cameras json, or a
    number of cameras that differs from the number of prompt embeddings.
    """
    root = Path(weights_dir)
    overrides: list[tuple[str, Path]] = []
    model_json = root / MODEL_JSON
    data: dict[str, Any] = {}
    if model_json.is_file():
        data = _read_model_json(model_json)
        overrides.append(("model description", model_json))
    framing, ratio = _framing(data, model_json)
    licence = data.get("licence", data.get("license"))
    name = data.get("name", RELEASED_NAME if not data else root.name)
    if not isinstance(name, str) or not (licence is None or isinstance(licence, str)):
        raise WeightsError(f"{model_json}: name and licence must be strings")
    order = _camera_order(data, model_json)

    cameras, cams_source = _cameras_of(root, order, model_json)
    if cams_source != DEFAULT_CAMERAS_JSON:
        overrides.append((f"cameras ({len(cameras)} views)", cams_source))

    yamls = sorted((root / "gslrm").glob("*.y*ml")) if (root / "gslrm").is_dir() else []
    if yamls:
        overrides.append(("GS-LRM config", yamls[0]))
    embeds = prompt_embeds_file(root)
    if embeds != SHIPPED_PROMPT_EMBEDS:
        overrides.append(("prompt embeddings", embeds))
    n_views = prompt_embeds_count(embeds)
    if n_views != len(cameras):
        raise WeightsError(
            f"{cams_source}: {len(cameras)} cameras, but the prompt embeddings {embeds} describe "
            f"{n_views} views (one camera per view)"
        )

    names = data.get("view_names")
    if names is None:
        names = (
            list(VIEW_NAMES)
            if cams_source == DEFAULT_CAMERAS_JSON
            else [f"view_{i + 1}" for i in range(len(cameras))]
        )
    elif not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise WeightsError(f"{model_json}: view_names must be a list of non-empty strings")
    if len(names) != len(cameras) or len(set(names)) != len(names):
        raise WeightsError(f"{model_json}: view_names needs {len(cameras)} distinct names, got {names}")
    if framing != DEFAULT_FRAMING or "target_ratio" in data:
        overrides.append((f"framing {framing} (target_ratio {ratio:g})", model_json))
    return ModelDescription(
        root, name, licence, framing, ratio, cameras, tuple(names), embeds, tuple(overrides)
    )
