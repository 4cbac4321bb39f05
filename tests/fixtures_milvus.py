"""A real Milvus standalone server (PyPI ``milvus==2.3.5``, the package behind ``milvus-server``) for the tests, and
a fixture that points yuanwen at either Milvus Lite or that server.

The server gets free ports and a temporary data folder, is started once per test session, and is stopped by
its PID with SIGINT (its wrapper then stops the server child; SIGTERM would orphan it), with SIGKILL to the
whole process group for stragglers. It is started through the package's own ``MilvusServer`` wrapper — what
``milvus-server`` runs — with one line added to its config: an embedded-etcd config file, because the
``milvus-server`` command always binds etcd to 2379/2380 and a second server (or any etcd) on the machine
makes it crash. Its gRPC ports listen on all interfaces: it only ever runs here, for the length of the
session, on ports nobody else knows.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

START_TIMEOUT_S = 180

# What `milvus-server --data DIR --proxy-port PORT` runs, plus `etcd.config.path` (the CLI cannot add keys).
LAUNCHER = r"""
import signal, sys
from pathlib import Path
import milvus
from milvus import MilvusServer, MilvusServerConfig

data_dir, etcd_config, proxy_port = sys.argv[1], sys.argv[2], int(sys.argv[3])
template = Path(milvus.__file__).with_name("data") / "config.yaml.template"
text = template.read_text()
marker = "  use:\n    embed: true"
assert marker in text, "unknown milvus config template"
own = Path(data_dir) / "config.yaml.template"
own.parent.mkdir(parents=True, exist_ok=True)
own.write_text(text.replace(marker, f"  config:\n    path: {etcd_config}\n{marker}", 1))
config = MilvusServerConfig(template=str(own), data_dir=data_dir)
config.glog_conf_file = str(template.with_name("glog.conf"))
server = MilvusServer(config)
server.listen_port = proxy_port
signal.signal(signal.SIGINT, lambda *_: server.stop())
server.start()
print("MILVUS READY", flush=True)
server.wait()
"""


def free_ports(n: int) -> list[int]:
    sockets = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class MilvusServer:
    """``milvus-server`` in a temporary folder; ``uri`` once ``start()`` returned."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.proxy_port, etcd_client, etcd_peer = free_ports(3)
        self.uri = f"http://127.0.0.1:{self.proxy_port}"
        self.etcd_config = data_dir / "etcd.yaml"
        self.etcd_config.write_text(
            f"listen-client-urls: http://127.0.0.1:{etcd_client}\nadvertise-client-urls: http://127.0.0.1:{etcd_client}\n"
            f"listen-peer-urls: http://127.0.0.1:{etcd_peer}\ninitial-advertise-peer-urls: http://127.0.0.1:{etcd_peer}\n"
            f"initial-cluster: default=http://127.0.0.1:{etcd_peer}\n")
        self.proc: subprocess.Popen | None = None
        self.log = data_dir / "milvus-server.log"

    def start(self) -> "MilvusServer":
        if importlib.util.find_spec("milvus") is None:
            raise RuntimeError("the Milvus server is not installed: pip install -e '.[test,milvus]' (PyPI milvus==2.3.5)")
        args = [sys.executable, "-c", LAUNCHER, str(self.data_dir / "data"), str(self.etcd_config),
                str(self.proxy_port)]
        with open(self.log, "wb") as log:
            # Its own process group, so stragglers can be killed together without touching anything else.
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        from pymilvus import MilvusClient

        deadline = time.monotonic() + START_TIMEOUT_S
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"milvus-server exited with {self.proc.returncode}: {self.tail()}")
            try:
                client = MilvusClient(self.uri, timeout=5)
                client.list_collections()
                client.close()
                return
            except Exception as exc:  # noqa: BLE001 - not up yet
                last = exc
                time.sleep(1)
        self.stop()
        raise RuntimeError(f"milvus-server not ready after {START_TIMEOUT_S} s ({last}): {self.tail()}")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the server child, if the wrapper left it behind
        except ProcessLookupError:
            pass
        if self.proc.poll() is None:
            self.proc.wait(timeout=10)
        self.proc = None

    def tail(self, chars: int = 2000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


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
