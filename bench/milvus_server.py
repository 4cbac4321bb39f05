"""A local Milvus standalone server from PyPI (``milvus==2.3.5``) on free ports, for tests and benchmarks.

    python -m bench.milvus_server --data /tmp/yuanwen-milvus        # prints its URI; Ctrl+C stops it

It runs what ``milvus-server`` runs (the package's ``MilvusServer`` wrapper) with one line added to the
config: an embedded-etcd config on free ports, because ``milvus-server`` always binds etcd to 2379/2380
and a second server (or any etcd) on the machine makes it crash. Stop it with SIGINT to its PID (the
wrapper then stops the server child; SIGTERM would orphan it); ``stop()`` does that and SIGKILLs the
process group for stragglers. Its gRPC ports listen on all interfaces: run it only on a machine you
control, for as long as you need it.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

START_TIMEOUT_S = 180

# What `milvus-server --data DIR --proxy-port P ...` runs, every port chosen here, plus `etcd.config.path` (the
# CLI cannot add keys). Left to itself the wrapper takes the default ports that look free, and two servers
# started at once both take them.
PORT_KEYS = ("proxy_port", "etcd_port", "root_coord_port", "proxy_internal_port", "query_coord_port",
             "query_node_port", "index_coord_port", "index_node_port", "data_coord_port", "data_node_port",
             "metrics_port")
LAUNCHER = r"""
import json, signal, sys
from pathlib import Path
import milvus
from milvus import MilvusServer, MilvusServerConfig

data_dir, etcd_config, ports = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
template = Path(milvus.__file__).with_name("data") / "config.yaml.template"
text = template.read_text()
marker = "  use:\n    embed: true"
assert marker in text, "unknown milvus config template"
own = Path(data_dir) / "config.yaml.template"
own.parent.mkdir(parents=True, exist_ok=True)
own.write_text(text.replace(marker, f"  config:\n    path: {etcd_config}\n{marker}", 1))
config = MilvusServerConfig(template=str(own), data_dir=data_dir)
config.glog_conf_file = str(template.with_name("glog.conf"))
for key, port in ports.items():
    if key in config.configurable_items:
        config.set(key, port)
server = MilvusServer(config)
server.webservice_port = ports["metrics_port"]
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
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None
        self.log = self.data_dir / "milvus-server.log"
        self.etcd_config = self.data_dir / "etcd.yaml"
        self._choose_ports()

    def _choose_ports(self) -> None:
        *ports, etcd_client, etcd_peer = free_ports(len(PORT_KEYS) + 2)
        self.ports = dict(zip(PORT_KEYS, ports))
        self.proxy_port = self.ports["proxy_port"]
        self.uri = f"http://127.0.0.1:{self.proxy_port}"
        self.etcd_config.write_text(
            f"listen-client-urls: http://127.0.0.1:{etcd_client}\nadvertise-client-urls: http://127.0.0.1:{etcd_client}\n"
            f"listen-peer-urls: http://127.0.0.1:{etcd_peer}\ninitial-advertise-peer-urls: http://127.0.0.1:{etcd_peer}\n"
            f"initial-cluster: default=http://127.0.0.1:{etcd_peer}\n")

    def start(self, attempts: int = 3) -> "MilvusServer":
        """Start and wait until it answers; a port taken in the meantime means another try on new ports."""
        if importlib.util.find_spec("milvus") is None:
            raise RuntimeError("the Milvus server is not installed: pip install -e '.[test,milvus]' (PyPI milvus==2.3.5)")
        for attempt in range(attempts):
            shutil.rmtree(self.data_dir / "data", ignore_errors=True)
            args = [sys.executable, "-c", LAUNCHER, str(self.data_dir / "data"), str(self.etcd_config),
                    json.dumps(self.ports)]
            with open(self.log, "wb") as log:
                # Its own process group, so stragglers can be killed together without touching anything else.
                self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             start_new_session=True)
            try:
                self.wait_ready()
                return self
            except RuntimeError:
                self.stop()
                if attempt == attempts - 1 or "address already in use" not in self.server_log():
                    raise
                self._choose_ports()
        return self

    def server_log(self) -> str:
        """The server's own stdout log (where it reports a port it could not bind)."""
        try:
            return (self.data_dir / "data" / "logs" / "milvus-stdout.log").read_text(errors="replace")
        except OSError:
            return ""

    def wait_ready(self) -> None:
        from pymilvus import MilvusClient

        deadline = time.monotonic() + START_TIMEOUT_S
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"milvus-server exited with {self.proc.returncode}: {self.tail()}")
            if self._child_died():
                raise RuntimeError(f"the Milvus server process exited: {self.server_log()[-1500:]}")
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


    def _child_died(self) -> bool:
        pid = self.server_pid()
        if pid is None:
            return False
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            return True

    def server_pid(self) -> int | None:
        """PID of the ``milvus run standalone`` child (for its memory), or None."""
        if self.proc is None:
            return None
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        except OSError:
            return None
        return int(children[0]) if children else None


@contextlib.contextmanager
def configured_or_started(start: bool, folder: Path):
    """(URI, server): a temporary local server in ``folder`` when ``start``, else the configured
    ``milvus_uri`` ("" = Milvus Lite) and None; the server is stopped and the folder removed afterwards."""
    from rag.app.config import load_settings

    server = None
    try:
        if start:
            server = MilvusServer(Path(folder) / "server").start()
        yield (server.uri if server else load_settings().milvus_uri), server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, type=Path, help="folder for its data and logs")
    args = ap.parse_args()
    # Started in the background (`&`), a shell leaves SIGINT ignored: Ctrl+C, kill -INT and kill all stop it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    server = MilvusServer(args.data).start()
    print(f"Milvus server ready: YUANWEN_MILVUS_URI={server.uri} (pid {server.proc.pid}); Ctrl+C stops it", flush=True)
    try:
        while server.proc.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
