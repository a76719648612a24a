"""Redis values kept per process (``shared.watched_values``): read from memory while nothing changed,
re-read the moment a writer announces a change, and read from Redis whenever the process is not
subscribed to the announcements."""
from __future__ import annotations

import uuid

from shared import watched_values
from shared.redis_client import get_redis, key
from shared.services.llm import registry
from shared.watched_values import WatchedValues, follow_in_thread, write
from tests.helpers import wait_for


def test_a_process_that_follows_nothing_reads_redis_every_time():
    values, name = WatchedValues(), key("test", uuid.uuid4().hex)
    get_redis().set(name, "a")
    assert values.get(name) == "a"
    get_redis().set(name, "b")  # not announced
    assert values.get(name) == "b"


def test_a_kept_value_is_served_until_its_change_is_announced():
    values, name = WatchedValues(), key("test", uuid.uuid4().hex)
    follow_in_thread(values)
    wait_for(lambda: values.enabled, "the subscription was never confirmed")
    get_redis().set(name, "a")
    assert values.get(name) == "a"
    get_redis().set(name, "b")  # a write nobody announced: the copy stands
    assert values.get(name) == "a"
    get_redis().publish(watched_values.channel(), name)  # as write() announces it
    wait_for(lambda: values.get(name) == "b", "the announced change was never read")


def test_a_read_that_an_announcement_overtook_is_not_kept(monkeypatch):
    values, name = WatchedValues(), key("test", uuid.uuid4().hex)
    values.on_subscription(True)
    get_redis().set(name, "old")
    client = get_redis()

    class Overtaken:
        """Redis answering the old value while the change is announced meanwhile."""

        def get(self, redis_key):
            answer = client.get(redis_key)
            client.set(redis_key, "new")
            values.on_message(redis_key)
            return answer

    with monkeypatch.context() as patched:
        patched.setattr(watched_values, "get_redis", Overtaken)
        assert values.get(name) == "old"
    assert values.get(name) == "new"


def test_losing_the_subscription_empties_the_copy():
    values, name = WatchedValues(), key("test", uuid.uuid4().hex)
    values.on_subscription(True)
    get_redis().set(name, "a")
    assert values.get(name) == "a"
    values.on_subscription(False)
    get_redis().set(name, "b")
    assert values.get(name) == "b"
    assert values.get(name) == "b" and not values.values


def test_a_write_is_read_back_at_once_in_its_own_process():
    name, following = key("test", uuid.uuid4().hex), watched_values.watched.enabled
    watched_values.watched.on_subscription(True)
    try:
        write(name, lambda pipe: pipe.set(name, "a"))
        assert watched_values.watched.get(name) == "a"
        write(name, lambda pipe: pipe.set(name, "b"))  # its announcement may not have arrived yet
        assert watched_values.watched.get(name) == "b"
    finally:
        watched_values.watched.on_subscription(following)


def test_the_model_registry_announces_each_refresh():
    values = WatchedValues()
    follow_in_thread(values)
    wait_for(lambda: values.enabled, "the subscription was never confirmed")
    registry.store([{"id": "m1"}], [])
    registry_key = key("llm", "models")
    wait_for(lambda: '"m1"' in (values.get(registry_key) or ""), "the first registry was never read")
    registry.store([{"id": "m2"}], [])
    wait_for(lambda: '"m2"' in (values.get(registry_key) or ""), "the refreshed registry was never read")
    registry.clear()
    wait_for(lambda: values.get(registry_key) is None, "the cleared registry was still served")
