"""Travel matrices in blocks of sources: bounded memory, all local cores, or a Dask cluster.

The per-block kernel is :func:`geolog._matrix._matrix_values` (one compiled
turn-aware search per source); this module only cuts the sources into blocks,
sizes them so each worker's working set stays under a memory budget, and
runs the blocks serially, on local threads (the compiled search releases the
GIL, so threads share the graph and cost nothing to start) or on a Dask
cluster. Every block is computed independently, so the assembled matrix is
the same, bit for bit, however it was cut.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError

log = logging.getLogger(__name__)

#: Bytes budgeted per source and graph node while a block runs: what the earlier
#: scipy kernel held (distances 8, predecessors 4, complex tree sums 16, time
#: sums 8, headroom). The compiled kernel holds less — three target columns per
#: source plus one set of per-state labels per thread — so this bound is
#: conservative: blocks come out smaller than memory requires.
BYTES_PER_SOURCE_NODE = 48
#: Below this many sources × (graph nodes + targets) a matrix is computed on
#: one thread by default: splitting it would cost more than it saves.
PARALLEL_MIN_WORK = 200_000
#: Share of the memory available when the call starts that the default budget takes.
DEFAULT_MEMORY_SHARE = 0.25
#: The default budget never exceeds this (MB).
DEFAULT_MEMORY_CAP_MB = 1024.0

Kernel = Callable[[Any, list, list], tuple[np.ndarray, np.ndarray, np.ndarray]]


def available_memory_mb() -> float:
    """Memory available to new allocations (MB).

    Linux: ``MemAvailable``, or what a container's cgroup limit leaves if that
    is less; elsewhere the free pages (4 GB if even that is unknown).
    """
    avail = _meminfo_available_mb()
    limit = _cgroup_room_mb()
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**20
        except (ValueError, OSError, AttributeError):
            avail = 4096.0
    return min(avail, limit) if limit is not None else avail


def _meminfo_available_mb() -> float | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_room_mb() -> float | None:
    """cgroup v2 ``memory.max`` minus ``memory.current`` (MB); None without a limit."""
    try:
        root = Path("/sys/fs/cgroup")
        limit = (root / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return (int(limit) - int((root / "memory.current").read_text())) / 2**20
    except (OSError, ValueError):
        return None


def local_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _check(max_memory_mb: float | None, n_jobs: int | None) -> None:
    if max_memory_mb is not None and not (
        isinstance(max_memory_mb, int | float) and np.isfinite(max_memory_mb) and max_memory_mb > 0
    ):
        raise InputError(
            f"max_memory_mb must be a positive number of megabytes, not {max_memory_mb!r}"
        )
    if n_jobs is not None and (
        isinstance(n_jobs, bool)
        or not isinstance(n_jobs, int | np.integer)
        or n_jobs == 0
        or n_jobs < -1
    ):
        raise InputError(f"n_jobs must be a positive integer or -1 (all cores), not {n_jobs!r}")


def plan_blocks(n_sources: int, n_nodes: int, *, max_memory_mb: float, workers: int) -> list[slice]:
    """Cut ``n_sources`` rows into blocks whose working sets, ``workers`` at a time, fit the budget.

    Parameters
    ----------
    n_sources
        Rows of the matrix.
    n_nodes
        Nodes of the routing graph.
    max_memory_mb
        Budget for all blocks running at once (MB).
    workers
        Blocks running at once; the rows are split at least this many ways.

    Returns
    -------
    list of slice
        Consecutive row ranges covering ``range(n_sources)``.
    """
    per_source = BYTES_PER_SOURCE_NODE * (n_nodes + 1)
    fit = int(max_memory_mb * 2**20 / max(workers, 1) // per_source)
    size = max(1, min(fit, -(-n_sources // max(workers, 1))))
    return [slice(a, min(a + size, n_sources)) for a in range(0, n_sources, size)]


def blocked_values(
    kernel: Kernel,
    g: Any,
    ssn: Sequence,
    tsn: Sequence,
    *,
    max_memory_mb: float | None = None,
    n_jobs: int | None = None,
    client: Any = None,
    per_source_nodes: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run ``kernel(g, ssn[block], tsn)`` over blocks of sources and stack the results.

    Parameters
    ----------
    kernel
        The per-block function (module level, so workers can import it).
    g
        The routing graph (sent once to each worker).
    ssn, tsn
        Snapped sources and targets (``None`` where unsnapped).
    max_memory_mb
        Working-set budget for all blocks in flight (MB); default a quarter of
        the memory available, at most 1 GB.
    n_jobs
        Local worker threads; ``None``: all cores when the matrix is big
        enough to pay for splitting it, else 1; ``-1``: all cores.
    client
        A ``dask.distributed.Client``: the blocks run on its cluster instead.
    per_source_nodes
        How many nodes' worth of memory one source's search holds: the
        graph's (default; a Dijkstra per source) or, for the contraction
        hierarchy's buckets, about the number of targets.

    Returns
    -------
    tuple of numpy.ndarray
        Cost, duration and distance, ``len(ssn) × len(tsn)``.
    """
    _check(max_memory_mb, n_jobs)
    m, n = len(ssn), g.n if per_source_nodes is None else int(per_source_nodes)
    budget = (
        min(DEFAULT_MEMORY_CAP_MB, DEFAULT_MEMORY_SHARE * available_memory_mb())
        if max_memory_mb is None
        else float(max_memory_mb)
    )
    if client is not None:
        workers = max(1, sum(_dask_threads(client).values()))
    elif n_jobs is None:
        workers = local_cores() if m * (n + len(tsn)) >= PARALLEL_MIN_WORK else 1
    else:
        workers = local_cores() if n_jobs == -1 else int(n_jobs)
    blocks = plan_blocks(m, n, max_memory_mb=budget, workers=workers)
    log.info(
        "matrix %d × %d on %d nodes (%d per source): %d block(s) of ≤ %d sources, %d worker(s)",
        m,
        len(tsn),
        g.n,
        n,
        len(blocks),
        blocks[0].stop - blocks[0].start if blocks else 0,
        workers,
    )
    if client is not None:
        parts = _run_dask(client, kernel, g, ssn, tsn, blocks)
    elif workers > 1 and len(blocks) > 1:
        parts = _run_pool(kernel, g, ssn, tsn, blocks, min(workers, len(blocks)))
    elif len(blocks) == 1:
        return kernel(g, list(ssn), list(tsn))
    else:
        parts = ((i, kernel(g, list(ssn[b]), list(tsn))) for i, b in enumerate(blocks))
    # each block goes into place as it arrives: the finished matrix plus one
    # block in flight per worker, never all blocks at once
    out = tuple(np.empty((m, len(tsn))) for _ in range(3))
    for done, (i, part) in enumerate(parts, start=1):
        for dst, src in zip(out, part, strict=True):
            dst[blocks[i]] = src
        log.info("matrix block %d/%d done", done, len(blocks))
    return out


