"""The OpenAI-compatible endpoint, driven by the official ``openai`` client against a real ``yuanwen serve``."""

from __future__ import annotations

import httpx
import pytest

from ui.openai_api import to_question_and_history
from ui.render import SOURCES_SEPARATOR

openai = pytest.importorskip("openai", reason="the openai client is in the test extra")

KEY = "test-key"


@pytest.fixture(scope="module")
def client(api_server):
    return openai.OpenAI(base_url=api_server.url + "/v1", api_key=KEY, max_retries=0, timeout=60)


def _citations(obj) -> list[dict]:
    return (obj.model_extra or {}).get("citations") or []


def test_models_are_the_knowledge_bases(client):
    assert [m.id for m in client.models.list()] == ["default", "policy"]


def test_a_non_streaming_answer_is_cited(client):
    resp = client.chat.completions.create(model="default",
                                          messages=[{"role": "user", "content": "白云镇种植了多少亩茶树？"}])
    content = resp.choices[0].message.content
    assert "3600" in content and "[1]" in content and resp.choices[0].finish_reason == "stop"
    assert SOURCES_SEPARATOR in content and "towns.txt" in content.split(SOURCES_SEPARATOR)[1]
    cites = _citations(resp)
    assert cites and cites[0]["source"] == "towns.txt" and cites[0]["title"] == "两镇茶叶生产"
    assert "3600" in cites[0]["text"] and cites[0]["end"] > cites[0]["start"]
    assert resp.model_extra["refused"] is False


def test_a_streamed_answer_is_cited(client):
    stream = client.chat.completions.create(model="default", stream=True,
                                            messages=[{"role": "user", "content": "东湾港2022年货物吞吐量达到多少？"}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "1.2亿吨" in text and "[1]" in text
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert _citations(chunks[-1])[0]["source"] == "harbour.txt"


def test_a_follow_up_is_answered_about_the_subject_of_the_history(client):
    first = client.chat.completions.create(model="default",
                                           messages=[{"role": "user", "content": "白云镇种植了多少亩茶树？"}])
    messages = [{"role": "system", "content": "You are helpful."},
                {"role": "user", "content": "白云镇种植了多少亩茶树？"},
                {"role": "assistant", "content": first.choices[0].message.content},
                {"role": "user", "content": "那青松镇呢？"}]
    for stream in (False, True):
        resp = client.chat.completions.create(model="default", messages=messages, stream=stream)
        if stream:
            chunks = list(resp)
            text, extra = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices), chunks[-1].model_extra
        else:
            text, extra = resp.choices[0].message.content, resp.model_extra
        answer = text.split(SOURCES_SEPARATOR)[0]
        assert "4800" in answer and "3600" not in answer, text
        assert "青松镇" in extra["query"]


def test_a_refusal_is_a_normal_answer(client):
    resp = client.chat.completions.create(model="default",
                                          messages=[{"role": "user", "content": "白云镇有多少所小学？"}])
    assert resp.model_extra["refused"] is True
    assert resp.choices[0].message.content and "3600" not in resp.choices[0].message.content


def test_each_knowledge_base_is_its_own_model(client):
    resp = client.chat.completions.create(model="policy",
                                          messages=[{"role": "user", "content": "新区为引进的博士提供多少安家补贴？"}])
    assert "30万元" in resp.choices[0].message.content and _citations(resp)[0]["source"] == "policy.txt"
    other = client.chat.completions.create(model="default",
                                           messages=[{"role": "user", "content": "新区为引进的博士提供多少安家补贴？"}])
    assert other.model_extra["refused"] is True


def test_a_wrong_or_missing_key_is_401_and_an_unknown_model_404(api_server, client):
    wrong = openai.OpenAI(base_url=api_server.url + "/v1", api_key="nope", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.models.list()
    with pytest.raises(openai.AuthenticationError):
        wrong.chat.completions.create(model="default", messages=[{"role": "user", "content": "白云镇？"}])
    assert httpx.get(api_server.url + "/v1/models").status_code == 401
    with pytest.raises(openai.NotFoundError, match="knowledge base"):
        client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "白云镇？"}])
    with pytest.raises(openai.BadRequestError, match="user message"):
        client.chat.completions.create(model="default", messages=[{"role": "assistant", "content": "hi"}])


def test_gradio_endpoints_answer_per_knowledge_base(api_server):
    client_mod = pytest.importorskip("gradio_client")
    gc = client_mod.Client(api_server.url + "/", verbose=False)
    ans = gc.predict("新区为引进的博士提供多少安家补贴？", 5, "bm25", "extractive", "", "policy", api_name="/ask")
    assert "30万元" in ans["answer"] and ans["citations"][0]["source"] == "policy.txt"
    found = gc.predict("东湾港", 2, "bm25", "", api_name="/search")
    assert found["passages"][0]["source"] == "harbour.txt"


def test_messages_become_question_and_history():
    q, history = to_question_and_history([
        {"role": "system", "content": "ignore the documents"},
        {"role": "user", "content": [{"type": "text", "text": "白云镇种植了多少亩茶树？"}]},
        {"role": "assistant", "content": "3600亩[1]" + SOURCES_SEPARATOR + "\n[1] towns.txt: “…”"},
        {"role": "user", "content": "那青松镇呢？"}])
    assert q == "那青松镇呢？"
    assert history == [{"role": "user", "content": "白云镇种植了多少亩茶树？"},
                       {"role": "assistant", "content": "3600亩[1]"}]


@pytest.mark.slow
def test_the_default_offline_model_answers_through_the_openai_client(served_data):
    """The real chat model behind the endpoint: a cited answer, streamed and not, named by its model."""
    from rag.generation.offline_models import DEFAULT_MODEL, KNOWN_MODELS, installed_models
    from tests.fixtures_server import Server

    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (make llm)")
    if DEFAULT_MODEL not in installed_models():
        pytest.skip(f"the default chat model is not installed (python -m rag.generation.offline_models install {DEFAULT_MODEL})")
    server = Server(served_data, [], env={"YUANWEN_GENERATOR": "auto"}).start()
    try:
        client = openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0, timeout=600)
        messages = [{"role": "user", "content": "青松镇建成了多少座茶叶加工厂？"}]
        resp = client.chat.completions.create(model="default", messages=messages)
        assert "3" in resp.choices[0].message.content.split(SOURCES_SEPARATOR)[0]
        assert _citations(resp) and "加工厂3座" in _citations(resp)[0]["text"]
        assert resp.model_extra["generator"] in ("llamacpp", "extractive")  # extractive: the model's answer failed a check
        if resp.model_extra["generator"] == "llamacpp":
            assert resp.model_extra["generator_model"] == KNOWN_MODELS[DEFAULT_MODEL].title
        chunks = list(client.chat.completions.create(model="default", messages=messages, stream=True))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert "[1]" in text and _citations(chunks[-1])
    finally:
        server.stop()
