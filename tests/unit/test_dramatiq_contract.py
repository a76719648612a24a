"""What ``shared.jobs.broker`` relies on in Dramatiq's private Redis consumer API. The broker subclasses
``_RedisConsumer`` and replaces ``RedisBroker._dispatch`` with a copy that passes the dispatch script's
arguments itself; if a Dramatiq release changes them, this fails before queues misbehave. Then compare
``SwitchyardBroker._dispatch`` and ``_WakeableConsumer`` with the new release and move the pin in
pyproject.toml."""
from __future__ import annotations

import ast
import inspect
import textwrap

from dramatiq.brokers import redis as dramatiq_redis

from shared.jobs import broker

DISPATCH_ARGS = [
    "command", "timestamp", "queue_name", "self.broker_id", "self.heartbeat_timeout", "self.dead_message_ttl",
    "<maintenance>", "self._max_unpack_size()", "*args",
]
"""The dispatch script's leading arguments, in order (the maintenance flag is computed differently here)."""


def _dispatch_args(function) -> list[str]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    lists = [node.value for node in ast.walk(tree)
             if isinstance(node, ast.Assign) and isinstance(node.value, ast.List)
             and any(isinstance(t, ast.Name) and t.id == "args" for t in node.targets)]
    assert len(lists) == 1, "expected one `args = [...]` in the dispatch function"
    names = [ast.unparse(element) for element in lists[0].elts]
    names[6] = "<maintenance>"
    return names


def test_dramatiq_passes_the_dispatch_script_the_arguments_our_copy_passes():
    assert _dispatch_args(dramatiq_redis.RedisBroker._dispatch) == DISPATCH_ARGS
    assert _dispatch_args(broker.SwitchyardBroker._dispatch) == DISPATCH_ARGS


def test_the_consumer_internals_the_subclass_uses_are_there():
    consumer = dramatiq_redis._RedisConsumer
    assert broker._WakeableConsumer.__mro__[1] is consumer
    assert list(inspect.signature(consumer.__init__).parameters) == ["self", "broker", "queue_name", "prefetch",
                                                                      "timeout"]
    source = inspect.getsource(consumer)
    for name in ("self.message_cache", "self.outstanding_message_count", "self.broker.do_fetch",
                 "self.queued_message_ids", "self.prefetch"):
        assert name in source, f"Dramatiq's consumer no longer uses {name}"
    assert callable(getattr(dramatiq_redis.RedisBroker, "_max_unpack_size", None))
