"""Tools → Models… (issue 19): several model folders listed with their description, one picked per
run, the list, the pick and the framing kept between sessions; the viewer's camera buttons and
the framing choice follow the picked model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes import FakeFactory
from model_folders import n_view_model

from engine.settings import EngineConfig

RIG = ["front", "left_side", "back", "right_side"]


class RecordingFactory(FakeFactory):
    """A FakeFactory that keeps the configurations the window asked engines for."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.configs: list[EngineConfig] = []

    def __call__(self, config: EngineConfig):  # type: ignore[no-untyped-def]
        self.configs.append(config)
        return super().__call__(config)


@pytest.fixture
def released(conformance_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny conformance weights stand in for the released FaceLift folder."""
    monkeypatch.setenv("FACELIFT_WEIGHTS", str(conformance_dir))
    return conformance_dir


@pytest.fixture
def rig_model(tmp_path: Path, conformance_dir: Path) -> Path:
    return n_view_model(tmp_path / "rig-model", conformance_dir, RIG, elevation=20.0, radius=2.2)


def _rows(dialog) -> list[list[str]]:  # type: ignore[no-untyped-def]
    tree = dialog.tree
    return [
        [tree.topLevelItem(i).text(c) for c in range(tree.columnCount())]
        for i in range(tree.topLevelItemCount())
    ]


def test_pick_a_fine_tuned_model_and_find_it_picked_next_session(  # type: ignore[no-untyped-def]
    qtbot, make_window, released, rig_model, photo
) -> None:
    factory = RecordingFactory()
    window = make_window(factory)
    assert window.weights_dir == released
    assert window.model_label.text() == "Model: FaceLift (released)"
    assert list(window.viewport.view_buttons) == [
        "front", "front_right", "right", "back", "left", "front_left", "top"
    ]  # fmt: skip

    dialog = window.open_models_dialog()
    assert [r[0] for r in _rows(dialog)] == ["✔ FaceLift (released)"]
    assert dialog.add_folder(rig_model)
    name, views, cameras, framing, subject, folder = _rows(dialog)[1]
    assert (name, views, folder) == ("Rig model", "4: front, left_side, back, right_side", str(rig_model))
    assert cameras == "opencv_cameras.json: radius 2.20, elevation 20..20°"
    assert (framing, subject) == ("object (target ratio 0.6)", "any subject (its mask)")
    assert window.weights_dir == released  # listed, not yet picked

    dialog.tree.setCurrentItem(dialog.tree.topLevelItem(1))
    assert dialog.use_selected()
    assert window.weights_dir == rig_model
    assert window.model_label.text() == "Model: Rig model"
    assert list(window.viewport.view_buttons) == [*RIG, "top"]
    from PySide6.QtWidgets import QToolButton

    shown = {b.text() for b in window.viewport.findChildren(QToolButton) if not b.isHidden()}
    assert "Front right" not in shown  # the released model's buttons are gone, not left drawn
    assert window.parameters_panel.framing.itemText(0) == "The model folder's own: object"
    assert window.parameters_panel.parameters().options.framing is None  # the model decides

    window.open_photo(photo)
    window.parameters_panel.engine.setCurrentIndex(window.parameters_panel.engine.findData("facelift"))
    with qtbot.waitSignal(window.run_finished, timeout=10_000):
        assert window.reconstruct()
    assert factory.configs[-1].weights_dir == rig_model
    dialog.close()
    window.shutdown()

    again = make_window()
    assert again.weights_dir == rig_model
    assert again.model_label.text() == "Model: Rig model"
    assert list(again.viewport.view_buttons) == [*RIG, "top"]
    rows = _rows(again.open_models_dialog())
    assert [r[0] for r in rows] == ["FaceLift (released)", "✔ Rig model"]


def test_a_broken_folder_is_refused_with_one_line_naming_the_file(make_window, released, rig_model) -> None:  # type: ignore[no-untyped-def]
    (rig_model / "opencv_cameras.json").write_text("{not json")
    window = make_window()
    dialog = window.open_models_dialog()
    assert not dialog.add_folder(rig_model)
    text = dialog.status.text()
    assert text.startswith(f"Not added: {rig_model / 'opencv_cameras.json'}: ")
    assert "\n" not in text
    assert len(_rows(dialog)) == 1
    assert window.weights_dir == released


def test_a_picked_model_broken_between_sessions_disables_facelift_saying_why(  # type: ignore[no-untyped-def]
    make_window, released, rig_model
) -> None:
    window = make_window()
    dialog = window.open_models_dialog()
    dialog.add_folder(rig_model)
    assert dialog.use_selected()
    window.shutdown()
    (rig_model / "facelift-model.json").write_text(json.dumps({"framing": "sideways"}))

    again = make_window()
    assert again.weights_dir is None
    assert not again.parameters_panel.facelift_available
    note = again.parameters_panel.engine_note.text()
    assert f"{rig_model / 'facelift-model.json'}: unknown framing mode 'sideways'" in note
    assert "(released)" in _rows(again.open_models_dialog())[0][0]


def test_the_framing_choice_is_kept_between_sessions(make_window, released) -> None:  # type: ignore[no-untyped-def]
    window = make_window()
    panel = window.parameters_panel
    panel.framing.setCurrentIndex(panel.framing.findData("none"))
    window.shutdown()
    again = make_window()
    assert again.parameters_panel.framing.currentData() == "none"
    assert again.parameters_panel.parameters().options.framing == "none"
    again.parameters_panel.framing.setCurrentIndex(0)  # back to the model's own
    again.shutdown()
    assert make_window().parameters_panel.parameters().options.framing is None
