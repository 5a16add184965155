"""Running out of memory becomes engine.errors.OutOfMemory once, where it happens.

``oom_guard(what, device=..., memory_preset=..., free=...)`` wraps a block that allocates a lot
(loading or running a network, rendering). torch's OutOfMemoryError, MemoryError and CUDA's
"out of memory" RuntimeError become one OutOfMemory: its message says what ran out of memory
where, and ``suggested_preset`` is the next lower memory preset when a preset is in play
(engine.settings.lower_preset), None otherwise. ``free`` (the owner's unload) runs first and
the traceback's frames are cleared, so the models are really gone while the caller holds the
error (the GUI keeps it for its dialog). The CLI and the window only format the error
(engine.commands.error_text names --memory-preset; the window's dialog names its Memory choice).

Each allocating block has one guard, placed by whoever owns the models: the engines around
their stages, ``facelift multiview`` / ``facelift lrm`` around their networks, the renderer
around a draw. An OutOfMemory from an inner guard passes an outer one unchanged (after ``free``).
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from engine.errors import OutOfMemory
from engine.settings import lower_preset


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is the device or the host running out of memory, as torch or Python raise
    it (not yet an OutOfMemory). torch is not imported here."""
    if isinstance(exc, MemoryError):
        return True
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(exc, torch.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def out_of_memory(
    what: str, *, device: str, memory_preset: str | None = None, freed: bool = False, details: str = ""
) -> OutOfMemory:
    """The OutOfMemory for running out while ``what`` (e.g. "running GS-LRM") on ``device``."""
    lower = lower_preset(memory_preset, device) if memory_preset is not None else None
    where = f"device {device}" + (f", memory preset {memory_preset}" if memory_preset is not None else "")
    tip = (
        f'Try the lower memory preset "{lower}".'
        if lower
        else "Close other programs that use the memory, then try again."
    )
    return OutOfMemory(
        f"out of memory while {what} ({where}){'; the models were freed' if freed else ''}. {tip}",
        details=details,
        suggested_preset=lower,
    )


@contextmanager
def oom_guard(
    what: str,
    *,
    device: str,
    memory_preset: str | None = None,
    free: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Turn running out of memory inside the block into :func:`out_of_memory` (see the module)."""
    try:
        yield
    except OutOfMemory:  # turned already, where it happened (e.g. a render): free, pass it on
        if free is not None:
            free()
        raise
    except BaseException as exc:
        if not is_out_of_memory(exc):
            raise
        if free is not None:
            free()
        _release_frames(exc)
        raise out_of_memory(
            what,
            device=device,
            memory_preset=memory_preset,
            freed=free is not None,
            details=" ".join(str(exc).split()),
        ) from exc


def _release_frames(exc: BaseException) -> None:
    """Clear the local variables of the finished frames in ``exc``'s tracebacks (and its causes'),
    which still hold the networks (a forward pass's locals)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        traceback.clear_frames(e.__traceback__)
        todo.extend((e.__cause__, e.__context__))
