"""Peak resident memory and readiness of `yuanwen serve` on the demo index, through a few API questions.

Starts the server as a child process, waits for GET /health, asks questions through the Gradio API (`/ask`, the
configured generator, so the chat model is loaded too) and `/search`, then reads the server's peak RSS (VmHWM)
from /proc. Build the demo index first: `yuanwen index data/demo`.

    python -m bench.serve_rss [--index .yuanwen/index] [--generator extractive]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

QUESTIONS = ["文中提到的主要观点是什么？", "这份文件是哪一年发布的？", "有哪些具体措施？"]


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve_rss", description=__doc__.splitlines()[0])
    parser.add_argument("--index", default=".yuanwen/index")
    parser.add_argument("--generator", default="", help="default: the configured one (auto)")
    parser.add_argument("--port", type=int, default=7871)
    parser.add_argument("--asks", type=int, default=1, help="questions also answered (the rest only searched)")
    args = parser.parse_args(argv)
    command = [sys.executable, "-m", "rag", "serve", "--index", args.index, "--port", str(args.port)]
    if args.generator:
        command += ["--generator", args.generator]
    started = time.perf_counter()
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{args.port}"
    result: dict = {"command": " ".join(command[1:])}
    try:
        while True:
            if server.poll() is not None:
                raise SystemExit(f"server exited: {server.stderr.read()[-2000:]}")
            try:
                with urllib.request.urlopen(url + "/health", timeout=2) as response:
                    result["health"] = json.loads(response.read())
                break
            except OSError:
                time.sleep(0.5)
        result["ready_s"] = round(time.perf_counter() - started, 1)
        result["rss_ready_mb"] = status_kb(server.pid, "VmRSS") // 1024
        from gradio_client import Client

        client = Client(url, verbose=False)
        timings = []
        for number, question in enumerate(QUESTIONS):
            t0 = time.perf_counter()
            client.predict(question, api_name="/search")
            timing = {"search_s": round(time.perf_counter() - t0, 2)}
            if number < args.asks:  # answering with a chat model takes tens of seconds on two cores
                t1 = time.perf_counter()
                answer = client.predict(question, api_name="/ask")
                timing["ask_s"] = round(time.perf_counter() - t1, 2)
                timing |= {key: answer.get(key) for key in ("generator", "model", "refused")}
            timings.append(timing)
        result["questions"] = timings
        result["rss_after_mb"] = status_kb(server.pid, "VmRSS") // 1024
        result["peak_rss_mb"] = status_kb(server.pid, "VmHWM") // 1024
        result["load_avg_1m"] = round(os.getloadavg()[0], 2)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
