"""One frame of animation: a rig, the landmarks' expression offsets and the head's pose ->
deformed Gaussians.

Order: expression first (in the static head's frame: each bound Gaussian follows its triangle,
blended with staying put by its face weight), then the head's rigid motion about the rig's pivot
(rotation and translation scaled by each Gaussian's head weight, so the neck bends and the
shoulders stay). Rotations of the Gaussians follow: the triangle's change of frame, then the
head's (partial) rotation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.animate.landmarks import MESH_VERTICES, lip_gap
from engine.animate.rig import Rig, triangle_frames
from engine.gaussians import Gaussians
from engine.geometry import matrix_to_quat, quat_multiply

OPEN_FULL = 0.015  # lip gap growth, in face heights, at which the mouth interior is opaque


@dataclass(frozen=True)
class Pose:
    """The head's rigid motion in the FaceLift world: rotation (3,3) about the rig's pivot, then
    translation (3,) (world units)."""

    rotation: np.ndarray = field(default_factory=lambda: np.eye(3))
    translation: np.ndarray = field(default_factory=lambda: np.zeros(3))


def deformed_landmarks(rig: Rig, offsets: np.ndarray, pose: Pose | None = None) -> np.ndarray:
    """(478,3) the rig's landmarks moved by ``offsets`` (478,3) and then by ``pose`` (full head
    weight), world."""
    lm = rig.landmarks + np.asarray(offsets, dtype=np.float64)
    if pose is None:
        return lm
    return (lm - rig.pivot) @ pose.rotation.T + rig.pivot + pose.translation


def deform(rig: Rig, offsets: np.ndarray, pose: Pose | None = None) -> Gaussians:
    """The rig's Gaussians for expression ``offsets`` (478,3) world (static head frame) and
    ``pose``. Zero offsets and no pose give the static head (with the mouth interior hidden)."""
    pose = pose or Pose()
    base = rig.base
    off = np.asarray(offsets, dtype=np.float64)
    xyz = base.xyz.astype(np.float64)  # a copy
    quats = base.quats.astype(np.float64)
    if np.any(off[:MESH_VERTICES]):
        _expression(rig, off, xyz, quats)
    _rigid(rig, pose, xyz, quats)
    logits = base.opacity_logits.copy()
    logits[rig.interior] = _interior_logits(rig, off)
    return base.replace(xyz=xyz, quats=quats, opacity_logits=logits)


def _expression(rig: Rig, off: np.ndarray, xyz: np.ndarray, quats: np.ndarray) -> None:
    verts0 = rig.landmarks[:MESH_VERTICES]
    verts1 = verts0 + off[:MESH_VERTICES]
    f0 = triangle_frames(verts0, rig.triangles)
    f1 = triangle_frames(verts1, rig.triangles)
    delta = f1 @ np.swapaxes(f0, 1, 2)  # (T,3,3): frame 0 -> frame 1
    foot = np.einsum("mk,mkd->md", rig.bary, verts1[rig.triangles[rig.tri]])
    moved = foot + np.einsum("mdk,mk->md", f1[rig.tri], rig.local)
    w = rig.face_weight.astype(np.float64)[:, None]
    xyz[rig.bound] += w * (moved - xyz[rig.bound])
    q_tri = matrix_to_quat(delta)[rig.tri]  # (M,4) with w >= 0 as pivot allows
    q_tri *= np.where(q_tri[:, :1] < 0, -1.0, 1.0)
    ident = np.array([1.0, 0.0, 0.0, 0.0])
    q = (1.0 - w) * ident + w * q_tri
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    quats[rig.bound] = quat_multiply(q, quats[rig.bound])


def _rigid(rig: Rig, pose: Pose, xyz: np.ndarray, quats: np.ndarray) -> None:
    from engine.animate.similarity import rotation_vector

    rv = rotation_vector(pose.rotation)
    angle = float(np.linalg.norm(rv))
    t = np.asarray(pose.translation, dtype=np.float64)
    if angle < 1e-9 and not np.any(t):
        return
    w = rig.head_weight.astype(np.float64)
    moving = w > 0
    p = xyz[moving] - rig.pivot
    wm = w[moving][:, None]
    if angle >= 1e-9:
        axis = rv / angle
        a = wm * angle
        cos, sin = np.cos(a), np.sin(a)
        p = p * cos + np.cross(axis, p) * sin + np.outer(p @ axis, axis) * (1.0 - cos)
        q = np.concatenate([np.cos(a / 2.0), np.sin(a / 2.0) * axis], axis=1)
        quats[moving] = quat_multiply(q, quats[moving])
    xyz[moving] = p + rig.pivot + wm * t


def _interior_logits(rig: Rig, off: np.ndarray) -> np.ndarray:
    """The mouth interior's opacity logits: hidden while the lips are as in the static head,
    fully there once their gap has grown by OPEN_FULL face heights."""
    grow = (lip_gap(rig.landmarks + off) - rig.rest_gap) / max(rig.height, 1e-9)
    k = float(np.clip(grow / OPEN_FULL, 0.0, 1.0))
    if k <= 0.0:
        return np.full(len(rig.interior_logits), -30.0, np.float32)
    full = 1.0 / (1.0 + np.exp(-rig.interior_logits.astype(np.float64)))
    a = np.clip(full * k, 1e-6, 1.0 - 1e-6)
    return np.log(a / (1.0 - a)).astype(np.float32)
