"""Reading one weights file as data: the single place where "a file failed to load" becomes a
one-line :class:`engine.api.WeightsError`.

Formats: ``.safetensors`` (safetensors, never pickle) and torch files (``.pt`` / ``.bin`` /
``.ckpt``: ``torch.load(weights_only=True)``, memory-mapped when the file allows it). A pickle
that would have to import or call anything but plain tensors and containers is refused by
torch's weights-only unpickler before any of it runs; it is reported as refused, not as corrupt.

Every failure (missing, unreadable, truncated, corrupt header, refused pickle) raises
``WeightsError("<file>: <problem>")``. MemoryError and torch.OutOfMemoryError pass through
unchanged: running out of memory is not a broken file (engine.oom turns it into OutOfMemory).

GS-LRM (engine.gslrm.checkpoint), the diffusion loaders (engine.mvdiffusion.loading) and the
weights check (engine.weights.verify_weights) all read files through these functions.
"""

from __future__ import annotations

import json
import pickle
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.errors import WeightsError
from engine.oom import is_out_of_memory

_REFUSAL_RE = re.compile(r"Unsupported global|Unsupported class|unrecognized function|not an allowed global")
_MAX_REASON = 200


def _one_line(text: str) -> str:
    return " ".join(text.split())[:_MAX_REASON]


def _first_line(exc: BaseException) -> str:
    """The first sentence of the first line (torch appends paragraphs of advice)."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return _one_line(first.split(". ", 1)[0])


def _unpickler_reason(exc: BaseException) -> str:
    """The weights-only unpickler's own reason, without torch's advice around it."""
    text = str(exc)
    if "WeightsUnpickler error:" in text:
        text = text.split("WeightsUnpickler error:", 1)[1].strip()
        text = text.split("\n\n", 1)[0]
        text = text.split(". Please use", 1)[0]
    return _one_line(text) or type(exc).__name__


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise WeightsError(f"{path}: file not found")
    if not path.is_file():
        raise WeightsError(f"{path}: not a file")


def _torch_load(path: Path) -> Any:
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except RuntimeError as exc:
        if "mmap" not in str(exc):  # legacy (non-zip) files cannot be memory-mapped
            raise
        return torch.load(path, map_location="cpu", weights_only=True)


def _raise_for(path: Path, exc: BaseException) -> None:
    """Re-raise ``exc`` (a failure to read ``path``) as the one-line WeightsError it means."""
    if isinstance(exc, WeightsError) or is_out_of_memory(exc):
        raise exc
    if isinstance(exc, pickle.UnpicklingError):
        reason = _unpickler_reason(exc)
        if _REFUSAL_RE.search(reason):
            raise WeightsError(
                f"{path}: refused, the file holds pickled objects that would run code when loaded "
                f"(only plain tensors are accepted; {reason})",
                details=str(exc),
            ) from exc
        raise WeightsError(f"{path}: corrupt or truncated weights file ({reason})", details=str(exc)) from exc
    if type(exc).__name__ == "SafetensorError":
        raise WeightsError(
            f"{path}: corrupt safetensors file ({_first_line(exc)})", details=str(exc)
        ) from exc
    if isinstance(exc, OSError):
        raise WeightsError(f"{path}: cannot read ({exc.strerror or _first_line(exc)})") from exc
    # torch.load raises many kinds on a damaged file (RuntimeError, EOFError, IndexError, ...)
    raise WeightsError(
        f"{path}: corrupt or truncated weights file ({type(exc).__name__}: {_first_line(exc)})",
        details=str(exc),
    ) from exc


def load_file(path: Path | str) -> Any:
    """What the file holds, as CPU tensors (torch files: memory-mapped when possible).

    ``.safetensors`` -> ``dict[str, Tensor]``; a torch file -> whatever plain structure it holds
    (a dict of tensors, a ``{"model": state_dict}`` checkpoint, a bare tensor).
    Raises WeightsError naming the file for anything that cannot be read as data.
    """
    path = Path(path)
    _check_exists(path)
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file as load_safetensors

            return load_safetensors(str(path), device="cpu")
        return _torch_load(path)
    except Exception as exc:
        _raise_for(path, exc)
        raise  # pragma: no cover - _raise_for always raises


def load_state_dict(path: Path | str) -> dict[str, Any]:
    """A flat ``{name: Tensor}`` file (safetensors, or a torch file holding only tensors)."""
    import torch

    path = Path(path)
    data = load_file(path)
    if isinstance(data, dict) and all(isinstance(v, torch.Tensor) for v in data.values()):
        return data
    raise WeightsError(f"{path}: not a plain dictionary of tensors")


def tensor_shapes(path: Path | str) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every tensor of a weights file, cheaply: a safetensors file's header only
    (plus a check that its data section is all there), a torch file memory-mapped.
    Raises WeightsError naming the file when it cannot be read."""
    path = Path(path)
    if path.suffix != ".safetensors":
        data = load_file(path)
        if not isinstance(data, dict):
            raise WeightsError(f"{path}: not a dictionary of tensors")
        return {str(k): tuple(v.shape) for k, v in data.items() if hasattr(v, "shape")}
    _check_exists(path)
    try:
        from safetensors import safe_open

        shapes: dict[str, tuple[int, ...]] = {}
        with safe_open(str(path), framework="pt") as f:
            for key in f.keys():  # noqa: SIM118 - safe_open is not a mapping
                shapes[key] = tuple(f.get_slice(key).get_shape())
    except Exception as exc:
        _raise_for(path, exc)
    _check_safetensors_length(path)
    return shapes


def _check_safetensors_length(path: Path) -> None:
    """safetensors reads tensors lazily: a file shorter than its header says is truncated."""
    try:
        with path.open("rb") as f:
            n = int.from_bytes(f.read(8), "little")
            header = json.loads(f.read(n))
        end = max((int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"), default=0)
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise WeightsError(f"{path}: corrupt safetensors header ({_first_line(exc)})") from exc
    size = path.stat().st_size
    if size < 8 + n + end:
        raise WeightsError(
            f"{path}: truncated safetensors file ({size} bytes, its header needs {8 + n + end})"
        )


_MAX_LISTED = 5


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:_MAX_LISTED])
    more = f" and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else ""
    return f"{len(items)} ({shown}{more})"


def shape_mismatch(actual: Mapping[str, tuple[int, ...]], expected: Mapping[str, tuple[int, ...]]) -> str:
    """'' when ``actual`` has exactly the keys and shapes of ``expected``; else one line such as
    ``missing keys 1 (a.weight); unexpected keys 2 (x, y); wrong shapes 1 (b.weight (3, 4) != (4, 4))``.
    Both map tensor names to shapes (tuples of ints)."""
    missing = [k for k in expected if k not in actual]
    unexpected = [k for k in actual if k not in expected]
    misshaped = [
        f"{k} {tuple(actual[k])} != {tuple(expected[k])}"
        for k in expected
        if k in actual and tuple(actual[k]) != tuple(expected[k])
    ]
    problems = []
    if missing:
        problems.append(f"missing keys {_listing(missing)}")
    if unexpected:
        problems.append(f"unexpected keys {_listing(unexpected)}")
    if misshaped:
        problems.append(f"wrong shapes {_listing(misshaped)}")
    return "; ".join(problems)


def shapes_of(tensors: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """Name -> shape of a state dict (anything with a ``.shape``)."""
    return {k: tuple(v.shape) for k, v in tensors.items()}
