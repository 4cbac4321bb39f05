"""Retake README's top screenshot (docs/screenshots/demo_qwen.png) on the current UI.

The demo as a newcomer sees it after ``make demo``: the seed corpus (data/demo) indexed with the offline
embedder, ``yuanwen serve`` with the default offline chat model, one question asked in Debian's chromium.
Run from the repository root (it takes the one local model for a minute or two):

    python docs/screenshots/take_hero.py [--question Q] [--out docs/screenshots/demo_qwen.png]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(1)
    raise SystemExit(f"the server did not answer {url} within {seconds:.0f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--question", default="乳源县组建了多少支瑶乡先锋服务队？")
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots" / "demo_qwen.png"))
    ap.add_argument("--timeout", type=float, default=600, help="seconds to wait for the answer")
    args = ap.parse_args()

    from playwright.sync_api import expect, sync_playwright

    yuanwen = [sys.executable, "-m", "rag"]
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "index"
        subprocess.run([*yuanwen, "index", str(ROOT / "data" / "demo"), "--index", str(index)], check=True, cwd=ROOT)
        port = free_port()
        env = {**os.environ, "YUANWEN_GENERATOR": "auto"}
        server = subprocess.Popen([*yuanwen, "serve", "--index", str(index), "--host", "127.0.0.1",
                                   "--port", str(port)], cwd=ROOT, env=env, start_new_session=True)
        try:
            url = f"http://127.0.0.1:{port}/"
            wait_for(url + "health", 300)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(url)
                page.locator("#yw-question textarea").fill(args.question)
                page.locator("#yw-ask").click()
                # The footer names the generator once the answer is complete and checked.
                expect(page.locator("#yw-sources #yw-src-1 mark")).to_be_visible(timeout=args.timeout * 1000)
                expect(page.locator("#yw-ask")).to_be_enabled(timeout=args.timeout * 1000)
                time.sleep(1)
                page.screenshot(path=args.out, full_page=True)
                print(page.locator('#yw-chat [data-testid="bot"]').last.inner_text())
                browser.close()
        finally:
            os.killpg(server.pid, signal.SIGINT)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
