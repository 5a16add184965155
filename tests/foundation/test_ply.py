"""engine.io.ply: FaceLift's PLY byte for byte, INRIA's layout, and a loader that refuses
hostile files quickly with one-line errors."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hostile_ply import (  # tests/hostile_ply.py, shared with tests/reliability
    CASE_IDS,
    GOOD_HEADER,
    HOSTILE_CASES,
    HUGE_COUNT,
    SPLAT_PROPS,
    HostileCase,
    good_body,
    good_ply,
    huge_count,
    write_case,
)
from ply_vertices import fill_splat_fields
from plyfile import PlyData, PlyElement

from engine.api import InputError, OutputError
from engine.gaussians import Gaussians
from engine.io import ply as ply_mod
from engine.io.ply import colour_bytes, load_ply, save_ply

REST_FOR_DEGREE = {0: 0, 1: 3, 2: 8, 3: 15, 4: 24}


def random_gaussians(n: int, degree: int, seed: int = 0) -> Gaussians:
    rng = np.random.default_rng(seed)
    k = REST_FOR_DEGREE[degree]
    return Gaussians(
        xyz=rng.normal(size=(n, 3)),
        sh_dc=rng.normal(size=(n, 3)) * 2,
        sh_rest=rng.normal(size=(n, k, 3)) * 0.3,
        log_scales=rng.normal(-4, 1, size=(n, 3)),
        quats=rng.normal(size=(n, 4)),
        opacity_logits=rng.normal(size=n) * 3,
    )


def assert_same(a: Gaussians, b: Gaussians) -> None:
    assert len(a) == len(b) and a.sh_degree == b.sh_degree
    for name in ("xyz", "sh_dc", "sh_rest", "log_scales", "quats", "opacity_logits"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def header_of(path: Path) -> str:
    data = path.read_bytes()
    return data[: data.index(b"end_header\n") + len(b"end_header\n")].decode()


# ---- writing -------------------------------------------------------------------------


def test_facelift_layout_header_and_colour_bytes(tmp_path):
    g = random_gaussians(7, 0)
    out = tmp_path / "g.ply"
    save_ply(g, out)
    names = [
        *["x", "y", "z", "red", "green", "blue", "f_dc_0", "f_dc_1", "f_dc_2"],
        *[f"f_rest_{i}" for i in range(45)],
        *["opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"],
    ]
    expected_header = (
        "ply\nformat binary_little_endian 1.0\nelement vertex 7\n"
        + "".join(f"property {'uchar' if n in ('red', 'green', 'blue') else 'float'} {n}\n" for n in names)
        + "end_header\n"
    )
    assert header_of(out) == expected_header
    assert len(names) == 62
    v = PlyData.read(str(out))["vertex"].data
    assert out.stat().st_size == len(expected_header) + 7 * (59 * 4 + 3)
    rgb = np.stack([v["red"], v["green"], v["blue"]], axis=1)
    want = np.floor(np.clip((0.5 + 0.28209479177387814 * g.sh_dc.astype(np.float64)) * 255, 0, 255))
    assert np.abs(rgb.astype(np.int64) - want).max() <= 1  # truncation, not rounding
    np.testing.assert_array_equal(rgb, colour_bytes(g.sh_dc))
    np.testing.assert_array_equal(np.stack([v[f"f_rest_{i}"] for i in range(45)], 1), 0)
    np.testing.assert_array_equal(v["opacity"], g.opacity_logits)
    np.testing.assert_array_equal(np.stack([v[f"rot_{i}"] for i in range(4)], 1), g.quats)


def test_colour_bytes_truncate_in_float32():
    c0 = np.float32(0.28209479177387814)
    # sh_dc chosen so that (0.5 + C0*x)*255 lands just below an integer: truncation differs from rounding
    x = np.array([[(10.9 / 255 - 0.5) / c0, -10.0, 10.0]], np.float32)
    np.testing.assert_array_equal(colour_bytes(x), [[10, 0, 255]])


def test_inria_layout_is_channel_major(tmp_path):
    g = random_gaussians(5, 3)
    out = tmp_path / "inria.ply"
    save_ply(g, out, flavour="inria")
    v = PlyData.read(str(out))["vertex"]
    names = [p.name for p in v.properties]
    assert names[:9] == ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"]
    assert names[9:54] == [f"f_rest_{i}" for i in range(45)]
    assert names[54:] == ["opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
    assert all(p.val_dtype in ("f4", "float32", "<f4") or p.val_dtype.endswith("f4") for p in v.properties)
    d = v.data
    np.testing.assert_array_equal(d["nx"], 0)
    # f_rest_0..14 = red coefficients 1..15, f_rest_15..29 = green, f_rest_30..44 = blue
    for channel in range(3):
        for coeff in range(15):
            np.testing.assert_array_equal(d[f"f_rest_{channel * 15 + coeff}"], g.sh_rest[:, coeff, channel])


def test_inria_degree0_has_no_f_rest(tmp_path):
    out = tmp_path / "d0.ply"
    save_ply(random_gaussians(3, 0), out, flavour="inria")
    assert "f_rest" not in header_of(out)
    assert header_of(out).count("property float") == 17


def test_facelift_flavour_pads_lower_degrees_into_the_degree3_slots(tmp_path):
    g = random_gaussians(6, 1)
    out = tmp_path / "d1.ply"
    save_ply(g, out)
    back = load_ply(out)
    assert back.sh_degree == 3
    np.testing.assert_array_equal(back.sh_rest[:, :3], g.sh_rest)
    np.testing.assert_array_equal(back.sh_rest[:, 3:], 0)


def test_degree4_keeps_all_coefficients(tmp_path):
    g = random_gaussians(4, 4)
    for flavour in ("facelift", "inria"):
        out = tmp_path / f"{flavour}.ply"
        save_ply(g, out, flavour=flavour)
        assert header_of(out).count("f_rest_") == 72
        assert_same(load_ply(out), g)


def test_unknown_flavour_is_refused(tmp_path):
    with pytest.raises(ValueError, match="flavour"):
        save_ply(random_gaussians(2, 0), tmp_path / "x.ply", flavour="splat")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_empty_set_writes_and_reads(tmp_path):
    out = tmp_path / "empty.ply"
    save_ply(Gaussians.empty(), out)
    assert "element vertex 0\n" in header_of(out)
    assert len(load_ply(out)) == 0


def test_large_sets_are_written_in_chunks_identically(tmp_path, monkeypatch):
    g = random_gaussians(1000, 3)
    save_ply(g, tmp_path / "one.ply")
    monkeypatch.setattr(ply_mod, "_CHUNK_BYTES", 97 * 1024)
    save_ply(g, tmp_path / "many.ply")
    assert (tmp_path / "one.ply").read_bytes() == (tmp_path / "many.ply").read_bytes()


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    g = random_gaussians(1000, 0)
    out = tmp_path / "g.ply"
    save_ply(g, out)
    before = out.read_bytes()
    monkeypatch.setattr(ply_mod, "_CHUNK_BYTES", 100)
    calls = {"n": 0}
    real_rows = ply_mod._fill_rows

    def failing_rows(*args):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_rows(*args)

    monkeypatch.setattr(ply_mod, "_fill_rows", failing_rows)
    with pytest.raises(KeyboardInterrupt):
        save_ply(random_gaussians(1000, 0, seed=5), out)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.ply"]


def test_unwritable_destination_is_an_output_error(tmp_path):
    with pytest.raises(OutputError) as info:
        save_ply(random_gaussians(2, 0), tmp_path / "missing" / "g.ply")
    assert "missing" in str(info.value) and "\n" not in str(info.value)


# ---- round trips ---------------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["facelift", "inria"])
@pytest.mark.parametrize("degree", [0, 3])
def test_round_trip_is_identity(tmp_path, flavour, degree):
    g = random_gaussians(500, degree, seed=degree)
    first = tmp_path / "first.ply"
    save_ply(g, first, flavour=flavour)
    loaded = load_ply(first)
    assert_same(loaded, g)  # save -> load gives back the set
    second = tmp_path / "second.ply"
    save_ply(loaded, second, flavour=flavour)
    assert second.read_bytes() == first.read_bytes()
    assert_same(load_ply(second), loaded)  # load -> save -> load is the identity


# ---- reading other writers' files ----------------------------------------------------


def _plyfile_write(path: Path, g: Gaussians, *, byte_order="<", text=False, shuffle=False, extra=True):
    n, k = len(g), g.sh_rest.shape[1]
    cols = {f"{a}": g.xyz[:, i] for i, a in enumerate("xyz")}
    cols.update({f"f_dc_{i}": g.sh_dc[:, i] for i in range(3)})
    flat = g.sh_rest.transpose(0, 2, 1).reshape(n, 3 * k)
    cols.update({f"f_rest_{i}": flat[:, i] for i in range(3 * k)})
    cols["opacity"] = g.opacity_logits
    cols.update({f"scale_{i}": g.log_scales[:, i] for i in range(3)})
    cols.update({f"rot_{i}": g.quats[:, i] for i in range(4)})
    dtypes = {name: "f4" for name in cols}
    if extra:
        cols["confidence"] = np.arange(n, dtype=np.float64)
        dtypes["confidence"] = "f8"
        cols["label"] = np.arange(n, dtype=np.uint8)
        dtypes["label"] = "u1"
    names = list(cols)
    if shuffle:
        names = [names[i] for i in np.random.default_rng(1).permutation(len(names))]
    arr = np.empty(n, dtype=[(name, dtypes[name]) for name in names])
    for name in names:
        arr[name] = cols[name]
    elements = [PlyElement.describe(arr, "vertex")]
    if extra:
        faces = np.empty(2, dtype=[("vertex_indices", "i4", (3,))])
        faces["vertex_indices"] = [[0, 1, 2], [1, 2, 3]]
        elements.append(PlyElement.describe(faces, "face"))
    PlyData(elements, text=text, byte_order=byte_order).write(str(path))


@pytest.mark.parametrize(
    "options",
    [
        {"byte_order": "<"},
        {"byte_order": ">"},
        {"text": True},
        {"byte_order": "<", "shuffle": True},
        {"byte_order": ">", "shuffle": True},
        {"text": True, "shuffle": True},
    ],
    ids=["le", "big-endian", "ascii", "le-shuffled", "be-shuffled", "ascii-shuffled"],
)
def test_loads_standard_3dgs_plys(tmp_path, options):
    g = random_gaussians(20, 3, seed=3)
    path = tmp_path / "other.ply"
    _plyfile_write(path, g, **options)
    back = load_ply(path)
    if options.get("text"):
        for name in ("xyz", "sh_dc", "sh_rest", "log_scales", "quats", "opacity_logits"):
            np.testing.assert_allclose(getattr(back, name), getattr(g, name), rtol=1e-6, err_msg=name)
    else:
        assert_same(back, g)


def test_our_files_read_back_with_plyfile(tmp_path):
    g = random_gaussians(9, 3)
    path = tmp_path / "g.ply"
    save_ply(g, path, flavour="inria")
    v = PlyData.read(str(path))["vertex"].data
    np.testing.assert_array_equal(np.stack([v["scale_0"], v["scale_1"], v["scale_2"]], 1), g.log_scales)


def test_element_before_vertex_is_skipped(tmp_path):
    g = random_gaussians(4, 0)
    meta = np.array([(1.5, 7)], dtype=[("a", "f8"), ("b", "i2")])
    v = np.empty(4, dtype=[(n, "f4") for n in SPLAT_PROPS])
    fill_splat_fields(v, g)
    for text in (False, True):
        path = tmp_path / f"meta{text}.ply"
        PlyData([PlyElement.describe(meta, "meta"), PlyElement.describe(v, "vertex")], text=text).write(
            str(path)
        )
        back = load_ply(path)
        np.testing.assert_allclose(back.xyz, g.xyz, rtol=1e-6)
        np.testing.assert_allclose(back.quats, g.quats, rtol=1e-6)


def test_conformance_ply_loads(conformance_dir):
    g = load_ply(conformance_dir / "gslrm" / "expected_filtered.ply")
    assert len(g) == 5083 and g.sh_degree == 0  # 45 zero f_rest -> degree 0


# ---- hostile and broken files (the cases live in tests/hostile_ply.py) ---------------


def _expect_input_error(path: Path, *fragments: str) -> str:
    with pytest.raises(InputError) as info:
        load_ply(path)
    msg = str(info.value)
    assert str(path) in msg, msg
    assert "\n" not in msg
    for fragment in fragments:
        assert fragment in msg, msg
    return msg


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_sanity_of_the_hostile_baseline(tmp_path):
    assert len(load_ply(_write(tmp_path, "ok.ply", good_ply(3)))) == 3


def test_zero_vertices_is_an_empty_set(tmp_path):
    g = load_ply(_write(tmp_path, "zero.ply", GOOD_HEADER.format(n=0).encode()))
    assert len(g) == 0 and g.sh_degree == 0


@pytest.mark.parametrize("case", HOSTILE_CASES, ids=CASE_IDS)
def test_hostile_file_is_a_one_line_input_error(tmp_path, case: HostileCase):
    with np.errstate(over="ignore"):
        _expect_input_error(write_case(tmp_path, case), *case.fragments)


@pytest.mark.parametrize("fmt", ["binary_little_endian", "binary_big_endian", "ascii"])
def test_huge_vertex_count_fails_fast_without_allocating(tmp_path, fmt):
    path = _write(tmp_path, "huge.ply", huge_count(fmt))
    tracemalloc.start()  # numpy reports its allocations here
    try:
        _expect_input_error(path, f"{HUGE_COUNT} vertices")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024


def test_missing_file_and_folder(tmp_path):
    _expect_input_error(tmp_path / "nope.ply", "not found")
    folder = tmp_path / "dir.ply"
    folder.mkdir()
    _expect_input_error(folder, "folder")


def test_crlf_header_is_accepted(tmp_path):
    head = GOOD_HEADER.format(n=2).replace("\n", "\r\n")
    assert len(load_ply(_write(tmp_path, "crlf.ply", head.encode() + good_body(2)))) == 2


def test_loader_does_not_keep_the_file_open(tmp_path):
    path = _write(tmp_path, "ok.ply", good_ply(3))
    load_ply(path)
    os.replace(path, tmp_path / "moved.ply")  # works on every OS only when closed
    assert len(load_ply(tmp_path / "moved.ply")) == 3


def test_chunked_read_with_sh_appearing_late(tmp_path, monkeypatch):
    g = random_gaussians(2000, 3, seed=9)
    rest = np.array(g.sh_rest)
    rest[:1500] = 0  # only the last chunks carry higher SH bands
    g = g.replace(sh_rest=rest)
    path = tmp_path / "late.ply"
    monkeypatch.setattr(ply_mod, "_CHUNK_BYTES", 64 * 1024)
    for flavour in ("facelift", "inria"):
        save_ply(g, path, flavour=flavour)
        assert_same(load_ply(path), g)
