"""The main window's panels. Each is a QWidget that talks to the window through signals."""