# -- local threads -----------------------------------------------------------

Parts = Iterator[tuple[int, tuple[np.ndarray, ...]]]


def _run_pool(
    kernel: Kernel, g: Any, ssn: Sequence, tsn: Sequence, blocks: list[slice], workers: int
) -> Parts:
    """The blocks on a thread pool, in order; every thread reads the one graph.

    The search inside the kernel is compiled with the GIL released, so the
    threads run side by side; only the kernel's short Python set-up is serial.
    """
    tl = list(tsn)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="geolog-matrix") as pool:
        yield from enumerate(pool.map(lambda b: kernel(g, list(ssn[b]), tl), blocks))


# -- Dask --------------------------------------------------------------------


def _dask_threads(client: Any) -> dict:
    """Threads per worker of the client's cluster (checks it is a distributed Client)."""
    try:
        from distributed import Client
    except ImportError as err:  # pragma: no cover - the dask extra is installed in tests
        raise InputError(
            "client= needs Dask's distributed scheduler: pip install 'geolog[dask]'"
        ) from err
    if not isinstance(client, Client):
        raise InputError(
            f"client must be a dask.distributed.Client, not {type(client).__name__}; "
            "e.g. Client('tcp://scheduler:8786') or Client(LocalCluster())"
        )
    return client.nthreads()


def _run_dask(
    client: Any, kernel: Kernel, g: Any, ssn: Sequence, tsn: Sequence, blocks: list[slice]
) -> Parts:
    """The blocks as Dask tasks, as they finish; the graph and targets are scattered once."""
    from distributed import as_completed

    gf, tf = client.scatter([g, list(tsn)], broadcast=True, hash=False)
    futures = [client.submit(kernel, gf, list(ssn[b]), tf, pure=False) for b in blocks]
    index = {f.key: i for i, f in enumerate(futures)}
    try:
        for fut, part in as_completed(futures, with_results=True):
            yield index[fut.key], part
    finally:
        client.cancel([*futures, gf, tf])
