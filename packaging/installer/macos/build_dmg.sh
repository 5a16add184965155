#!/usr/bin/env bash
# FaceLift Desktop -- macOS .app and .dmg.                        NOT TESTED HERE (built on Linux).
#
# Run on a Mac (Apple silicon or Intel; build on each for its own architecture), from anywhere:
#   packaging/installer/macos/build_dmg.sh
#   -> dist/FaceLift Desktop.app and dist/facelift-desktop-<version>-macos-<arch>.dmg
# Needs: Python 3.11 with the project installed (.venv, as scripts/bootstrap.sh makes it; torch's
# macOS wheel runs on the CPU and MPS), Xcode command line tools (iconutil, hdiutil, codesign).
# The app is ad-hoc signed; for distribution sign with a Developer ID and notarise:
#   codesign --deep --force --options runtime --sign "Developer ID Application: ..." "dist/FaceLift Desktop.app"
#   xcrun notarytool submit dist/*.dmg --wait --keychain-profile ... && xcrun stapler staple dist/*.dmg
# Weights and settings live in ~/Library/Application Support/FaceLift Desktop (the app's data
# folder), never inside the .app.
set -euo pipefail
cd "$(dirname "$0")/../../.."
PY="${PYTHON:-.venv/bin/python}"
VERSION=$("$PY" -c 'import tomllib; print(tomllib.load(open("pyproject.toml","rb"))["project"]["version"])')
ARCH=$(uname -m)

# .icns from the 256 px icon (macOS wants a set of sizes in an .iconset folder).
mkdir -p build/facelift-desktop.iconset
for s in 16 32 64 128 256; do
    sips -z $s $s resources/icons/facelift-desktop.png --out "build/facelift-desktop.iconset/icon_${s}x${s}.png" >/dev/null
done
cp resources/icons/facelift-desktop.png build/facelift-desktop.iconset/icon_128x128@2x.png
iconutil -c icns build/facelift-desktop.iconset -o build/facelift-desktop.icns

nice -n 10 "$PY" -m PyInstaller --noconfirm --workpath build/pyinstaller --distpath dist packaging/facelift.spec
codesign --deep --force --sign - "dist/FaceLift Desktop.app"

# A drag-to-Applications disk image.
rm -rf build/dmg && mkdir -p build/dmg
cp -R "dist/FaceLift Desktop.app" build/dmg/
ln -s /Applications build/dmg/Applications
hdiutil create -volname "FaceLift Desktop $VERSION" -srcfolder build/dmg -ov -format UDZO \
    "dist/facelift-desktop-$VERSION-macos-$ARCH.dmg"
echo "dist/facelift-desktop-$VERSION-macos-$ARCH.dmg"
