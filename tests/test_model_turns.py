"""Many chats at once: requests take turns at the one local chat model in arrival order, each waiter learns its
place, streams never mix, and the server's other routes keep answering meanwhile."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from rag.app.runtime import MODEL_TURNS, WAIT_POLL_S, Waiting, ask_in_turn
from rag.generation.turns import TurnQueue
from rag.schema import Answer
from tests.fixtures_ui import SlowLocalGenerator

QUESTIONS = ["浈江区推荐了多少家企业申报高新技术企业？", "肇庆建成多少套乡镇干部周转房？", "乳源县多少个村级党组织参与双向承诺？"]


def question(i: int) -> str:
    return QUESTIONS[i % len(QUESTIONS)]


def scripted_answer(question: str) -> str:
    return next(a for key, a in SlowLocalGenerator.ANSWERS.items() if key in question)


def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


# -- the queue itself ---------------------------------------------------------------------------------------------
def test_turns_are_granted_in_arrival_order_and_each_waiter_knows_its_place():
    queue = TurnQueue()
    first = queue.join()
    assert first.wait(0) and first.ahead() == 0
    waiters = [queue.join() for _ in range(4)]
    assert [w.ahead() for w in waiters] == [1, 2, 3, 4] and len(queue) == 5
    served: list[int] = []

    def serve(i: int) -> None:
        with waiters[i] as turn:
            turn.wait()
            served.append(i)

    threads = [threading.Thread(target=serve, args=(i,)) for i in reversed(range(4))]  # started last-first
    for t in threads:
        t.start()
    time.sleep(0.05)
    assert served == []  # nobody overtakes the holder
    first.leave()
    for t in threads:
        t.join(10)
    assert served == [0, 1, 2, 3] and len(queue) == 0


def test_leaving_while_waiting_moves_the_others_up_and_frees_nothing_it_never_held():
    queue = TurnQueue()
    holder, gone, last = queue.join(), queue.join(), queue.join()
    assert last.ahead() == 2
    gone.leave()
    gone.leave()  # idempotent
    assert gone.ahead() == -1 and last.ahead() == 1 and not last.wait(0.01)
    holder.leave()
    assert last.wait(1) and last.ahead() == 0
    with pytest.raises(RuntimeError):
        gone.wait(0)


def test_a_queue_with_two_slots_serves_two_at_once_and_counts_places_from_the_slots():
    queue = TurnQueue(slots=2)
    a, b, c, d = (queue.join() for _ in range(4))
    assert [t.ahead() for t in (a, b, c, d)] == [0, 0, 1, 2]
    assert a.wait(0) and b.wait(0) and not c.wait(0.01)
    b.leave()
    assert c.wait(1) and d.ahead() == 1
    with pytest.raises(ValueError):
        TurnQueue(slots=0)


def test_the_plain_lock_form_excludes_and_releases_on_error():
    queue = TurnQueue()
    with pytest.raises(ValueError):
        with queue.turn():
            assert len(queue) == 1
            raise ValueError
    assert len(queue) == 0
    with queue.turn() as turn:
        assert turn.ahead() == 0


# -- chats in turn ------------------------------------------------------------------------------------------------
def _pipeline(ui_backend, generator):
    from rag.answer.pipeline import Pipeline

    return Pipeline(ui_backend.retriever("hybrid"), generator, k=5)


def test_local_model_chats_run_one_at_a_time_first_come_first_served(ui_backend, slow_model):
    slow_model.seconds = 0.1
    pipe = _pipeline(ui_backend, slow_model)
    n = 6
    results: dict[int, list] = {}
    holder = MODEL_TURNS.join()  # hold the model so every chat below queues behind it, in a known order
    assert holder.wait(5)

    def chat(i: int) -> None:
        results[i] = list(ask_in_turn(pipe, question(i)))

    threads = []
    for i in range(n):
        threads.append(threading.Thread(target=chat, args=(i,), name=f"chat-{i}"))
        threads[-1].start()
        wait_until(lambda: len(MODEL_TURNS) == i + 2)  # joined the line before the next one starts
    time.sleep(2 * WAIT_POLL_S)  # every waiter has looked at its place
    holder.leave()
    for t in threads:
        t.join(60)
    assert slow_model.overlaps == 0
    assert slow_model.order == [f"chat-{i}" for i in range(n)]
    for i, items in results.items():
        places = [item.ahead for item in items if isinstance(item, Waiting)]
        assert places and places[0] == i + 1 and places == sorted(places, reverse=True)  # its place, moving up
        assert places[-1] == 0  # and when its turn came
        answer = items[-1]
        assert isinstance(answer, Answer) and answer.question == question(i) and not answer.refused
        assert "[1]" in answer.answer
        text = "".join(x for x in items if isinstance(x, str))
        assert text == scripted_answer(question(i))  # this request's stream, and only it


def test_extractive_chats_do_not_wait_for_the_model(ui_backend):
    holder = MODEL_TURNS.join()
    assert holder.wait(5)
    try:
        items = list(ask_in_turn(_pipeline(ui_backend, None), QUESTIONS[0]))
    finally:
        holder.leave()
    assert not any(isinstance(x, Waiting) for x in items) and "47家企业" in items[-1].answer


def test_the_chat_bubble_shows_its_place_while_it_waits(ui_backend, slow_model, monkeypatch):
    from rag.app import builder
    from ui.app import respond

    monkeypatch.setattr(builder, "make_generator", lambda *a, **k: slow_model)
    holder = MODEL_TURNS.join()
    assert holder.wait(5)
    shown: list[str] = []

    def chat() -> None:
        for out in respond(ui_backend, QUESTIONS[1], [], [], 5, "hybrid", "auto", ""):
            shown.append(out[0][-1]["content"])

    thread = threading.Thread(target=chat)
    thread.start()
    wait_until(lambda: any("ahead of yours" in s for s in shown))
    holder.leave()
    thread.join(30)
    waiting = [s for s in shown if "ahead of yours" in s]
    assert "前面还有 1 个问题" in waiting[0] and "1 question is ahead of yours" in waiting[0]
    assert any("your turn" in s for s in shown) and "2629套" in shown[-1] and "ahead" not in shown[-1]


# -- over HTTP ----------------------------------------------------------------------------------------------------
def _stream_chat(url: str, question: str) -> dict:
    """One streaming /v1 chat: its content, the places it was told, whether it ended properly."""
    body = {"model": "default", "stream": True, "messages": [{"role": "user", "content": question}]}
    content, places, done = "", [], False
    with httpx.stream("POST", url + "v1/chat/completions", json=body, timeout=60) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith(": queued, "):
                places.append(int(line.split()[2]))
            elif line == "data: [DONE]":
                done = True
            elif line.startswith("data: "):
                chunk = json.loads(line[6:])
                content += chunk["choices"][0]["delta"].get("content") or ""
    return {"content": content, "places": places, "done": done}


def test_concurrent_api_chats_queue_and_health_stays_quick(slow_model_server):
    url, model = slow_model_server
    model.seconds = 0.4
    n = 6
    with ThreadPoolExecutor(n) as pool:
        futures = [pool.submit(_stream_chat, url, question(i)) for i in range(n)]
        wait_until(lambda: len(MODEL_TURNS) >= 6)  # one answering, five waiting
        t0 = time.perf_counter()
        health = httpx.get(url + "health", timeout=5)
        health_s = time.perf_counter() - t0
        waiting_then = len(MODEL_TURNS)
        results = [f.result(timeout=120) for f in futures]
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert health_s < 1.0 and waiting_then >= 6
    assert model.overlaps == 0 and len(model.order) == n
    for i, r in enumerate(results):
        assert r["done"] and "⚠️" not in r["content"]
        assert scripted_answer(question(i)).rstrip("。") in r["content"]  # its own answer
        assert "[1]" in r["content"]
    assert sum(1 for r in results if r["places"]) >= n - 1  # all but the first were told their place


def test_a_client_that_leaves_while_waiting_gives_up_its_place(slow_model_server):
    url, model = slow_model_server
    holder = MODEL_TURNS.join()
    assert holder.wait(5)
    body = {"model": "default", "stream": True, "messages": [{"role": "user", "content": question(0)}]}
    try:
        with httpx.stream("POST", url + "v1/chat/completions", json=body, timeout=30) as response:
            for line in response.iter_lines():
                if line.startswith(": queued"):
                    break  # it is in the line: hang up
        wait_until(lambda: len(MODEL_TURNS) == 1, timeout=15)
    finally:
        holder.leave()
    assert model.order == []  # it was never answered
