"""Model folders for tests: the tiny conformance weights with N views, their own cameras and a
facelift-model.json, as a user's fine-tuned model folder would be (docs/CUSTOM_MODELS.md)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from camera_rigs import orbit_rig, write_cameras_json


def n_view_model(
    root: Path,
    conformance_dir: Path,
    names: list[str],
    elevation: float = 20.0,
    radius: float = 2.2,
    framing: str = "object",
    title: str = "Rig model",
) -> Path:
    """A model folder with len(names) views: the UNet's num_views, prompt embeddings (the
    conformance ones repeated), cameras evenly around the subject starting at the front (270°)
    at this elevation and radius, and a facelift-model.json naming the views and framing."""
    from safetensors.numpy import load_file, save_file

    n = len(names)
    root.mkdir(parents=True)
    (root / "gslrm").symlink_to(conformance_dir / "gslrm", target_is_directory=True)
    mv = root / "mvdiffusion"
    mv.mkdir()
    shutil.copytree(conformance_dir / "mvdiffusion" / "pipeckpts", mv / "pipeckpts")
    unet_config = mv / "pipeckpts" / "unet" / "config.json"
    config = json.loads(unet_config.read_text())
    config["num_views"] = n
    unet_config.write_text(json.dumps(config))
    embeds = load_file(str(conformance_dir / "mvdiffusion" / "clr_embeds.safetensors"))["prompt_embeds"]
    save_file({"prompt_embeds": np.ascontiguousarray(np.resize(embeds, (n, *embeds.shape[1:])))},
              str(mv / "clr_embeds.safetensors"))  # fmt: skip
    azimuths = [(270.0 + 360.0 * i / n) % 360.0 for i in range(n)]
    write_cameras_json(root / "opencv_cameras.json", orbit_rig(azimuths, elevation, radius))
    (root / "facelift-model.json").write_text(
        json.dumps({"name": title, "framing": framing, "view_names": names})
    )
    return root
