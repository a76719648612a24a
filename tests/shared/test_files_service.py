"""A file's ``data`` is written by the web and by the file jobs at once: no writer may undo another."""
from __future__ import annotations

import threading

from shared.db import session_scope
from shared.models import File
from shared.services import files


def _file() -> str:
    with session_scope() as session:
        file = File(user_id="u1", filename="a.txt", data={"status": "pending"})
        session.add(file)
        session.flush()
        return file.id


def test_concurrent_data_updates_merge_instead_of_overwriting():
    file_id = _file()
    second_started, second_done = threading.Event(), threading.Event()

    def later_writer() -> None:
        with session_scope() as session:
            file = session.get(File, file_id)  # loaded before the first writer commits: stale data
            second_started.set()
            files.update_data(session, file, job_id="job-2")
        second_done.set()

    with session_scope() as session:
        first = session.get(File, file_id)
        files.update_data(session, first, content="extracted text", status="completed")
        thread = threading.Thread(target=later_writer)
        thread.start()
        assert second_started.wait(10)
        assert not second_done.wait(0.3), "the second writer must wait for the first one's row lock"
    thread.join(10)
    assert second_done.is_set()
    with session_scope() as session:
        assert session.get(File, file_id).data == {"status": "completed", "content": "extracted text",
                                                   "job_id": "job-2"}
