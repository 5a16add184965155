"""Persistent user settings (QSettings) with typed accessors and the reference's defaults."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings

ORGANISATION = "FaceLift"
APPLICATION = "FaceLift Desktop"
MAX_RECENT = 8


@dataclass
class Parameters:
    """The reconstruction parameters the parameters panel edits (defaults = the reference's)."""

    engine: str = "facelift"
    seed: int = 4
    guidance_scale: float = 3.0
    num_steps: int = 50
    auto_crop: bool = True
    device: str = "auto"
    memory_preset: str = "auto"


@dataclass
class ExportSettings:
    """Choices the export dialogs remember."""

    ply_flavour: str = "facelift"
    up_axis: str = "z"
    video_format: str = "mp4"
    video_frames: int = 150
    video_fps: int = 30
    video_size: int = 512
    video_elevation: float = 0.0
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
        params = self._load("parameters", Parameters())
        params.engine = params.engine if params.engine in ("facelift", "instant") else "facelift"
        params.seed = max(0, min(2**31 - 1, params.seed))
        params.guidance_scale = round(max(1.0, min(10.0, params.guidance_scale)), 1)
        params.num_steps = max(10, min(100, params.num_steps))
        if params.memory_preset not in ("auto", "full", "offload", "low", "cpu"):
            params.memory_preset = "auto"
        if params.device not in ("auto", "cpu", "cuda"):
            params.device = "auto"
        return params  # type: ignore[no-any-return]

    def set_parameters(self, params: Parameters) -> None:
        self._save("parameters", params)

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

    def value(self, key: str, default: Any = None) -> Any:
        return _coerce(self.store.value(key), default)

    def set_value(self, key: str, value: Any) -> None:
        self.store.setValue(key, value)
        self.store.sync()
