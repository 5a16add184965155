"""engine.api: errors carry one line; progress, cancel and request defaults."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from engine.api import (
    Cancelled,
    CancelToken,
    FaceLiftError,
    InputError,
    OutOfMemory,
    OutputError,
    ProgressEvent,
    ReconstructionRequest,
    ReconstructionResult,
    WeightsError,
    no_progress,
)
from engine.gaussians import Gaussians
from engine.geometry import VIEW_NAMES


@pytest.mark.parametrize("cls", [InputError, WeightsError, Cancelled, OutOfMemory, OutputError])
def test_errors_are_one_line(cls):
    err = cls("photo.jpg:\n  cannot\tdecode   it\n", details="Traceback ...\nline 2")
    assert isinstance(err, FaceLiftError)
    assert str(err) == err.message == "photo.jpg: cannot decode it"
    assert err.details.startswith("Traceback")


def test_exit_codes():
    assert InputError("x").exit_code == 2
    assert Cancelled("x").exit_code == 130


def test_cancel_token_across_threads():
    token = CancelToken()
    assert not token.cancelled
    token.raise_if_cancelled()
    t = threading.Thread(target=token.cancel)
    t.start()
    t.join()
    assert token.cancelled
    with pytest.raises(Cancelled):
        token.raise_if_cancelled()
    token.reset()
    assert not token.cancelled


def test_progress_event():
    assert ProgressEvent("diffusion", 5, 50).fraction == 0.1
    assert ProgressEvent("gslrm").fraction == 0.0  # indeterminate
    no_progress(ProgressEvent("x"))
    with pytest.raises(AttributeError):
        ProgressEvent("x").step = 3  # type: ignore[misc]


def test_request_defaults_are_the_references():
    req = ReconstructionRequest(image="me.jpg")
    o = req.options
    assert (o.seed, o.guidance_scale, o.num_steps) == (4, 3.0, 50)
    assert o.auto_crop and o.preprocess
    assert req.describe_image() == "me.jpg"
    assert (
        ReconstructionRequest(image=np.zeros((480, 640, 3), np.uint8)).describe_image() == "<image 640x480>"
    )


def test_result_and_view_names():
    res = ReconstructionResult(gaussians=Gaussians.empty(), input_image=np.zeros((512, 512, 3), np.uint8))
    assert res.timings == {} and res.info == {} and res.views is None
    assert VIEW_NAMES == ("front", "front_right", "right", "back", "left", "front_left")
