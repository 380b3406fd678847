"""Deliveries from several threads: the runtime calls Python groutines from whichever thread
reports an event (LLDB's private state thread), and Python threads entering the runtime never
hold the GIL while they wait for it."""
import threading

import groutines as g

ROUNDS = 300


def test_a_groutine_started_on_one_thread_is_resumed_on_another(target):
    threads = []

    async def wanderer():
        threads.append(threading.get_ident())
        await g.call("f")
        threads.append(threading.get_ident())

    target.load(wanderer)
    worker = threading.Thread(target=target.call, args=(1, "f"))
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert threads == [threading.get_ident(), worker.ident]
    assert target.groutine("wanderer").state == "finished"


def test_deliveries_from_several_threads_at_once_neither_deadlock_nor_mix_up_returns(target):
    pairs = []

    async def checker():
        async for c in g.calls("work"):
            thread, n = c.thread_id, c.arg(0)
            ret = await c.returned()
            assert ret.thread_id == thread and ret.value == 2 * n
            pairs.append(thread)

    async def replier():
        while True:
            ev = await g.event("ping")
            ev.reply(ev["n"])

    target.load(checker)
    target.load(replier)

    def run(thread):
        for n in range(ROUNDS):
            target.call(thread, "work", args=[n])
            target.ret(thread, 2 * n)

    workers = [threading.Thread(target=run, args=(t,)) for t in (1, 2, 3)]
    for w in workers:
        w.start()
    for n in range(ROUNDS):  # the main thread fires meanwhile, as from the prompt
        assert target.fire("ping", n=n) == [n]
    for w in workers:
        w.join(timeout=60)
    assert not any(w.is_alive() for w in workers), "deadlock"
    assert target.passed, target.report()
    assert pairs  # (calls made while checker awaited a return are missed, not queued)
