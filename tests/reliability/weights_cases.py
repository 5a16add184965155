"""Broken FaceLift weights folders for the reliability matrix (weights rows, OOM, download).

Every case starts from a writable copy of the tiny conformance weights in the release layout
(``copy_weights``) and breaks one thing. A case says which file (or folder) the one-line
error must name and which words describe the problem, for the loaders (engine API / CLI / GUI)
and for ``verify_weights`` (which reports per component).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CKPT = Path("gslrm") / "ckpt_0000000000000000.pt"
YAML = Path("gslrm") / "gslrm.yaml"
PIPE = Path("mvdiffusion") / "pipeckpts"
UNET = PIPE / "unet"
UNET_WEIGHTS = UNET / "diffusion_pytorch_model.safetensors"
UNET_CONFIG = UNET / "config.json"
VAE_WEIGHTS = PIPE / "vae" / "diffusion_pytorch_model.safetensors"
MODEL_INDEX = PIPE / "model_index.json"


def copy_weights(conformance: Path, dst: Path) -> Path:
    """The tiny weights in the release layout (no test data), writable, at ``dst``."""
    shutil.copytree(conformance / PIPE, dst / PIPE)
    (dst / "gslrm").mkdir(parents=True)
    for rel in (CKPT, YAML):
        shutil.copy(conformance / rel, dst / rel)
    shutil.copy(conformance / "mvdiffusion" / "clr_embeds.safetensors", dst / "mvdiffusion")
    for p in dst.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    return dst


class CodeOnLoad:
    """Pickles as a call ``open(marker, "w")``: unpickling it creates the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def marker_of(root: Path) -> Path:
    """Where a code-running pickle planted in ``root`` would leave its trace."""
    return root.parent / f"{root.name}-PAYLOAD-RAN"


# ---- the breakers ------------------------------------------------------------------------


def _torch_save(obj: object, path: Path) -> None:
    import torch

    torch.save(obj, path)


def _gslrm_state(root: Path) -> dict[str, object]:
    import torch

    return dict(torch.load(root / CKPT, map_location="cpu", weights_only=True))


def _remove(rel: Path) -> Callable[[Path], None]:
    def brk(root: Path) -> None:
        target = root / rel
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink()

    return brk


def _missing_folder(root: Path) -> None:
    shutil.rmtree(root)


def _truncate_ckpt(root: Path) -> None:
    path = root / CKPT
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _code_pickle_ckpt(root: Path) -> None:
    data = _gslrm_state(root)
    data["model"] = {**data["model"], "extra": CodeOnLoad(marker_of(root))}  # type: ignore[dict-item]
    _torch_save(data, root / CKPT)


def _code_pickle_unet_bin(root: Path) -> None:
    from safetensors.torch import load_file

    state: dict[str, object] = dict(load_file(str(root / UNET_WEIGHTS)))
    state["extra"] = CodeOnLoad(marker_of(root))
    (root / UNET_WEIGHTS).unlink()
    _torch_save(state, root / UNET / "diffusion_pytorch_model.bin")


def _wrong_shape_ckpt(root: Path) -> None:
    import torch

    data = _gslrm_state(root)
    model = dict(data["model"])  # type: ignore[call-overload]
    key = "pixel_gaussian_decoder.1.weight"
    model[key] = torch.zeros(model[key].shape[0] - 1, model[key].shape[1])
    data["model"] = model
    _torch_save(data, root / CKPT)


def _wrong_shape_unet(root: Path) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    state = load_file(str(root / UNET_WEIGHTS))
    w = state["conv_in.weight"]
    state["conv_in.weight"] = torch.zeros(w.shape[0], w.shape[1] + 1, *w.shape[2:])
    save_file(state, str(root / UNET_WEIGHTS))


def _safetensors_garbage_length(root: Path) -> None:
    path = root / VAE_WEIGHTS
    data = bytearray(path.read_bytes())
    data[:8] = (2**62).to_bytes(8, "little")
    path.write_bytes(bytes(data))


def _safetensors_bad_json(root: Path) -> None:
    path = root / VAE_WEIGHTS
    data = bytearray(path.read_bytes())
    n = int.from_bytes(data[:8], "little")
    data[8 : 8 + n] = b"{" + b"x" * (n - 2) + b"}"  # same length, not json
    path.write_bytes(bytes(data))


