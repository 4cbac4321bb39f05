"""A real Milvus standalone server (bench/milvus_server.py: PyPI ``milvus==2.3.5`` on free ports, stopped by PID
with SIGINT) for the tests, and a fixture that points yuanwen at either Milvus Lite or that server. The server
is started once per test session in a temporary folder and only ever listens for the length of the session.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from bench.milvus_server import MilvusServer


@pytest.fixture(scope="session")
def milvus_server():
    """One Milvus standalone server for the session; its URI."""
    pytest.importorskip("pymilvus", reason="pymilvus not installed (pip install 'yuanwen[milvus]')")
    folder = Path(tempfile.mkdtemp(prefix="yuanwen-milvus-"))
    server = MilvusServer(folder)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["lite", pytest.param("server", marks=pytest.mark.slow)])
def milvus_uri(request, monkeypatch):
    """Point yuanwen at Milvus Lite (a file beside the index) or at the session's Milvus server."""
    pytest.importorskip("pymilvus", reason="pymilvus not installed (pip install 'yuanwen[milvus]')")
    if request.param == "server":
        uri = request.getfixturevalue("milvus_server").uri
        monkeypatch.setenv("YUANWEN_MILVUS_URI", uri)
        return uri
    monkeypatch.delenv("YUANWEN_MILVUS_URI", raising=False)
    return "lite"
