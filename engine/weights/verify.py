"""Check a weights folder without running it: every component present, loadable (as data, never
unpickled objects), and of the shapes its config implies."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from engine.errors import WeightsError
from engine.weights.files import load_file, shape_mismatch, shapes_of, tensor_shapes
from engine.weights.locate import GSLRM_DIR, PIPECKPTS, gslrm_checkpoint
from engine.weights.model_folder import ModelDescription, describe_model

IGNORED_GSLRM_PREFIXES = ("loss_calculator.",)

# The released GS-LRM hyper-parameters (FaceLift configs/gslrm.yaml), used when the weights
# folder has no gslrm/*.yaml of its own.
RELEASED_GSLRM_CONFIG: dict[str, int] = {
    "d": 1024,
    "d_head": 64,
    "n_layer": 24,
    "patch_size": 8,
    "in_channels": 9,
    "n_gaussians": 2,
    "sh_degree": 0,
}

Status = Literal["ok", "missing", "broken"]


@dataclass
class ComponentReport:
    """The check of one component: status plus a one-line message and facts for a dialog."""

    name: str  # e.g. "gslrm", "mvdiffusion/unet"
    path: Path
    status: Status
    message: str
    size_bytes: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class WeightsReport:
    """The result of :func:`verify_weights`: one :class:`ComponentReport` per component."""

    root: Path
    components: list[ComponentReport]
    overrides: list[str] = field(default_factory=list)
    """What the folder overrides of the released defaults (ModelDescription.override_lines)."""

    @property
    def ok(self) -> bool:
        return bool(self.components) and all(c.ok for c in self.components)

    @property
    def problems(self) -> list[ComponentReport]:
        return [c for c in self.components if not c.ok]

    def summary(self) -> str:
        """One line: all good, or the first problem and how many more."""
        if self.ok:
            return f"{self.root}: FaceLift weights complete ({len(self.components)} components ok)"
        bad = self.problems
        more = f" (and {len(bad) - 1} more problems)" if len(bad) > 1 else ""
        return f"{self.root}: {bad[0].name}: {bad[0].message}{more}"

    def lines(self) -> list[str]:
        """A table for a terminal: status, component, size, message."""
        rows = []
        for c in self.components:
            size = human_size(c.size_bytes) if c.size_bytes else "-"
            rows.append(f"{c.status:<8}{c.name:<34}{size:>10}  {c.message}")
        return rows

    def raise_if_bad(self) -> None:
        if not self.ok:
            raise WeightsError(self.summary())


def verify_weights(weights_dir: Path | str) -> WeightsReport:
    """Check every component of a weights folder: present, loadable, shapes as the configs say.

    GS-LRM: the checkpoint loads with ``weights_only=True`` (memory-mapped), holds a ``model``
    state dict, and its keys and shapes (ignoring ``loss_calculator.*``) are exactly the ones the
    model config implies (``gslrm/*.yaml`` if present, else the released hyper-parameters).
    Diffusion: ``model_index.json`` parses; each component it names has its folder with a json
    config that parses; weight files open (safetensors header / torch weights-only load) and the key
    tensors' shapes match the component's config. The optional prompt-embedding override is
    checked too. Never raises for a broken folder: the problems are in the report.
    """
    root = Path(weights_dir).expanduser()
    if not root.is_dir():
        return WeightsReport(root, [ComponentReport("weights folder", root, "missing", "folder not found")])
    comps: list[ComponentReport] = [_check_gslrm(root)]
    comps.extend(_check_pipeckpts(root))
    model, model_report = _check_model_folder(root)
    embeds = _check_prompt_embeds(root, comps, model.num_views if model else None)
    if embeds is not None:
        comps.append(embeds)
    comps.append(model_report)
    return WeightsReport(root, comps, model.override_lines() if model else [])


def human_size(n: int) -> str:
    """Bytes as the app writes them everywhere: ``512 B``, ``14.2 MB`` (powers of 1024)."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def _dir_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def error_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}"


# ---- GS-LRM ------------------------------------------------------------------------------


def gslrm_config(weights_dir: Path) -> tuple[dict[str, int], Path | None]:
    """GS-LRM hyper-parameters: from ``gslrm/*.yaml`` (FaceLift's schema) if there is one, else the
    released values. Returns (config, yaml path or None). Raises WeightsError for an unusable yaml
    (the same rules as the loader, engine.gslrm.config, so verify and load agree)."""
    from engine.gslrm.config import load_config

    folder = Path(weights_dir) / GSLRM_DIR
    yamls = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")) if folder.is_dir() else []
    if not yamls:
        return dict(RELEASED_GSLRM_CONFIG), None
    named = [p for p in yamls if p.stem == "gslrm"]
    path = named[0] if named else yamls[0]
    cfg = load_config(path)
    return {key: int(getattr(cfg, key)) for key in RELEASED_GSLRM_CONFIG}, path


def expected_gslrm_shapes(cfg: dict[str, int]) -> dict[str, tuple[int, ...]]:
    """State-dict keys and shapes of FaceLift's GS-LRM for a config (spec §5.7)."""
    d, p = cfg["d"], cfg["patch_size"]
    params = 3 + 3 * (cfg["sh_degree"] + 1) ** 2 + 3 + 4 + 1  # xyz, SH, scale, rotation, opacity
    shapes: dict[str, tuple[int, ...]] = {
        "gaussian_position_embeddings": (cfg["n_gaussians"], d),
        "patch_embedder.1.weight": (d, cfg["in_channels"] * p * p),
        "input_layer_norm.weight": (d,),
    }
    for i in range(cfg["n_layer"]):
        pre = f"transformer_layers.{i}."
        shapes[pre + "norm1.weight"] = (d,)
        shapes[pre + "norm2.weight"] = (d,)
        shapes[pre + "attn.to_qkv.weight"] = (3 * d, d)
        shapes[pre + "attn.fc.weight"] = (d, d)
        shapes[pre + "mlp.mlp.0.weight"] = (4 * d, d)
        shapes[pre + "mlp.mlp.2.weight"] = (d, 4 * d)
    shapes["gaussian_upsampler.layernorm.weight"] = (d,)
    shapes["gaussian_upsampler.linear.weight"] = (params, d)
    shapes["pixel_gaussian_decoder.0.weight"] = (d,)
    shapes["pixel_gaussian_decoder.1.weight"] = (p * p * params, d)
    return shapes


def _check_gslrm(root: Path) -> ComponentReport:
    folder = root / GSLRM_DIR
    ckpt = gslrm_checkpoint(root)
    if ckpt is None:
        return ComponentReport("gslrm", folder, "missing", f"no ckpt_*.pt in {folder}")
    size = ckpt.stat().st_size
    try:
        cfg, yaml_path = gslrm_config(root)
    except WeightsError as exc:
        yamls = sorted(folder.glob("*.y*ml"))
        return ComponentReport("gslrm", yamls[0] if yamls else ckpt, "broken", str(exc), size)
    try:
        data = load_file(ckpt)
    except WeightsError as exc:
        return ComponentReport("gslrm", ckpt, "broken", f"cannot load {exc}", size)
    if not isinstance(data, dict) or not isinstance(data.get("model"), dict):
        return ComponentReport("gslrm", ckpt, "broken", f"{ckpt.name} has no 'model' state dict", size)
    state = {k: v for k, v in data["model"].items() if not k.startswith(IGNORED_GSLRM_PREFIXES)}
    expected = expected_gslrm_shapes(cfg)
    problems = shape_mismatch(shapes_of(state), expected)
    details = {"checkpoint": ckpt.name, "config": str(yaml_path or "released defaults"), **cfg}
    if problems:
        source = yaml_path.name if yaml_path else "the released config"
        return ComponentReport(
            "gslrm", ckpt, "broken", f"{ckpt.name} does not match {source}: {problems}", size, details
        )
    n_params = sum(int(v.numel()) for v in state.values())
    details["parameters"] = n_params
    msg = f"{ckpt.name}: {len(state)} tensors, {n_params:,} parameters, d={cfg['d']} layers={cfg['n_layer']}"
    return ComponentReport("gslrm", ckpt, "ok", msg, size, details)


# ---- diffusion pipeline ------------------------------------------------------------------

_CONFIG_FILES = ("config.json", "scheduler_config.json", "preprocessor_config.json", "tokenizer_config.json")
_WEIGHT_FILES = (
    "diffusion_pytorch_model.safetensors",
    "model.safetensors",
    "diffusion_pytorch_model.bin",
    "pytorch_model.bin",
)
_TOKENIZER_FILES = ("vocab.json", "merges.txt")


def _read_json(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("not a json object")
    return data


def _expected_component_shapes(name: str, cfg: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """A few key tensors whose shapes the component's config determines."""
    try:
        if name == "unet":
            c0 = int(cfg["block_out_channels"][0])
            return {
                "conv_in.weight": (c0, int(cfg["in_channels"]), 3, 3),
                "conv_out.weight": (int(cfg["out_channels"]), c0, 3, 3),
                "class_embedding.linear_1.weight": (
                    4 * c0,
                    int(cfg["projection_class_embeddings_input_dim"]),
                ),
            }
        if name == "vae":
            c0 = int(cfg["block_out_channels"][0])
            lat = int(cfg["latent_channels"])
            return {
                "encoder.conv_in.weight": (c0, int(cfg["in_channels"]), 3, 3),
                "quant_conv.weight": (2 * lat, 2 * lat, 1, 1),
                "decoder.conv_out.weight": (int(cfg["out_channels"]), c0, 3, 3),
            }
        if name == "image_encoder":
            return {"visual_projection.weight": (int(cfg["projection_dim"]), int(cfg["hidden_size"]))}
        if name == "text_encoder":
            return {
                "text_model.embeddings.token_embedding.weight": (
                    int(cfg["vocab_size"]),
                    int(cfg["hidden_size"]),
                )
            }
        if name == "image_normalizer":
            dim = int(cfg["embedding_dim"])
            return {"mean": (1, dim), "std": (1, dim)}
    except (KeyError, TypeError, ValueError, IndexError):
        return {}
    return {}


def _check_pipeckpts(root: Path) -> list[ComponentReport]:
    pipe = root / PIPECKPTS
    index_path = pipe / "model_index.json"
    if not index_path.is_file():
        return [ComponentReport("mvdiffusion", pipe, "missing", f"no model_index.json in {pipe}")]
    try:
        index = _read_json(index_path)
    except (OSError, ValueError) as exc:
        return [ComponentReport("mvdiffusion", index_path, "broken", f"model_index.json: {error_line(exc)}")]
    names = [k for k, v in index.items() if not k.startswith("_") and isinstance(v, list) and v[0]]
    out = [ComponentReport("mvdiffusion/model_index.json", index_path, "ok", f"{len(names)} components")]
    out.extend(_check_component(pipe / name, name) for name in sorted(names))
    return out


def _check_component(folder: Path, name: str) -> ComponentReport:
    label = f"mvdiffusion/{name}"
    if not folder.is_dir():
        return ComponentReport(label, folder, "missing", f"folder {folder.name}/ not found")
    size = _dir_size(folder)
    configs = [folder / f for f in _CONFIG_FILES if (folder / f).is_file()]
    if not configs:
        return ComponentReport(label, folder, "missing", "no config json", size)
    try:
        cfg = _read_json(configs[0])
    except (OSError, ValueError) as exc:
        return ComponentReport(label, configs[0], "broken", f"{configs[0].name}: {error_line(exc)}", size)
    if name in ("unet", "vae", "image_normalizer"):
        from engine.mvdiffusion.config import component_config

        try:
            component_config(name, configs[0])  # the loader's own checks of the config
        except WeightsError as exc:
            return ComponentReport(label, configs[0], "broken", str(exc), size)
    if name == "tokenizer":
        missing = [f for f in _TOKENIZER_FILES if not (folder / f).is_file()]
        if missing:
            return ComponentReport(label, folder, "missing", f"missing {', '.join(missing)}", size)
        return ComponentReport(label, folder, "ok", "vocab.json, merges.txt", size)
    weight_files = [folder / f for f in _WEIGHT_FILES if (folder / f).is_file()]
    if not weight_files:
        if configs[0].name in ("scheduler_config.json", "preprocessor_config.json"):
            return ComponentReport(label, folder, "ok", configs[0].name, size)
        return ComponentReport(label, folder, "missing", f"no weight file in {folder}", size)
    wfile = weight_files[0]
    try:
        shapes = tensor_shapes(wfile)
    except WeightsError as exc:
        return ComponentReport(label, wfile, "broken", f"cannot load {exc}", size)
    expected = _expected_component_shapes(name, cfg)
    wrong = [
        f"{k} {shapes.get(k)} != {v}" if k in shapes else f"{k} missing"
        for k, v in expected.items()
        if shapes.get(k) != v
    ]
    if wrong:
        return ComponentReport(label, wfile, "broken", f"{wfile.name}: {'; '.join(wrong)}", size)
    return ComponentReport(label, wfile, "ok", f"{wfile.name}: {len(shapes)} tensors", size)


def _check_model_folder(root: Path) -> tuple[ModelDescription | None, ComponentReport]:
    """The folder's own description (cameras, views, facelift-model.json): engine.weights.model_folder."""
    try:
        model = describe_model(root)
    except WeightsError as exc:
        return None, ComponentReport("model folder", root, "broken", str(exc))
    msg = f"{model.name}: {model.num_views} views ({', '.join(model.view_names)}), framing {model.framing}"
    return model, ComponentReport("model folder", root, "ok", msg, details={"overrides": model.overrides})


def _check_prompt_embeds(
    root: Path, comps: Iterable[ComponentReport], num_views: int | None = None
) -> ComponentReport | None:
    """The optional mvdiffusion/clr_embeds.(safetensors|pt) override:
    (num_views, 77, cross_attention_dim); num_views from the model folder (None: not checked)."""
    folder = root / "mvdiffusion"
    files = [folder / n for n in ("clr_embeds.safetensors", "clr_embeds.pt") if (folder / n).is_file()]
    if not files:
        return None
    path = files[0]
    size = path.stat().st_size
    try:
        data = load_file(path)
    except WeightsError as exc:
        return ComponentReport("mvdiffusion/clr_embeds", path, "broken", f"cannot load {exc}", size)
    tensor: Any = (
        data.get("prompt_embeds", next(iter(data.values()), None)) if isinstance(data, dict) else data
    )
    if not hasattr(tensor, "shape"):
        return ComponentReport(
            "mvdiffusion/clr_embeds", path, "broken", f"{path.name}: no prompt_embeds tensor", size
        )
    shape = tuple(tensor.shape)
    want_dim = None
    unet_cfg = root / PIPECKPTS / "unet" / "config.json"
    if unet_cfg.is_file():
        try:
            want_dim = int(_read_json(unet_cfg)["cross_attention_dim"])
        except (OSError, ValueError, KeyError, TypeError):
            want_dim = None
    views_ok = num_views is None or shape[0] == num_views
    if len(shape) != 3 or not views_ok or (want_dim is not None and shape[2] != want_dim):
        want = f"({num_views or 'V'},77,{want_dim if want_dim is not None else 'D'})"
        return ComponentReport(
            "mvdiffusion/clr_embeds", path, "broken", f"shape {shape}, expected {want}", size
        )
    return ComponentReport("mvdiffusion/clr_embeds", path, "ok", f"prompt embeddings {shape}", size)