def _edit_json(rel: Path, **values: object) -> Callable[[Path], None]:
    def brk(root: Path) -> None:
        path = root / rel
        cfg = json.loads(path.read_text())
        cfg.update(values)
        path.write_text(json.dumps(cfg, indent=2))

    return brk


def _yaml_string_int(root: Path) -> None:
    path = root / YAML
    path.write_text(path.read_text().replace("n_layer: 2", "n_layer: two"))


# ---- the cases ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WeightsCase:
    """One broken weights folder.

    culprit: the file/folder (relative to the weights folder; "" = the folder itself) that
        the loaders' error must name; problem: words of that error (any one of them matches).
    component / verify_problem: the verify_weights component reported broken or missing and
        words of its message.
    loadable_looking: the folder still passes the cheap presence check (weights_present), so
        the desktop app offers the FaceLift engine and the failure shows on Reconstruct.
    """

    name: str
    brk: Callable[[Path], None]
    culprit: Path
    problem: tuple[str, ...]
    component: str
    verify_problem: tuple[str, ...]
    loadable_looking: bool = True
    runs_code: bool = False


CASES: tuple[WeightsCase, ...] = (
    WeightsCase(
        "missing-folder",
        _missing_folder,
        Path(""),
        ("weights folder not found",),
        "weights folder",
        ("folder not found",),
        loadable_looking=False,
    ),
    WeightsCase(
        "missing-gslrm-checkpoint",
        _remove(CKPT),
        Path("gslrm"),
        ("no ckpt_",),
        "gslrm",
        ("no ckpt_",),
        loadable_looking=False,
    ),
    WeightsCase(
        "missing-unet-folder",
        _remove(UNET),
        UNET,
        ("missing", "not found"),
        "mvdiffusion/unet",
        ("not found",),
    ),
    WeightsCase(
        "missing-unet-weights",
        _remove(UNET_WEIGHTS),
        UNET_WEIGHTS,
        ("not found",),
        "mvdiffusion/unet",
        ("no weight file",),
    ),
    WeightsCase(
        "missing-model-index",
        _remove(MODEL_INDEX),
        MODEL_INDEX,
        ("not found",),
        "mvdiffusion",
        ("no model_index.json",),
        loadable_looking=False,
    ),
    WeightsCase(
        "truncated-pt",
        _truncate_ckpt,
        CKPT,
        ("corrupt or truncated",),
        "gslrm",
        ("corrupt or truncated",),
    ),
    WeightsCase(
        "code-running-pickle-pt",
        _code_pickle_ckpt,
        CKPT,
        ("refused", "would run code"),
        "gslrm",
        ("refused",),
        runs_code=True,
    ),
    WeightsCase(
        "code-running-pickle-unet-bin",
        _code_pickle_unet_bin,
        UNET / "diffusion_pytorch_model.bin",
        ("refused", "would run code"),
        "mvdiffusion/unet",
        ("refused",),
        runs_code=True,
    ),
    WeightsCase(
        "wrong-shape-gslrm",
        _wrong_shape_ckpt,
        CKPT,
        ("wrong shapes", "pixel_gaussian_decoder.1.weight"),
        "gslrm",
        ("wrong shapes", "pixel_gaussian_decoder.1.weight"),
    ),
    WeightsCase(
        "wrong-shape-unet",
        _wrong_shape_unet,
        UNET_WEIGHTS,
        ("wrong shapes", "conv_in.weight"),
        "mvdiffusion/unet",
        ("conv_in.weight",),
    ),
    WeightsCase(
        "safetensors-garbage-header-length",
        _safetensors_garbage_length,
        VAE_WEIGHTS,
        ("corrupt safetensors",),
        "mvdiffusion/vae",
        ("corrupt safetensors",),
    ),
    WeightsCase(
        "safetensors-header-not-json",
        _safetensors_bad_json,
        VAE_WEIGHTS,
        ("corrupt safetensors",),
        "mvdiffusion/vae",
        ("corrupt safetensors",),
    ),
    WeightsCase(
        "unet-config-in-channels-string",
        _edit_json(UNET_CONFIG, in_channels="eight"),
        UNET_CONFIG,
        ("in_channels",),
        "mvdiffusion/unet",
        ("in_channels",),
    ),
    WeightsCase(
        "unet-config-block-out-channels-string",
        _edit_json(UNET_CONFIG, block_out_channels="abc"),
        UNET_CONFIG,
        ("block_out_channels",),
        "mvdiffusion/unet",
        ("block_out_channels",),
    ),
    WeightsCase(
        "gslrm-yaml-string-for-int",
        _yaml_string_int,
        YAML,
        ("n_layer", "integer"),
        "gslrm",
        ("n_layer", "integer"),
    ),
)

