"""``/metrics`` (requests by route template, jobs run by a real worker, queues, who may read it) and the queue
dashboard's API (``/api/v1/jobs/admin/queues``, the dead-letter purge)."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from prometheus_client.parser import text_string_to_metric_families

from shared.db import session_scope
from shared.jobs import enqueue as protocol
from tests.helpers import bearer
from tests.jobs.worker import IDLE_QUEUE, worker  # noqa: F401  (the fixture)
from tests.web.test_jobs import enqueue, wait_status


def samples(client, headers: dict) -> dict[tuple, float]:
    """The scrape as {(sample name, sorted labels): value}."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for sample in family.samples}


def value(scraped: dict, name: str, **labels) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


def wait_for(predicate, timeout: float = 15, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_request_is_counted_by_its_route_template_never_its_path(client, admin):
    headers = bearer(admin["token"])
    assert client.get("/api/v1/jobs/no-such-job-1234", headers=headers).status_code == 404
    assert client.get("/api/v1/no/such/route", headers=headers).status_code == 404
    scraped = samples(client, headers)
    assert value(scraped, "switchyard_http_requests_total", route="/api/v1/jobs/<job_id>", method="GET",
                 status="404") >= 1
    assert value(scraped, "switchyard_http_request_duration_seconds_count", route="/api/v1/jobs/<job_id>",
                 method="GET") >= 1
    assert value(scraped, "switchyard_http_requests_total", route="<unmatched>", method="GET", status="404") >= 1
    assert not any("no-such-job-1234" in str(labels) or "/no/such" in str(labels) for _, labels in scraped)


def test_open_event_streams_are_a_gauge(client, admin, make_user, worker):
    alice = make_user("alice@example.com")
    job_id = enqueue(alice["id"], value=1)
    wait_status(job_id, ("succeeded",))
    headers = bearer(admin["token"])

    def open_streams() -> float:
        # In a thread of its own: the open stream keeps its request's context on this one.
        with ThreadPoolExecutor(1) as pool:
            return value(pool.submit(samples, client, headers).result(), "switchyard_http_open_streams", kind="sse")

    before = open_streams()
    stream = client.get(f"/api/v1/jobs/{job_id}/events", headers=bearer(alice["token"]), buffered=False)
    assert stream.mimetype == "text/event-stream"
    assert open_streams() == before + 1
    stream.close()
    assert open_streams() == before


def test_jobs_run_by_the_worker_and_the_queues_show_up(client, admin, make_user, worker):
    alice = make_user("alice@example.com")
    headers = bearer(admin["token"])
    echo = dict(actor="tests.echo", queue="default")
    crash = dict(actor="tests.crash", queue="default")
    before = samples(client, headers)
    wait_status(enqueue(alice["id"], value=1), ("succeeded",))
    wait_status(enqueue(alice["id"], actor="tests.crash"), ("failed",))

    def scraped_after_ack():
        scraped = samples(client, headers)
        return scraped if value(scraped, "switchyard_jobs_dead_lettered_total", **crash) > value(
            before, "switchyard_jobs_dead_lettered_total", **crash) else None

    scraped = wait_for(scraped_after_ack, what="the crash to be dead-lettered")
    grew = [value(scraped, name, **labels) - value(before, name, **labels) for name, labels in (
        ("switchyard_jobs_started_total", echo), ("switchyard_job_duration_seconds_count", echo),
        ("switchyard_jobs_started_total", crash))]
    assert grew == [1, 1, 1]
    assert value(scraped, "switchyard_jobs_finished_total", **echo, outcome="succeeded") >= 1
    assert value(scraped, "switchyard_jobs_finished_total", **crash, outcome="failed") >= 1
    assert value(scraped, "switchyard_jobs_in_flight", **echo) == 0
    assert value(scraped, "switchyard_queue_dead_letters", queue="default") >= 1
    assert ("switchyard_queue_oldest_message_age_seconds", (("queue", "llm"),)) in scraped

    def worker_seen():
        scraped = samples(client, headers)
        return value(scraped, "switchyard_queue_workers", queue="default") >= 1 and scraped

    scraped = wait_for(worker_seen, what="the worker's heartbeat")
    assert value(scraped, "switchyard_queue_worker_threads", queue="default") >= 4
    assert value(scraped, "switchyard_queue_workers", queue="pipelines") == 0  # the fixture leaves it alone
    assert value(scraped, "switchyard_workers") >= 1


def test_metrics_need_the_metrics_token_or_an_admin(client, admin, make_user, monkeypatch):
    alice = make_user("alice@example.com")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=bearer(alice["token"])).status_code == 401
    assert client.get("/metrics", headers=bearer("scrape-secret")).status_code == 401
    monkeypatch.setenv("METRICS_TOKEN", "scrape-secret")
    assert client.get("/metrics", headers=bearer("scrape-secret")).status_code == 200
    assert client.get("/metrics", headers=bearer("scrape-wrong")).status_code == 401
    assert client.get("/metrics", headers=bearer(admin["token"])).status_code == 200
    monkeypatch.setenv("ENABLE_METRICS", "false")
    off = client.get("/metrics", headers=bearer("scrape-secret"))
    assert off.status_code == 404 and "ENABLE_METRICS" in off.get_json()["detail"]


