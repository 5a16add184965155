"""The main window's parts, one job each; facelift_desktop.main_window.MainWindow combines them.

layout.py (panels, status bar, menus, which actions are enabled), files.py (opening photos,
Gaussians and sets of views for GS-LRM alone, drag and drop), runs.py (the reconstruction's life and the one background job the Run
panel shows and cancels), export_flows.py (every export, with or without a GL viewport),
help.py (weights, the model runs use, the computer check, About), gpu_check.py (the start-up
GPU check's one line in the status bar). They share the window's state: the scene model
(facelift_desktop/scene.py), the panels and the current job.
"""
