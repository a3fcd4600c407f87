"""Wait for a condition instead of sleeping a fixed time.

`eventually(predicate)` calls `predicate` (sync or async) until it returns a
truthy value and returns that value. Exceptions named in `ignoring` count as
"not yet" and are retried; any other exception propagates at once. When the
timeout passes, it raises `AssertionError` with the message, the last value
and (chained) the last ignored exception, so a failing test says what it was
waiting for and what it saw instead.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")

_NOTHING: Any = object()


@overload
async def eventually(
    predicate: Callable[[], Awaitable[T | None]],
    *,
    timeout: float = ...,
    interval: float = ...,
    message: str | Callable[[], str] | None = ...,
    ignoring: tuple[type[BaseException], ...] = ...,
) -> T: ...


@overload
async def eventually(
    predicate: Callable[[], T | None],
    *,
    timeout: float = ...,
    interval: float = ...,
    message: str | Callable[[], str] | None = ...,
    ignoring: tuple[type[BaseException], ...] = ...,
) -> T: ...


async def eventually(
    predicate: Callable[[], Any],
    *,
    timeout: float = 30.0,
    interval: float = 0.05,
    message: str | Callable[[], str] | None = None,
    ignoring: tuple[type[BaseException], ...] = (),
) -> Any:
    """Return the first truthy result of `predicate`, retrying every `interval`
    seconds for at most `timeout` seconds (the predicate runs at least once).

    An async predicate still running at the deadline is cancelled and counts
    as a timeout (it always gets at least `interval` seconds).
    """
    if timeout < 0 or interval <= 0:
        raise ValueError("eventually: timeout must be >= 0 and interval > 0")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last_value: Any = _NOTHING
    last_error: BaseException | None = None
    attempts = 0
    hung = False
    while True:
        attempts += 1
        try:
            result = predicate()
            if inspect.isawaitable(result):
                # Bound a hanging predicate by the time left (but give it at
                # least one interval, so timeout=0 still means "try once").
                scope = asyncio.timeout_at(max(deadline, loop.time() + interval))
                try:
                    async with scope:
                        result = await result
                except TimeoutError:
                    if scope.expired():
                        hung = True
                        break
                    raise
        except ignoring as exc:
            last_error, last_value = exc, _NOTHING
        else:
            if result:
                return result
            last_error, last_value = None, result
        now = loop.time()
        if now >= deadline:
            break
        await asyncio.sleep(min(interval, deadline - now))
    raise _timeout_error(
        message,
        timeout=timeout,
        attempts=attempts,
        hung=hung,
        last_value=last_value,
        last_error=last_error,
    ) from last_error


def _timeout_error(
    message: str | Callable[[], str] | None,
    *,
    timeout: float,
    attempts: int,
    hung: bool,
    last_value: Any,
    last_error: BaseException | None,
) -> AssertionError:
    text = message() if callable(message) else message
    parts = [text or "condition not met", f"not met within {timeout}s ({attempts} tries)"]
    if hung:
        parts.append("the last try was still running at the deadline")
    if last_error is not None:
        parts.append(f"last error: {last_error!r}")
    elif last_value is not _NOTHING:
        parts.append(f"last value: {last_value!r}")
    return AssertionError("; ".join(parts))
