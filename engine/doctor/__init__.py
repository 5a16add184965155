"""``facelift doctor``: what this computer offers FaceLift and proof that it computes the
reference's function on each device and dtype the app would use.

environment: the facts (OS, torch/CUDA, GPUs, gsplat, ffmpeg, OpenGL, weights); checks: the
conformance checks and their tolerances; run: which checks run here, advice, the memory preset;
report: text and JSON. Heavy imports happen inside the functions that need them.
"""
