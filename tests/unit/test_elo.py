"""The leaderboard's ratings equal Open WebUI's: its own ``_calculate_elo``, read from the 0.12.4 wheel, and ours
on the same fixed set of feedback, with and without query weights."""
from __future__ import annotations

import ast
import os
import random
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from shared.services import evaluations

ROOT = Path(__file__).resolve().parents[2]
MODELS = ["llama", "qwen", "gpt-fake", "mistral", "phi", "gemma"]


def _wheel() -> Path | None:
    named = os.environ.get("WEBUI_WHEEL")
    found = [Path(named)] if named else sorted((ROOT / ".venv" / "cache" / "webui").glob("open_webui-0.12.4-*.whl"))
    return found[0] if found and found[0].exists() else None


def open_webui_elo():
    """``_calculate_elo`` as Open WebUI 0.12.4 ships it (scripts/test.sh fetches the wheel before the tests)."""
    wheel = _wheel()
    if wheel is None:
        pytest.skip("the Open WebUI 0.12.4 wheel is not here (scripts/test.sh fetches it)")
    with zipfile.ZipFile(wheel) as archive:
        source = archive.read("open_webui/routers/evaluations.py").decode()
    function = next(node for node in ast.parse(source).body
                    if isinstance(node, ast.FunctionDef) and node.name == "_calculate_elo")
    function.args.args[0].annotation = function.returns = None
    for argument in function.args.args:
        argument.annotation = None
    namespace: dict = {}
    exec(compile(ast.Module([function], type_ignores=[]), "open_webui/routers/evaluations.py", "exec"), namespace)
    return namespace["_calculate_elo"]


def feedback_set(count: int = 400, seed: int = 7) -> list[tuple[str, dict]]:
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        model = rng.choice(MODELS)
        siblings = rng.sample([m for m in MODELS if m != model], rng.randint(0, 3))
        rating = rng.choice([1, -1, "1", "-1", 0, None])
        rows.append((f"f{index}", {"model_id": model, "sibling_model_ids": siblings, "rating": rating,
                                   "tags": rng.sample(["coding", "cooking", "travel", "math"], rng.randint(0, 2))}))
    return rows


@pytest.mark.parametrize("weighted", [False, True])
def test_the_ratings_are_open_webuis_on_the_same_feedback(weighted):
    theirs = open_webui_elo()
    rows = feedback_set()
    weights = {feedback_id: (index % 10) / 10 for index, (feedback_id, _data) in enumerate(rows)} if weighted else None
    expected = theirs([SimpleNamespace(id=feedback_id, data=data) for feedback_id, data in rows], weights)
    assert evaluations.elo(rows, weights) == expected
    assert len(expected) == len(MODELS) and any(s["rating"] != 1000.0 for s in expected.values())


def test_the_board_is_sorted_by_rounded_rating_with_counts_and_top_tags():
    rows = [("a", {"model_id": "x", "sibling_model_ids": ["y"], "rating": 1, "tags": ["coding"]}),
            ("b", {"model_id": "x", "sibling_model_ids": ["y"], "rating": "1", "tags": ["coding", "math"]}),
            ("c", {"model_id": "y", "sibling_model_ids": ["x"], "rating": -1})]
    board = evaluations.leaderboard(rows)["entries"]
    assert [(e["model_id"], e["won"], e["lost"], e["count"]) for e in board] == [("x", 3, 0, 3), ("y", 0, 3, 3)]
    assert board[0]["rating"] > 1000 > board[1]["rating"] and isinstance(board[0]["rating"], int)
    assert board[0]["top_tags"] == [{"tag": "coding", "count": 2}, {"tag": "math", "count": 1}]
