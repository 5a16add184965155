"""engine.oom: running out of memory becomes one OutOfMemory, with a structured suggestion."""

from __future__ import annotations

import pytest

from engine.errors import InputError, OutOfMemory
from engine.oom import is_out_of_memory, oom_guard, out_of_memory
from engine.settings import DEVICE_NAMES, MEMORY_PRESETS


def test_what_counts_as_out_of_memory() -> None:
    import torch

    assert is_out_of_memory(MemoryError())
    assert is_out_of_memory(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert is_out_of_memory(RuntimeError("CUDA error: out of memory"))
    assert not is_out_of_memory(RuntimeError("shape mismatch"))
    assert not is_out_of_memory(ValueError("out of range"))


def test_guard_frees_then_raises_one_line_with_the_lower_preset() -> None:
    import torch

    freed: list[bool] = []
    with (
        pytest.raises(OutOfMemory) as info,
        oom_guard("running GS-LRM", device="auto", memory_preset="full", free=lambda: freed.append(True)),
    ):
        raise torch.OutOfMemoryError("CUDA out of memory.\nTried to allocate 2.00 GiB")
    assert freed == [True]
    err = info.value
    assert err.suggested_preset == "offload" and "\n" not in str(err)
    assert str(err).startswith("out of memory while running GS-LRM (device auto, memory preset full)")
    assert 'the models were freed. Try the lower memory preset "offload".' in str(err)
    assert "Tried to allocate 2.00 GiB" in err.details and isinstance(err.__cause__, torch.OutOfMemoryError)


def test_guard_passes_other_errors_and_turned_ones_unchanged() -> None:
    freed: list[bool] = []
    with pytest.raises(InputError), oom_guard("x", device="cpu", free=lambda: freed.append(True)):
        raise InputError("bad input")
    assert freed == []  # not an out-of-memory: nothing freed
    inner = out_of_memory("drawing 10 Gaussians at 64x64", device="torch-cpu")
    with pytest.raises(OutOfMemory) as info, oom_guard("x", device="cpu", free=lambda: freed.append(True)):
        raise inner
    assert info.value is inner and freed == [True]  # turned where it happened; the owner still frees


@pytest.mark.parametrize("device", DEVICE_NAMES)
@pytest.mark.parametrize("preset", list(MEMORY_PRESETS))
def test_suggestion_is_a_lower_preset_that_the_device_can_use(preset: str, device: str) -> None:
    err = out_of_memory("generating the six views", device=device, memory_preset=preset, freed=True)
    lower = err.suggested_preset
    if lower is None:
        assert 'preset "' not in str(err) and "close other programs" in str(err).lower()
        return
    assert device != "cpu"  # the GPU presets are no use on an explicit CPU
    assert f'"{lower}"' in str(err)
    # lower means: at least as frugal with the GPU (offload before low), never the same preset
    order = ["full", "offload", "low"]
    assert lower != preset and lower in order
    if preset in order:
        assert order.index(lower) > order.index(preset)


def test_no_suggestion_without_a_preset() -> None:
    err = out_of_memory("building the instant head", device="cpu")
    assert err.suggested_preset is None and "memory preset" not in str(err)
