"""The 3D Gaussian viewport: VisPy only. Knows engine.gaussians, engine.cameras and numpy."""
