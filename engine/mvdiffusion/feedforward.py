"""The transformer blocks' feed-forward, applied to a few thousand token rows at a time.

A block's feed-forward (GEGLU: Linear C -> 8C, gate, Linear 4C -> C) is independent per token,
but applied to the whole batch at once its first projection is the largest tensor of the UNet
call: at 512x512 (batch 12, 64x64 tokens, C 320) 12 x 4096 x 2560 floats = 503 MB, plus the
gated half and the product (252 MB each). Row chunks of at most ``max_bytes`` of projection
give the same values (each row is computed by the same operators) with a fraction of that
memory; chunks of >= 1,500 rows keep the matrix products as fast as one large one.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

FEED_FORWARD_CHUNK_BYTES = 64 * 2**20  # the first projection's output per chunk


class RowChunkedFeedForward(nn.Module):
    """diffusers' FeedForward (same ``net`` submodules, so the same state-dict keys) that runs
    ``net`` on chunks of token rows.

    net: the FeedForward's ModuleList; max_bytes: the widest layer's output per chunk.
    """

    def __init__(self, net: nn.ModuleList, max_bytes: int = FEED_FORWARD_CHUNK_BYTES) -> None:
        super().__init__()
        self.net = net
        self.max_bytes = int(max_bytes)
        self.widest = max(m.out_features for m in net.modules() if isinstance(m, nn.Linear))

    def _net(self, rows: torch.Tensor) -> torch.Tensor:
        for module in self.net:
            rows = module(rows)
        return rows

    def forward(self, hidden_states: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        """hidden_states (..., C) -> (..., C_out); ``*args``: diffusers' ignored ``scale``."""
        lead, width = hidden_states.shape[:-1], hidden_states.shape[-1]
        rows = hidden_states.reshape(-1, width)
        step = max(1, self.max_bytes // (self.widest * hidden_states.element_size()))
        if rows.shape[0] <= step:
            return self._net(hidden_states)
        out: torch.Tensor | None = None
        for start in range(0, rows.shape[0], step):
            part = self._net(rows[start : start + step])
            if out is None:
                out = part.new_empty(rows.shape[0], part.shape[-1])
            out[start : start + part.shape[0]] = part
        assert out is not None
        return out.view(*lead, out.shape[-1])


def chunk_feed_forwards(unet: Any, max_bytes: int = FEED_FORWARD_CHUNK_BYTES) -> int:
    """Replace every transformer block's FeedForward in ``unet`` by a RowChunkedFeedForward over
    the same modules (weights and state-dict keys unchanged). Returns how many were replaced."""
    from diffusers.models.attention import FeedForward

    count = 0
    for module in list(unet.modules()):
        ff = getattr(module, "ff", None)
        if isinstance(ff, FeedForward):
            module.ff = RowChunkedFeedForward(ff.net, max_bytes)
            count += 1
    return count
