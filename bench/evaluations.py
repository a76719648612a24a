"""The leaderboard's recompute time (what the ``evaluations.leaderboard`` job does) at 10,000 and 100,000 ratings.

    .venv/bin/python bench/evaluations.py [--sizes 10000,100000] [--runs 5]

Creates a scratch database on ``BENCH_PG_ADMIN_URL`` (default postgresql://postgres@127.0.0.1:5432/postgres), fills
it with ratings of 20 models against one to three siblings, with tags, then times, in-process, reading every
rating and computing the Elo board (``evaluations.rated`` + ``evaluations.leaderboard``). Prints one table of
medians; the database is dropped at the end.
"""
from __future__ import annotations

import argparse
import random
import statistics
import time

from harness import isolate, machine, print_table, scratch_database

DB_NAME = isolate("sy_bench_evaluations")
MODELS = [f"model-{index}" for index in range(20)]
TAGS = ["coding", "cooking", "travel", "math", "writing", "history"]


def fill(count: int, rng: random.Random) -> None:
    from sqlalchemy import insert

    from shared.db import session_scope
    from shared.models import Feedback
    from shared.models.base import new_id, now

    rows = []
    for _ in range(count):
        model = rng.choice(MODELS)
        rows.append({"id": new_id(), "user_id": "bench", "version": 0, "type": "rating", "meta": {}, "snapshot": None,
                     "data": {"rating": rng.choice([1, -1]), "model_id": model, "tags": rng.sample(TAGS, 2),
                              "sibling_model_ids": rng.sample([m for m in MODELS if m != model], rng.randint(1, 3))},
                     "created_at": now(), "updated_at": now()})
    with session_scope() as session:
        for start in range(0, len(rows), 5000):
            session.execute(insert(Feedback), rows[start:start + 5000])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"at start: {machine()}\n")
    from shared.db import session_scope
    from shared.services import evaluations

    rng, stored, rows = random.Random(1), 0, []
    with scratch_database(DB_NAME):
        for size in (int(part) for part in args.sizes.split(",")):
            fill(size - stored, rng)
            stored = size
            reads, computes = [], []
            for _ in range(args.runs):
                started = time.perf_counter()
                with session_scope() as session:
                    rated = evaluations.rated(session)
                read = time.perf_counter()
                board = evaluations.leaderboard(rated)
                reads.append(read - started)
                computes.append(time.perf_counter() - read)
            rows.append((f"{size:,}", f"{statistics.median(reads) * 1000:.0f}",
                         f"{statistics.median(computes) * 1000:.0f}",
                         f"{(statistics.median(reads) + statistics.median(computes)) * 1000:.0f}",
                         str(len(board["entries"]))))
    print_table(("ratings", "read ms", "Elo ms", "recompute ms", "models"), rows)


if __name__ == "__main__":
    main()
