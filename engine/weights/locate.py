"""Where the FaceLift weights are looked for, first hit wins: ``--weights DIR``, the
``FACELIFT_WEIGHTS`` environment variable, then the user data folder
(``platformdirs.user_data_path("facelift-desktop") / "weights"``); and the one "no weights" error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from engine.errors import NoWeights, WeightsError

ENV_VAR = "FACELIFT_WEIGHTS"
APP_NAME = "facelift-desktop"
LICENSE_NOTICE = (
    "The FaceLift weights (huggingface.co/wlyu/OpenFaceLift) are licensed by Adobe under the "
    "Adobe Research License: non-commercial research use only."
)

GSLRM_DIR = "gslrm"
PIPECKPTS = Path("mvdiffusion") / "pipeckpts"


def user_weights_dir() -> Path:
    """The per-user default weights folder (may not exist)."""
    import platformdirs

    return Path(platformdirs.user_data_path(APP_NAME)) / "weights"


def gslrm_checkpoint(weights_dir: Path) -> Path | None:
    """The GS-LRM checkpoint file in ``weights_dir/gslrm`` (the highest step), or None."""
    folder = Path(weights_dir) / GSLRM_DIR
    if not folder.is_dir():
        return None
    ckpts = sorted(p for p in folder.glob("ckpt_*.pt") if p.is_file())
    return ckpts[-1] if ckpts else None


def weights_present(weights_dir: Path | str) -> bool:
    """Cheap check (no loading): both the GS-LRM checkpoint and the diffusion pipeline exist."""
    d = Path(weights_dir)
    return gslrm_checkpoint(d) is not None and (d / PIPECKPTS / "model_index.json").is_file()


@dataclass(frozen=True)
class WeightsLocation:
    """One place the weights are looked for: where it comes from and what is there."""

    source: str  # "--weights", "FACELIFT_WEIGHTS" or "user data folder"
    path: Path | None  # None when the source is not set
    present: bool


def weights_locations(explicit: Path | str | None = None) -> list[WeightsLocation]:
    """Every place the weights are looked for, in search order (for ``facelift weights where``)."""
    out: list[WeightsLocation] = []
    if explicit is not None:
        p = Path(explicit).expanduser()
        out.append(WeightsLocation("--weights", p, weights_present(p)))
    env = os.environ.get(ENV_VAR, "").strip()
    env_path = Path(env).expanduser() if env else None
    out.append(WeightsLocation(ENV_VAR, env_path, bool(env_path and weights_present(env_path))))
    user = user_weights_dir()
    out.append(WeightsLocation("user data folder", user, weights_present(user)))
    return out


def find_weights(explicit: Path | str | None = None) -> Path | None:
    """The weights folder to use, or None when no complete folder is found.

    ``explicit`` (the ``--weights`` option) is returned as given when it is an existing folder, even
    if incomplete, so that the user gets a precise error from :func:`verify_weights` or the loaders
    rather than a silent fallback. An explicit path that is not a folder raises WeightsError.
    ``FACELIFT_WEIGHTS`` and the user data folder count only when the weights are present in them.
    """
    if explicit is not None:
        p = Path(explicit).expanduser()
        if not p.is_dir():
            raise WeightsError(f"{p}: weights folder not found")
        return p
    for loc in weights_locations(None):
        if loc.path is not None and loc.present:
            return loc.path
    return None


def missing_weights(explicit: Path | str | None = None) -> NoWeights:
    """The one "no FaceLift weights" error, naming every place they were looked for.

    It states the fact only: the CLI adds how to get them (``facelift weights download``), the
    window its Tools menu.
    """
    places = [
        f"{loc.source} {loc.path}" if loc.path else f"{loc.source} not set"
        for loc in weights_locations(explicit)
    ]
    return NoWeights(f"no FaceLift weights found ({'; '.join(places)})")


def require_weights(explicit: Path | str | None = None) -> Path:
    """:func:`find_weights`, or :func:`missing_weights` raised when none is found."""
    found = find_weights(explicit)
    if found is None:
        raise missing_weights(explicit)
    return found
