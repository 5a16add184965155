"""engine.gaussians.Gaussians: validation, immutability, selection and activated views."""

from __future__ import annotations

import numpy as np
import pytest

from engine.api import InputError
from engine.gaussians import Gaussians
from engine.sh import SH_C0


def make(n: int = 5, k: int = 0, seed: int = 0, **override) -> Gaussians:
    rng = np.random.default_rng(seed)
    fields = {
        "xyz": rng.normal(size=(n, 3)).astype(np.float32),
        "sh_dc": rng.normal(size=(n, 3)).astype(np.float32),
        "sh_rest": rng.normal(size=(n, k, 3)).astype(np.float32),
        "log_scales": rng.normal(-3, 1, size=(n, 3)).astype(np.float32),
        "quats": rng.normal(size=(n, 4)).astype(np.float32),
        "opacity_logits": rng.normal(size=n).astype(np.float32),
    }
    fields.update(override)
    return Gaussians(**fields)


# ---- validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("xyz", np.zeros((5, 2)), "xyz must have shape (N,3)"),
        ("xyz", np.zeros(15), "xyz must have shape (N,3)"),
        ("quats", np.zeros((5, 3)), "quats must have shape (N,4)"),
        ("opacity_logits", np.zeros((5, 1)), "opacity_logits must have shape (N)"),
        ("sh_rest", np.zeros((5, 4, 3)), "K=4"),
        ("sh_rest", np.zeros((5, 3)), "sh_rest must have shape (N,K,3)"),
        ("sh_dc", np.zeros((4, 3)), "sh_dc has 4 rows but xyz has 5"),
        ("log_scales", np.array([["a", "b", "c"]] * 5), "must be numeric"),
        ("xyz", np.zeros((5, 3), dtype=bool), "must be numeric"),
        ("xyz", np.array([object()] * 15, dtype=object).reshape(5, 3), "must be numeric"),
        ("sh_dc", [[1, 2, 3], [1, 2]], "not a numeric array"),
    ],
)
def test_bad_arrays_are_refused_with_one_line(field, value, fragment):
    with pytest.raises(InputError) as info:
        make(**{field: value})
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("field", ["xyz", "sh_dc", "log_scales", "quats", "opacity_logits"])
def test_non_finite_values_are_refused(field, bad):
    g = make()
    arr = np.array(getattr(g, field))
    arr.reshape(len(arr), -1)[3, 0] = bad
    with pytest.raises(InputError, match=f"{field} has non-finite values in 1 Gaussians"):
        g.replace(**{field: arr})


def test_values_beyond_float32_are_refused():
    with pytest.raises(InputError, match="non-finite"), np.errstate(over="ignore"):
        make(xyz=np.full((5, 3), 1e300))


def test_arrays_become_float32_contiguous_and_read_only():
    g = make(xyz=np.asfortranarray(np.ones((5, 3), np.float64)), opacity_logits=np.arange(5))
    for name in ("xyz", "sh_dc", "sh_rest", "log_scales", "quats", "opacity_logits"):
        arr = getattr(g, name)
        assert arr.dtype == np.float32 and arr.flags.c_contiguous
        assert not arr.flags.writeable
        with pytest.raises(ValueError):
            arr[...] = 0
    with pytest.raises(AttributeError):
        g.xyz = np.zeros((5, 3))  # type: ignore[misc]


def test_callers_array_is_copied_not_frozen():
    mine = np.zeros((5, 3), np.float32)
    g = make(xyz=mine)
    assert mine.flags.writeable  # the caller's array is left alone ...
    mine[0, 0] = 42.0
    assert g.xyz[0, 0] == 0.0  # ... and changing it does not change the set


def test_read_only_arrays_are_shared_without_copies():
    g = make(n=100)
    h = g.replace(opacity_logits=np.zeros(100))
    assert np.shares_memory(h.xyz, g.xyz)
    assert not np.shares_memory(h.opacity_logits, g.opacity_logits)


def test_empty_and_degree():
    for degree, k in [(0, 0), (1, 3), (2, 8), (3, 15), (4, 24)]:
        e = Gaussians.empty(degree)
        assert len(e) == 0 and e.sh_degree == degree and e.sh_rest.shape == (0, k, 3)
    assert make(k=15).sh_degree == 3


# ---- selection and joining -----------------------------------------------------------


def test_subset_by_mask_index_slice_and_int():
    g = make(n=6)
    mask = np.array([True, False, True, False, False, True])
    np.testing.assert_array_equal(g.subset(mask).xyz, g.xyz[[0, 2, 5]])
    np.testing.assert_array_equal(g[[5, 0, 5]].quats, g.quats[[5, 0, 5]])  # order and repeats kept
    np.testing.assert_array_equal(g[1:3].opacity_logits, g.opacity_logits[1:3])
    one = g[4]
    assert len(one) == 1 and np.array_equal(one.xyz[0], g.xyz[4])
    assert len(g[np.array([], dtype=np.int64)]) == 0
    assert len(g[[]]) == 0


