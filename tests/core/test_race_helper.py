"""The race helper fails a test whose thread never finishes (a deadlock) or never reports back."""

import threading

import pytest

from tests.race import assert_reported, join_all, run_all, start_all


def test_a_thread_that_never_finishes_fails_the_test():
    stuck = threading.Event()
    threads = start_all([threading.Thread(target=stuck.wait, args=(5,), name="stuck"),
                         threading.Thread(target=lambda: None, name="quick")])
    with pytest.raises(AssertionError, match=r"1 of 2 threads did not finish.*stuck"):
        join_all(threads, 0.2)
    stuck.set()
    join_all(threads, 5)


def test_run_all_hands_back_every_answer_or_fails():
    def boom():
        raise ValueError("lost")

    results = run_all([lambda: 1, boom], timeout=10)
    assert results[0] == 1 and isinstance(results[1], ValueError)
    with pytest.raises(AssertionError, match="did not report back"):
        assert_reported({"a": 1}, 2)
