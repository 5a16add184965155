"""Time from launching the desktop app to its main window being shown (mapped and visible).

    xvfb-run -a -s "-screen 0 1920x1080x24 +extension GLX" python bench/startup_time.py \
        [--exe /usr/bin/facelift-desktop] [--runs 3]

Measured from outside the app: the clock starts just before the process is started and stops
when ``xdotool search --sync --onlyvisible --pid PID`` sees a visible window of that process
(Qt sets _NET_WM_PID). The app is then terminated. Prints every run and the median. The first
run after an install is the "cold" one (libraries not yet in the page cache).
Needs xdotool (apt-get install xdotool).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def time_to_window(exe: str, timeout: float, env: dict[str, str]) -> float:
    start = time.perf_counter()
    app = subprocess.Popen([exe], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        subprocess.run(
            ["xdotool", "search", "--sync", "--onlyvisible", "--pid", str(app.pid)],
            check=True,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
        )
        return time.perf_counter() - start
    finally:
        app.terminate()
        try:
            app.wait(timeout=20)
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exe", default="/usr/bin/facelift-desktop")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        print("startup_time: no DISPLAY (run under xvfb-run)", file=sys.stderr)
        return 2
    if shutil.which("xdotool") is None:
        print("startup_time: xdotool not found (apt-get install xdotool)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="facelift-startup-") as home:
        env = {
            **os.environ,
            "HOME": home,
            "XDG_CONFIG_HOME": f"{home}/.config",
            "XDG_CACHE_HOME": f"{home}/.cache",
        }
        times = []
        for i in range(args.runs):
            t = time_to_window(args.exe, args.timeout, env)
            times.append(t)
            print(f"run {i + 1}: window shown after {t:.2f} s", flush=True)
    print(
        f"{args.exe}: launch -> visible main window, median of {len(times)}: {statistics.median(times):.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
