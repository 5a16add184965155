"""Run FaceLift's own code (a checkout given by path) beside ours, for ``--compare`` timings.

Nothing of the reference is copied here: its modules are imported from the checkout at run time.
Its attention needs xformers, which has no CPU build; as when the conformance fixtures were made
(engine/conformance/reference/README.md), ``xformers.ops.memory_efficient_attention`` is a stand-in
that calls torch's ``scaled_dot_product_attention`` on the same (batch*heads or batch, tokens,
[heads,] dim) tensors, always 4-D so that it runs the fused (flash) CPU kernel, as xformers' is
fused. Ours calls the same torch kernel, so the comparison measures everything around it:
projections, reshapes and copies, norms, convolutions.

The checkout also needs ``einops`` (a dev dependency).
"""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F


def _memory_efficient_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attn_bias: Any = None,
    op: Any = None,
    **_: Any,
) -> torch.Tensor:
    """xformers' signature on SDPA. 4-D inputs are xformers' (B, M, H, K) layout; 3-D are (B*H, M, K)."""
    if attn_bias is not None:
        raise NotImplementedError("the stand-in supports no attention bias (FaceLift passes None)")
    if query.ndim == 4:
        out = F.scaled_dot_product_attention(
            query.transpose(1, 2), key.transpose(1, 2), value.transpose(1, 2)
        )
        return out.transpose(1, 2)
    # A 3-D call would take SDPA's math path (CPU's fused kernel wants 4-D): it materialises the
    # (B*H, M, M') score matrix (~8 GB for the released UNet's first level), which xformers never
    # does. As one head of a 4-D batch it runs the same fused kernel as ours, same result.
    out = F.scaled_dot_product_attention(query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1))
    return out.squeeze(1)


def install_xformers_stand_in() -> types.ModuleType:
    """Put a minimal ``xformers`` / ``xformers.ops`` into sys.modules (idempotent)."""
    if "xformers.ops" in sys.modules:
        return sys.modules["xformers"]
    root = types.ModuleType("xformers")
    ops = types.ModuleType("xformers.ops")
    fmha = types.SimpleNamespace(flash=types.SimpleNamespace(FwOp=None, BwOp=None))
    ops.memory_efficient_attention = _memory_efficient_attention  # type: ignore[attr-defined]
    ops.fmha = fmha  # type: ignore[attr-defined]
    root.ops = ops  # type: ignore[attr-defined]
    sys.modules["xformers"] = root
    sys.modules["xformers.ops"] = ops
    return root


def import_reference(checkout: Path | str) -> None:
    """Make the checkout importable (its packages are ``mvdiffusion`` and ``gslrm``)."""
    root = Path(checkout).resolve()
    if not (root / "mvdiffusion" / "models" / "unet_mv2d_condition.py").is_file():
        raise SystemExit(f"{root}: not a FaceLift checkout (no mvdiffusion/models/unet_mv2d_condition.py)")
    install_xformers_stand_in()
    # Its packages have no __init__.py (namespace packages), which lose against any module of the
    # same name on the path: bench/mvdiffusion.py would shadow them.
    bench = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(bench)]
    for name in ("mvdiffusion", "gslrm"):
        sys.modules.pop(name, None)
    sys.path.insert(0, str(root))


def reference_unet(checkout: Path | str, config: dict[str, Any], state: dict[str, torch.Tensor]) -> Any:
    """FaceLift's UNetMV2DConditionModel from a config.json dict, with ``state`` loaded and the
    sparse multi-view processor on every CustomAttention (what its xformers switch does)."""
    import_reference(checkout)
    mv = importlib.import_module("mvdiffusion.models.unet_mv2d_condition")
    tmv = importlib.import_module("mvdiffusion.models.transformer_mv2d_image")
    tmv.xformers = sys.modules["xformers"]  # it bound None at import time without the real package
    cfg = {k: v for k, v in config.items() if not k.startswith("_")}
    with torch.device("meta"):
        unet = mv.UNetMV2DConditionModel.from_config(cfg)
    unet.load_state_dict(state, strict=True, assign=True)
    for module in unet.modules():
        if isinstance(module, tmv.CustomAttention):
            module.set_processor(tmv.XFormersMVAttnProcessor())
    return unet.eval().requires_grad_(False)


def reference_gslrm_transformer(checkout: Path | str, d: int, d_head: int, n_layer: int) -> Any:
    """FaceLift's GS-LRM transformer trunk: ``n_layer`` of its TransformerBlock (xformers path)."""
    import_reference(checkout)
    ut = importlib.import_module("gslrm.model.utils_transformer")
    with torch.device("meta"):
        blocks = torch.nn.ModuleList(ut.TransformerBlock(d, d_head) for _ in range(n_layer))
    return blocks
