"""Fixtures for the generation tests: a tiny random chat model, a fake OpenAI-compatible server, fake part packages."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

_TRAINING_TEXT = [
    "The quick brown fox jumps over the lazy dog.",
    "Answer the question from the passages and cite them.",
    "浈江区近年来推荐了多少家企业申报高新技术企业?",
    "共投资200多万元建设完善人才公寓。",
    "原文：根据文档回答问题，并给出引用。",
    "system user assistant question answer passage",
]


@pytest.fixture(scope="session")
def tiny_chat_model_dir(tmp_path_factory) -> Path:
    """A 2-layer, 64-wide random LlamaForCausalLM with a byte-level BPE tokenizer and a ChatML template, on disk."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    bpe.train_from_iterator(_TRAINING_TEXT, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>", bos_token=None
    )
    tokenizer.chat_template = CHATML_TEMPLATE

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    model = LlamaForCausalLM(config)
    folder = tmp_path_factory.mktemp("tiny-chat-model")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


class FakeOpenAIServer:
    """An OpenAI-compatible /v1/chat/completions on 127.0.0.1 that streams ``reply`` word by word as SSE.

    ``fail_first`` requests get HTTP ``fail_status`` instead; every request body and header set is recorded.
    ``delay`` seconds pass between pieces (a model still writing); ``asked`` is set once a stream has begun.
    """

    def __init__(self):
        self.reply = "你好 world, this is the answer."
        self.delay = 0.0
        self.asked = threading.Event()
        self.fail_first = 0
        self.fail_status = 500
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                server.headers.append(dict(self.headers))
                if self.path != "/v1/chat/completions":
                    return self._plain(404, "not found")
                if len(server.requests) <= server.fail_first:
                    return self._plain(server.fail_status, "server failure")
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(b": keep-alive comment\n\n")
                server.asked.set()
                pieces = [w + " " for w in server.reply.split(" ")]
                pieces[-1] = pieces[-1].rstrip()
                try:
                    for piece in [{"role": "assistant"}] + [{"content": p} for p in pieces]:
                        event = {"choices": [{"index": 0, "delta": piece, "finish_reason": None}]}
                        self.wfile.write(f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode())
                        self.wfile.flush()
                        time.sleep(server.delay)
                    self.wfile.write(b"data: [DONE]\n\n")
                except OSError:  # the client went away mid-stream
                    pass
                self.close_connection = True

            def _plain(self, status: int, text: str):
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def close(self):
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def openai_server():
    server = FakeOpenAIServer()
    yield server
    server.close()


@pytest.fixture
def closed_port_url() -> str:
    """A base URL on which nothing listens."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def make_part_package(site: Path, dist_name: str, relative_path: str, content: bytes) -> Path:
    """Install a fake distribution into ``site`` (a folder on sys.path) holding one data file; returns the file."""
    folder = site / f"{dist_name.replace('-', '_')}-1.0.dist-info"
    folder.mkdir(parents=True)
    (folder / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: 1.0\n")
    (folder / "RECORD").write_text(f"{relative_path},,\n{folder.name}/METADATA,,\n{folder.name}/RECORD,,\n")
    data_file = site / relative_path
    data_file.parent.mkdir(parents=True, exist_ok=True)
    data_file.write_bytes(content)
    return data_file
