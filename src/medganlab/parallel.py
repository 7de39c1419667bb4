"""Parallel map with a progress bar, used by the data generators."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")
R = TypeVar("R")

__all__ = ["default_workers", "parallel_map", "quiet"]


def quiet() -> bool:
    """True when progress bars should stay silent (grading, CI, ``MEDGANLAB_QUIET=1``)."""
    return bool(
        os.environ.get("NBGRADER_EXECUTION")
        or os.environ.get("MEDGANLAB_QUIET") not in (None, "", "0")
    )


def default_workers() -> int:
    """Number of worker processes: ``MEDGANLAB_WORKERS`` or the number of usable cores."""
    env = os.environ.get("MEDGANLAB_WORKERS")
    if env:
        return max(1, int(env))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS
        return max(1, os.cpu_count() or 1)


def parallel_map(
    fn: Callable[[T], R],
    items: Sequence[T] | Iterable[T],
    workers: int | None = None,
    desc: str = "",
    progress: bool | None = None,
    start_method: str | None = None,
) -> list[R]:
    """Apply ``fn`` to every item, in order, over ``workers`` processes, with a progress bar.

    ``fn`` must be a module-level function (picklable). With one worker or one item it runs
    in this process, which keeps tracebacks readable. ``start_method="spawn"`` starts clean
    workers (needed when this process already holds threads or ZeroMQ sockets, as the grader
    does); the default is the platform's.
    """
    items = list(items)
    workers = default_workers() if workers is None else max(1, workers)
    show = (not quiet()) if progress is None else progress
    bar = tqdm(total=len(items), desc=desc, disable=not show, unit="item")
    results: list[Any] = []
    try:
        if workers == 1 or len(items) <= 1:
            for item in items:
                results.append(fn(item))
                bar.update()
        else:
            context = multiprocessing.get_context(start_method) if start_method else None
            with ProcessPoolExecutor(min(workers, len(items)), mp_context=context) as pool:
                for result in pool.map(fn, items, chunksize=1):
                    results.append(result)
                    bar.update()
    finally:
        bar.close()
    return results
