"""The job catalog and the actors agree: every spec has exactly one actor, declared from it, whose keyword
parameters are the spec's payload fields (after ``job_id``), and every actor has a spec; senders go
through the catalog."""
from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import subprocess
import sys
from dataclasses import MISSING, fields

import dramatiq
import pytest

import jobs
import workers.main  # noqa: F401  (what ``dramatiq workers.main`` loads: the broker, then every actor module)
from shared.db import session_scope
from shared.jobs import catalog
from shared.jobs.enqueue import CLAIM_AHEAD
from shared.jobs.queues import QUEUES
from tests.jobs.worker import ROOT

JOB_MODULES = [importlib.import_module(f"jobs.{info.name}") for info in pkgutil.iter_modules(jobs.__path__)]


def declared_actors() -> list[dramatiq.Actor]:
    return [value for module in JOB_MODULES for value in vars(module).values() if isinstance(value, dramatiq.Actor)]


def expected_parameters(spec: catalog.JobSpec) -> list[tuple[str, object]]:
    """(name, default) of the actor's parameters as the spec says them (``inspect.Parameter.empty``: none)."""
    job_id = [("job_id", None if spec.every else inspect.Parameter.empty)] if spec.tracked else []
    return job_id + [(item.name, inspect.Parameter.empty if item.default is MISSING else item.default)
                     for item in fields(spec.payload)]


def test_spec_names_are_unique_and_queues_known():
    names = [spec.name for spec in catalog.SPECS]
    assert len(names) == len(set(names))
    assert all(spec.queue in QUEUES for spec in catalog.SPECS)
    assert all(spec.kind for spec in catalog.SPECS if spec.tracked)


@pytest.mark.parametrize("spec", catalog.SPECS, ids=lambda spec: spec.name)
def test_every_spec_has_exactly_one_actor_declared_from_it(spec):
    declared = [actor for actor in declared_actors() if actor.actor_name == spec.name]
    assert len(declared) == 1, f"{spec.name}: {len(declared)} actors in jobs/"
    actor = declared[0]
    assert dramatiq.get_broker().get_actor(spec.name) is actor
    assert actor.queue_name == spec.queue
    assert actor.options == dict(spec.actor_options)


@pytest.mark.parametrize("spec", catalog.SPECS, ids=lambda spec: spec.name)
def test_an_actors_keyword_parameters_are_its_payload_fields(spec):
    parameters = inspect.signature(dramatiq.get_broker().get_actor(spec.name).fn).parameters.values()
    assert [(p.name, p.default) for p in parameters] == expected_parameters(spec)


def test_every_actor_has_a_spec():
    products = {name for name, actor in dramatiq.get_broker().actors.items()
                if not actor.fn.__module__.startswith("tests.")}
    assert products == {spec.name for spec in catalog.SPECS}
    assert {actor.actor_name for actor in declared_actors()} == products


def test_the_worker_loads_every_actor_module():
    listing = "import sys, workers.main; print(' '.join(m for m in sys.modules if m.startswith('jobs.')))"
    loaded = subprocess.run([sys.executable, "-c", listing], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.split()
    assert sorted(loaded) == sorted(module.__name__ for module in JOB_MODULES)


def test_send_builds_the_job_from_the_spec_and_its_payload():
    with session_scope() as session:
        job = catalog.send(session, catalog.INDEX_FILE, catalog.IndexFile("f1"), owner_id=None,
                           options={"time_limit": 5000})
        assert (job.actor, job.queue, job.kind) == ("embeddings.index_file", "embeddings", "file.embed")
        assert job.payload == {"file_id": "f1", "collection_name": None}
        assert job.options == {"on_failure": catalog.MARK_FILE_FAILED.name, "time_limit": 5000}
        probe = catalog.send(session, catalog.EMBEDDINGS, catalog.Embeddings("openai", 0, "m", {"input": "x"}),
                             owner_id=None, kind="embeddings.probe")
        assert probe.kind == "embeddings.probe" and probe.options == {CLAIM_AHEAD: True}


def test_send_refuses_another_jobs_payload_and_what_is_not_a_job():
    with session_scope() as session:
        with pytest.raises(TypeError):
            catalog.send(session, catalog.INDEX_TEXT, catalog.IndexFile("f1"), owner_id=None)
        with pytest.raises(ValueError):
            catalog.send(session, catalog.PRUNE_JOBS, catalog.Nothing(), owner_id=None)


def _modules(*folders: str) -> list[tuple[str, ast.Module]]:
    return [(str(path.relative_to(ROOT)), ast.parse(path.read_text()))
            for folder in folders for path in sorted((ROOT / folder).rglob("*.py"))]


def test_actor_names_are_spelled_in_the_catalog_only():
    names = {spec.name for spec in catalog.SPECS}
    spelled = [(path, node.value) for path, tree in _modules("web", "jobs", "workers", "shared")
               if path != "shared/jobs/catalog.py" for node in ast.walk(tree)
               if isinstance(node, ast.Constant) and node.value in names]
    assert spelled == []


def test_routes_never_build_messages():
    """The web calls services that start jobs; it neither imports the catalog nor enqueues."""
    for path, tree in _modules("web"):
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                imported = {f"{node.module}.{alias.name}" for alias in node.names}
                assert not imported & {"shared.jobs.catalog", "shared.jobs.enqueue.enqueue"}, path
            if isinstance(node, ast.Call):
                called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                assert called != "enqueue", f"{path}:{node.lineno}"
