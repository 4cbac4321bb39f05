"""Many users chatting at once with `yuanwen serve`: time to first token and to the answer, errors, citations,
peak memory, and how quickly `/health` answers meanwhile.

Starts `yuanwen serve` on 127.0.0.1 (a free port) over an index of the seed corpus for each generator, or loads
a server already running at `--url` (loopback only). N users (threads) start together, each asking `--questions`
chats one after another through the OpenAI-compatible streaming endpoint (`/v1/chat/completions`), which queues
them for the one chat model. A probe asks `/health` every half second throughout.

    python -m bench.load --users 20 --generators extractive,auto [--questions 1] [--json out.json]
    python -m bench.load --users 5 --url http://127.0.0.1:7860 [--pid PID]

Per request: **TTFT**, from sending the request to the first piece the model wrote (the server's `: generating`
comment; the extractive answerer writes its answer in one piece), and **answer**, to the verified answer (what an
OpenAI client displays: the endpoint sends the answer once its citations are checked); also the **wait** in the
queue (until the server's `: queued, 0 ahead`), and TTFT counted from the end of that wait, which is the model's
own time to first token. An answer counts as
*cited* when it is not a refusal and carries `[n]` markers and citations, *refused* when the server says so;
anything else, an HTTP error, a warning message or a stream without `[DONE]` is an error. Peak RSS is the server
process's high-water mark (VmHWM; psutil's RSS samples where /proc has none). Questions: the seed eval set.
Bounded: `--users`, `--questions` and `--timeout` (seconds for the whole run of one generator).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import httpx
import numpy as np

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
DEFAULT_QUESTIONS = SHARED / "eval" / "seed_dev.jsonl"
DEFAULT_INDEX = Path(".yuanwen") / "bench-load" / "index"
STARTUP_S = 300
HEALTH_EVERY_S = 0.5
CITATION = re.compile(r"\[\d+\]")


@dataclass
class RequestResult:
    """One chat as a user saw it (seconds from sending the request)."""

    user: int
    question: str
    ttft_s: float | None = None
    answer_s: float | None = None
    total_s: float | None = None
    places: list[int] = field(default_factory=list)  # the ``: queued, N ahead`` places it was told
    wait_s: float = 0.0  # until its turn came (``: queued, 0 ahead``); 0 when it never waited
    content: str = ""
    refused: bool | None = None
    citations: int = 0
    done: bool = False
    error: str = ""

    @property
    def verdict(self) -> str:
        """"cited", "refused" or "error"."""
        if self.error or not self.done:
            return "error"
        if self.refused:
            return "refused"
        if self.citations and CITATION.search(self.content):
            return "cited"
        return "error"


def read_stream(lines: Iterable[str], result: RequestResult, clock: Callable[[], float]) -> RequestResult:
    """Fill ``result`` from the SSE lines of one streamed chat; ``clock()`` gives the seconds since it was sent."""
    for line in lines:
        if line.startswith(": queued, "):
            result.places.append(int(line.split()[2]))
            if result.places[-1] == 0:
                result.wait_s = clock()
        elif line.startswith(": generating"):
            if result.ttft_s is None:
                result.ttft_s = clock()
        elif line == "data: [DONE]":
            result.done = True
            result.total_s = clock()
        elif line.startswith("data: "):
            chunk = json.loads(line[6:])
            delta = (chunk.get("choices") or [{}])[0].get("delta") or {}
            text = delta.get("content") or ""
            if text:
                if result.answer_s is None:
                    result.answer_s = clock()
                    if result.ttft_s is None:
                        result.ttft_s = result.answer_s
                result.content += text
            if "refused" in chunk:
                result.refused = bool(chunk["refused"])
                result.citations = len(chunk.get("citations") or [])
    if result.content.startswith("⚠️") and not result.error:
        result.error = result.content.splitlines()[0][:200]
    return result


def ask(url: str, kb: str, question: str, user: int, timeout: float, api_key: str = "") -> RequestResult:
    """One streamed chat through ``/v1/chat/completions``."""
    result = RequestResult(user=user, question=question)
    body = {"model": kb, "stream": True, "messages": [{"role": "user", "content": question}]}
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    t0 = time.perf_counter()
    try:
        with httpx.stream("POST", url.rstrip("/") + "/v1/chat/completions", json=body, headers=headers,
                          timeout=httpx.Timeout(timeout, connect=30)) as response:
            if response.status_code != 200:
                result.error = f"HTTP {response.status_code}: {response.read().decode(errors='replace')[:200]}"
                return result
            read_stream(response.iter_lines(), result, lambda: time.perf_counter() - t0)
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    return result


def percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def summarise(results: list[RequestResult], health_s: list[float], health_failures: int) -> dict:
    """The run's figures: p50/p95 of TTFT and answer time, verdict counts, /health latency."""
    answered = [r for r in results if r.verdict != "error"]
    ttft = [r.ttft_s for r in answered if r.ttft_s is not None]
    ttft_in_turn = [r.ttft_s - r.wait_s for r in answered if r.ttft_s is not None]
    waits = [r.wait_s for r in answered]
    answer = [r.answer_s for r in answered if r.answer_s is not None]
    verdicts = [r.verdict for r in results]
    errors = [r for r in results if r.verdict == "error"]
    return {
        "requests": len(results),
        "errors": len(errors),
        "cited": verdicts.count("cited"),
        "refused": verdicts.count("refused"),
        "cited_or_refused": verdicts.count("cited") + verdicts.count("refused"),
        "ttft_p50_s": percentile(ttft, 50), "ttft_p95_s": percentile(ttft, 95),
        "wait_p50_s": percentile(waits, 50), "wait_p95_s": percentile(waits, 95),
        "ttft_in_turn_p50_s": percentile(ttft_in_turn, 50), "ttft_in_turn_p95_s": percentile(ttft_in_turn, 95),
        "answer_p50_s": percentile(answer, 50), "answer_p95_s": percentile(answer, 95),
        "answer_max_s": max(answer) if answer else None,
        "told_their_place": sum(1 for r in results if any(r.places)),
        "most_ahead": max((p for r in results for p in r.places), default=0),
        "health_checks": len(health_s) + health_failures,
        "health_failures": health_failures,
        "health_p95_s": percentile(health_s, 95),
        "health_max_s": max(health_s) if health_s else None,
        "first_error": (errors[0].error or "no [DONE] / uncited answer") if errors else "",
    }


