"""Reading a source in a test until enough samples came, shared by the source and fault tests."""

from __future__ import annotations

import time


def read_until(source, n_samples: int, deadline_s: float = 20.0) -> list:
    """Chunks read from an opened source until ``n_samples`` arrived or the deadline passed."""
    chunks, count = [], 0
    started = time.perf_counter()
    while count < n_samples and time.perf_counter() - started < deadline_s:
        chunk = source.read()
        if chunk is None:
            time.sleep(0.005)
            continue
        chunks.append(chunk)
        count += chunk.n_samples
    return chunks
