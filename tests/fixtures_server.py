"""A real ``yuanwen serve`` process over a small data folder with two knowledge bases.

The indexes are built with the tiny sentence-transformers model (``tiny_st_model_dir``) and the
server retrieves with BM25 and answers extractively, so it starts in seconds and loads no real model.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.fixtures_ui import free_port

REPO = Path(__file__).resolve().parents[1]
STARTUP_S = 120

TOWNS = {
    "towns.txt": "两镇茶叶生产\n\n白云镇2023年共种植茶树3600亩，茶农人均增收2100元。\n\n"
                 "青松镇2023年共种植茶树4800亩，建成茶叶加工厂3座。",
    "harbour.txt": "港口建设\n\n东湾港2022年货物吞吐量达到1.2亿吨。",
}
POLICY = {"policy.txt": "人才政策\n\n新区为每位引进的博士提供安家补贴30万元。"}


def write_docs(folder: Path, docs: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in docs.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def served_data(tmp_path_factory, tiny_st_model_dir) -> Path:
    """A data folder: ``default`` (the two towns, the harbour) and ``policy`` (one policy text)."""
    from rag.app.config import Settings
    from rag.ingest.indexing import update_index
    from rag.app.knowledge_bases import create_kb

    root = tmp_path_factory.mktemp("served")
    data = root / "data"
    update_index([write_docs(root / "towns", TOWNS)], data / "index", embedder_name=str(tiny_st_model_dir))
    kb = create_kb(Settings(index=str(data / "index")), "policy", embedder=str(tiny_st_model_dir))
    update_index([write_docs(root / "policy", POLICY)], kb.index_dir, embedder_name=str(tiny_st_model_dir))
    return data


class Server:
    """One ``python -m rag serve`` subprocess; ``restart`` and ``kill`` keep the data folder."""

    def __init__(self, data: Path, args: list[str], env: dict | None = None):
        self.data, self.args, self.env = data, args, env or {}
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.log = data.parent / f"serve-{os.getpid()}-{time.monotonic_ns()}.log"

    def start(self) -> "Server":
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PYTHONPATH": str(REPO), "YUANWEN_RETRIEVER": "bm25", "YUANWEN_GENERATOR": "extractive",
               **self.env}
        env.pop("YUANWEN_CONFIG", None)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "rag", "serve", "--index", str(self.data / "index"), "--port", str(port),
                 *self.args], cwd=self.data.parent, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + STARTUP_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"yuanwen serve exited early:\n{self.log.read_text(errors='replace')[-3000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        pytest.fail(f"yuanwen serve did not come up in {STARTUP_S} s:\n{self.log.read_text(errors='replace')[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> "Server":
        self.stop()
        return self.start()


@pytest.fixture(scope="module")
def api_server(served_data):
    """``yuanwen serve --api-key test-key`` over ``served_data``: yields the Server."""
    server = Server(served_data, ["--api-key", "test-key"]).start()
    try:
        yield server
    finally:
        server.stop()
