"""What ``shared.jobs.broker`` relies on in Dramatiq's private Redis consumer API. The broker subclasses
``_RedisConsumer`` and replaces ``RedisBroker._dispatch`` with a copy that passes the dispatch script's
arguments itself (in the order ``dispatch.lua`` reads them), and reads Dramatiq's keys by name; if a Dramatiq
release changes any of it, or the installed one is not the pinned minor version, this fails before queues
misbehave. Then compare ``SwitchyardBroker._dispatch`` and ``_WakeableConsumer`` with the new release and move
the pin in pyproject.toml."""
from __future__ import annotations

import ast
import inspect
import re
import textwrap
import tomllib
from importlib import metadata
from pathlib import Path

from dramatiq.brokers import redis as dramatiq_redis
from dramatiq.message import Message
from packaging.requirements import Requirement

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


DISPATCH_LUA = Path(dramatiq_redis.__file__).parent / "redis" / "dispatch.lua"
SCRIPT_ARGUMENTS = ["command", "timestamp", "queue_name", "worker_id", "heartbeat_timeout", "dead_message_ttl",
                    "do_maintenance", "max_unpack_size"]
"""The dispatch script's fixed ``ARGV``, in the order of :data:`DISPATCH_ARGS`; a command's own arguments follow."""


def test_the_dispatch_script_reads_its_arguments_in_that_order():
    lua = DISPATCH_LUA.read_text()
    positions = {name: int(index) for name, index in re.findall(r"local (\w+) = ARGV\[(\d+)\]", lua)}
    assert sorted(positions, key=positions.get) == SCRIPT_ARGUMENTS
    assert sorted(positions.values()) == list(range(1, len(DISPATCH_ARGS)))
    assert f"for i={len(DISPATCH_ARGS)},#ARGV do" in lua
    assert "local namespace = KEYS[1]" in lua
    for dispatch in (dramatiq_redis.RedisBroker._dispatch, broker.SwitchyardBroker._dispatch):
        assert "keys = [self.namespace]" in inspect.getsource(dispatch)


def test_every_command_goes_through_dispatch():
    """``SwitchyardBroker.batched`` queues a thread's enqueues, acks and nacks on a pipeline through ``_dispatch``."""
    assert "return self._dispatch(command)" in inspect.getsource(dramatiq_redis.RedisBroker.__getattr__)
    assert "self.do_enqueue(queue_name, " in inspect.getsource(dramatiq_redis.RedisBroker.enqueue)
    consumer = dramatiq_redis._RedisConsumer
    for command in ("ack", "nack"):
        call = f'self.broker.do_{command}(self.queue_name, message.options["redis_message_id"])'
        assert call in inspect.getsource(getattr(consumer, command))
    # A filled cache is served before any fetch: our consumer fills it, then hands over to Dramatiq's __next__.
    following = inspect.getsource(consumer.__next__)
    assert -1 < following.find("self.message_cache.pop(0)") < following.find("self.broker.do_fetch(")
    lua = DISPATCH_LUA.read_text()
    for command in ("enqueue", "fetch", "ack", "nack", "requeue"):
        assert f'command == "{command}"' in lua


def test_the_keys_we_read_are_dramatiqs():
    """``reject_undecodable``, ``queue_depths``, ``oldest_waiting_ages`` and ``purge_dead_letters`` read
    Dramatiq's keys by name (and the queue is a list pushed on the right, fetched from the left)."""
    lua = DISPATCH_LUA.read_text()
    for line in ('local acks = namespace .. ":__acks__." .. worker_id',
                 'local queue_acks = acks .. "." .. queue_name',
                 'local queue_full_name = namespace .. ":" .. queue_name',
                 'local queue_messages = queue_full_name .. ".msgs"',
                 'local xqueue_full_name = namespace .. ":" .. queue_canonical_name .. ".XQ"',
                 'local xqueue_messages = xqueue_full_name .. ".msgs"',
                 'redis.call("rpush", queue_full_name, message_id)',
                 'local message_id = redis.call("lpop", queue_full_name)'):
        assert line in lua
    fields = set(Message(queue_name="q", actor_name="a", args=(), kwargs={}, options={}).asdict())
    assert {"message_timestamp", "options"} <= fields


def test_the_installed_dramatiq_is_the_pinned_minor_version():
    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]
    pins = [Requirement(text).specifier for text in project["dependencies"] if Requirement(text).name == "dramatiq"]
    assert len(pins) == 1 and any(spec.operator == "<" for spec in pins[0])
    assert metadata.version("dramatiq") in pins[0]
