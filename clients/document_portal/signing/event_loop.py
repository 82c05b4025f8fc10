"""pyHanko's synchronous API runs its coroutines with asyncio.run, which refuses to start
where an event loop already runs in the calling thread (an asynchronous server, Playwright
in the browser tests). `outside_any_event_loop` runs such a call in a short-lived thread of
its own there, and directly everywhere else (WSGI workers have no loop)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def outside_any_event_loop(function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # none here: the common case
        return function(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pyhanko") as pool:
        return pool.submit(function, *args, **kwargs).result()
