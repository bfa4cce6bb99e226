"""A bounded load test on loopback: 2,000 requests from 8 threads, nothing lost."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor

import pytest

THREADS = 8
PER_THREAD = 250  # 8 x 250 = 2,000 requests


@pytest.mark.timeout(240)
def test_two_thousand_requests_from_several_threads(open_registry, http, world):
    def work(worker: int) -> list[str]:
        client = http(open_registry.url)
        digests = []
        for i in range(PER_THREAD // 2):
            data = f"worker {worker} blob {i}".encode()
            reply = client.push_blob(f"load/w{worker}", data)  # POST + PUT: 2 requests
            assert reply.status == 201, reply
            digests.append(reply.headers["docker-content-digest"])
            assert digests[-1] == "sha256:" + hashlib.sha256(data).hexdigest()
        return digests

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(work, range(THREADS)))
    registry = world.registry("localhost:5000")
    for worker, digests in enumerate(results):
        assert len(set(digests)) == PER_THREAD // 2
        staged = registry._linked(f"load/w{worker}")
        assert set(digests) <= staged
    assert registry.invariant_errors() == []
