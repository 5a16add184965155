"""Tools and Help: the FaceLift weights, the computer check, About."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

from engine.api import FaceLiftError
from engine.geometry import VIEW_NAMES
from facelift_desktop.dialogs import AboutDialog, WeightsDialog
from facelift_desktop.jobs import WEIGHTS_HINT
from facelift_desktop.model_dialog import ModelsDialog
from facelift_desktop.models import read_entry, view_presets

if TYPE_CHECKING:
    from facelift_desktop.doctor_dialog import DoctorDialog
    from facelift_desktop.main_window import MainWindow


class WeightsAndHelp:
    """Tools → FaceLift weights… and Models…, Help → Check this computer… and About."""

    def refresh_weights(self: MainWindow) -> None:
        """Find the FaceLift weights (cheap check); disable the engine with the reason if none."""
        from engine import weights

        saved = self.settings.weights_dir()
        try:
            found = weights.find_weights(saved or None)
            if found is not None and not weights.weights_present(found):
                reason = f"the weights in {found} are incomplete (Tools → FaceLift weights…)"
                found = None
            else:
                reason = f"{weights.missing_weights(saved or None)} ({WEIGHTS_HINT})"
        except FaceLiftError as exc:
            found, reason = None, str(exc)
        self.released_weights = found
        self.weights_dir, self.model = None, None
        choice = self.settings.model_choice()
        entry = read_entry(choice) if choice else read_entry(found, released=True) if found else None
        if entry is not None and entry.description is None:
            reason = f"{entry.error} (Tools → Models…)"
        elif entry is not None:
            self.weights_dir, self.model = entry.folder, entry.description
        self.model_problem = "" if self.weights_dir is not None else reason
        self.parameters_panel.set_facelift_available(self.weights_dir is not None, reason)
        self._show_model()

    def _show_model(self: MainWindow) -> None:
        """The picked model's name, default framing and cameras in the window."""
        model = self.model
        self.model_label.setText(f"Model: {model.name if model is not None else '—'}")
        self.parameters_panel.set_model_framing(model.framing if model is not None else None)
        self.viewport.set_presets(view_presets(model))
        self.views_strip.set_names(model.view_names if model is not None else VIEW_NAMES)

    def open_models_dialog(self: MainWindow) -> ModelsDialog:
        """Tools → Models…: list model folders and pick the one runs use."""
        dialog = ModelsDialog(self.settings, self.released_weights, self.refresh_weights, self)
        self.last_models_dialog = dialog
        if self.modal_dialogs:
            dialog.exec()
        else:
            dialog.show()
        return dialog

    def open_weights_dialog(self: MainWindow) -> WeightsDialog:
        def changed(path: Path | None) -> None:
            if path is not None:
                self.settings.set_weights_dir(path)
            self.refresh_weights()

        dialog = WeightsDialog(self.weights_dir, changed, self)
        dialog.exec()
        self.refresh_weights()
        return dialog

    def check_this_computer(self: MainWindow) -> DoctorDialog:
        """The `facelift doctor` report in a window (non-modal: the checks take a while)."""
        from facelift_desktop.doctor_dialog import DoctorDialog

        dialog = DoctorDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        dialog.start()
        return dialog

    def show_about(self: MainWindow) -> AboutDialog:
        dialog = AboutDialog(self)
        dialog.exec()
        return dialog
