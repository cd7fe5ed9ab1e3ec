"""return_free_memory gives the heap's free pages back (glibc): a build's chart workers are forked
from the reading process, and its freed buckets would otherwise count again in each of them.
clean_workers start workers that hold none of this process's memory."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from concurrent.futures import ProcessPoolExecutor

import pytest

from reportgen import memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim, /proc")
def test_freed_heap_memory_is_returned_to_the_system():
    code = textwrap.dedent("""
        import os, numpy as np
        from reportgen.memory import return_free_memory
        def rss_mb():
            return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        held = [np.ones(1500) for _ in range(40000)]  # 12 KB each, from the heap: ~470 MB
        del held[::2]  # every other one freed: holes all over the heap, no free top to trim
        before = rss_mb()
        return_free_memory()
        print(before, rss_mb())
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after = map(float, out.stdout.split())
    if before - after < 50 and "musl" in subprocess.run(["ldd", "--version"], capture_output=True, text=True).stderr:
        pytest.skip("musl has no malloc_trim")
    assert before - after > 150  # about the 235 MB freed


def _sees_the_parents_object() -> bool:
    return hasattr(memory, "_set_by_the_parent")


def test_clean_workers_hold_nothing_of_this_process(monkeypatch):
    """A worker forked from a build would hold (and by its garbage collections copy) every chart
    of the build: PDF layout workers get their work pickled and need none of it."""
    monkeypatch.setattr(memory, "_set_by_the_parent", b"x" * 2**20, raising=False)
    with ProcessPoolExecutor(1, mp_context=memory.clean_workers("reportgen.memory")) as pool:
        assert pool.submit(_sees_the_parents_object).result() is False


def test_the_command_collects_reference_cycles_less_often_but_still_collects_them():
    """cli.entry raises the young generation's threshold (memory.CYCLE_COLLECTION_THRESHOLD):
    a build's objects live until it ends. Cycles made during the command are still freed."""
    code = textwrap.dedent("""
        import gc, weakref
        import reportgen.cli as cli
        class Node:
            pass
        def command():
            node = Node()
            node.me = node
            probe = weakref.ref(node)
            del node
            for _ in range(300_000):  # three times the threshold of cyclic garbage
                looped = []
                looped.append(looped)
            print(gc.get_threshold()[0], probe() is None)
            return 0
        cli.main = command
        cli.entry()
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [str(memory.CYCLE_COLLECTION_THRESHOLD), "True"]
    assert memory.CYCLE_COLLECTION_THRESHOLD > 700  # CPython's default: what the command raises