class MemoryWatch:
    """The peak resident memory of a process: its high-water mark (VmHWM) where /proc has one, else the largest
    psutil sample; and the largest sampled sum of its child processes' RSS, reported apart."""

    def __init__(self, pid: int | None, every_s: float = 0.2):
        self.pid, self.every_s = pid, every_s
        self.sampled_bytes = self.children_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "MemoryWatch":
        if self.pid:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        try:
            import psutil
        except ImportError:
            return
        while not self._stop.is_set():
            try:
                process = psutil.Process(self.pid)
                self.sampled_bytes = max(self.sampled_bytes, process.memory_info().rss)
                children = sum(c.memory_info().rss for c in process.children(recursive=True))
            except psutil.Error:
                return
            self.children_bytes = max(self.children_bytes, children)
            self._stop.wait(self.every_s)

    def peak_mb(self) -> int | None:
        hwm = 0
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    hwm = int(line.split()[1]) * 1024
        except (OSError, TypeError):
            pass
        peak = hwm or self.sampled_bytes
        return peak // (1 << 20) if peak else None


def run_load(url: str, questions: list[str], *, users: int, per_user: int, timeout: float, kb: str = "default",
             api_key: str = "", pid: int | None = None) -> dict:
    """``users`` threads start together, each asking ``per_user`` chats in turn; /health is probed meanwhile."""
    results: list[RequestResult] = []
    lock = threading.Lock()
    start = threading.Barrier(users + 1)
    deadline = time.monotonic() + timeout
    stop = threading.Event()
    health_s: list[float] = []
    health_failures = [0]

    def user(u: int) -> None:
        start.wait()
        for i in range(per_user):
            question = questions[(u * per_user + i) % len(questions)]
            left = deadline - time.monotonic()
            r = ask(url, kb, question, u, left, api_key) if left > 0 else RequestResult(u, question, error="timeout")
            with lock:
                results.append(r)

    def probe() -> None:
        while not stop.is_set():
            t0 = time.perf_counter()
            try:
                ok = httpx.get(url.rstrip("/") + "/health", timeout=10).status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                health_s.append(time.perf_counter() - t0)
            else:
                health_failures[0] += 1
            stop.wait(HEALTH_EVERY_S)

    threads = [threading.Thread(target=user, args=(u,), daemon=True) for u in range(users)]
    prober = threading.Thread(target=probe, daemon=True)
    load_before = os.getloadavg()[0]
    with MemoryWatch(pid) as memory:
        for t in threads:
            t.start()
        prober.start()
        t0 = time.perf_counter()
        start.wait()
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()) + 30)
        wall = time.perf_counter() - t0
        stop.set()
        prober.join(15)
    with lock:
        done = list(results)
    missing = users * per_user - len(done)
    done += [RequestResult(-1, "", error="did not finish before --timeout") for _ in range(missing)]
    summary = summarise(done, health_s, health_failures[0])
    summary |= {"users": users, "questions_per_user": per_user, "wall_s": round(wall, 1),
                "peak_rss_mb": memory.peak_mb() if pid else None,
                "children_peak_rss_mb": memory.children_bytes // (1 << 20) if pid else None,
                "load_avg_before": round(load_before, 2), "load_avg_after": round(os.getloadavg()[0], 2)}
    return {"summary": summary, "requests": [asdict(r) | {"verdict": r.verdict} for r in done]}


