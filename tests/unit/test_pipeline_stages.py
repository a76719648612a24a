"""Which pipelines a chat completion goes through and in what order (Open WebUI's ``get_sorted_filters`` and the
model's own place), and how a Pipelines server's ``/models`` answer becomes registry entries."""
from __future__ import annotations

from shared.services.llm import registry
from shared.services.llm.connections import Connection

SERVER = Connection("openai", 1, "http://pipelines:9099", "key", {})


def _filter(pipeline_id: str, targets: list[str], priority: int) -> dict:
    return {"id": pipeline_id, "urlIdx": 1, "pipeline": {"type": "filter", "pipelines": targets, "priority": priority}}


MODELS = [
    _filter("late", ["*"], 5), _filter("first", ["gpt"], 0), _filter("also_first", ["*"], 0),
    _filter("elsewhere", ["other"], 0), _filter("not_all", ["*", "gpt"], 1), _filter("echo_only", ["echo"], 2),
    {"id": "gpt", "urlIdx": 0}, {"id": "echo", "urlIdx": 1, "pipeline": {"type": "pipe", "valves": False}},
]


def ids(entries: list[dict]) -> list[str]:
    return [entry["id"] for entry in entries]


def test_filters_aimed_at_a_model_by_priority_in_list_order_on_ties():
    assert ids(registry.pipeline_stages(MODELS, "gpt", "inlet")) == ["first", "also_first", "not_all", "late"]
    assert ids(registry.pipeline_stages(MODELS, "gpt", "outlet")) == ["first", "also_first", "not_all", "late"]


def test_a_pipeline_model_comes_last_on_the_way_in_and_first_on_the_way_out():
    assert ids(registry.pipeline_stages(MODELS, "echo", "inlet")) == ["also_first", "echo_only", "late", "echo"]
    assert ids(registry.pipeline_stages(MODELS, "echo", "outlet")) == ["echo", "also_first", "echo_only", "late"]


def test_no_model_no_stages():
    assert registry.pipeline_stages(MODELS, None, "inlet") == []
    assert registry.pipeline_stages([{"id": "gpt", "urlIdx": 0}], "gpt", "inlet") == []


def test_a_pipelines_servers_models_keep_their_pipeline_and_the_answer_says_pipelines():
    answer = {"object": "list", "pipelines": True, "data": [
        {"id": "echo", "name": "Echo", "object": "model", "created": 1, "owned_by": "openai",
         "pipeline": {"type": "pipe", "valves": False}}]}
    assert registry.serves_pipelines(answer) and not registry.serves_pipelines({"data": []})
    assert not registry.serves_pipelines([{"id": "gpt"}])
    [entry] = registry.openai_entries(SERVER, registry.listed_models(answer))
    assert (entry["id"], entry["urlIdx"], entry["pipeline"]) == ("echo", 1, {"type": "pipe", "valves": False})
    assert registry.listed_models([{"id": "bare"}, "junk"]) == [{"id": "bare"}]
