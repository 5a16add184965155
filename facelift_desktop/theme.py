"""A dark theme in the style of desktop 3D tools (Fusion style, dark palette, accent blue)."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

ACCENT = "#3d8bfd"

STYLESHEET = f"""
QMainWindow, QDialog {{ background: #1e2024; }}
QWidget {{ color: #d8dade; font-size: 10pt; }}
QGroupBox {{
    border: 1px solid #34373d; border-radius: 6px; margin-top: 14px; padding: 10px 8px 8px 8px;
    background: #23262b; font-weight: 600;
}}
QGroupBox::title {{ subcontrol-origin: margin; left: 10px; padding: 0 4px; color: #9aa0a8; }}
QLabel#dim {{ color: #8b919a; }}
QLabel#warning {{ color: #f0b04a; }}
QLabel#stage {{ font-weight: 600; color: #e8eaed; }}
QLabel#failureReason {{ font-size: 11pt; font-weight: 600; }}
QLabel#imageSlot {{
    background: #17191c; border: 1px dashed #454a52; border-radius: 6px; color: #737a84;
}}
QLabel#viewportPlaceholder {{ background: #1c1f24; color: #737a84; }}
QPushButton, QToolButton {{
    background: #2e3238; border: 1px solid #40454d; border-radius: 4px; padding: 5px 10px;
}}
QPushButton:hover, QToolButton:hover {{ background: #383d44; }}
QPushButton:disabled, QToolButton:disabled {{ color: #666b73; background: #26292e; }}
QPushButton#primary {{ background: {ACCENT}; border: 1px solid {ACCENT}; color: white; font-weight: 600; }}
QPushButton#primary:hover {{ background: #5a9cff; }}
QPushButton#primary:disabled {{ background: #2b3f5c; color: #8fa3c0; border-color: #2b3f5c; }}
QComboBox, QSpinBox, QDoubleSpinBox, QPlainTextEdit, QTreeWidget {{
    background: #17191c; border: 1px solid #3a3e45; border-radius: 4px; padding: 3px 5px;
    selection-background-color: {ACCENT};
}}
QProgressBar {{ background: #17191c; border: 1px solid #3a3e45; border-radius: 4px; height: 8px; }}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 3px; }}
QSlider::groove:horizontal {{ height: 4px; background: #3a3e45; border-radius: 2px; }}
QSlider::handle:horizontal {{
    background: #c9ccd1; width: 12px; height: 12px; margin: -5px 0; border-radius: 6px;
}}
QSlider::sub-page:horizontal {{ background: {ACCENT}; border-radius: 2px; }}
QTabWidget::pane {{ border: 1px solid #34373d; border-radius: 4px; background: #23262b; }}
QTabBar::tab {{ background: #26292e; padding: 5px 14px; border: 1px solid #34373d; border-bottom: none; }}
QTabBar::tab:selected {{ background: #2f3339; color: white; }}
QStatusBar {{ background: #17191c; color: #9aa0a8; }}
QStatusBar QLabel {{ color: #9aa0a8; padding: 0 8px; }}
QMenuBar {{ background: #1a1c20; }}
QMenuBar::item:selected, QMenu::item:selected {{ background: {ACCENT}; color: white; }}
QMenu {{ background: #23262b; border: 1px solid #3a3e45; }}
QSplitter::handle {{ background: #1a1c20; }}
QScrollArea {{ border: none; }}
"""


def apply_theme(app: QApplication) -> None:
    """Fusion style with a dark palette and the stylesheet above."""
    app.setStyle("Fusion")
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#1e2024",
        QPalette.ColorRole.WindowText: "#d8dade",
        QPalette.ColorRole.Base: "#17191c",
        QPalette.ColorRole.AlternateBase: "#23262b",
        QPalette.ColorRole.Text: "#d8dade",
        QPalette.ColorRole.Button: "#2e3238",
        QPalette.ColorRole.ButtonText: "#d8dade",
        QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#2e3238",
        QPalette.ColorRole.ToolTipText: "#e8eaed",
    }
    for role, colour in roles.items():
        pal.setColor(role, QColor(colour))
    app.setPalette(pal)
    app.setStyleSheet(STYLESHEET)