# -- the server -------------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_loopback(url: str) -> None:
    host = urlparse(url).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"--url must be a server on this machine (127.0.0.1 or localhost), not {host!r}")


def ensure_index(index: Path, corpus: Path) -> None:
    """Index ``corpus`` into ``index`` unless it is indexed already (incremental: unchanged files cost nothing)."""
    command = [sys.executable, "-m", "rag", "index", str(corpus), "--index", str(index)]
    print(f"indexing {corpus} → {index}", file=sys.stderr, flush=True)
    subprocess.run(command, check=True, cwd=REPO, stdout=subprocess.DEVNULL)


class Served:
    """``yuanwen serve`` on a free 127.0.0.1 port, stopped when the ``with`` block ends."""

    def __init__(self, index: Path, generator: str, log_dir: Path):
        self.index, self.generator = index, generator
        self.log = log_dir / f"serve-{generator or 'default'}.log"
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.ready_s = 0.0

    def __enter__(self) -> "Served":
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "rag", "serve", "--index", str(self.index), "--port", str(port)]
        if self.generator:
            command += ["--generator", self.generator]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        t0 = time.perf_counter()
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        while time.perf_counter() - t0 < STARTUP_S:
            if self.proc.poll() is not None:
                raise SystemExit(f"yuanwen serve exited:\n{self.log.read_text(errors='replace')[-3000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    self.ready_s = time.perf_counter() - t0
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.__exit__()
        raise SystemExit(f"yuanwen serve did not answer /health in {STARTUP_S} s (log: {self.log})")

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)


def load_question_set(path: Path) -> tuple[list[str], str]:
    """The single-turn questions of an eval file, and one answerable question for the warm-up chat (the last
    answerable one: users start from the first)."""
    from rag.app.metrics import load_questions

    asked = [q for q in load_questions(path) if not q.history]
    if not asked:
        raise SystemExit(f"no single-turn questions in {path}")
    warm = next((q.question for q in reversed(asked) if q.answerable), asked[-1].question)
    return [q.question for q in asked], warm


def one_generator(url: str, label: str, questions: list[str], warm_question: str, args, pid: int | None) -> dict:
    """A warm-up chat that reaches the model (it loads and primes; not counted), then the load."""
    t0 = time.perf_counter()
    warm = ask(url, args.kb, warm_question, -1, args.timeout, args.api_key)
    warm_s = time.perf_counter() - t0
    if warm.verdict == "error":
        raise SystemExit(f"the warm-up chat failed ({label}): {warm.error or warm.content[:200]}")
    run = run_load(url, questions, users=args.users, per_user=args.questions, timeout=args.timeout, kb=args.kb,
                   api_key=args.api_key, pid=pid)
    run["summary"] |= {"generator": label, "warm_up_s": round(warm_s, 1)}
    return run


