"""A VisPy visual that draws 3D Gaussians as screen-space splats (EWA splatting).

Each Gaussian is one instance of a 4-vertex quad. The vertex shader projects the 3D
covariance to a 2D one with the Jacobian of the full projective transform (visual -> clip),
takes its eigen-decomposition and stretches the quad to 3 standard deviations along the two
axes; the fragment shader evaluates the Gaussian falloff and writes premultiplied colour, so
``ONE, ONE_MINUS_SRC_ALPHA`` blending of a back-to-front order is the 3DGS compositing rule.
The instances must be uploaded in back-to-front order (see viewer.sorting).
"""

from __future__ import annotations

import numpy as np
from vispy import gloo
from vispy.scene.visuals import create_visual_node
from vispy.visuals import Visual

VERTEX_SHADER = """
uniform mat4 u_mvp;          // visual -> clip, column-major (GLSL) = math matrix A
uniform vec2 u_viewport;     // framebuffer size in pixels
uniform float u_size_scale;  // > 1 while fewer splats are drawn (level of detail)
attribute vec2 a_corner;     // (-1,-1) (1,-1) (-1,1) (1,1)
attribute vec3 a_pos;
attribute vec3 a_cov_a;      // xx xy xz
attribute vec3 a_cov_b;      // yy yz zz
attribute vec4 a_rgba;
varying vec4 v_rgba;
varying vec2 v_uv;           // position inside the splat in standard deviations

void main() {
    vec4 clip = u_mvp * vec4(a_pos, 1.0);
    if (clip.w <= 1e-3) {                      // behind the camera: drop the quad
        gl_Position = vec4(2.0, 2.0, 2.0, 1.0);
        return;
    }
    vec2 ndc = clip.xy / clip.w;
    // rows of A (GLSL indexes columns first)
    vec3 r0 = vec3(u_mvp[0][0], u_mvp[1][0], u_mvp[2][0]);
    vec3 r1 = vec3(u_mvp[0][1], u_mvp[1][1], u_mvp[2][1]);
    vec3 r3 = vec3(u_mvp[0][3], u_mvp[1][3], u_mvp[2][3]);
    // Jacobian of pixel coordinates w.r.t. the 3D position (2 rows of 3)
    vec2 half_vp = 0.5 * u_viewport;
    vec3 jx = (r0 - ndc.x * r3) * (half_vp.x / clip.w);
    vec3 jy = (r1 - ndc.y * r3) * (half_vp.y / clip.w);
    mat3 S = mat3(a_cov_a.x, a_cov_a.y, a_cov_a.z,
                  a_cov_a.y, a_cov_b.x, a_cov_b.y,
                  a_cov_a.z, a_cov_b.y, a_cov_b.z);
    vec3 sjx = S * jx;
    vec3 sjy = S * jy;
    float s = u_size_scale * u_size_scale;
    // 2D covariance in pixels^2, plus the usual 0.3 px^2 low-pass so tiny splats stay visible
    float a = dot(jx, sjx) * s + 0.3;
    float b = dot(jx, sjy) * s;
    float c = dot(jy, sjy) * s + 0.3;
    float mid = 0.5 * (a + c);
    float disc = sqrt(max(0.25 * (a - c) * (a - c) + b * b, 0.0));
    float l1 = mid + disc;
    float l2 = max(mid - disc, 0.09);
    vec2 e1 = (abs(b) > 1e-9) ? normalize(vec2(b, l1 - a)) : ((a >= c) ? vec2(1.0, 0.0) : vec2(0.0, 1.0));
    vec2 e2 = vec2(-e1.y, e1.x);
    float rad1 = min(3.0 * sqrt(l1), 2048.0);
    float rad2 = min(3.0 * sqrt(l2), 2048.0);
    vec2 offset_px = a_corner.x * rad1 * e1 + a_corner.y * rad2 * e2;
    gl_Position = vec4((ndc + offset_px / half_vp) * clip.w, clip.z, clip.w);
    v_uv = vec2(a_corner.x * rad1 / sqrt(l1), a_corner.y * rad2 / sqrt(l2));
    v_rgba = a_rgba;
}
"""

FRAGMENT_SHADER = """
varying vec4 v_rgba;
varying vec2 v_uv;

void main() {
    float r2 = dot(v_uv, v_uv);
    float alpha = min(0.99, v_rgba.a * exp(-0.5 * r2));
    if (alpha < 1.0 / 255.0) {
        discard;
    }
    gl_FragColor = vec4(v_rgba.rgb * alpha, alpha);   // premultiplied
}
"""

ATTRIBUTES = ("a_pos", "a_cov_a", "a_cov_b", "a_rgba")
_WIDTHS = {"a_pos": 3, "a_cov_a": 3, "a_cov_b": 3, "a_rgba": 4}