CASE_IDS = [c.name for c in CASES]


def make_broken(case: WeightsCase, conformance: Path, tmp: Path) -> Path:
    """A copy of the tiny weights at ``tmp/weights-<case>`` with the case applied."""
    root = copy_weights(conformance, tmp / f"weights-{case.name}")
    case.brk(root)
    return root


def assert_names_problem(message: str, case: WeightsCase, root: Path) -> None:
    """``message`` is one line naming the case's file and (any of) its problem words."""
    from reliability_harness import assert_message

    assert_message(message, str(root / case.culprit))
    assert any(p.lower() in message.lower() for p in case.problem), f"{case.problem} not in {message!r}"


# ---- a fake Hugging Face Hub ---------------------------------------------------------------


class FakeHub:
    """Serves a weights tree as the Hub would, under huggingface_hub's real download code.

    Only the network edge is replaced: ``HfApi.model_info`` (the file list), the HEAD request
    (``file_download.get_hf_file_metadata``: etag, size, commit) and the byte transfer
    (``file_download.http_get``). So the real hf_hub_download decides what to fetch, keeps
    partial files as ``.incomplete`` and resumes them with a Range from ``resume_size``.

    interrupt: file name -> the transfer of that file writes up to half the file, then raises
        a connection error (once). corrupt: file names served with flipped bytes (full size).
    cancel_on: (file name, token): the token is cancelled while that file is served.
    ``transfers`` records (file name, resume_size) of every byte transfer.
    """

    COMMIT = "0123456789abcdef0123456789abcdef01234567"

    def __init__(self, source: Path) -> None:
        import hashlib

        self.source = source
        self.files = sorted(str(p.relative_to(source)) for p in source.rglob("*") if p.is_file())
        self.etags = {f: hashlib.sha256((source / f).read_bytes()).hexdigest() for f in self.files}
        self.interrupt: set[str] = set()
        self.corrupt: set[str] = set()
        self.cancel_on: tuple[str, object] | None = None
        self.transfers: list[tuple[str, int]] = []

    def content(self, name: str) -> bytes:
        data = (self.source / name).read_bytes()
        if name in self.corrupt:
            data = bytes(b ^ 0x5A for b in data)
        return data

    @staticmethod
    def name_of(url: str) -> str:
        from urllib.parse import unquote

        return unquote(url.split("/resolve/", 1)[1].split("/", 1)[1])

    # -- the three network calls
    def model_info(self, _api: object, repo_id: str, **_kw: object) -> object:
        from types import SimpleNamespace

        siblings = [SimpleNamespace(rfilename=f, size=(self.source / f).stat().st_size) for f in self.files]
        return SimpleNamespace(id=repo_id, sha=self.COMMIT, siblings=siblings)

    def get_hf_file_metadata(self, url: str, **_kw: object) -> object:
        from huggingface_hub.file_download import HfFileMetadata

        name = self.name_of(url)
        return HfFileMetadata(
            commit_hash=self.COMMIT, etag=self.etags[name], location=url, size=len(self.content(name))
        )

    def http_get(self, url: str, temp_file: Any, *, resume_size: float = 0, **_kw: object) -> None:
        import requests

        name = self.name_of(url)
        start = int(resume_size)
        self.transfers.append((name, start))
        if self.cancel_on is not None and self.cancel_on[0] == name:
            self.cancel_on[1].cancel()  # type: ignore[attr-defined]
        data = self.content(name)
        if name in self.interrupt:
            self.interrupt.discard(name)
            temp_file.write(data[start : max(start, len(data) // 2)])
            temp_file.flush()
            raise requests.exceptions.ConnectionError("Connection reset by peer (injected)")
        temp_file.write(data[start:])

    def install(self, monkeypatch: Any) -> None:
        import huggingface_hub
        from huggingface_hub import file_download

        hub = self
        monkeypatch.setattr(
            huggingface_hub.HfApi, "model_info", lambda api, repo_id, **kw: hub.model_info(api, repo_id, **kw)
        )
        monkeypatch.setattr(file_download, "get_hf_file_metadata", self.get_hf_file_metadata)
        monkeypatch.setattr(file_download, "http_get", self.http_get)

    def fetched(self) -> list[str]:
        return [name for name, _ in self.transfers]
