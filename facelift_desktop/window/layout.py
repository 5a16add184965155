"""The window's layout: panels, splitters, status bar, menus, and which actions are enabled."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QGroupBox,
    QLabel,
    QMenu,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from facelift_desktop.panels.animate_panel import AnimatePanel
from facelift_desktop.panels.input_panel import InputPanel
from facelift_desktop.panels.log_panel import LogPanel
from facelift_desktop.panels.parameters_panel import ParametersPanel
from facelift_desktop.panels.progress_panel import ProgressPanel
from facelift_desktop.panels.viewport_panel import ViewportPanel
from facelift_desktop.panels.views_strip import ViewsStrip
from facelift_desktop.window.status_field import StatusField

if TYPE_CHECKING:
    from facelift_desktop.main_window import MainWindow

EXPORT_MENU: tuple[tuple[str, str], ...] = (
    ("ply", "Gaussians as &PLY…"),
    ("compressed.ply", "Gaussians as &compressed PLY…"),
    ("spz", "Gaussians as SP&Z…"),
    ("splat", "Gaussians as .&splat…"),
    ("glb", "Mesh as &GLB…"),
    ("obj", "Mesh as &OBJ…"),
    ("turntable", "&Turntable video (MP4/GIF)…"),
    ("png", "Current view as P&NG…"),
    ("views", "The generated &views…"),
)
"""File → Export as's entries (format kind, text); each opens the Export dialog on its kind."""


