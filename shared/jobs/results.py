"""Job results: small ones live in the job row, large ones in a file the row points to."""
from __future__ import annotations

import json
from typing import Any

from shared.config import get_settings
from shared.jobs.config import get_job_settings
from shared.models.job import Job

RESULTS_DIR = "job-results"


def store(job_id: str, result: Any) -> tuple[Any, str | None]:
    """``(value for the row, path)``: the result itself, or None and a file path when it is large."""
    encoded = json.dumps(result, default=str)
    if len(encoded) <= get_job_settings().inline_result_bytes:
        return json.loads(encoded), None
    relative = f"{RESULTS_DIR}/{job_id}.json"
    path = get_settings().data_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(encoded)
    return None, relative


def load(job: Job) -> Any:
    """The job's result, read from its file when it was too large for the row."""
    if job.result_path is None:
        return job.result
    try:
        return json.loads((get_settings().data_dir / job.result_path).read_text())
    except FileNotFoundError:
        return None
