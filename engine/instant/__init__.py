"""The built-in instant engine: mediapipe face geometry and matte lifted to Gaussians.

mediapipe is imported only when the engine runs, not by this package.
"""

from engine.instant.reconstructor import InstantReconstructor

__all__ = ["InstantReconstructor"]
