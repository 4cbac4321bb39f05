"""Saved conversations over HTTP on a real ``yuanwen serve --auth``: users kept apart, and the
store surviving a restart and a SIGKILL in the middle of an answer."""

from __future__ import annotations

import time

import httpx
import pytest

from rag.app.conversations import ConversationStore
from tests.fixtures_generation import FakeOpenAIServer
from tests.fixtures_server import Server

gradio_client = pytest.importorskip("gradio_client")

ALICE, BOB = ("alice", "pw-alice"), ("bob", "pw-bob")
QUESTION = "白云镇种植了多少亩茶树？"


@pytest.fixture
def slow_model():
    """A model server still writing its answer (one piece every 0.2 s for a minute) when yuanwen is killed."""
    server = FakeOpenAIServer()
    server.reply = " ".join(["白云镇"] * 300)
    server.delay = 0.2
    yield server
    server.close()


@pytest.fixture
def auth_server(served_data, slow_model, tmp_path):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(served_data, data)  # a fresh conversation store per test
    server = Server(data, ["--auth", ":".join(ALICE), "--auth", ":".join(BOB)],
                    env={"YUANWEN_OPENAI_BASE_URL": slow_model.base_url}).start()
    yield server
    server.stop()


def _client(server, login):
    return gradio_client.Client(server.url + "/", auth=login, verbose=False)


def test_two_users_cannot_see_each_others_conversations_or_feedback(auth_server):
    alice, bob = _client(auth_server, ALICE), _client(auth_server, BOB)
    mine = alice.predict(QUESTION, "", "", api_name="/chat")
    assert "3600" in mine["answer"] and mine["citations"][0]["source"] == "towns.txt"
    alice.predict(mine["turn_id"], "up", "right", api_name="/feedback")
    theirs = bob.predict("东湾港2022年货物吞吐量达到多少？", "", "", api_name="/chat")

    assert [c["id"] for c in alice.predict("", api_name="/conversations")["conversations"]] == [mine["conversation_id"]]
    assert [c["id"] for c in bob.predict("", api_name="/conversations")["conversations"]] == [theirs["conversation_id"]]
    seen = alice.predict(mine["conversation_id"], api_name="/conversation")
    assert seen["turns"][0]["feedback"] == {"rating": "up", "comment": "right"}
    for call in (lambda: bob.predict(mine["conversation_id"], api_name="/conversation"),
                 lambda: bob.predict(mine["turn_id"], "down", "", api_name="/feedback"),
                 lambda: bob.predict("那青松镇呢？", mine["conversation_id"], "", api_name="/chat")):
        with pytest.raises(Exception, match="no (conversation|answer)"):
            call()
    assert alice.predict(mine["conversation_id"], api_name="/conversation")["turns"][0]["feedback"]["rating"] == "up"
    # The page itself needs a login, and the OpenAI API is closed without --api-key.
    assert httpx.get(auth_server.url + "/v1/models").status_code == 401
    with pytest.raises(Exception):
        gradio_client.Client(auth_server.url + "/", auth=("alice", "wrong"), verbose=False)


def test_conversations_and_feedback_survive_a_restart_and_a_sigkill_mid_answer(auth_server, slow_model):
    alice = _client(auth_server, ALICE)
    first = alice.predict(QUESTION, "", "", api_name="/chat")
    alice.predict(first["turn_id"], "down", "check the number", api_name="/feedback")
    second = alice.predict("那青松镇呢？", first["conversation_id"], "", api_name="/chat")
    assert "4800" in second["answer"]

    auth_server.restart()
    alice = _client(auth_server, ALICE)
    conv = alice.predict(first["conversation_id"], api_name="/conversation")
    assert [t["question"] for t in conv["turns"]] == [QUESTION, "那青松镇呢？"]
    assert conv["turns"][0]["feedback"] == {"rating": "down", "comment": "check the number"}

    # A third question answered by a model that is still writing when the server is killed.
    job = alice.submit("白云镇茶农人均增收多少？", first["conversation_id"], "", 5, "bm25", "openai:slow", "",
                       api_name="/chat")
    assert slow_model.asked.wait(60), "the answer never reached the model"
    time.sleep(0.5)
    assert not job.done()
    auth_server.kill()

    store = ConversationStore.for_data_dir(auth_server.data)
    assert store.integrity() == "ok"
    auth_server.start()
    alice = _client(auth_server, ALICE)
    conv = alice.predict(first["conversation_id"], api_name="/conversation")
    assert [t["question"] for t in conv["turns"]] == [QUESTION, "那青松镇呢？"]  # the unfinished answer is not saved
    assert conv["turns"][0]["feedback"]["rating"] == "down"
    more = alice.predict("东湾港2022年货物吞吐量达到多少？", first["conversation_id"], "", api_name="/chat")
    assert more["turn_id"] > second["turn_id"]