def table(summaries: list[dict]) -> str:
    def s(value, digits: int = 2) -> str:
        return "—" if value is None else f"{value:.{digits}f}"

    rows = ["| generator | users × questions | errors | cited / refused | TTFT p50 s | TTFT p95 s | answer p50 s | "
            "answer p95 s | wait p50 / p95 s | TTFT after the wait p50 / p95 s | told their place | "
            "/health p95 / max s | peak RSS MB | load avg before → after |",
            "|---|---|---:|---|---:|---:|---:|---:|---|---|---:|---|---:|---|"]
    for m in summaries:
        rows.append(f"| {m['generator']} | {m['users']} × {m['questions_per_user']} | {m['errors']} | "
                    f"{m['cited']} / {m['refused']} | {s(m['ttft_p50_s'])} | {s(m['ttft_p95_s'])} | "
                    f"{s(m['answer_p50_s'])} | {s(m['answer_p95_s'])} | {s(m['wait_p50_s'])} / {s(m['wait_p95_s'])} | "
                    f"{s(m['ttft_in_turn_p50_s'])} / {s(m['ttft_in_turn_p95_s'])} | {m['told_their_place']} | "
                    f"{s(m['health_p95_s'], 3)} / {s(m['health_max_s'], 3)} | {m['peak_rss_mb'] or '—'} | "
                    f"{m['load_avg_before']} → {m['load_avg_after']} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20, help="simultaneous users (default 20)")
    parser.add_argument("--questions", type=int, default=1, help="chats each user asks, one after another")
    parser.add_argument("--generators", default="extractive,auto",
                        help="comma-separated `serve --generator` values, each on its own server (default "
                             "extractive,auto; auto = the default offline model)")
    parser.add_argument("--url", default="", help="load this running server instead (127.0.0.1 only)")
    parser.add_argument("--pid", type=int, default=None, help="with --url: the server's process id, for its RSS")
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX, help=f"index to serve (default {DEFAULT_INDEX})")
    parser.add_argument("--corpus", type=Path, default=None,
                        help="indexed into --index first (default data/demo, else ../shared/corpus)")
    parser.add_argument("--questions-file", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--kb", default="default", help="knowledge base (the /v1 model name)")
    parser.add_argument("--api-key", default="", help="the server's --api-key, if it has one")
    parser.add_argument("--timeout", type=float, default=900, help="seconds for all chats of one generator")
    parser.add_argument("--json", type=Path, default=None, help="also write every request and the summaries here")
    args = parser.parse_args(argv)
    if args.users < 1 or args.questions < 1:
        parser.error("--users and --questions must be at least 1")
    questions, warm_question = load_question_set(args.questions_file)
    runs = []
    if args.url:
        require_loopback(args.url)
        runs.append(one_generator(args.url, "(running server)", questions, warm_question, args, args.pid))
    else:
        corpus = args.corpus or next(p for p in (REPO / "data" / "demo", SHARED / "corpus") if p.is_dir())
        index = args.index if args.index.is_absolute() else REPO / args.index
        ensure_index(index, corpus)
        with tempfile.TemporaryDirectory(prefix="yuanwen-load-") as logs:
            for generator in [g.strip() for g in args.generators.split(",") if g.strip()]:
                with Served(index, generator, Path(logs)) as server:
                    print(f"{generator}: server ready in {server.ready_s:.1f} s, {args.users} users × "
                          f"{args.questions} chats", file=sys.stderr, flush=True)
                    run = one_generator(server.url, generator, questions, warm_question, args, server.proc.pid)
                    run["summary"]["server_ready_s"] = round(server.ready_s, 1)
                    runs.append(run)
    summaries = [r["summary"] for r in runs]
    print(table(summaries))
    for m in summaries:
        if m["first_error"]:
            print(f"{m['generator']}: first error: {m['first_error']}")
    if args.json:
        args.json.write_text(json.dumps(runs, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0 if all(m["errors"] == 0 for m in summaries) else 1


if __name__ == "__main__":
    raise SystemExit(main())
