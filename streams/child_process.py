"""Stopping child processes: ask politely, wait, then insist."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from typing import Any


async def terminate(
    process: subprocess.Popen[Any] | None, *, timeout: float, sig: int = signal.SIGTERM
) -> None:
    """Send ``sig``, wait up to ``timeout`` seconds for exit, then SIGKILL."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    if process.poll() is None:
        process.kill()
        process.wait()
