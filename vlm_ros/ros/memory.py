"""Give memory back to the OS after huge frames, so RSS returns to its baseline.

glibc serves allocations above M_MMAP_THRESHOLD with mmap and returns them on free, but
after freeing such a chunk it raises the threshold to that chunk's size (up to 32 MB):
the next frames of that size then come from the heap, which glibc keeps. A burst of huge
frames would leave RSS hundreds of MB above baseline. Fixing the threshold stops the
drift; malloc_trim hands back what the heap holds free. No-ops where glibc is absent.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3  # mallopt parameter (glibc malloc.h)
MMAP_THRESHOLD_BYTES = 1 << 20  # frames are > 1 MB: each is its own mmap, returned when freed

try:
    _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    _mallopt = _libc.mallopt
    _malloc_trim = _libc.malloc_trim
except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
    _mallopt = _malloc_trim = None


def fix_mmap_threshold(threshold: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Stop glibc raising the mmap threshold after big frees; True when applied."""
    return bool(_mallopt is not None and _mallopt(M_MMAP_THRESHOLD, int(threshold)))


def release_free_memory() -> bool:
    """Return free heap pages to the OS (malloc_trim); True when something was released."""
    return bool(_malloc_trim is not None and _malloc_trim(0))