def test_subset_errors_are_input_errors():
    g = make(n=6)
    with pytest.raises(InputError, match="mask has shape"):
        g.subset(np.ones(5, bool))
    with pytest.raises(InputError, match="out of bounds"):
        g.subset([7])
    with pytest.raises(InputError, match="boolean mask or integer"):
        g.subset(np.array([0.5]))


def test_concatenate_keeps_order_and_checks_degree():
    a, b = make(n=3, seed=1), make(n=4, seed=2)
    c = Gaussians.concatenate([a, b])
    assert len(c) == 7
    np.testing.assert_array_equal(c.xyz, np.concatenate([a.xyz, b.xyz]))
    np.testing.assert_array_equal(c.opacity_logits[3:], b.opacity_logits)
    assert len(Gaussians.concatenate([])) == 0
    with pytest.raises(InputError, match="SH degrees"):
        Gaussians.concatenate([a, make(n=2, k=15)])


def test_bbox():
    g = make(xyz=np.array([[0, 0, 0], [1, -2, 3], [-1, 5, 0.5], [0, 0, 0], [0, 0, 0]], np.float32))
    lo, hi = g.bbox()
    np.testing.assert_array_equal(lo, [-1, -2, 0])
    np.testing.assert_array_equal(hi, [1, 5, 3])
    lo, hi = Gaussians.empty().bbox()
    assert lo.shape == hi.shape == (3,)


# ---- activated views -----------------------------------------------------------------


def test_activated_views():
    g = make(
        n=3,
        log_scales=np.log(np.array([[0.1, 0.2, 0.3]] * 3)),
        opacity_logits=np.array([0.0, 200.0, -200.0]),
        quats=np.array([[2, 0, 0, 0], [0, 3, 4, 0], [0, 0, 0, 0]]),
        sh_dc=np.array([[0, 0, 0], [1, -1, 2], [-10, 0, 10]]),
    )
    np.testing.assert_allclose(g.scales, [[0.1, 0.2, 0.3]] * 3, rtol=1e-6)
    with np.errstate(over="raise"):  # the sigmoid must not overflow for large |x|
        np.testing.assert_allclose(g.opacities, [0.5, 1.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(g.rotations[:2], [[1, 0, 0, 0], [0, 0.6, 0.8, 0]], rtol=1e-6)
    assert np.isfinite(g.rotations).all()  # a zero quaternion stays finite (eps like F.normalize)
    np.testing.assert_allclose(g.colors, 0.5 + SH_C0 * g.sh_dc.astype(np.float64), rtol=1e-6)
    assert g.colors.dtype == np.float32 and g.colors.max() > 1  # not clamped
    assert g.scales.dtype == g.opacities.dtype == g.rotations.dtype == np.float32


# ---- filters (the reference's semantics; conformance data in test_conformance_gslrm_io) --


def _points(xyz, opacity=5.0, scale=0.01):
    n = len(xyz)
    return make(
        n=n,
        xyz=np.asarray(xyz, np.float32),
        opacity_logits=np.full(n, opacity),
        log_scales=np.full((n, 3), np.log(scale)),
    )


def test_filter_stages_in_order_and_none_skips():
    g = Gaussians.concatenate(
        [
            _points([[0, 0, 0]]),  # kept
            _points([[0, 0, 0]], opacity=-5),  # transparent
            _points([[0, 0, -0.5]], scale=0.5),  # big, below z=0
            _points([[0, 0, 0.5]], scale=0.5),  # big, above z=0: kept
            _points([[0.7, -0.7, -0.7]]),  # floater corner
            _points([[0.7, 0.5, -0.7]]),  # not a floater (|y| small), inside the crop
            _points([[0.95, 0, 0]]),  # outside the crop box
            _points([[0.91, -0.91, 1.0]]),  # on the crop boundary: kept (inclusive)
        ]
    )
    masks = g.filter_masks()
    assert masks["opacity"].tolist() == [1, 0, 1, 1, 1, 1, 1, 1]
    assert masks["scaling"].tolist() == [1, 0, 0, 1, 1, 1, 1, 1]
    assert masks["floater"].tolist() == [1, 0, 0, 1, 0, 1, 1, 1]
    assert masks["crop"].tolist() == [1, 0, 0, 1, 0, 1, 0, 1]
    kept = g.filter()
    np.testing.assert_array_equal(kept.xyz, g.xyz[masks["crop"]])
    everything = g.filter(opacity_thres=None, scaling_thres=None, floater_thres=None, crop_bbx=None)
    assert len(everything) == len(g)
    assert len(g.filter(scaling_thres=None, floater_thres=None, crop_bbx=None)) == 7
    assert g.filter(opacity_thres=None).subset([0]).xyz.tolist() == [[0, 0, 0]]
    assert len(g) == 8  # filter returns a new object


def test_filter_rejects_a_bad_crop_box():
    with pytest.raises(InputError, match="6 numbers"):
        make().filter(crop_bbx=(0, 1, 0, 1))
