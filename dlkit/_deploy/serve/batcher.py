"""Concurrent requests batched into one model call, as TensorFlow Serving's batching does.

The first request waiting starts a batch; requests arriving within ``window`` seconds join it
(up to ``max_batch`` samples); the batch runs in one call on the model's own thread, and each
request gets its rows back. A lone request waits at most ``window`` (2 ms by default). Requests
already queued when a batch starts always join it, which is what the tests rely on: no clock.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

Arrays = dict[str, np.ndarray]
ModelCall = Callable[[Arrays], list[np.ndarray]]


@dataclass
class Stats:
    """What the batcher has done: model calls, requests and samples."""

    calls: int = 0
    requests: int = 0
    samples: int = 0
    largest: int = 0  # samples in the largest call
    sizes: list[int] = field(default_factory=list)  # requests per call, the last 1000


class Batcher:
    """Runs `call` on batches merged from concurrent `predict` calls."""

    def __init__(self, call: ModelCall, *, max_batch: int = 256, window: float = 0.002) -> None:
        self.call, self.max_batch, self.window = call, max_batch, window
        self.queue: asyncio.Queue = asyncio.Queue()
        self.stats = Stats()
        self.thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="dlkit-model")
        self.worker: asyncio.Task | None = None
        self.held: tuple | None = None  # a request that starts the next batch

    async def predict(self, inputs: Arrays) -> list[np.ndarray]:
        """The model's outputs for `inputs`, computed in a batch with other requests."""
        if self.worker is None or self.worker.done():
            self.worker = asyncio.get_running_loop().create_task(self._work())
        future = asyncio.get_running_loop().create_future()
        await self.queue.put((inputs, future))
        return await future

    async def close(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
        self.thread.shutdown(wait=False, cancel_futures=True)

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            items = await self._collect(loop)
            merged = {k: np.concatenate([inputs[k] for inputs, _ in items])
                      for k in items[0][0]}
            try:
                outputs = await loop.run_in_executor(self.thread, self.call, merged)
            except Exception as exc:  # noqa: BLE001 - the requests get it; the server goes on
                for _, future in items:
                    if not future.done():
                        future.set_exception(exc)
                continue
            self._count(items)
            start = 0
            for inputs, future in items:
                rows = len(next(iter(inputs.values())))
                if not future.done():  # its client may have gone away
                    future.set_result([o[start:start + rows] for o in outputs])
                start += rows

    async def _collect(self, loop: asyncio.AbstractEventLoop) -> list:
        """The first waiting request and those that join it within the window."""
        first, self.held = self.held, None
        items = [first if first is not None else await self.queue.get()]
        samples = _rows(items[0][0])
        deadline = loop.time() + self.window
        while samples < self.max_batch:
            try:
                item = self.queue.get_nowait()
            except asyncio.QueueEmpty:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    item = await asyncio.wait_for(self.queue.get(), remaining)
                except TimeoutError:
                    break
            if samples + _rows(item[0]) > self.max_batch:
                self.held = item  # too large to join: it starts the next batch
                break
            items.append(item)
            samples += _rows(item[0])
        return items

    def _count(self, items: list) -> None:
        samples = sum(_rows(inputs) for inputs, _ in items)
        self.stats.calls += 1
        self.stats.requests += len(items)
        self.stats.samples += samples
        self.stats.largest = max(self.stats.largest, samples)
        self.stats.sizes = [*self.stats.sizes[-999:], len(items)]


def _rows(inputs: Arrays) -> int:
    return len(next(iter(inputs.values())))
