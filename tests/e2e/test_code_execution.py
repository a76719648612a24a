"""Code execution end to end (web -> Redis -> worker -> sandboxed child processes -> back): a snippet's output and
last value come back in Open WebUI's shape; a loop, a memory blow-up, a fork bomb, a flood of output, a network
call and a read of the data directory each end with a clear error in ``stderr``, and the worker then serves the
next run. On the Jupyter engine the same route runs the code in a (fake) Jupyter server's kernel, signed in with
a token or a password. The worker runs as root here, so the code runs as ``nobody``, in namespaces of its own."""
from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest
import requests

from shared.extensions import snippets
from tests.conftest import DATA_DIR
from tests.e2e.processes import web_server
from tests.fakes.fixtures import fake_jupyter, jupyter_server  # noqa: F401
from tests.fakes.jupyter import PASSWORD, TOKEN
from tests.helpers import bearer
from tests.jobs.worker import running_worker

LIMITS = {"CODE_EXECUTION_TIME_LIMIT_SECONDS": "3", "CODE_EXECUTION_MEMORY_LIMIT_MB": "300",
          "CODE_EXECUTION_OUTPUT_LIMIT_KB": "64", "CODE_EXECUTION_MAX_PROCESSES": "16"}
"""``CODE_EXECUTION_PYTHON`` is left to its default: the worker's interpreter, or the system's when the sandbox's
account cannot start it (the virtualenv may live under root's home)."""


