"""gateway.memory: the C heap's free pages go back to the kernel, and the heap stays usable."""

from __future__ import annotations

import platform

import pytest

from gateway.memory import release_free_memory


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_free_pages_are_released_and_allocation_goes_on() -> None:
    # Freed blocks in the middle of the heap: what start-up leaves behind.
    blocks = [bytearray(4096) for _ in range(2000)]
    del blocks[::2]
    assert release_free_memory() is True
    again = [bytearray(4096) for _ in range(1000)]  # the heap still serves new blocks
    assert all(len(b) == 4096 for b in again + blocks)
