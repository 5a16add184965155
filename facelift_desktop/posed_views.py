"""File → Open views…: an existing set of N views through GS-LRM alone, with the picked model's
cameras (the window's `facelift lrm`). Qt-free: which files are the views, and the run itself.

The views are matched to the model's views by file name when they are named after them (what
`facelift multiview` writes: front.png, ...; its multiview.png strip is ignored), else taken in
file-name order. There must be one view per camera of the model.
"""

from __future__ import annotations

from pathlib import Path

from engine.api import CancelToken, ProgressCallback, ProgressEvent, ReconstructionResult
from engine.errors import InputError
from engine.weights.model_folder import ModelDescription

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
STRIP_NAME = "multiview"
"""`facelift multiview`'s side-by-side strip: never a view."""


def cameras_file(model: ModelDescription) -> Path:
    """The file the model's cameras come from (its opencv_cameras.json, else the released one's)."""
    from engine.cameras import DEFAULT_CAMERAS_JSON

    return next((path for what, path in model.overrides if what.startswith("cameras")), DEFAULT_CAMERAS_JSON)


def view_files(chosen: list[Path], model: ModelDescription) -> list[Path]:
    """The view images for the model's views, in view order.

    chosen: image files, or one folder (its images). Raises InputError "<where>: <problem>"
    when there is no image or not one image per camera of the model.
    """
    where = chosen[0] if len(chosen) == 1 else chosen[0].parent
    files: list[Path] = []
    for path in chosen:
        if path.is_dir():
            files += [p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
        else:
            files.append(path)
    files = sorted((f for f in files if f.stem != STRIP_NAME), key=lambda f: f.name)
    by_stem = {f.stem: f for f in files}
    if all(name in by_stem for name in model.view_names):
        return [by_stem[name] for name in model.view_names]
    if len(files) != model.num_views:
        named = ", ".join(f"{n}.png" for n in model.view_names)
        raise InputError(
            f"{where}: {len(files)} view image(s) for the {model.num_views} cameras of "
            f"{cameras_file(model)}; give one view per camera ({named}, or in file-name order)"
        )
    return files


def reconstruct_views(
    files: list[Path],
    model: ModelDescription,
    device: str,
    on_progress: ProgressCallback,
    cancel: CancelToken,
) -> ReconstructionResult:
    """GS-LRM on the view files with the model's cameras (filtered like a FaceLift run).

    Returns a result whose views are the (V,H,W,3) uint8 images used and whose input image is
    None (there is no photo). Views are used at their size when GS-LRM can, else resized
    (engine.commands.lrm.load_views).
    """
    from engine.commands.lrm import load_views
    from engine.gslrm.reconstructor import GSLRMReconstructor

    on_progress(ProgressEvent("load", 0, 1, "loading GS-LRM"))
    reconstructor = GSLRMReconstructor.from_weights(model.root, device)
    try:
        cancel.raise_if_cancelled()
        views = load_views([str(f) for f in files], reconstructor.image_size, reconstructor.patch_size)
        on_progress(ProgressEvent("gslrm", 0, 1, f"GS-LRM on {len(views)} views"))
        gaussians = reconstructor.reconstruct(views, model.cameras, apply_filter=True)
        cancel.raise_if_cancelled()
    finally:
        reconstructor.unload()
    on_progress(ProgressEvent("gslrm", 1, 1, f"GS-LRM on {len(views)} views"))
    return ReconstructionResult(
        gaussians=gaussians,
        input_image=None,
        views=views,
        engine="GS-LRM",
        info={"source": str(files[0].parent), "views": [str(f) for f in files], "model": model.name},
    )
