"""Bad input never stops the batch; a killed indexer or a damaged index never loses the live one; serving survives
concurrent chats and indexing.

Everything runs on the fake embedder. The crash test is the one place with real processes: ``python -m rag index``
is started with a slow fake embedder, paused at a chosen step of publishing a version, and killed with SIGKILL.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import embeddings.loader
from bench.sample_files import DOCX_PARAGRAPHS, PDF_PAGES, corrupt_copy, make_docx, make_pdf, make_scanned_pdf
from rag.app.cli import main
from rag.errors import CorruptIndexError, YuanwenError
from rag.store.index import Index, current_version
from rag.ingest.indexing import update_index
from rag.retrieve.retrieval import Retriever
from tests.fixtures_embeddings import FakeEmbedder

REPO = Path(__file__).resolve().parents[1]
QUESTION = "乡镇干部周转房建了多少套"


def search_top(index_dir: Path, question: str = QUESTION) -> list[tuple[str, str]]:
    retriever = Retriever(Index.open(index_dir), FakeEmbedder(), mode="hybrid")
    return [(p.source, p.text) for p in retriever.search(question, k=3)]


# -- bad input in a folder ----------------------------------------------------------------------
def build_messy_folder(root: Path) -> dict[str, str]:
    """Good and bad files side by side; returns {source: expected outcome word} for every file put there."""
    good = {
        "good/gbk.txt": ("浈江区人才公寓\n\n浈江区投资200多万元建设人才公寓。".encode("gbk")),
        "good/big5.md": ("# 臺灣鄉村\n\n綠色驅動產業發展，鄉村經濟新跨越。".encode("big5")),
        "good/page.html": "<meta charset=utf-8><h1>肇庆</h1><p>肇庆建成2629套乡镇干部周转房。</p>".encode(),
        "good/report.pdf": make_pdf(PDF_PAGES, title="乳源县文化旅游"),
        "good/notes.docx": make_docx(DOCX_PARAGRAPHS, title="翁源兰花产业"),
    }
    bad = {
        "bad/binary.txt": (bytes(range(256)) * 16, "binary"),
        "bad/empty.md": (b"", "empty"),
        "bad/blank.txt": (b" \n\n \t\n", "no text"),
        "bad/huge.txt": (("大文件" * 40_000).encode("utf-8"), "over the limit"),
        "bad/broken.pdf": (corrupt_copy(make_pdf(PDF_PAGES)), "not a readable PDF"),
        "bad/scan.pdf": (make_scanned_pdf(), "no text on any page"),
        "bad/broken.docx": (corrupt_copy(make_docx(DOCX_PARAGRAPHS)), "not a readable Word .docx"),
        "bad/old.doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "Unsupported file type .doc"),
        "bad/photo.jpg": (b"\xff\xd8\xff\xe0" + bytes(64), "photo.jpg is not a readable image"),
        "bad/locked.txt": ("锁住的文件。".encode("utf-8"), "Permission denied"),
    }
    for source, data in good.items():
        (root / source).parent.mkdir(parents=True, exist_ok=True)
        (root / source).write_bytes(data)
    for source, (data, _) in bad.items():
        (root / source).parent.mkdir(parents=True, exist_ok=True)
        (root / source).write_bytes(data)
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main")  # hidden: tool state, ignored silently
    return {**{s: "indexed" for s in good}, **{s: reason for s, (_, reason) in bad.items()}}


@pytest.fixture
def messy_folder(tmp_path, monkeypatch):
    root = tmp_path / "messy"
    expected = build_messy_folder(root)
    locked = root / "bad" / "locked.txt"
    locked.chmod(0)
    if os.geteuid() == 0:  # root reads through chmod 000: make the read fail the way it fails for a user
        real_read_bytes = Path.read_bytes

        def read_bytes(self):
            if self.name == "locked.txt":
                raise PermissionError(13, "Permission denied", str(self))
            return real_read_bytes(self)

        monkeypatch.setattr(Path, "read_bytes", read_bytes)
    yield root, expected
    locked.chmod(0o644)


def test_bad_files_are_skipped_with_one_line_reasons_and_the_rest_indexed(messy_folder, tmp_path, fake_embedder):
    root, expected = messy_folder
    report = update_index([root], tmp_path / "idx", embedder=fake_embedder, max_bytes=64 * 1024)
    indexed = {d.source for d in Index.open(tmp_path / "idx").documents()}
    skipped = dict(report.skipped)
    assert indexed == {s for s, outcome in expected.items() if outcome == "indexed"}
    assert set(skipped) == {s for s, outcome in expected.items() if outcome != "indexed"}
    for source, reason in skipped.items():
        assert expected[source] in reason, (source, reason)
        assert "\n" not in reason and len(reason) < 220
    assert len(indexed) + len(skipped) == len(expected)  # nothing lost, nothing counted twice
    assert report.documents == len(indexed)


def test_cli_index_prints_skips_then_a_summary_and_exits_0(messy_folder, tmp_path, capsys, monkeypatch):
    root, expected = messy_folder
    monkeypatch.setattr(embeddings.loader, "load_embedder", lambda name=None, **kw: FakeEmbedder())
    assert main(["index", str(root), "--index", str(tmp_path / "idx"), "--max-mb", "0.0625"]) == 0
    captured = capsys.readouterr()
    skip_lines = [line for line in captured.err.splitlines() if line.startswith("skipped ")]
    assert len(skip_lines) == sum(outcome != "indexed" for outcome in expected.values())
    assert any(line.startswith("skipped bad/huge.txt:") and "over the limit of 65,536 bytes" in line
               for line in skip_lines)
    summary = captured.out.strip().splitlines()[-1]
    assert summary.startswith("indexed 5 documents") and f"{len(skip_lines)} files skipped" in summary

    assert main(["index", str(root), "--index", str(tmp_path / "idx2"), "--max-mb", "0.0625", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["documents"] == 5 and len(report["skipped"]) == len(skip_lines)


def test_cli_max_mb_is_the_size_limit(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(embeddings.loader, "load_embedder", lambda name=None, **kw: FakeEmbedder())
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "small.txt").write_text("小文件\n\n韶关市有十个县区。", encoding="utf-8")
    (folder / "big.txt").write_text("大文件的内容。" * 30_000, encoding="utf-8")  # ~630 kB
    assert main(["index", str(folder), "--index", str(tmp_path / "a"), "--max-mb", "0.5", "--json"]) == 0
    assert [f for f, _ in json.loads(capsys.readouterr().out)["skipped"]] == ["big.txt"]
    assert main(["index", str(folder), "--index", str(tmp_path / "b"), "--max-mb", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["skipped"] == []


def test_cli_exits_1_with_the_reason_when_nothing_can_be_indexed(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(embeddings.loader, "load_embedder", lambda name=None, **kw: FakeEmbedder())
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "scan.pdf").write_bytes(make_scanned_pdf())
    (folder / "empty.txt").write_bytes(b"")
    assert main(["index", str(folder), "--index", str(tmp_path / "idx")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no readable documents") and "2 files skipped" in err and "Traceback" not in err
    assert main(["index", str(folder / "scan.pdf"), "--index", str(tmp_path / "idx")]) == 1
    assert "no text on any page" in capsys.readouterr().err


def test_an_unexpected_parser_crash_skips_only_that_file(tmp_path, fake_embedder, monkeypatch):
    import rag.ingest.documents as documents

    def exploding(data, name="<pdf>"):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(documents, "pdf_to_text", exploding)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "hostile.pdf").write_bytes(make_pdf(["内容"]))
    (tmp_path / "docs" / "fine.txt").write_text("正常的文件\n\n内容完整。", encoding="utf-8")
    report = update_index([tmp_path / "docs"], tmp_path / "idx", embedder=fake_embedder)
    assert report.documents == 1
    assert report.skipped[0][0] == "hostile.pdf" and "unexpected error" in report.skipped[0][1]


# -- crash safety -------------------------------------------------------------------------------
# Runs ``python -m rag index`` (the real entry point via runpy) with the fake embedder; when YW_PAUSE_AT names a
# step, the process prints "PAUSED <step>" there and sleeps, so the test kills it exactly at that step.
INDEXER = r"""
import os, runpy, sys, time
import rag.store.index as index_mod
import embeddings.loader
from tests.fixtures_embeddings import FakeEmbedder

