"""Tools → Models…: the model folders a run can use, each described, and which one runs.

The list is the released FaceLift folder (found by the weights search, Tools → FaceLift weights…)
and every fine-tuned folder the user added; both the list and the pick persist in the settings
(facelift_desktop.settings: models/folders, models/current). A folder that does not describe
itself properly is shown with its one-line error and cannot be picked.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from facelift_desktop.models import ModelEntry, describe_columns, read_entry
from facelift_desktop.settings import AppSettings

COLUMNS = ("name", "views", "cameras", "framing", "subject", "folder")
IN_USE = "✔ "
"""Prefix of the name of the model runs use."""


class ModelsDialog(QDialog):
    """Lists the model folders with their description; Add, Remove, Use for runs.

    released: the folder the weights search found (None: no released weights on this computer).
    on_changed(): called after the pick or the list changed (the window re-reads its model).
    """

    def __init__(
        self,
        settings: AppSettings,
        released: Path | None,
        on_changed: Callable[[], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, windowTitle="Models")
        self.settings = settings
        self.released = released
        self.on_changed = on_changed
        self.entries: list[ModelEntry] = []
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels([c.capitalize() for c in COLUMNS])
        self.tree.setRootIsDecorated(False)
        self.tree.currentItemChanged.connect(lambda *_: self._show_selected())
        self.tree.itemDoubleClicked.connect(lambda *_: self.use_selected())
        self.detail = QLabel("")
        self.detail.setObjectName("modelDetail")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = QLabel("")
        self.status.setObjectName("modelStatus")
        self.status.setWordWrap(True)
        self.add_button = QPushButton("Add folder…")
        self.remove_button = QPushButton("Remove")
        self.use_button = QPushButton("Use for runs")
        close_button = QPushButton("Close")
        self.add_button.clicked.connect(self.choose_folder)
        self.remove_button.clicked.connect(self.remove_selected)
        self.use_button.clicked.connect(self.use_selected)
        close_button.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        for b in (self.add_button, self.remove_button, self.use_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "The model a run uses: FaceLift's released weights or a fine-tuned model folder "
                "(docs/CUSTOM_MODELS.md). Its cameras, views and framing come with it."
            )
        )
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.detail)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.resize(900, 380)
        self.refresh()

    # ---- the list --------------------------------------------------------------------

    def _chosen(self) -> Path | None:
        choice = self.settings.model_choice()
        return Path(choice) if choice else self.released

    def refresh(self) -> None:
        """Re-read every folder and rebuild the list (the model in use is selected)."""
        self.entries = []
        if self.released is not None:
            self.entries.append(read_entry(self.released, released=True))
        for folder in self.settings.model_folders():
            if self.released is None or Path(folder) != self.released:
                self.entries.append(read_entry(folder))
        chosen = self._chosen()
        self.tree.clear()
        for entry in self.entries:
            columns = describe_columns(entry)
            in_use = chosen is not None and entry.folder == chosen
            columns["name"] = (IN_USE if in_use else "") + columns["name"]
            item = QTreeWidgetItem(self.tree, [columns[c] for c in COLUMNS])
            if entry.error:
                item.setToolTip(0, entry.error)
            if in_use:
                self.tree.setCurrentItem(item)
        for i in range(len(COLUMNS)):
            self.tree.resizeColumnToContents(i)
        if self.released is None:
            self.status.setText("No released FaceLift weights found (Tools → FaceLift weights…).")
        self._show_selected()

    def selected(self) -> ModelEntry | None:
        index = self.tree.indexOfTopLevelItem(self.tree.currentItem()) if self.tree.currentItem() else -1
        return self.entries[index] if 0 <= index < len(self.entries) else None

    def _show_selected(self) -> None:
        entry = self.selected()
        self.remove_button.setEnabled(entry is not None and not entry.released)
        self.use_button.setEnabled(entry is not None and entry.usable)
        if entry is None:
            self.detail.setText("")
        elif entry.description is None:
            self.detail.setText(entry.error)
        else:
            c = describe_columns(entry)
            d = entry.description
            licence = f" Licence: {d.licence}." if d.licence else ""
            self.detail.setText(
                f"{d.name}: {c['views']} views; cameras {c['cameras']}; framing {c['framing']}, "
                f"for {c['subject']}.{licence}"
            )

    # ---- actions ---------------------------------------------------------------------

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "A FaceLift model folder")
        if folder:
            self.add_folder(Path(folder))

    def add_folder(self, folder: Path | str) -> bool:
        """List a model folder (kept between sessions). A broken folder is refused with its
        one-line error. True if it is listed now."""
        entry = read_entry(folder)
        if not entry.usable:
            self.status.setText(f"Not added: {entry.error}")
            return False
        folders = self.settings.model_folders()
        if str(entry.folder) not in folders and entry.folder != self.released:
            self.settings.set_model_folders([*folders, str(entry.folder)])
        self.status.setText(f"Added {entry.title} ({entry.folder}). Press Use for runs to pick it.")
        self.refresh()
        self._select(entry.folder)
        return True

    def _select(self, folder: Path) -> None:
        for i, entry in enumerate(self.entries):
            if entry.folder == folder:
                self.tree.setCurrentItem(self.tree.topLevelItem(i))

    def remove_selected(self) -> None:
        entry = self.selected()
        if entry is None or entry.released:
            return
        self.settings.set_model_folders([f for f in self.settings.model_folders() if Path(f) != entry.folder])
        if self.settings.model_choice() and Path(self.settings.model_choice()) == entry.folder:
            self.settings.set_model_choice(None)
        self.status.setText(f"Removed {entry.folder} from the list (nothing was deleted).")
        self.refresh()
        self.on_changed()

    def use_selected(self) -> bool:
        """Make the selected model the one runs use. False (and the reason shown) if broken."""
        entry = self.selected()
        if entry is None:
            return False
        if entry.description is None:
            self.status.setText(f"Cannot use it: {entry.error}")
            return False
        self.settings.set_model_choice(None if entry.released else entry.folder)
        self.status.setText(f"Runs use {entry.description.name} ({entry.folder}).")
        self.refresh()
        self.on_changed()
        return True
