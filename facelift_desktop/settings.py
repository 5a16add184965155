"""Persistent user settings (QSettings) with typed accessors; defaults from engine.settings."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings

from engine.mesh.fuse import MeshOptions
from engine.settings import (
    DEVICE_NAMES,
    ENGINE_NAMES,
    FRAMING_NAMES,
    MEMORY_PRESET_NAMES,
    RENDER_SIZE,
    SAMPLER_NAMES,
    TURNTABLE_ELEVATION,
    TURNTABLE_FPS,
    TURNTABLE_FRAMES,
    EngineConfig,
    RunOptions,
)

ORGANISATION = "FaceLift"
APPLICATION = "FaceLift Desktop"
MAX_RECENT = 8

SEED_RANGE = (0, 2**31 - 1)
GUIDANCE_RANGE = (1.0, 10.0)
STEPS_RANGE = (10, 100)
"""What the parameters panel lets a person pick (a saved value outside is clamped on loading)."""

_CONFIG_KEYS = ("engine", "device", "memory_preset")
_OPTION_KEYS = ("seed", "guidance_scale", "num_steps", "auto_crop", "sampler")
"""The fields the panel edits, saved as parameters/<field>."""


@dataclass(frozen=True)
class Parameters:
    """What the parameters panel edits: the engine's configuration (the weights folder is set
    in Tools → FaceLift weights…, not here) and what a run asks for."""

    config: EngineConfig = field(default_factory=lambda: EngineConfig(engine="facelift"))
    options: RunOptions = field(default_factory=RunOptions)


@dataclass
class ExportSettings:
    """Choices the export dialogs remember."""

    kind: str = "ply"  # the format last exported (facelift_desktop/export_dialog.py's KINDS)
    ply_flavour: str = "facelift"
    up_axis: str = "z"
    mesh_triangles: int = MeshOptions.triangles  # a fused mesh's triangle budget
    mesh_texture: int = MeshOptions.texture_size  # 0: vertex colours; N: an N x N baked texture
    video_format: str = "mp4"
    video_frames: int = TURNTABLE_FRAMES
    video_fps: int = int(TURNTABLE_FPS)
    video_size: int = RENDER_SIZE
    video_elevation: float = TURNTABLE_ELEVATION
    last_folder: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _coerce(value: Any, default: Any) -> Any:
    """QSettings returns strings from INI files; convert back to the default's type."""
    if value is None:
        return default
    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes", "on")
            return bool(value)
        if isinstance(default, int):
            return int(float(value))
        if isinstance(default, float):
            return float(value)
        if isinstance(default, str):
            return str(value)
    except (TypeError, ValueError):
        return default
    return value


class AppSettings:
    """Typed view of a QSettings store. Pass a QSettings to use a test-local file."""

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store if store is not None else QSettings(ORGANISATION, APPLICATION)

    @classmethod
    def at_path(cls, path: Path | str) -> AppSettings:
        """Settings kept in an INI file at ``path`` (tests, portable installs)."""
        return cls(QSettings(str(path), QSettings.Format.IniFormat))

    def _load(self, group: str, obj: Any) -> Any:
        for f in fields(obj):
            if f.name == "extra":
                continue
            setattr(obj, f.name, _coerce(self.store.value(f"{group}/{f.name}"), getattr(obj, f.name)))
        return obj

    def _save(self, group: str, obj: Any) -> None:
        for f in fields(obj):
            if f.name == "extra":
                continue
            self.store.setValue(f"{group}/{f.name}", getattr(obj, f.name))
        self.store.sync()

    def parameters(self) -> Parameters:
        """The saved parameters; unknown names fall back to the default, numbers are clamped."""
        default = Parameters()

        def saved(name: str, fallback: Any, allowed: tuple[Any, ...] | None = None) -> Any:
            value = _coerce(self.store.value(f"parameters/{name}"), fallback)
            return fallback if allowed is not None and value not in allowed else value

        def clamp(value: float, bounds: tuple[float, float]) -> Any:
            return max(bounds[0], min(bounds[1], value))

        c, o = default.config, default.options
        config = EngineConfig(
            engine=saved("engine", c.engine, ENGINE_NAMES),
            device=saved("device", c.device, DEVICE_NAMES),
            memory_preset=saved("memory_preset", c.memory_preset, MEMORY_PRESET_NAMES),
        )
        options = RunOptions(
            seed=clamp(saved("seed", o.seed), SEED_RANGE),
            guidance_scale=round(clamp(saved("guidance_scale", o.guidance_scale), GUIDANCE_RANGE), 1),
            num_steps=clamp(saved("num_steps", o.num_steps), STEPS_RANGE),
            auto_crop=saved("auto_crop", o.auto_crop),
            sampler=saved("sampler", o.sampler, SAMPLER_NAMES),
            framing=saved("framing", "", ("", *FRAMING_NAMES)) or None,  # "": the model's own
        )
        return Parameters(config, options)

    def set_parameters(self, params: Parameters) -> None:
        for obj, keys in ((params.config, _CONFIG_KEYS), (params.options, _OPTION_KEYS)):
            for key in keys:
                self.store.setValue(f"parameters/{key}", getattr(obj, key))
        self.store.setValue("parameters/framing", params.options.framing or "")
        self.store.sync()

    def export_settings(self) -> ExportSettings:
        return self._load("export", ExportSettings())  # type: ignore[no-any-return]

    def set_export_settings(self, settings: ExportSettings) -> None:
        self._save("export", settings)

    def recent_files(self) -> list[str]:
        value = self.store.value("recent/files")
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in value if str(v)][:MAX_RECENT]

    def add_recent_file(self, path: Path | str) -> list[str]:
        path = str(Path(path).resolve())
        files = [path] + [f for f in self.recent_files() if f != path]
        files = files[:MAX_RECENT]
        self.store.setValue("recent/files", files)
        self.store.sync()
        return files

    def weights_dir(self) -> str:
        return str(self.store.value("weights/dir") or "")

    def set_weights_dir(self, path: Path | str | None) -> None:
        self.store.setValue("weights/dir", "" if path is None else str(path))
        self.store.sync()

    def model_folders(self) -> list[str]:
        """The model folders the user added in Tools → Models… (the released one is found, not listed)."""
        value = self.store.value("models/folders")
        if value is None:
            return []
        return [str(v) for v in ([value] if isinstance(value, str) else value) if str(v)]

    def set_model_folders(self, folders: list[str]) -> None:
        self.store.setValue("models/folders", list(folders))
        self.store.sync()

    def model_choice(self) -> str:
        """The folder a run uses ("": the released FaceLift weights the weights search finds)."""
        return str(self.store.value("models/current") or "")

    def set_model_choice(self, folder: Path | str | None) -> None:
        self.store.setValue("models/current", "" if folder is None else str(folder))
        self.store.sync()

    def value(self, key: str, default: Any = None) -> Any:
        return _coerce(self.store.value(key), default)

    def set_value(self, key: str, value: Any) -> None:
        self.store.setValue(key, value)
        self.store.sync()
