"""Animating a head: bind its Gaussians to a fitted 478-point face mesh (rig.py), read a driver
video or photo (driver.py), turn its face mesh into head pose and expression (motion.py),
deform the Gaussians per frame (deform.py) and render or write them (pipeline.py).

No FLAME or other registered model: mediapipe's face mesh is the only face model, on the CPU.
"""
