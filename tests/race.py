"""Threads for race tests: every thread must finish and report back, or the test fails.

A thread stuck in a deadlock (or waiting on a lock forever) used to let a race test pass: the test
joined with a timeout and went on to check the results of the threads that did answer. Every race
helper joins through `join_all`, which fails the test naming the threads still running, and
`run_all` also fails when a thread finished without reporting (it died before its result).
"""

from __future__ import annotations

import threading
import time

from django.db import connections

MISSING = object()


def join_all(threads, timeout: float = 60) -> None:
    """Join every thread within `timeout` seconds in all; fail if any is still alive."""
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    alive = [t.name for t in threads if t.is_alive()]
    assert not alive, f"{len(alive)} of {len(threads)} threads did not finish within {timeout} s " \
                      f"(deadlocked or stuck on a lock): {alive}"


def start_all(threads) -> list:
    for t in threads:
        t.start()
    return list(threads)


def run_all(fns, *, timeout: float = 60, barrier: bool = True) -> list:
    """Run each function in its own thread (its own database connection), all released at once by a
    barrier; return what each returned or raised, in order. Fails if a thread does not finish in
    time or finishes without a result."""
    gate = threading.Barrier(len(fns)) if barrier else None
    results = [MISSING] * len(fns)

    def go(i, fn):
        try:
            if gate is not None:
                gate.wait(timeout)
            results[i] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test as the thread's answer
            results[i] = exc
        finally:
            connections.close_all()

    join_all(start_all([threading.Thread(target=go, args=(i, fn), name=f"race-{i}") for i, fn in
                        enumerate(fns)]), timeout)
    assert_reported(results)
    return results


def assert_reported(results, expected: int | None = None) -> None:
    """Every thread left its answer (a list with MISSING/None holes, or a dict of `expected` keys)."""
    if isinstance(results, dict):
        assert expected is None or len(results) == expected, \
            f"{expected - len(results)} of {expected} threads did not report back: {results}"
        return
    missing = [i for i, r in enumerate(results) if r is MISSING]
    assert not missing, f"threads {missing} finished without reporting back: {results}"
