"""The viewer's numpy side: covariances, back-to-front order, level-of-detail subset (the filter
is the scene model's: tests/gui/test_scene.py)."""

from __future__ import annotations

import itertools

import numpy as np
from export_sets import normal_set

from viewer.sorting import DepthSorter, SortJob, back_to_front, lod_subset
from viewer.splat_data import SplatArrays, covariances
from viewer.synthetic import synthetic_head


def test_covariances_are_r_s2_rt() -> None:
    g = normal_set(50)
    cov = covariances(g, chunk=16)
    for i in (0, 17, 49):
        w, x, y, z = g.rotations[i]
        r = np.array(
            [
                [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
            ]
        )
        full = r @ np.diag(g.scales[i] ** 2) @ r.T
        np.testing.assert_allclose(cov[i], full[[0, 0, 0, 1, 1, 2], [0, 1, 2, 1, 2, 2]], rtol=1e-4, atol=1e-9)


def test_back_to_front_orders_by_view_depth() -> None:
    pos = np.array([[0, 0, 0], [0, 5, 0], [0, -5, 0], [0, 1, 0]], np.float32)
    # a camera on -Y looking toward +Y: depth w = y + 2.7
    row = np.array([0.0, 1.0, 0.0, 2.7])
    order = back_to_front(pos, np.arange(4), row)
    assert order.tolist() == [1, 3, 0, 2]
    assert back_to_front(pos, np.array([0, 2]), row).tolist() == [0, 2]


def test_lod_subset_keeps_order_and_size() -> None:
    arrays = SplatArrays.from_gaussians(synthetic_head(20_000))
    order = back_to_front(arrays.pos, np.arange(20_000), np.array([0.0, 1.0, 0.0, 2.7]))
    sub, fraction = lod_subset(order, arrays.lod_rank, 2000)
    assert abs(len(sub) - 2000) < 200 and fraction == 0.1
    position = {int(v): i for i, v in enumerate(order)}
    assert all(position[int(a)] < position[int(b)] for a, b in itertools.pairwise(sub))
    assert set(lod_subset(np.arange(20_000), arrays.lod_rank, 2000)[0]) == set(sub)  # stable choice
    full, one = lod_subset(order, arrays.lod_rank, 50_000)
    assert full is order and one == 1.0


def test_sorter_thread_returns_the_newest_job_of_each_kind_and_stops() -> None:
    arrays = SplatArrays.from_gaussians(synthetic_head(5000))
    sorter = DepthSorter()
    try:
        for gen, row in enumerate(([0.0, 1.0, 0.0, 2.7], [0.0, -1.0, 0.0, 2.7])):
            sorter.submit(SortJob(arrays, gen, np.array(row), np.arange(5000)))
            assert sorter.wait_idle(10)
        sorter.submit(SortJob(arrays, 2, np.array([0.0, -1.0, 0.0, 2.7]), np.arange(5000), lod_budget=500))
        assert sorter.wait_idle(10)
        results = {r.kind: r for r in sorter.take_results()}
        full, lod = results["full"], results["lod"]
        assert full.generation == 1 and full.count == 5000 and full.fraction == 1.0
        depth = full.attrs["a_pos"] @ np.array([0.0, -1.0, 0.0], np.float32)
        assert np.all(np.diff(depth) <= 1e-6)  # farthest first
        assert lod.generation == 2 and abs(lod.count - 500) < 100 and lod.fraction == 0.1
        assert sorter.take_results() == []
    finally:
        sorter.close()
    assert not sorter.alive
