"""Download the FaceLift release from the Hugging Face Hub, resumably, into a staging folder that
becomes the weights folder only once it verifies."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from engine.api import CancelToken, ProgressCallback, ProgressEvent, no_progress
from engine.errors import FaceLiftError, WeightsError
from engine.weights.locate import user_weights_dir, weights_present
from engine.weights.verify import WeightsReport, error_line, verify_weights

HF_REPO_ID = "wlyu/OpenFaceLift"


def staging_dir(weights_dir: Path) -> Path:
    """Where a download is assembled (kept between attempts, so downloads resume)."""
    weights_dir = Path(weights_dir)
    return weights_dir.with_name(weights_dir.name + ".download")


def download_weights(
    weights_dir: Path | str | None = None,
    on_progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    *,
    repo_id: str = HF_REPO_ID,
    endpoint: str | None = None,
) -> Path:
    """Download the FaceLift release into ``weights_dir`` (default: the user data folder).

    Files go into a staging folder beside it (``<dir>.download``), which huggingface_hub resumes
    from on a later attempt; only when every file is there and :func:`verify_weights` passes is it
    renamed to ``weights_dir``, so half-written weights are never used. An existing complete
    folder is left alone. Progress is reported per file (stage "download"); cancel is checked
    between files and leaves the staging folder for a later resume. Offline or hub errors raise
    a one-line WeightsError. The weights are for non-commercial research only (LICENSE_NOTICE).
    """
    target = Path(weights_dir).expanduser() if weights_dir is not None else user_weights_dir()
    if weights_present(target) and verify_weights(target).ok:
        on_progress(ProgressEvent("download", 1, 1, f"weights already complete in {target}"))
        return target
    stage = staging_dir(target)
    stage.mkdir(parents=True, exist_ok=True)
    on_progress(ProgressEvent("download", 0, 0, f"downloading {repo_id} into {stage}"))
    try:
        _snapshot(repo_id, stage, endpoint, on_progress, cancel)
    except FaceLiftError:
        if not any(stage.iterdir()):
            stage.rmdir()  # nothing to resume from
        raise
    if cancel is not None:
        cancel.raise_if_cancelled()
    report = verify_weights(stage)
    if not report.ok:
        # A file that arrived whole but does not verify would be kept by the next attempt
        # (huggingface_hub skips files it has): drop it so that attempt fetches it again.
        dropped = _drop_broken_files(stage, report)
        again = f"; {len(dropped)} broken file(s) removed, run again to download them anew" if dropped else ""
        raise WeightsError(f"downloaded weights are incomplete or broken: {report.summary()}{again}")
    shutil.rmtree(stage / ".cache", ignore_errors=True)  # huggingface_hub's resume bookkeeping
    if target.exists():
        old = target.with_name(f"{target.name}.old-{int(time.time())}")
        target.rename(old)
        stage.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        stage.rename(target)
    on_progress(ProgressEvent("download", 1, 1, f"weights ready in {target}"))
    return target


def _drop_broken_files(stage: Path, report: WeightsReport) -> list[Path]:
    """Delete the files of the staging folder that failed verification (and huggingface_hub's
    record of them, so they are downloaded again). Returns the deleted files."""
    dropped = []
    for comp in report.problems:
        path = comp.path
        if comp.status != "broken" or not path.is_file() or stage not in path.parents:
            continue
        rel = path.relative_to(stage)
        path.unlink()
        (stage / ".cache" / "huggingface" / "download" / f"{rel}.metadata").unlink(missing_ok=True)
        dropped.append(path)
    return dropped


def _snapshot(
    repo_id: str,
    local_dir: Path,
    endpoint: str | None,
    on_progress: ProgressCallback,
    cancel: CancelToken | None,
) -> None:
    """Fetch every file of the repo into ``local_dir``, one at a time, with progress and cancel.

    One ``hf_hub_download`` per file (rather than ``snapshot_download``, whose thread pool keeps
    downloading queued files after a cancel); each resumes its own ``.incomplete`` file.
    Errors become a one-line WeightsError.
    """
    try:
        from huggingface_hub import HfApi, hf_hub_download
        from huggingface_hub.utils import disable_progress_bars
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise WeightsError(f"cannot download weights: {exc}") from exc
    disable_progress_bars()
    try:
        info = HfApi(endpoint=endpoint).model_info(repo_id, files_metadata=True)
        files = [(s.rfilename, int(s.size or 0)) for s in (info.siblings or [])]
        total = sum(size for _, size in files)
        done = 0
        for i, (name, size) in enumerate(files):
            if cancel is not None:
                cancel.raise_if_cancelled()
            on_progress(ProgressEvent("download", done, total, f"file {i + 1}/{len(files)}: {name}"))
            hf_hub_download(repo_id, name, local_dir=str(local_dir), endpoint=endpoint)
            done += size
        on_progress(ProgressEvent("download", total, total, f"{len(files)} files downloaded"))
    except FaceLiftError:
        raise
    except Exception as exc:
        raise WeightsError(
            f"cannot download {repo_id}: {_download_reason(exc)} (run again to resume; files so far are in "
            f"{local_dir})"
        ) from exc


def _download_reason(exc: BaseException) -> str:
    name = type(exc).__name__
    if name in ("LocalEntryNotFoundError", "OfflineModeIsEnabled") or "offline" in str(exc).lower():
        return "no connection to the Hugging Face Hub (offline?)"
    if name in ("ConnectionError", "ConnectTimeout", "ReadTimeout", "MaxRetryError", "Timeout"):
        return "no connection to the Hugging Face Hub (offline?)"
    if name in ("RepositoryNotFoundError", "GatedRepoError"):
        return "repository not found or not accessible"
    return error_line(exc)
