"""Keep freed memory in the process for reuse (glibc malloc tuning); a no-op elsewhere.

By default glibc serves every allocation above 128 kB (raised dynamically up to 32 MB) with
a fresh mmap and returns it on free, and trims the heap's top beyond 128 kB. A 12 MP photo's
arrays (36-48 MB each, dozens of 512^2 float temporaries) are then paged in from zero every
time: on this 2-core CPU the page faults cost ~0.5 s of a 2 s reconstruction (measured with
bench/instant.py). Raising the thresholds lets freed blocks be reused instead; the cost is
that the process keeps its peak heap (a few hundred MB) until it exits.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 256 << 20  # blocks above this still come from (and go back to) mmap
TRIM_THRESHOLD = 512 << 20
TOP_PAD = 64 << 20

_done = False


def keep_freed_memory() -> bool:
    """Tune glibc malloc once per process; True when applied (Linux with glibc)."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    ok = all(
        mallopt(param, value) == 1
        for param, value in (
            (M_MMAP_THRESHOLD, MMAP_THRESHOLD),
            (M_TRIM_THRESHOLD, TRIM_THRESHOLD),
            (M_TOP_PAD, TOP_PAD),
        )
    )
    _done = ok
    return ok
