"""mediapipe: the legacy Solutions graphs the instant engine runs, with their model files.

The wheel carries .tflite models and .binarypb graphs for many solutions; only face detection,
the face mesh (face_landmark) and selfie segmentation are used, so only their files are bundled.
"""

from PyInstaller.utils.hooks import collect_data_files, collect_submodules

_WANTED = ("face_detection", "face_landmark", "selfie_segmentation")

datas = [
    (src, dest)
    for src, dest in collect_data_files("mediapipe", includes=["**/*.tflite", "**/*.binarypb"])
    if any(f"modules/{name}" in dest.replace("\\", "/") for name in _WANTED)
]

# The generated *_pb2 calculator options and the solution modules are imported by name inside
# the C++ graph set-up; collect the python side of mediapipe minus model-making/tests.
hiddenimports = collect_submodules(
    "mediapipe",
    filter=lambda name: (
        not any(part in name for part in (".model_maker", ".tests", "_test", ".examples", ".genai"))
    ),
)
