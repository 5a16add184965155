"""The OpenGL renderer a window gets on this display: ``python -m facelift_desktop.gl_probe``.

Prints one JSON line, ``{"renderer": ..., "version": ..., "major": M, "minor": m}`` or
``{"error": ...}``. ``facelift doctor`` runs it as a child process (a broken driver can take the
process that opens a context down with it); the self-test calls :func:`opengl_info` directly.
"""

from __future__ import annotations

import json
import sys


def opengl_info() -> dict[str, object]:
    """Create a Qt OpenGL 2.1 context on an offscreen surface and read GL_RENDERER / GL_VERSION.

    Raises RuntimeError (one line) when no context can be created or made current.
    """
    from PySide6.QtGui import QGuiApplication, QOffscreenSurface, QOpenGLContext, QSurfaceFormat

    app = QGuiApplication.instance() or QGuiApplication([sys.argv[0] if sys.argv else "facelift-desktop"])
    fmt = QSurfaceFormat()
    fmt.setVersion(2, 1)
    context = QOpenGLContext()
    context.setFormat(fmt)
    if not context.create():
        raise RuntimeError("cannot create an OpenGL context (is an OpenGL driver such as Mesa installed?)")
    surface = QOffscreenSurface()
    surface.setFormat(context.format())
    surface.create()
    if not context.makeCurrent(surface):
        raise RuntimeError("cannot make an OpenGL context current")
    try:
        funcs = context.functions()
        renderer = funcs.glGetString(0x1F01) or "?"  # GL_RENDERER
        version = funcs.glGetString(0x1F02) or "?"  # GL_VERSION
    finally:
        context.doneCurrent()
    major, minor = context.format().majorVersion(), context.format().minorVersion()
    del app
    return {"renderer": renderer, "version": version, "major": major, "minor": minor}


def main() -> int:
    try:
        info = opengl_info()
    except Exception as exc:
        print(json.dumps({"error": " ".join(f"{type(exc).__name__}: {exc}".split())}), flush=True)
        return 1
    print(json.dumps(info), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
