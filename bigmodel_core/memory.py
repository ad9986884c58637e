"""Give freed tensor memory back to the operating system (Linux, glibc's malloc).

A page that works on large temporaries (an FGSM curve over 500 digits, a LoRA step, a 4-bit matrix
decoded for one product) frees them when it is done, but glibc raises its mmap threshold after the
first large free (up to 32 MB), so later large blocks come from the heap, where they fragment and
stay resident; and every server thread gets its own heap (arena). Measured on the whole app with
every page visited once: 1,091 MiB resident by default, 851 MiB with the threshold fixed at 128 KiB
and two arenas (bench/memory.py). Large tensors are then mapped and unmapped whole: the same
arithmetic, memory back to the OS as soon as a result is dropped.

Call once per process, before torch allocates (app.py does); a no-op where mallopt is missing.
"""
from __future__ import annotations

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3        # glibc's mallopt parameters (malloc.h)
M_ARENA_MAX = -8
MMAP_THRESHOLD = 128 * 1024  # blocks at least this large get their own mapping (glibc's default start)
ARENA_MAX = 2                # heaps shared by Streamlit's session threads


def configure_allocator(mmap_threshold: int = MMAP_THRESHOLD, arena_max: int = ARENA_MAX) -> bool:
    """Fix malloc's mmap threshold (which also stops its dynamic growth) and cap its arenas.

    Returns True when both settings were accepted (Linux with glibc), False elsewhere."""
    path = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(path)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):       # not glibc (macOS, Windows, musl without mallopt)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(M_ARENA_MAX, arena_max))
