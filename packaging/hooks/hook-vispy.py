"""VisPy: its shaders (.glsl), fonts and data files, and the PySide6 backend it imports by name.

VisPy picks its app backend and GL backend with ``__import__`` at run time, so the analysis
cannot see them. Only the PySide6 app backend and the desktop-GL bindings (gl2, and gl+ =
PyOpenGL, which the viewer uses for instancing) are wanted; the EGL/OSMesa/other-toolkit
backends are excluded in facelift.spec.
"""

from PyInstaller.utils.hooks import collect_data_files

datas = collect_data_files("vispy", excludes=["**/tests/**", "**/examples/**"])
hiddenimports = [
    "vispy.app.backends._pyside6",
    "vispy.app.backends._qt",
    "vispy.gloo.gl.gl2",
    "vispy.gloo.gl._gl2",
    "vispy.gloo.gl.glplus",  # "gl+": desktop GL through PyOpenGL, for instanced drawing
    "vispy.gloo.gl.pyopengl2",
    "vispy.gloo.gl._pyopengl2",
    "OpenGL.platform.glx",
    "OpenGL.platform.egl",  # PyOpenGL picks EGL on Wayland sessions
    "vispy.glsl",
]
