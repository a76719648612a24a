"""The program of a code-execution sandbox, run as ``python -I -c <this file's text>`` in the run's own folder.
It forks once, so that the code runs as the first process of the PID namespace its parent made (when it ends,
every process it left ends too), waits for the worker's go-ahead on stdin (once it has noted that namespace), and
runs ``snippet.py`` as a notebook cell: the value of a last bare expression is written to ``.result``. Tracebacks
show the code's own lines only. It imports nothing of Switchyard."""
from __future__ import annotations

import ast
import linecache
import os
import signal
import sys
import traceback

SOURCE, RESULT, NAME = "snippet.py", ".result", "<cell>"


def run_cell() -> int:
    """The cell's exit status: 0, the code's own ``sys.exit`` status, or 1 after its traceback."""
    with open(SOURCE, encoding="utf-8") as file:
        source = file.read()
    linecache.cache[NAME] = (len(source), None, source.splitlines(True), NAME)
    try:
        tree = ast.parse(source, NAME)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        namespace = {"__name__": "__main__", "__builtins__": __builtins__}
        exec(compile(tree, NAME, "exec"), namespace)  # noqa: S102  (running the code is the point)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), NAME, "eval"), namespace)  # noqa: S307
            if value is not None:
                with open(RESULT, "w", encoding="utf-8") as file:
                    file.write(repr(value))
    except SystemExit as stop:
        if stop.code is None or isinstance(stop.code, int):
            return stop.code or 0
        print(stop.code, file=sys.stderr)
        return 1
    except BaseException as error:  # noqa: BLE001  (the code's failure is its output)
        frames = error.__traceback__
        while frames is not None and frames.tb_frame.f_code.co_filename != NAME:
            frames = frames.tb_next
        traceback.print_exception(type(error), error, frames)
        return 1
    return 0


def main() -> None:
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.read(0, 1)  # the worker's go-ahead, once it has noted the namespace (the code then reads an empty stdin)
            status = run_cell()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):  # end the same way, so that the worker can tell which limit stopped it
        signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
