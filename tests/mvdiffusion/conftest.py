"""One torch thread for the tiny diffusion fixtures.

The tiny networks gain nothing from a second thread, and on a busy 2-core machine OpenMP
threads contend badly (a tiny step measured 0.07 s with one thread, 1.3 s with two under
load). The conformance tolerances hold for any thread count (fixture README §4).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
