"""The per-process event relay: many followers at once, live and logged events, none lost or repeated."""
from __future__ import annotations

import threading
import time

import pytest
import redis

from shared.jobs import events
from shared.models.base import new_id
from shared.redis_client import get_redis
from tests.e2e.processes import free_port, private_redis
from web.streaming.relay import EventRelay


def collect(relay: EventRelay, job_id: str, last: str | None = None) -> list[events.JobEvent]:
    subscription = relay.subscribe(job_id, last)
    seen = []
    try:
        while not seen or not seen[-1].terminal:
            burst = subscription.get_burst(timeout=10)
            assert burst, f"no event for {job_id} after {seen}"
            seen += burst
    finally:
        subscription.close()
    return seen


@pytest.fixture
def make_relay():
    """Relays made by a test, each closed after it (no reader thread outlives its test)."""
    made: list[EventRelay] = []

    def make(url: str | None = None) -> EventRelay:
        made.append(EventRelay(url))
        return made[-1]

    yield make
    for relay in made:
        relay.close()
        assert not relay.reader.is_alive()


def test_many_followers_subscribing_at_once_all_get_every_event(make_relay):
    relay = make_relay()
    jobs = [new_id() for _ in range(30)]
    for job_id in jobs:
        events.publish(job_id, "status", {"status": "running"})
    results: dict[str, list] = {}

    def follow(job_id: str) -> None:
        results[job_id] = collect(relay, job_id)

    threads = [threading.Thread(target=follow, args=(job_id,)) for job_id in jobs]
    for thread in threads:
        thread.start()
    for index in range(5):
        for job_id in jobs:
            events.publish(job_id, "delta", {"index": index})
    for job_id in jobs:
        events.publish(job_id, "status", {"status": "succeeded"})
    for thread in threads:
        thread.join(20)
    for job_id in jobs:
        assert [e.type for e in results[job_id]] == ["status"] + ["delta"] * 5 + ["status"], job_id
        assert [e.data["index"] for e in results[job_id] if e.type == "delta"] == list(range(5))
    assert not relay.followers  # every channel was left once its job ended


def wait_live(relay: EventRelay) -> None:
    assert relay.live.wait(10), "the relay never subscribed"


def test_a_job_expected_before_it_is_sent_is_followed_from_its_first_event_without_reading_its_log(make_relay):
    relay = make_relay()
    wait_live(relay)
    job_id = new_id()
    relay.expect(job_id)
    events.publish(job_id, "status", {"status": "queued"})
    events.publish(job_id, "status", {"status": "succeeded"})
    deadline = time.monotonic() + 10
    while relay.followers:  # the relay has seen the final announcement
        assert time.monotonic() < deadline
        time.sleep(0.01)
    get_redis().delete(events.stream_key(job_id))  # what a read of the log would find: nothing
    assert [e.data["status"] for e in collect(relay, job_id)] == ["queued", "succeeded"]
    assert not relay.expected


def test_announcements_of_jobs_nobody_follows_are_dropped_and_unclaimed_expectations_expire(make_relay, monkeypatch):
    relay = make_relay()
    wait_live(relay)
    monkeypatch.setattr("web.streaming.relay.EXPECT_SECONDS", 0.05)
    unclaimed, later = new_id(), new_id()
    relay.expect(unclaimed)
    events.publish(new_id(), "status", {"status": "running"})  # another process's job
    time.sleep(0.1)
    relay.expect(later)  # expires the first
    assert list(relay.expected) == list(relay.followers) == [events.channel(later)]


def test_an_expectation_nobody_takes_over_expires_even_when_no_other_job_is_sent(make_relay, monkeypatch):
    """A long job answered with 202 must not be buffered here until it ends."""
    relay = make_relay()
    wait_live(relay)
    monkeypatch.setattr("web.streaming.relay.EXPECT_SECONDS", 0.05)
    relay.expect(new_id())
    deadline = time.monotonic() + 5
    while relay.expected or relay.followers:
        assert time.monotonic() < deadline, "the expectation never expired"
        time.sleep(0.05)


def test_resume_after_an_id_gets_only_later_events(make_relay):
    relay = make_relay()
    job_id = new_id()
    ids = [events.publish(job_id, "delta", {"n": n}) for n in range(3)]
    events.publish(job_id, "status", {"status": "failed"})
    seen = collect(relay, job_id, last=ids[0])
    assert [e.data for e in seen] == [{"n": 1}, {"n": 2}, {"status": "failed"}]


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def on_message(self, data: str) -> None:
        self.calls.append(("message", data))

    def on_subscription(self, active: bool) -> None:
        self.calls.append(("subscribed", active))

    def wait_for(self, call: tuple[str, object], timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while call not in self.calls:
            assert time.monotonic() < deadline, f"{call} never came: {self.calls}"
            time.sleep(0.02)


def test_a_listener_is_told_of_a_lost_subscription_and_subscribed_again_when_redis_is_back(make_relay):
    """What the per-process session cache relies on: off while the relay is away from Redis, on again
    (and hearing announcements) once Redis confirmed the new subscription."""
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    with private_redis(port) as server:
        relay = make_relay(url)
        listener = Recorder()
        relay.listen("test:changed", listener)
        listener.wait_for(("subscribed", True))
        redis.Redis.from_url(url).publish("test:changed", "u1")
        listener.wait_for(("message", "u1"))
        server.kill()
        server.wait(5)
        listener.wait_for(("subscribed", False))
    listener.calls.clear()
    with private_redis(port):
        listener.wait_for(("subscribed", True))
        redis.Redis.from_url(url).publish("test:changed", "u2")
        listener.wait_for(("message", "u2"))