def test_the_queue_dashboard_api_and_the_dead_letter_purge(client, admin, make_user, worker):
    alice = make_user("alice@example.com")
    headers = bearer(admin["token"])
    wait_status(enqueue(alice["id"], value=1), ("succeeded",))
    wait_status(enqueue(alice["id"], actor="tests.crash"), ("failed",))
    assert client.get("/api/v1/jobs/admin/queues", headers=bearer(alice["token"])).status_code == 401

    def default_queue():
        board = client.get("/api/v1/jobs/admin/queues?minutes=5", headers=headers).get_json()
        queue = next(q for q in board["queues"] if q["name"] == "default")
        done = sum(m["succeeded"] for m in queue["throughput"])
        return (board, queue) if queue["dead_letters"] and done and queue["workers"] else None

    board, queue = wait_for(default_queue, what="the dashboard to show the jobs, dead letter and worker")
    assert board["minutes"] == 5 and len(queue["throughput"]) == 5
    assert set(queue) == {"name", "waiting", "delayed", "dead_letters", "oldest_age", "queued", "running", "failed",
                          "workers", "threads", "throughput"}
    assert queue["failed"] == 1 and queue["running"] == 0 and queue["queued"] == 0
    assert sum(m["failed"] for m in queue["throughput"]) == 1
    assert [m["minute"] for m in queue["throughput"]] == sorted(m["minute"] for m in queue["throughput"])
    assert {q["name"] for q in board["queues"]} >= {"default", "llm", "files"}
    worker_row = next(w for w in board["workers"] if "default" in w["queues"])
    assert worker_row["threads"] == 4 and 0 <= worker_row["heartbeat_age"] < 20 and worker_row["pid"] > 0
    assert client.get("/api/v1/jobs/admin/queues?minutes=0", headers=headers).status_code == 422

    purged = client.post("/api/v1/jobs/admin/queues/default/dead-letters/purge", headers=headers)
    assert purged.status_code == 200 and purged.get_json() == {"queue": "default", "purged": queue["dead_letters"]}
    after = client.get("/api/v1/jobs/admin/queues", headers=headers).get_json()
    assert next(q for q in after["queues"] if q["name"] == "default")["dead_letters"] == 0
    missing = client.post("/api/v1/jobs/admin/queues/nope/dead-letters/purge", headers=headers)
    assert missing.status_code == 404 and "nope" in missing.get_json()["detail"]


def test_a_transient_failure_counts_as_retried_then_succeeded(client, admin, make_user, worker):
    alice = make_user("alice@example.com")
    headers = bearer(admin["token"])
    flaky = dict(actor="tests.flaky", queue="default")
    before = samples(client, headers)
    wait_status(enqueue(alice["id"], actor="tests.flaky", failures=1), ("succeeded",))
    after = samples(client, headers)
    grew = {outcome: value(after, "switchyard_jobs_finished_total", **flaky, outcome=outcome)
            - value(before, "switchyard_jobs_finished_total", **flaky, outcome=outcome)
            for outcome in ("retried", "succeeded", "failed")}
    assert grew == {"retried": 1, "succeeded": 1, "failed": 0}


def test_a_waiting_message_shows_its_age(client, admin, make_user, worker):
    """The worker fixture leaves IDLE_QUEUE alone: a message sent there waits."""
    alice = make_user("alice@example.com")
    with session_scope() as session:
        protocol.enqueue(session, actor="tests.echo", queue=IDLE_QUEUE, kind="tests.echo", owner_id=alice["id"],
                         payload={"value": 1})
    time.sleep(0.3)
    headers = bearer(admin["token"])
    scraped = samples(client, headers)
    assert value(scraped, "switchyard_queue_messages", queue=IDLE_QUEUE) == 1
    assert 0.3 <= value(scraped, "switchyard_queue_oldest_message_age_seconds", queue=IDLE_QUEUE) < 30
    board = client.get("/api/v1/jobs/admin/queues", headers=headers).get_json()
    idle = next(q for q in board["queues"] if q["name"] == IDLE_QUEUE)
    assert (idle["waiting"], idle["queued"], idle["workers"]) == (1, 1, 0) and idle["oldest_age"] >= 0.3
