"""Prometheus metrics across processes: prometheus-client's multiprocess mode.

Every process (each gunicorn worker, each Dramatiq worker process) writes its samples to memory-mapped files in
``METRICS_DIR``, and ``/metrics`` adds them up, so one scrape of any web process sees the whole host. Whoever starts
the processes empties the directory first (:func:`wipe`; ``switchyard serve`` does), since counters of a previous
run would otherwise be summed in. Gauges of processes that have ended are dropped at each scrape
(:func:`forget_ended_processes`); their counters and histograms stay, as counters must never go down.

:func:`prepare` must run before the first metric is created: the metric modules (``web/metrics.py``,
``workers/metrics.py``) call it as they are imported.
"""
from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess, values

from shared.config import env, get_settings, set_for_library

LIVE_GAUGE_FILE = re.compile(r"^gauge_live\w*?_(\d+)\.db$")


def enabled() -> bool:
    return env("ENABLE_METRICS")


@lru_cache(maxsize=1)
def directory() -> Path:
    return Path(env("METRICS_DIR") or get_settings().data_dir / "metrics").resolve()


def prepare() -> None:
    """Point prometheus-client at :func:`directory` (multiprocess mode), creating it."""
    path = directory()
    path.mkdir(parents=True, exist_ok=True)
    set_for_library("PROMETHEUS_MULTIPROC_DIR", str(path))
    values.ValueClass = values.get_value_class()  # chosen when prometheus_client was imported


def wipe() -> None:
    """Remove the samples of a previous run; call it before starting the processes, never while they run."""
    path = directory()
    if path.is_dir():
        for sample_file in path.glob("*.db"):
            sample_file.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def forget_ended_processes() -> None:
    """Drop the live gauges (in-flight jobs, open streams) of processes that have ended, e.g. killed ones."""
    pids = {int(match.group(1)) for name in os.listdir(directory()) if (match := LIVE_GAUGE_FILE.match(name))}
    for pid in pids:
        if not _alive(pid):
            multiprocess.mark_process_dead(pid, str(directory()))


def render(*collectors) -> tuple[bytes, str]:
    """Every process's samples plus ``collectors`` (read at scrape time), in the Prometheus text format."""
    prepare()
    forget_ended_processes()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, str(directory()))
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry), CONTENT_TYPE_LATEST
