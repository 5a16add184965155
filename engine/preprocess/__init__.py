"""Photo preprocessing shared by both engines: load, find the face, FaceLift framing, matte.

mediapipe is imported only when a graph is first used, not by this package.
"""

from engine.preprocess.prepare import Prepared, composite_white, prepare_given, preprocess_photo

__all__ = ["Prepared", "composite_white", "prepare_given", "preprocess_photo"]