def _group(title: str, widget: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(8, 8, 8, 8)
    layout.addWidget(widget)
    return box


WELCOME = "Drop a portrait photo anywhere to begin."
"""The status bar's first line (the start-up GPU check adds its verdict to it)."""


class WindowLayout:
    """Builds the panels, the status bar and the menus of a MainWindow."""

    def _build_layout(self: MainWindow, use_gl: bool) -> None:
        self.input_panel = InputPanel()
        self.parameters_panel = ParametersPanel()
        self.progress_panel = ProgressPanel()
        self.views_strip = ViewsStrip()
        self.log_panel = LogPanel()
        self.animate_panel = AnimatePanel()
        background = str(self.settings.value("viewer/background", "dark"))
        self.viewport = ViewportPanel(self.scene, use_gl=use_gl, background=background)

        sidebar = QWidget()
        side = QVBoxLayout(sidebar)
        side.setContentsMargins(6, 6, 6, 6)
        side.addWidget(_group("Input", self.input_panel))
        side.addWidget(_group("Parameters", self.parameters_panel))
        side.addWidget(_group("Run", self.progress_panel))
        side.addWidget(_group("Animate", self.animate_panel))
        side.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(sidebar)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(360)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self.bottom_tabs = QTabWidget()
        self.bottom_tabs.addTab(self.views_strip, "Generated views")
        self.bottom_tabs.addTab(self.log_panel, "Log")
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.viewport)
        right.addWidget(self.bottom_tabs)
        right.setStretchFactor(0, 5)
        right.setStretchFactor(1, 1)
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(scroll)
        main.addWidget(right)
        main.setStretchFactor(0, 0)
        main.setStretchFactor(1, 1)
        main.setSizes([380, 1100])
        self.setCentralWidget(main)

        self.model_label = QLabel("Model: —")
        self.device_label = QLabel("Device: —")
        self.count_label = QLabel("Gaussians: —")
        self.fps_label = QLabel("— fps")
        # elided to the room it has, whole in its tooltip: a long message (an error naming a
        # long path) neither widens the window nor pushes the labels on the right off it
        self.status_message = StatusField(WELCOME)
        self.statusBar().addWidget(self.status_message, 1)
        for w in (self.model_label, self.device_label, self.count_label, self.fps_label):
            self.statusBar().addPermanentWidget(w)
        self.viewport.stats_changed.connect(self._on_viewer_stats)
        self.scene.filter_changed.connect(lambda _scene: self._show_count())
        self._fps_timer = QTimer(self)
        self._fps_timer.setInterval(1000)
        self._fps_timer.timeout.connect(self._refresh_fps)
        self._fps_timer.start()

    # ---- menus and shortcuts ---------------------------------------------------------

    def _action(
        self: MainWindow, menu: QMenu, text: str, slot: object, shortcut: str | QKeySequence | None = None
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            # window-wide, so typing in a dialog's text field never triggers F, B or Esc here
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)  # type: ignore[arg-type]
        menu.addAction(action)
        self.addAction(action)
        return action

    def _build_menus(self: MainWindow) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.open_action = self._action(
            file_menu, "&Open photo…", self.open_dialog, QKeySequence.StandardKey.Open
        )
        self.open_gaussians_action = self._action(
            file_menu, "Open &Gaussians…", self.open_gaussians_dialog, "Ctrl+Shift+O"
        )
        self.open_views_action = self._action(file_menu, "Open &views…", self.open_views_dialog)
        recent = file_menu.addMenu("Open &recent")
        recent.aboutToShow.connect(lambda: self._fill_recent(recent))
        file_menu.addSeparator()
        self.export_action = self._action(file_menu, "&Export…", lambda: self.export_dialog(), "Ctrl+E")
        self.export_menu = file_menu.addMenu("Export &as")
        self.export_actions: dict[str, QAction] = {
            kind: self._action(self.export_menu, text, lambda _=False, k=kind: self.export_dialog(k))
            for kind, text in EXPORT_MENU
        }
        self.export_ply_action = self.export_actions["ply"]
        self.export_splat_action = self.export_actions["splat"]
        self.export_video_action = self.export_actions["turntable"]
        self.export_png_action = self.export_actions["png"]
        self.export_views_action = self.export_actions["views"]
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        run_menu = bar.addMenu("&Reconstruct")
        self.reconstruct_action = self._action(run_menu, "&Reconstruct", self.reconstruct, "Ctrl+R")
        self.cancel_action = self._action(run_menu, "&Cancel", self.cancel, "Esc")

        view_menu = bar.addMenu("&View")
        self._action(view_menu, "&Front (reset)", lambda: self.viewport.set_view("front"), "F")
        for name, key in (("left", "Ctrl+1"), ("right", "Ctrl+2"), ("back", "Ctrl+3"), ("top", "Ctrl+4")):
            self._action(view_menu, name.capitalize(), lambda _=False, n=name: self.viewport.set_view(n), key)
        view_menu.addSeparator()
        self._action(view_menu, "Toggle &background", self._toggle_background, "B")
        self._action(view_menu, "Reset &filters", self.viewport.reset_filters)

        tools = bar.addMenu("&Tools")
        self._action(tools, "FaceLift &weights…", self.open_weights_dialog)
        self.models_action = self._action(tools, "&Models…", self.open_models_dialog)
        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&Check this computer…", self.check_this_computer)
        self._action(help_menu, "&About FaceLift Desktop", self.show_about)

    def _fill_recent(self: MainWindow, menu: QMenu) -> None:
        menu.clear()
        files = self.settings.recent_files()
        if not files:
            menu.addAction("(none)").setEnabled(False)
        for f in files:
            menu.addAction(f).triggered.connect(lambda _=False, f=f: self.open_photo(f))

    def _toggle_background(self: MainWindow) -> None:
        name = self.viewport.toggle_background()
        if name:
            self.settings.set_value("viewer/background", name)

    def _update_actions(self: MainWindow) -> None:
        busy = self.job is not None
        idle_with_photo = not busy and self.photo is not None
        has_result = self.scene.result is not None
        self.reconstruct_action.setEnabled(idle_with_photo)
        self.open_views_action.setEnabled(not busy)
        self.progress_panel.reconstruct_button.setEnabled(idle_with_photo)
        self.cancel_action.setEnabled(busy)
        self.animate_panel.set_busy(busy)
        self.export_action.setEnabled(has_result and not busy)
        for kind, action in self.export_actions.items():
            action.setEnabled(has_result and not busy and (kind != "views" or self.scene.views is not None))

    # ---- status bar ------------------------------------------------------------------

    def _show_count(self: MainWindow, preview: bool = False) -> None:
        """``Gaussians: kept of total`` of what is shown (the viewer refines it with LOD counts)."""
        shown = self.scene.shown
        if shown is None:
            self.count_label.setText("Gaussians: —")
            return
        total = len(shown)
        kept = int(self.scene.visible_mask().sum())
        text = f"{kept:,}" if kept == total else f"{kept:,} of {total:,}"
        self.count_label.setText(f"Gaussians: {text}{' (preview)' if preview else ''}")

    def _on_viewer_stats(self: MainWindow, stats: object) -> None:
        drawn = getattr(stats, "drawn", 0)
        visible = getattr(stats, "visible", 0)
        total = getattr(stats, "total", 0)
        fps = getattr(stats, "fps", 0.0)
        if total:
            shown = f"{visible:,}" if visible == total else f"{visible:,} of {total:,}"
            lod = f" · drawing {drawn:,}" if drawn and drawn < visible else ""
            self.count_label.setText(f"Gaussians: {shown}{lod}")
        if fps > 0:
            self.fps_label.setText(f"{fps:.0f} fps")

    def _refresh_fps(self: MainWindow) -> None:
        viewer = self.viewport.viewer
        if viewer is None or viewer.seconds_since_last_frame > 1.0:
            self.fps_label.setText("idle")  # nothing is being redrawn: no rate to show
        else:
            self.fps_label.setText(f"{viewer.fps:.0f} fps")