@pytest.fixture(scope="module")
def listener():
    """A TCP listener on loopback that answers ``hello`` to whoever connects."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            connection.sendall(b"hello")
            connection.close()
    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1]
    server.close()


@pytest.fixture(scope="module")
def live(database):
    Path(DATA_DIR).chmod(0o755)  # as an operator may leave it: the worker closes it to the code's account
    secret = Path(DATA_DIR, "secret.txt")
    secret.write_text("not for executed code")
    secret.chmod(0o644)
    with running_worker(threads=2, modules=(), env=LIMITS), web_server() as url:
        yield url


@pytest.fixture
def configure(live, admin):
    """Store code-execution settings as an admin does."""
    def store(**fields) -> None:
        requests.post(f"{live}/api/v1/configs/code_execution", headers=bearer(admin["token"]),
                      json={"ENABLE_CODE_EXECUTION": True, **fields}, timeout=30).raise_for_status()
    return store


@pytest.fixture
def post_code(live, make_user, configure):
    configure()
    token = make_user()["token"]
    return lambda code: requests.post(f"{live}/api/v1/utils/code/execute", headers=bearer(token),
                                      json={"code": code}, timeout=60)


@pytest.fixture
def execute(post_code):
    def run(code: str) -> dict:
        answer = post_code(code)
        assert answer.status_code == 200, answer.text
        return answer.json()
    return run


def test_a_snippet_answers_its_output_and_its_last_value(execute):
    answer = execute("import os\nprint('hello', 6 * 7)\nprint('uid', os.getuid(), 'pid', os.getpid())\n{'n': 1}")
    assert answer["stdout"] == f"hello 42\nuid {65534 if os.geteuid() == 0 else os.geteuid()} pid 1"
    assert (answer["stderr"], answer["result"]) == ("", "{'n': 1}")
    failed = execute("x = 1\n1 / x0")
    assert failed["stdout"] == "" and failed["stderr"].endswith("NameError: name 'x0' is not defined")
    assert 'File "<cell>", line 2' in failed["stderr"]


@pytest.mark.parametrize(("code", "expected"), [
    ("while True:\n    pass", "Execution timed out after 3 s"),
    ("block = bytearray(2 * 1024 ** 3)", "ran out of CPU time or memory (limit 300 MB)"),
    ("import os\nwhile True:\n    os.fork()", "limit of 16 processes"),
    ("while True:\n    print('x' * 1000)", "printed more than 64 KB"),
    ("import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)", "Network is unreachable"),
    ("print(open({secret!r}).read())", "PermissionError"),
])
def test_each_limit_ends_the_run_with_a_clear_error_and_the_worker_serves_the_next(execute, listener, code,
                                                                                   expected):
    if expected == "PermissionError" and os.geteuid() != 0:
        pytest.skip("without root the code runs as the worker's own account, which may read its data directory")
    secret = repr(str(Path(DATA_DIR, "secret.txt")))  # here, not in the ids: each pytest process has its own
    answer = execute(code.replace("{port}", str(listener)).replace("{secret!r}", secret))
    assert expected in answer["stderr"], answer
    assert "not for executed code" not in answer["stdout"]
    assert execute("print('next')") == {"stdout": "next", "stderr": "", "result": ""}


def test_a_process_that_leaves_its_session_is_still_ended(execute):
    answer = execute("import os\nprint('leaving', flush=True)\nos.setsid()\nos.execvp('sleep', ['sleep', '617'])")
    assert answer["stdout"] == "leaving" and "Execution timed out" in answer["stderr"]
    assert not [line for line in os.popen("ps -eo args").read().splitlines() if line == "sleep 617"]


def test_the_listener_is_reachable_when_the_network_is_allowed(listener):
    """The network test above fails for the namespace, not for a listener nobody could reach."""
    limits = snippets.SnippetLimits(seconds=5, memory_mb=300, output_bytes=4096, processes=16, network=True)
    answer = snippets.run(f"import socket\nsocket.create_connection(('127.0.0.1', {listener})).recv(5)", limits)
    assert answer == {"stdout": "", "stderr": "", "result": "b'hello'"}


@pytest.mark.parametrize("auth", ["token", "password"])
def test_the_jupyter_engine_runs_the_code_in_a_kernel_and_deletes_it(execute, configure, fake_jupyter, auth):
    configure(CODE_EXECUTION_ENGINE="jupyter", CODE_EXECUTION_JUPYTER_URL=fake_jupyter.url,
              CODE_EXECUTION_JUPYTER_AUTH=auth, CODE_EXECUTION_JUPYTER_AUTH_TOKEN=TOKEN,
              CODE_EXECUTION_JUPYTER_AUTH_PASSWORD=PASSWORD)
    assert execute("print('from the kernel')\n6 * 7") == {"stdout": "from the kernel", "stderr": "", "result": "42"}
    assert execute("1 / 0")["stderr"] == "ZeroDivisionError: division by zero"
    assert fake_jupyter.kernels == set() and len(fake_jupyter.deleted) == 2
    if auth == "password":
        assert any(r.path == "/login" and r.method == "POST" for r in fake_jupyter.requests)


def test_a_jupyter_server_that_refuses_or_stays_silent(post_code, configure, fake_jupyter):
    configure(CODE_EXECUTION_ENGINE="jupyter", CODE_EXECUTION_JUPYTER_URL=fake_jupyter.url,
              CODE_EXECUTION_JUPYTER_AUTH="token", CODE_EXECUTION_JUPYTER_AUTH_TOKEN="wrong",
              CODE_EXECUTION_JUPYTER_TIMEOUT=2)
    refused = post_code("print(1)")
    assert refused.status_code == 403 and refused.json()["detail"] == "Jupyter: Forbidden"
    configure(CODE_EXECUTION_JUPYTER_AUTH_TOKEN=TOKEN)
    fake_jupyter.silent = True
    silent = post_code("print(1)")
    assert silent.status_code == 200 and silent.json()["stderr"] == "Execution timed out."
    assert fake_jupyter.kernels == set()
    configure(CODE_EXECUTION_JUPYTER_URL="http://127.0.0.1:9")
    gone = post_code("print(1)")
    assert gone.status_code == 502 and "Jupyter: could not reach" in gone.json()["detail"]
    configure(CODE_EXECUTION_ENGINE="pyodide")
    assert post_code("print('sandbox again')").json()["stdout"] == "sandbox again"