def projection_matrix(transform: object) -> np.ndarray:
    """The 4x4 matrix of a VisPy transform chain made of linear homogeneous maps.

    VisPy maps row vectors (``p @ M``); mapping the identity's rows gives M itself. The
    result is what GLSL reads as column-major ``A`` with ``clip = A * p``.
    """
    return np.asarray(transform.map(np.eye(4)), dtype=np.float64)  # type: ignore[attr-defined]


_CORNERS = np.array([[-1, -1], [1, -1], [-1, 1], [1, 1]], dtype=np.float32)
_QUAD_TRIANGLES = np.array([0, 1, 2, 1, 3, 2], dtype=np.uint32)


class SplatVisual(Visual):
    """Gaussian splats. Feed back-to-front ordered attributes with ``set_data``.

    instanced=True (the default, needs VisPy's ``gl+`` binding, i.e. PyOpenGL): one 4-vertex
    strip drawn once per Gaussian. instanced=False: the same shader on quads expanded on the
    CPU (4 vertices and 6 indices per Gaussian), for GL bindings without instancing.
    """

    def __init__(self, instanced: bool = True) -> None:
        super().__init__(vcode=VERTEX_SHADER, fcode=FRAGMENT_SHADER)
        self.instanced = instanced
        divisor = 1 if instanced else None
        self._corner_vbo = gloo.VertexBuffer(_CORNERS if instanced else np.zeros((4, 2), np.float32))
        self._vbos = {
            name: gloo.VertexBuffer(
                np.zeros((1 if instanced else 4, _WIDTHS[name]), np.float32), divisor=divisor
            )
            for name in ATTRIBUTES
        }
        self._count = 0
        self._size_scale = 1.0
        self._bounds: np.ndarray | None = None
        self.shared_program["a_corner"] = self._corner_vbo
        for name, vbo in self._vbos.items():
            self.shared_program[name] = vbo
        self.shared_program["u_size_scale"] = 1.0
        if instanced:
            self._draw_mode = "triangle_strip"
        else:
            self._draw_mode = "triangles"
            self._index_buffer = gloo.IndexBuffer(_QUAD_TRIANGLES)
        self.set_gl_state(
            blend=True,
            blend_func=("one", "one_minus_src_alpha"),
            depth_test=False,
            cull_face=False,
        )
        self.freeze()

    @property
    def count(self) -> int:
        """How many splats the next draw shows."""
        return self._count

    def set_data(self, attrs: dict[str, np.ndarray], size_scale: float = 1.0) -> None:
        """Upload K splats (each array (K,3) or (K,4) float32, already back-to-front)."""
        count = len(attrs["a_pos"]) if attrs else 0
        if count > 0:
            for name in ATTRIBUTES:
                data = np.ascontiguousarray(attrs[name], dtype=np.float32)
                self._vbos[name].set_data(data if self.instanced else np.repeat(data, 4, axis=0))
            if not self.instanced:
                self._corner_vbo.set_data(np.tile(_CORNERS, (count, 1)))
                index = (np.arange(count, dtype=np.uint32)[:, None] * 4 + _QUAD_TRIANGLES).ravel()
                self._index_buffer.set_data(index)
            self._bounds = np.stack([attrs["a_pos"].min(axis=0), attrs["a_pos"].max(axis=0)])
        self._count = count
        self.set_size_scale(size_scale)
        self.update()

    def set_size_scale(self, value: float) -> None:
        """Grow every splat by ``value`` (used when drawing a subset while moving)."""
        self._size_scale = float(value)
        self.shared_program["u_size_scale"] = self._size_scale

    def _prepare_transforms(self, view: object) -> None:
        """Nothing to bind: the projection is a uniform set in ``_prepare_draw``."""

    def _prepare_draw(self, view: object) -> bool:
        if self._count == 0:
            return False
        tr = view.transforms.get_transform("visual", "render")  # type: ignore[attr-defined]
        view.view_program["u_mvp"] = projection_matrix(tr).astype(np.float32)  # type: ignore[attr-defined]
        fb = view.transforms.get_transform("render", "framebuffer")  # type: ignore[attr-defined]
        corners = fb.map(np.array([[-1.0, -1.0], [1.0, 1.0]]))
        size = np.abs(corners[1, :2] - corners[0, :2])
        view.view_program["u_viewport"] = size.astype(np.float32)  # type: ignore[attr-defined]
        return True

    def draw(self) -> None:
        """Draw the splats; instancing draws ``count`` instances of the 4-vertex strip."""
        if self._count == 0:
            return
        super().draw()

    def _compute_bounds(self, axis: int, view: object) -> tuple[float, float] | None:
        if self._bounds is None:
            return None
        return float(self._bounds[0, axis]), float(self._bounds[1, axis])


Splat = create_visual_node(SplatVisual)
"""The scene-graph node class of :class:`SplatVisual`."""
