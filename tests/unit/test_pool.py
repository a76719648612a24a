"""How ``workers.pool`` turns the Procfile's Dramatiq command into its one-process copies."""
from __future__ import annotations

import sys

import pytest

from workers.pool import one_process_command, split_processes


@pytest.mark.parametrize("argv, count", [
    (["dramatiq", "workers.main", "--processes", "3", "--threads", "8"], 3),
    (["dramatiq", "workers.main", "-p", "2", "--threads", "8"], 2),
    (["dramatiq", "workers.main", "--processes=4", "--threads", "8"], 4),
])
def test_the_process_count_is_taken_out_of_the_command(argv, count):
    assert split_processes(argv) == (["dramatiq", "workers.main", "--threads", "8"], count)


def test_each_copy_runs_dramatiq_with_one_process_under_this_python():
    assert one_process_command(["/venv/bin/dramatiq", "workers.main", "--queues", "llm"]) == [
        sys.executable, "-m", "dramatiq", "workers.main", "--queues", "llm", "--processes", "1"]


def test_a_pool_of_no_processes_is_refused():
    with pytest.raises(ValueError):
        split_processes(["dramatiq", "workers.main", "--processes", "0"])
