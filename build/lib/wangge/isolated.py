"""Heavy work in a short-lived child process, and the heap given back after heavy work.

Reading and validating a big upload (a polygon of a million vertices, a hundred thousand
features) grows a process by a gigabyte or more, and CPython and glibc keep most of those pages
after the objects are freed: a served worker that did it once stays big. ``run_isolated`` does
such work in a fresh child process instead, whose memory goes back to the system when it exits;
only the (much smaller) result comes back, pickled. ``trim_heap`` is the remedy for what the
serving process itself allocated: a full collection, then glibc's ``malloc_trim(0)``, which
returns the free pages of every malloc arena to the system.

Children are spawned (a new interpreter that imports what the work needs: 1–2 s more a request),
not forked from the serving process, whose heap and threads they must not inherit. A fork
server that has imported the geo stack starts children faster, but stays resident next to every
worker with about 100 MB of its own; heavy work takes seconds anyway.

Errors cross the process boundary intact: a ``WanggeError`` raised in the child is raised again
in the caller with its class, messages, ``detail`` (and ``report`` for ``ValidationFailed``), so
the API answers with the same body as when the work runs in-process.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import multiprocessing
import os
import pickle
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any

from wangge.geo.errors import TooLarge, WanggeError

POLL_S = 0.5            # how often the caller checks the time limit and whether to give up
EXIT_GRACE_S = 5.0      # how long a child that has answered may take to exit before it is killed


class ChildFailed(RuntimeError):
    """The child process died without an answer (killed, out of memory, crashed)."""


class Abandoned(WanggeError):
    """The caller gave up waiting (the client went away); the child was stopped."""

    code = "abandoned"


def run_isolated(fn: Callable[..., Any], *args: Any, time_limit_s: float,
                 abandoned: Callable[[], bool] | None = None,
                 then: Callable[[Any], Any] | None = None, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` in a fresh child process (then ``then(result)`` there, if given:
    a small summary travels back faster than a big object); the result or the exception.

    ``fn``, ``then``, the arguments and the result must pickle (functions defined at module or
    class level). The child is killed when it runs longer than ``time_limit_s`` (``TooLarge``:
    the work is too big to finish in time) or when ``abandoned()`` turns true (``Abandoned``),
    which is asked every half second.
    """
    ctx = multiprocessing.get_context("spawn")
    reader, writer = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(writer, fn, then, args, kwargs), daemon=True,
                        name=f"wangge-isolated-{getattr(fn, '__name__', 'work')}")
    child.start()
    writer.close()  # the child holds the only writing end: its death reads as end of file
    deadline = time.monotonic() + time_limit_s
    answered = False
    try:
        while True:
            ready = wait([reader, child.sentinel], timeout=POLL_S)
            if reader in ready or reader.poll():
                try:
                    status, value = reader.recv()
                except EOFError:
                    raise ChildFailed(f"the child process ended without an answer "
                                      f"(exit code {_exit_code(child)})") from None
                answered = True
                break
            if child.sentinel in ready:
                raise ChildFailed(f"the child process ended without an answer "
                                  f"(exit code {_exit_code(child)})")
            if time.monotonic() > deadline:
                raise TooLarge(
                    f"处理超过 {time_limit_s:g} 秒上限，已停止；请拆分文件后重试。",
                    f"Processing took longer than {time_limit_s:g} s and was stopped; split the "
                    "file and try again.", time_limit_s=time_limit_s)
            if abandoned is not None and abandoned():
                raise Abandoned("请求已取消，处理已停止。", "The request was abandoned; processing stopped.")
    finally:
        reader.close()
        if answered:
            child.join(EXIT_GRACE_S)
        if child.is_alive():
            child.kill()
            child.join()
        child.close()
    if status == "error":
        raise _rebuild(*value)
    return value


def _exit_code(child: multiprocessing.process.BaseProcess) -> int | None:
    child.join(1.0)
    return child.exitcode


def _child(writer: Connection, fn: Callable[..., Any], then: Callable[[Any], Any] | None,
           args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    try:
        result = fn(*args, **kwargs)
        answer: tuple[str, Any] = ("ok", result if then is None else then(result))
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the caller
        answer = ("error", _portable(exc))
    try:
        writer.send(answer)
    except Exception as exc:  # the result does not pickle
        writer.send(("error", _portable(exc)))
    finally:
        writer.close()


def _portable(exc: BaseException) -> tuple[type[BaseException], tuple[Any, ...], dict[str, Any], str]:
    """An exception as (class, args, attributes, traceback text), which pickles.

    Domain errors do not pickle as themselves (their ``__init__`` wants both messages), so
    they travel as their parts and are put together again by ``_rebuild``."""
    where = "".join(traceback.format_exception(exc))
    parts = (type(exc), exc.args, dict(vars(exc)), where)
    try:
        pickle.dumps(parts)
    except Exception:
        return ChildFailed, (f"{type(exc).__name__}: {exc}",), {}, where
    return parts


def _rebuild(cls: type[BaseException], args: tuple[Any, ...], attrs: dict[str, Any],
             where: str) -> BaseException:
    exc = cls.__new__(cls)
    exc.args = args
    exc.__dict__.update(attrs)
    if not isinstance(exc, WanggeError):  # unexpected: keep where it happened for the log
        exc.add_note(f"raised in an isolated child process:\n{where}")
    return exc


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return None
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (ValueError, OSError, AttributeError):  # not glibc (musl, macOS, Windows)
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def trim_heap() -> bool:
    """Collect garbage and give free heap pages back to the system (glibc only).

    True when glibc returned memory. Costs a full collection plus a walk of the malloc arenas:
    tens of milliseconds in a served worker, worth it after heavy work only."""
    gc.collect()
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False
