"""FaceLift Desktop's Qt application: main window, panels, engine worker, settings."""
