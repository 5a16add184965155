"""diffusers (and through it transformers): the package metadata they read at import time.

Both libraries decide which back-ends are "available" with ``importlib.metadata.version`` and
check pinned versions of their dependencies when imported (``dependency_versions_check``). In a
frozen app that metadata only exists if the .dist-info folders are copied.
"""

import contextlib
from importlib.metadata import PackageNotFoundError, distribution

from PyInstaller.utils.hooks import copy_metadata, get_module_attribute

# What transformers' and diffusers' dependency_versions_check read, plus what their
# is_*_available() probes ask for.
_ALWAYS = [
    "transformers",
    "diffusers",
    "huggingface-hub",
    "tokenizers",
    "safetensors",
    "accelerate",
    "tqdm",
    "regex",
    "requests",
    "packaging",
    "filelock",
    "numpy",
    "pyyaml",
    "torch",
    "Pillow",
    "scipy",
    "psutil",
    "fsspec",
    "importlib_metadata",
    "Jinja2",
    "protobuf",
]


def _installed(name: str) -> bool:
    try:
        distribution(name)
    except PackageNotFoundError:
        return False
    return True


_names = list(_ALWAYS)
for table in ("diffusers.dependency_versions_table", "transformers.dependency_versions_table"):
    with contextlib.suppress(Exception):  # the table moved: the explicit list still covers the check
        _names += list(get_module_attribute(table, "deps"))

_skip = {"python", "torchvision", "jax", "jaxlib", "flax", "tensorboard", "pytest", "ruff", "black", "isort"}
datas = []
for _name in dict.fromkeys(_names):
    if _name.lower() in _skip or not _installed(_name):
        continue
    datas += copy_metadata(_name)
