"""The FaceLift weights (the ``wlyu/OpenFaceLift`` release layout): ``locate.py`` finds them,
``verify.py`` checks them, ``download.py`` fetches them; ``files.py`` reads a checkpoint as data.

A weights folder looks like::

    <dir>/mvdiffusion/pipeckpts/{model_index.json, unet/, vae/, image_encoder/, ...}
    <dir>/gslrm/ckpt_*.pt                 {"model": state_dict}
    <dir>/gslrm/*.yaml                    optional: FaceLift's config schema (model hyper-parameters)
    <dir>/mvdiffusion/clr_embeds.(pt|safetensors)   optional prompt-embedding override
    <dir>/opencv_cameras.json             optional: the V cameras (model_folder.py)
    <dir>/facelift-model.json             optional: name, licence, framing, view names

``model_folder.py`` reads what the folder says about itself (cameras, number and names of views,
default framing; docs/CUSTOM_MODELS.md).

Where it is looked for, first hit wins: ``--weights DIR``, the ``FACELIFT_WEIGHTS``
environment variable, then the user data folder
(``platformdirs.user_data_path("facelift-desktop") / "weights"``).

The released weights are licensed by Adobe under the Adobe Research License: **non-commercial
research use only** (:data:`LICENSE_NOTICE`). The code in this project is Apache-2.0.

Checkpoints are treated as data: ``torch.load(weights_only=True)`` or safetensors, never unpickled
objects. torch and huggingface_hub are imported only inside the functions that need them.
"""

from engine.weights.download import HF_REPO_ID, download_weights, staging_dir
from engine.weights.locate import (
    APP_NAME,
    ENV_VAR,
    GSLRM_DIR,
    LICENSE_NOTICE,
    PIPECKPTS,
    WeightsLocation,
    find_weights,
    gslrm_checkpoint,
    missing_weights,
    require_weights,
    user_weights_dir,
    weights_locations,
    weights_present,
)
from engine.weights.verify import (
    IGNORED_GSLRM_PREFIXES,
    RELEASED_GSLRM_CONFIG,
    ComponentReport,
    WeightsReport,
    expected_gslrm_shapes,
    gslrm_config,
    verify_weights,
)

__all__ = [
    "APP_NAME",
    "ENV_VAR",
    "GSLRM_DIR",
    "HF_REPO_ID",
    "IGNORED_GSLRM_PREFIXES",
    "LICENSE_NOTICE",
    "PIPECKPTS",
    "RELEASED_GSLRM_CONFIG",
    "ComponentReport",
    "WeightsLocation",
    "WeightsReport",
    "download_weights",
    "expected_gslrm_shapes",
    "find_weights",
    "gslrm_checkpoint",
    "gslrm_config",
    "missing_weights",
    "require_weights",
    "staging_dir",
    "user_weights_dir",
    "verify_weights",
    "weights_locations",
    "weights_present",
]
