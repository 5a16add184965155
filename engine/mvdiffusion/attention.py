"""The multi-view self-attention (attn1) of FaceLift's UNet as a diffusers attention processor.

The UNet batch is ``groups x num_views`` with the view index varying fastest (in the pipeline
the groups are [unconditional, conditional]). Queries are always a view's own tokens; the
keys/values depend on the mode (spec §4.3):

* ``sparse`` (released behaviour): view i attends to [view 0's tokens ; view i's tokens]
  (2N keys). For view 0 that is its own tokens twice, i.e. plain self-attention.
* ``dense``: view i attends to all views of its group, in view order (V*N keys).
* ``per_view``: plain self-attention inside each image.

Attention itself is ``torch.nn.functional.scaled_dot_product_attention`` with the module's
scale (1/sqrt(head_dim)), which on CPU and CUDA picks a memory-efficient kernel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F

from engine.mvdiffusion.config import AttentionMode

if TYPE_CHECKING:
    from diffusers.models.attention_processor import Attention


def multiview_keys(tokens: torch.Tensor, num_views: int, mode: AttentionMode) -> torch.Tensor:
    """Build the key (or value) sequence of every view.

    tokens: (B, N, C) per-image projections, B = groups * num_views, view fastest.
    Returns (B, N, C) for per_view, (B, 2N, C) for sparse, (B, num_views*N, C) for dense.
    """
    if mode == "per_view":
        return tokens
    batch, n, c = tokens.shape
    if batch % num_views:
        raise ValueError(f"batch {batch} is not a multiple of num_views {num_views}")
    grouped = tokens.view(batch // num_views, num_views, n, c)
    if mode == "sparse":
        front = grouped[:, :1].expand(-1, num_views, -1, -1)
        return torch.cat([front, grouped], dim=2).reshape(batch, 2 * n, c)
    if mode == "dense":
        everyone = grouped.reshape(batch // num_views, 1, num_views * n, c)
        return everyone.expand(-1, num_views, -1, -1).reshape(batch, num_views * n, c)
    raise ValueError(f"unknown attention mode {mode!r}")


class MultiViewAttnProcessor:
    """attn1 processor: self-attention whose keys/values span views as ``mode`` says."""

    def __init__(self, num_views: int, mode: AttentionMode) -> None:
        self.num_views = num_views
        self.mode = mode

    def __call__(
        self,
        attn: Attention,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        temb: torch.Tensor | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> torch.Tensor:
        """hidden_states (B, N, C) -> (B, N, C); B = groups * num_views."""
        if encoder_hidden_states is not None or attention_mask is not None:
            raise ValueError("multi-view attention is a self-attention without mask")
        if hidden_states.ndim != 3 or attn.group_norm is not None or attn.spatial_norm is not None:
            raise ValueError("multi-view attention expects (B, N, C) tokens of a transformer block")
        residual = hidden_states
        batch, n, _ = hidden_states.shape
        query = attn.to_q(hidden_states)
        key = multiview_keys(attn.to_k(hidden_states), self.num_views, self.mode)
        value = multiview_keys(attn.to_v(hidden_states), self.num_views, self.mode)

        heads = attn.heads
        head_dim = query.shape[-1] // heads
        q = query.view(batch, n, heads, head_dim).transpose(1, 2)
        k = key.view(batch, key.shape[1], heads, head_dim).transpose(1, 2)
        v = value.view(batch, value.shape[1], heads, head_dim).transpose(1, 2)
        out = F.scaled_dot_product_attention(q, k, v, scale=attn.scale)
        out = out.transpose(1, 2).reshape(batch, n, heads * head_dim).to(query.dtype)

        out = attn.to_out[0](out)
        out = attn.to_out[1](out)
        if attn.residual_connection:
            out = out + residual
        return out / attn.rescale_output_factor


def install_multiview_attention(unet: Any, num_views: int, mode: AttentionMode) -> int:
    """Put :class:`MultiViewAttnProcessor` on every ``attn1``; plain SDPA everywhere else.

    unet: a diffusers ``UNet2DConditionModel``.

    Returns the number of attn1 modules changed (16 for the SD2.x layout).
    """
    from diffusers.models.attention_processor import AttnProcessor2_0

    mv = MultiViewAttnProcessor(num_views, mode)
    processors: dict[str, Any] = {}
    count = 0
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):
            processors[name] = mv
            count += 1
        else:
            processors[name] = AttnProcessor2_0()
    unet.set_attn_processor(processors)
    return count
