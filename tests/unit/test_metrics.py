"""prometheus-client's multiprocess mode as ``shared/metrics.py`` sets it up: samples of several processes add up,
the live gauges of a process that ended are dropped while its counters stay, and ``wipe`` starts afresh."""
from __future__ import annotations

import subprocess
import sys

import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared import metrics

CHILD = """
import sys
from shared import metrics
metrics.prepare()
from prometheus_client import Counter, Gauge
Counter("unit_jobs_total", "jobs").inc({count})
Gauge("unit_in_flight", "running", multiprocess_mode="livesum").inc({count})
print("counted", flush=True)
sys.stdin.read()  # until the test closes it
"""
"""A process that counts ``count`` jobs and ``count`` in flight, then waits for its standard input to close."""


@pytest.fixture
def metrics_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("METRICS_DIR", str(tmp_path))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))  # restored afterwards (prepare sets it)
    metrics.directory.cache_clear()
    metrics.prepare()
    yield tmp_path
    metrics.directory.cache_clear()


def scraped() -> dict[str, float]:
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    return {sample.name: sample.value for family in text_string_to_metric_families(body.decode())
            for sample in family.samples}


def test_processes_add_up_and_an_ended_process_keeps_only_its_counters(metrics_dir):
    def child(count: int) -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, "-c", CHILD.format(count=count)], text=True,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   env={"METRICS_DIR": str(metrics_dir), "PATH": ""})
        assert process.stdout.readline() == "counted\n"
        return process

    ended = [child(2), child(3)]
    for process in ended:  # killed: nothing marks them dead
        process.kill()
        process.wait()
    alive = child(1)
    try:
        samples = scraped()
    finally:
        alive.stdin.close()
        alive.wait()
    assert samples["unit_jobs_total"] == 6
    assert samples["unit_in_flight"] == 1
    assert sorted(path.name.split("_")[0] for path in metrics_dir.glob("*.db")) == ["counter"] * 3 + ["gauge"]

    metrics.wipe()
    assert not list(metrics_dir.glob("*.db"))
