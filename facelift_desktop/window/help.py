"""Tools and Help: the FaceLift weights, the computer check, About."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

from engine.api import FaceLiftError
from facelift_desktop.dialogs import AboutDialog, WeightsDialog
from facelift_desktop.jobs import WEIGHTS_HINT

if TYPE_CHECKING:
    from facelift_desktop.doctor_dialog import DoctorDialog
    from facelift_desktop.main_window import MainWindow


class WeightsAndHelp:
    """Tools → FaceLift weights…, Help → Check this computer… and About."""

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
        self.weights_dir = found
        self.parameters_panel.set_facelift_available(found is not None, reason)

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
