"""Parameters panel: engine, seed, guidance, sampler, steps, auto-crop, framing, device, memory preset."""

from __future__ import annotations

import random
from collections.abc import Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from engine.settings import (
    DEVICE_LABELS,
    ENGINE_LABELS,
    FRAMING_LABELS,
    MEMORY_PRESETS,
    SAMPLER_LABELS,
    SAMPLER_STEPS,
    EngineConfig,
    FramingName,
    RunOptions,
    SamplerName,
)
from facelift_desktop.settings import GUIDANCE_RANGE, SEED_RANGE, STEPS_RANGE, Parameters

MODEL_FRAMING = ""
"""The framing combo's key for "the model folder's own framing" (RunOptions.framing None)."""
MODEL_FRAMING_LABEL = "The model folder's own"


def _fill(combo: QComboBox, labels: Mapping[str, str]) -> None:
    for key, label in labels.items():
        combo.addItem(label, key)
        combo.setItemData(combo.count() - 1, label, Qt.ItemDataRole.ToolTipRole)
    # sized by a short label, not the longest one: the sidebar keeps its width and the list
    # that opens shows every label whole
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(12)


def _select(combo: QComboBox, key: str) -> None:
    index = combo.findData(key)
    if index >= 0:
        combo.setCurrentIndex(index)


class ParametersPanel(QWidget):
    """Edits :class:`Parameters`; emits ``changed`` on every edit."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.engine = QComboBox()
        _fill(self.engine, ENGINE_LABELS)
        self.engine_note = QLabel("")
        self.engine_note.setObjectName("warning")
        self.engine_note.setWordWrap(True)
        self.engine_note.hide()
        self.seed = QSpinBox()
        self.seed.setRange(*SEED_RANGE)
        self.random_seed = QPushButton("Random")
        self.random_seed.setToolTip("Pick a random seed")
        self.random_seed.clicked.connect(lambda: self.seed.setValue(random.randint(0, 99_999)))
        self.guidance = QDoubleSpinBox()
        self.guidance.setRange(*GUIDANCE_RANGE)
        self.guidance.setSingleStep(0.1)
        self.guidance.setDecimals(1)
        self.sampler = QComboBox()
        _fill(self.sampler, SAMPLER_LABELS)
        self.sampler.setToolTip(
            "Reference: FaceLift's sampler, a seed gives FaceLift's own views. "
            "Fast: fewer steps, good views, but not the reference's."
        )
        self.steps = QSpinBox()
        self.steps.setRange(*STEPS_RANGE)
        self.auto_crop = QCheckBox("Detect the face and crop")
        self.framing = QComboBox()
        _fill(self.framing, {MODEL_FRAMING: MODEL_FRAMING_LABEL, **FRAMING_LABELS})
        self.framing.setToolTip(
            "face: FaceLift's face framing; object: any subject, its mask centred (no face needed); "
            "none: the whole photo. The model folder's own: its facelift-model.json, else face "
            "(or none with auto-crop off)."
        )
        self.device = QComboBox()
        _fill(self.device, DEVICE_LABELS)
        self.memory = QComboBox()
        _fill(self.memory, {name: p.label for name, p in MEMORY_PRESETS.items()})

        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.random_seed)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Engine", self.engine)
        form.addRow("", self.engine_note)
        form.addRow("Seed", seed_row)
        form.addRow("Guidance", self.guidance)
        form.addRow("Sampler", self.sampler)
        form.addRow("Steps", self.steps)
        form.addRow("Auto-crop", self.auto_crop)
        form.addRow("Framing", self.framing)
        form.addRow("Device", self.device)
        form.addRow("Memory", self.memory)
        self.set_parameters(Parameters())
        for w in (self.seed, self.steps):
            w.valueChanged.connect(self._on_change)
        self.guidance.valueChanged.connect(self._on_change)
        self.auto_crop.toggled.connect(self._on_change)
        self._sampler_shown: SamplerName = self.sampler.currentData()
        self.sampler.currentIndexChanged.connect(self._on_sampler_change)
        for c in (self.engine, self.device, self.memory, self.framing):
            c.currentIndexChanged.connect(self._on_change)

    def _on_sampler_change(self, *_args: object) -> None:
        """Steps left at the old sampler's own number follow the new sampler's (50 <-> 20)."""
        new: SamplerName = self.sampler.currentData()
        if self.steps.value() == SAMPLER_STEPS[self._sampler_shown]:
            self.steps.setValue(SAMPLER_STEPS[new])
        self._sampler_shown = new
        self._on_change()

    def _on_change(self, *_args: object) -> None:
        self._update_enabled()
        self.changed.emit()

    def _update_enabled(self) -> None:
        diffusion = self.engine.currentData() == "facelift"
        for w in (self.seed, self.random_seed, self.guidance, self.sampler, self.steps, self.memory):
            w.setEnabled(diffusion)

    def parameters(self) -> Parameters:
        return Parameters(
            EngineConfig(
                engine=self.engine.currentData(),
                device=self.device.currentData(),
                memory_preset=self.memory.currentData(),
            ),
            RunOptions(
                seed=int(self.seed.value()),
                guidance_scale=round(float(self.guidance.value()), 1),
                num_steps=int(self.steps.value()),
                auto_crop=bool(self.auto_crop.isChecked()),
                sampler=self.sampler.currentData(),
                framing=self.framing.currentData() or None,
            ),
        )

    def set_parameters(self, params: Parameters) -> None:
        config, options = params.config, params.options
        _select(self.engine, str(config.engine))
        self.seed.setValue(options.seed)
        self.guidance.setValue(options.guidance_scale)
        self._sampler_shown = options.sampler  # set before the combo so the steps stay as given
        _select(self.sampler, options.sampler)
        self.steps.setValue(options.num_steps)
        self.auto_crop.setChecked(options.auto_crop)
        _select(self.framing, options.framing or MODEL_FRAMING)
        _select(self.device, config.device)
        _select(self.memory, config.memory_preset)
        self._update_enabled()

    def set_model_framing(self, framing: FramingName | None) -> None:
        """Name the picked model's own framing in the combo's first item (None: no model)."""
        text = MODEL_FRAMING_LABEL if framing is None else f"{MODEL_FRAMING_LABEL}: {framing}"
        self.framing.setItemText(self.framing.findData(MODEL_FRAMING), text)

    def set_facelift_available(self, available: bool, reason: str = "") -> None:
        """Enable or disable the FaceLift engine item; a disabled item shows why."""
        model = self.engine.model()
        assert isinstance(model, QStandardItemModel)
        item = model.item(self.engine.findData("facelift"))
        item.setEnabled(available)
        item.setToolTip("" if available else reason)
        self.engine_note.setText("" if available else f"FaceLift unavailable: {reason}")
        self.engine_note.setVisible(not available)
        if not available and self.engine.currentData() == "facelift":
            _select(self.engine, "instant")

    @property
    def facelift_available(self) -> bool:
        model = self.engine.model()
        assert isinstance(model, QStandardItemModel)
        return bool(model.item(self.engine.findData("facelift")).isEnabled())
