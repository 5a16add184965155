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

In sparse mode view 0's keys are its own tokens twice: every score appears twice, so its softmax
weights are halved and paired and the weighted sum of values is the same as plain
self-attention over one copy. :func:`sparse_attention` computes it that way (half the keys for
one view in ``num_views``, and no concatenated copy of its keys/values); the result equals the
spec's 2N-key form up to float rounding (tests/mvdiffusion/test_unet.py checks both).
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


def _heads(tokens: torch.Tensor, heads: int) -> torch.Tensor:
    """(..., L, heads*d) -> (..., heads, L, d) as a view (SDPA takes the strides as they are)."""
    return tokens.unflatten(-1, (heads, -1)).transpose(-3, -2)


def sparse_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    num_views: int,
    heads: int,
    scale: float | None = None,
) -> torch.Tensor:
    """Sparse multi-view attention from per-image projections (see the module docstring).

    query/key/value: (B, N, C) with B = groups * num_views (view fastest), C = heads * d.
    Returns (B, N, C): view 0 attends to its own N tokens, view i > 0 to [view 0 ; view i].
    """
    batch, n, c = query.shape
    if batch % num_views:
        raise ValueError(f"batch {batch} is not a multiple of num_views {num_views}")
    groups = batch // num_views
    q, k, v = (t.view(groups, num_views, n, c) for t in (query, key, value))
    out = query.new_empty(groups, num_views, n, c)
    rest = num_views - 1
    for g in range(groups):
        # 4-D (a batch of one): a 3-D call would take SDPA's unfused math path on the CPU.
        front = F.scaled_dot_product_attention(
            _heads(q[g, :1], heads), _heads(k[g, :1], heads), _heads(v[g, :1], heads), scale=scale
        )  # (1, heads, N, d)
        out[g, :1] = front.transpose(1, 2).reshape(1, n, c)
        if rest:
            keys = torch.cat((k[g, :1].expand(rest, -1, -1), k[g, 1:]), dim=1)  # (rest, 2N, C)
            values = torch.cat((v[g, :1].expand(rest, -1, -1), v[g, 1:]), dim=1)
            others = F.scaled_dot_product_attention(
                _heads(q[g, 1:], heads), _heads(keys, heads), _heads(values, heads), scale=scale
            )  # (rest, heads, N, d)
            out[g, 1:] = others.transpose(1, 2).reshape(rest, n, c)
    return out.view(batch, n, c)


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
        key, value = attn.to_k(hidden_states), attn.to_v(hidden_states)
        if self.mode == "sparse":
            out = sparse_attention(query, key, value, self.num_views, attn.heads, attn.scale)
        else:
            key = multiview_keys(key, self.num_views, self.mode)
            value = multiview_keys(value, self.num_views, self.mode)
            out = F.scaled_dot_product_attention(
                _heads(query, attn.heads),
                _heads(key, attn.heads),
                _heads(value, attn.heads),
                scale=attn.scale,
            )
            out = out.transpose(1, 2).reshape(batch, n, query.shape[-1]).to(query.dtype)

        out = attn.to_out[0](out)
        out = attn.to_out[1](out)
        if attn.residual_connection:
            out = out + residual
        # Dividing by 1.0 (SD2.x) is the identity, but still a pass over the whole tensor.
        return out if attn.rescale_output_factor == 1.0 else out / attn.rescale_output_factor


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