pause_at = os.environ.get("YW_PAUSE_AT", "")

def pause(step):
    if step == pause_at:
        print("PAUSED", step, flush=True)
        time.sleep(120)

class SlowEmbedder(FakeEmbedder):
    def embed_passages(self, texts, **kw):
        vectors = super().embed_passages(texts, **kw)
        pause("embedding")
        return vectors

embeddings.loader.load_embedder = lambda name=None, **kw: SlowEmbedder()

real_write_docstore = index_mod.write_docstore
def write_docstore(*a, **k):
    real_write_docstore(*a, **k)
    pause("half-written version")
index_mod.write_docstore = write_docstore

class OsDuringPublish:
    def __getattr__(self, name):
        return getattr(os, name)
    def rename(self, src, dst):
        os.rename(src, dst)
        pause("version renamed, CURRENT not swapped")
    def replace(self, src, dst):
        pause("CURRENT written, not swapped")
        os.replace(src, dst)
        pause("CURRENT swapped")
index_mod.os = OsDuringPublish()

sys.argv = ["yuanwen", "index", *sys.argv[1:]]
runpy.run_module("rag", run_name="__main__", alter_sys=True)
"""

PAUSE_POINTS = ["embedding", "half-written version", "version renamed, CURRENT not swapped",
                "CURRENT written, not swapped", "CURRENT swapped"]


def start_indexer(paths: list[Path], index_dir: Path, pause_at: str = "") -> subprocess.Popen:
    env = {**os.environ, "YW_PAUSE_AT": pause_at, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", INDEXER, *map(str, paths), "--index", str(index_dir)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def kill_when_paused(proc: subprocess.Popen, step: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    line = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("PAUSED"):
            break
        if not line and proc.poll() is not None:
            break
    try:
        assert line.strip() == f"PAUSED {step}", (line, proc.stderr.read() if proc.poll() is not None else "")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()


def test_killing_the_indexer_at_any_step_leaves_a_loadable_index_that_answers(corpus_dir, tmp_path):
    index_dir = tmp_path / "idx"
    first = start_indexer([corpus_dir], index_dir)
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    before_version = current_version(index_dir)
    before = search_top(index_dir)
    assert before and before[0][0] == "sub/c.md"

    (corpus_dir / "new.txt").write_text("新增文件\n\n大栗港镇打造笋竹林示范基地6000余亩。", encoding="utf-8")
    for step in PAUSE_POINTS:
        kill_when_paused(start_indexer([corpus_dir], index_dir, pause_at=step), step)
        live = current_version(index_dir)
        if step == "CURRENT swapped":
            assert live != before_version  # the new version was already published: it is the one that loads
            assert {d.source for d in Index.open(index_dir).documents()} >= {"new.txt", "sub/c.md"}
        else:
            assert live == before_version, step
            assert search_top(index_dir) == before, step
            assert {d.source for d in Index.open(index_dir).documents()} == {"a.txt", "b.txt", "sub/c.md"}

    # Leftovers of the killed runs are cleared by the next run, and the lock died with its holder.
    report = update_index([corpus_dir], index_dir, embedder=FakeEmbedder())
    assert report.documents == 4
    assert not list(index_dir.glob(".tmp-*")) and not list(index_dir.glob(".CURRENT-*"))
    assert search_top(index_dir) == before


def test_random_kills_never_leave_an_unloadable_index(corpus_dir, tmp_path):
    rng = np.random.default_rng(8)
    index_dir = tmp_path / "idx"
    update_index([corpus_dir], index_dir, embedder=FakeEmbedder())
    before = search_top(index_dir)
    for i in range(3):
        (corpus_dir / f"extra{i}.txt").write_text(f"第{i}份新增材料\n\n内容编号{i}。" * 5, encoding="utf-8")
        proc = start_indexer([corpus_dir], index_dir)
        time.sleep(float(rng.uniform(0.2, 1.5)))
        proc.kill()
        proc.communicate(timeout=30)
        assert search_top(index_dir) == before  # old or new version: both answer the question the same way


# -- damaged index on disk ------------------------------------------------------------------------
def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


DAMAGE = {
    "garbage manifest": lambda v, d: (v / "manifest.json").write_text("{not json"),
    "manifest missing": lambda v, d: (v / "manifest.json").unlink(),
    "manifest of another shape": lambda v, d: (v / "manifest.json").write_text("[1, 2, 3]"),
    "truncated docstore": lambda v, d: _truncate(v / "docstore.sqlite"),
    "truncated faiss index": lambda v, d: _truncate(v / "faiss.index"),
    "truncated keys": lambda v, d: _truncate(v / "keys.npy"),
    "truncated score sample": lambda v, d: _truncate(v / "score_sample.npy"),
    "score sample of another width": lambda v, d: np.save(v / "score_sample.npy", np.zeros((3, 7), np.float32)),
    "bm25 folder missing": lambda v, d: shutil.rmtree(v / "bm25"),
    "CURRENT names a missing version": lambda v, d: (d / "CURRENT").write_text("v-20990101-000000-dead00\n"),
    "CURRENT empty": lambda v, d: (d / "CURRENT").write_text(""),
    "version folder deleted": lambda v, d: shutil.rmtree(v),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_index_is_a_clear_error_with_a_rebuild_hint(corpus_dir, tmp_path, damage, fake_embedder):
    index_dir = tmp_path / "idx"
    update_index([corpus_dir], index_dir, embedder=fake_embedder)
    DAMAGE[damage](current_version(index_dir), index_dir)
    with pytest.raises(CorruptIndexError) as excinfo:
        Index.open(index_dir)
    assert "rebuild" in excinfo.value.hint and str(index_dir) in excinfo.value.hint
    with pytest.raises(CorruptIndexError, match="damaged|inconsistent"):
        update_index([corpus_dir], index_dir, embedder=fake_embedder)
    update_index([corpus_dir], index_dir, embedder=fake_embedder, rebuild=True)
    assert search_top(index_dir)[0][0] == "sub/c.md"


# -- concurrency -----------------------------------------------------------------------------------
N_CHATS = 20
CHAT_QUESTIONS = ["浈江区推荐了多少家企业申报高新技术企业？", "鹰峰社区常驻人口多少？", "肇庆建成多少套乡镇干部周转房？",
                  "贺江碧道画廊接待游客多少？", "乳源县多少个村级党组织参与双向承诺？"]


def test_twenty_simultaneous_chats_keep_their_own_histories(ui_backend):
    from ui.app import respond

    barrier = threading.Barrier(N_CHATS, timeout=60)

    def one_session(i: int) -> tuple[list, list]:
        chat, turns = [], []
        barrier.wait()
        for turn in range(2):
            question = f"会话{i}第{turn}问：{CHAT_QUESTIONS[(i + turn) % len(CHAT_QUESTIONS)]}"
            for chat, turns, *_ in respond(ui_backend, question, chat, turns, 5, "hybrid", "extractive", ""):
                pass
        return chat, turns

    with ThreadPoolExecutor(N_CHATS) as pool:
        results = list(pool.map(one_session, range(N_CHATS), timeout=120))
    for i, (chat, turns) in enumerate(results):
        asked = [m["content"] for m in turns if m["role"] == "user"]
        assert asked == [f"会话{i}第{t}问：{CHAT_QUESTIONS[(i + t) % len(CHAT_QUESTIONS)]}" for t in range(2)]
        assert [m["role"] for m in chat] == ["user", "assistant"] * 2
        assert all("⚠️" not in m["content"] for m in chat), chat
        assert not any(f"会话{j}第" in m["content"] for j in range(N_CHATS) if j != i for m in chat)


def test_twenty_simultaneous_http_api_calls_on_localhost(ui_server):
    gradio_client = pytest.importorskip("gradio_client")
    url, _ = ui_server
    assert url.startswith("http://127.0.0.1:")
    client = gradio_client.Client(url, verbose=False)
    questions = [f"{CHAT_QUESTIONS[i % len(CHAT_QUESTIONS)]}（请求{i}）" for i in range(N_CHATS)]
    jobs = [client.submit(q, 5, "hybrid", "extractive", "", api_name="/ask") for q in questions]
    answers = [job.result(timeout=120) for job in jobs]
    assert [a["question"] for a in answers] == questions  # each caller gets its own answer back
    assert all(isinstance(a["refused"], bool) and a["passages"] for a in answers)


def test_searches_keep_succeeding_while_the_index_is_updated(corpus_dir, tmp_path, fake_embedder):
    from ui.app import Backend
    from rag.app.config import Settings

    index_dir = tmp_path / "idx"
    update_index([corpus_dir], index_dir, embedder=fake_embedder)
    backend = Backend.from_settings(Settings(index=str(index_dir), generator="extractive"), embedder=fake_embedder)
    stop = threading.Event()
    errors: list[BaseException] = []
    tops: list[str] = []

    def keep_searching() -> None:
        while not stop.is_set():
            try:
                tops.append(backend.retriever("hybrid").search(QUESTION, k=3)[0].source)
                backend.pipeline(3, "hybrid", "extractive").ask(QUESTION)
            except BaseException as exc:  # noqa: BLE001 - any failure is what this test looks for
                errors.append(exc)

    readers = [threading.Thread(target=keep_searching) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        for i in range(4):
            (corpus_dir / f"more{i}.txt").write_text(f"补充材料{i}\n\n第{i}批新增内容。" * 20, encoding="utf-8")
            update_index([corpus_dir], index_dir, embedder=fake_embedder)
            time.sleep(0.05)
    finally:
        stop.set()
        for reader in readers:
            reader.join(timeout=60)
    assert not errors, errors[:3]
    assert len(tops) > 10 and set(tops) == {"sub/c.md"}
    assert {d.source for d in backend.documents()} >= {f"more{i}.txt" for i in range(4)}
