"""Give freed tensor memory back to the operating system (Linux, glibc's malloc).

A page that works on large temporaries (an FGSM curve over 500 digits, a LoRA step, a 4-bit matrix
decoded for one product) frees them when it is done, but glibc raises its mmap threshold after the
first large free (up to 32 MB), so later large blocks come from the heap, where they fragment and
stay resident; and every server thread gets its own heap (arena). Measured on the whole app with
every page visited once: 1,091 MiB resident by default, 861 MiB with the settings below
(bench/memory.py). Large tensors are then mapped and unmapped whole: the same
arithmetic, memory back to the OS as soon as a result is dropped.

Call once per process, before torch allocates (app.py does); a no-op where mallopt is missing.
"""
from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD = -1        # glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
MMAP_THRESHOLD = 4 * 2**20   # blocks of 4 MiB or more get their own mapping, unmapped when freed
TRIM_THRESHOLD = 16 * 2**20  # the heap's free top goes back to the OS above this
ARENA_MAX = 2                # heaps shared by Streamlit's session threads


def configure_allocator(mmap_threshold: int = MMAP_THRESHOLD, trim_threshold: int = TRIM_THRESHOLD,
                        arena_max: int = ARENA_MAX) -> bool:
    """Fix malloc's mmap threshold (which also stops its dynamic growth), its trim threshold and its
    number of arenas. Returns True when all were accepted (Linux with glibc), False elsewhere.

    The thresholds trade memory for speed: at 128 KiB every decoded 4-bit matrix of the LLM (1-3.5 MB,
    210 per token) would be mapped and faulted in anew, doubling a token's CPU time (0.30 -> 0.64 s
    of CPU); at 4 MiB with a 16 MiB trim threshold (8 MiB: 0.45 s) a token costs what it did (0.31 s), and the large
    temporaries (activations over a batch, the 113 MB embedding decode) still leave when freed."""
    path = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(path)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):       # not glibc (macOS, Windows, musl without mallopt)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return all([mallopt(M_MMAP_THRESHOLD, mmap_threshold), mallopt(M_TRIM_THRESHOLD, trim_threshold),
                mallopt(M_ARENA_MAX, arena_max)])
