"""Index round trip, incremental re-index, atomic versions, mismatch and corruption errors."""

import json

import numpy as np
import pytest

import rag.store.index as index_mod
from rag.errors import CorruptIndexError, IndexMismatchError, YuanwenError
from rag.store.index import Index, current_version
from rag.ingest.indexing import remove_documents, update_index


class CountingEmbedder:
    """Wraps the fake embedder and records every text it embeds."""

    def __init__(self, inner):
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.embedded: list[str] = []

    def embed_queries(self, texts):
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts, **kw):
        self.embedded += list(texts)
        return self.inner.embed_passages(texts, **kw)


@pytest.fixture
def emb(fake_embedder):
    return CountingEmbedder(fake_embedder)


def test_round_trip_spans_and_manifest(corpus_dir, tmp_path, emb):
    report = update_index([corpus_dir], tmp_path / "idx", embedder=emb)
    assert report.documents == 3 and report.chunks >= 3 and report.added == report.chunks
    idx = Index.open(tmp_path / "idx")
    assert len(idx) == report.chunks == len(idx.vectors) == idx.keywords.n_rows
    m = json.loads((idx.version_dir / "manifest.json").read_text())
    assert m["embedder"] == emb.name and m["dim"] == emb.dim and m["format_version"] == 2
    assert m["normalize"] == "l2" and m["metric"] == "inner_product"
    sources = {d.source for d in idx.documents()}
    assert sources == {"a.txt", "b.txt", "sub/c.md"}
    for d in idx.documents():
        for c in idx.chunks(list(range(len(idx)))):
            if c.source == d.source:
                assert d.text[c.start : c.end] == c.text
    vecs = idx.vectors_array()
    assert vecs.dtype == np.float32 and np.allclose(np.linalg.norm(vecs, axis=1), 1, atol=1e-4)
    assert not list(tmp_path.joinpath("idx").glob("*.pkl"))


def test_incremental_reindex_embeds_only_changes(corpus_dir, tmp_path, emb):
    update_index([corpus_dir], tmp_path / "idx", embedder=emb)
    first = len(emb.embedded)
    again = update_index([corpus_dir], tmp_path / "idx", embedder=emb)
    assert len(emb.embedded) == first and again.added == 0 and again.removed == 0
    assert again.unchanged == again.chunks

    (corpus_dir / "b.txt").unlink()
    (corpus_dir / "d.txt").write_text("新文档\n\n大栗港镇打造笋竹林示范基地6000余亩。", encoding="utf-8")
    report = update_index([corpus_dir], tmp_path / "idx", embedder=emb)
    assert report.added >= 1 and report.removed >= 1
    new_texts = emb.embedded[first:]
    assert new_texts and all("6000" in t or "新文档" in t for t in new_texts)
    idx = Index.open(tmp_path / "idx")
    assert {d.source for d in idx.documents()} == {"a.txt", "sub/c.md", "d.txt"}


def test_other_folders_are_kept(corpus_dir, tmp_path, emb):
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.txt").write_text("另一个文件夹\n\n翁源华润希望乡村项目预算总投资2900万元。", encoding="utf-8")
    update_index([corpus_dir], tmp_path / "idx", embedder=emb)
    update_index([other], tmp_path / "idx", embedder=emb)
    assert {d.source for d in Index.open(tmp_path / "idx").documents()} == {"a.txt", "b.txt", "sub/c.md", "x.txt"}
    assert remove_documents(["x.txt"], tmp_path / "idx") == 1
    assert "x.txt" not in {d.source for d in Index.open(tmp_path / "idx").documents()}
    with pytest.raises(YuanwenError):
        remove_documents(["nope.txt"], tmp_path / "idx")


def test_failed_update_leaves_previous_index(corpus_dir, tmp_path, emb, monkeypatch):
    update_index([corpus_dir], tmp_path / "idx", embedder=emb)
    before = Index.open(tmp_path / "idx")
    n_before = len(before)

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(index_mod, "write_docstore", boom)
    (corpus_dir / "e.txt").write_text("又一个\n\n新增内容在这里。", encoding="utf-8")
    with pytest.raises(RuntimeError):
        update_index([corpus_dir], tmp_path / "idx", embedder=emb)
    after = Index.open(tmp_path / "idx")
    assert after.version_dir == before.version_dir and len(after) == n_before
    assert not list((tmp_path / "idx").glob(".tmp-*"))


def test_embedder_mismatch_is_a_clear_error(corpus_dir, tmp_path, emb):
    update_index([corpus_dir], tmp_path / "idx", embedder=emb)
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        Index.open(tmp_path / "idx", embedder="some-other-model")
    idx = Index.open(tmp_path / "idx")
    with pytest.raises(IndexMismatchError, match="dim"):
        idx.check_dim(emb.dim + 1, "bigger-model")
    with pytest.raises(IndexMismatchError, match="rebuild"):
        update_index([corpus_dir], tmp_path / "idx", embedder=emb, embedder_name="some-other-model")


def test_corrupt_index_detected(corpus_dir, tmp_path, emb):
    update_index([corpus_dir], tmp_path / "idx", embedder=emb)
    version = current_version(tmp_path / "idx")
    (version / "faiss.index").write_bytes(b"garbage")
    with pytest.raises(CorruptIndexError, match="rebuild"):
        Index.open(tmp_path / "idx")
    with pytest.raises(CorruptIndexError):
        update_index([corpus_dir], tmp_path / "idx", embedder=emb)
    update_index([corpus_dir], tmp_path / "idx", embedder=emb, rebuild=True)
    assert len(Index.open(tmp_path / "idx")) > 0


def test_missing_and_empty_inputs(tmp_path, emb):
    with pytest.raises(YuanwenError, match="no such file"):
        update_index([tmp_path / "nope"], tmp_path / "idx", embedder=emb)
    (tmp_path / "empty").mkdir()
    with pytest.raises(YuanwenError, match="no readable documents"):
        update_index([tmp_path / "empty"], tmp_path / "idx", embedder=emb)
    with pytest.raises(YuanwenError, match="no index"):
        Index.open(tmp_path / "idx")


def test_report_says_where_the_time_went(corpus_dir, tmp_path, emb):
    from rag.ingest.stages import BESIDE

    report = update_index([corpus_dir], tmp_path / "idx", embedder=emb)
    for name in ("read/extract", "clean", "chunk", f"tokenise {BESIDE}", "embed", "waiting for tokens and terms",
                 "docstore", "vector index", "bm25", f"term/pinyin index {BESIDE}", "term/pinyin index", "publish",
                 "other"):
        assert report.stages[name] >= 0, name
    # Work done beside the embedder overlaps it: the main thread's stages add up to the wall time.
    main_thread = {name: s for name, s in report.stages.items() if not name.endswith(BESIDE)}
    assert sum(main_thread.values()) == pytest.approx(report.seconds, abs=0.01)
    assert report.to_json()["stages"] == report.stages


def test_stages_of_another_thread_are_named_apart(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from rag.ingest import stages

    def work():
        with stages.stage("tokenise"):
            with stages.stage("inner"):
                pass
        return 7

    with stages.recording() as seconds:
        with stages.stage("embed"):
            with ThreadPoolExecutor(1) as pool:
                assert pool.submit(stages.beside(work)).result() == 7
    assert set(seconds) == {"embed", f"tokenise {stages.BESIDE}", f"inner {stages.BESIDE}"}
    assert stages.beside(work)() == 7  # outside a recording: just the call


def test_nested_stages_count_once(monkeypatch):
    from rag.ingest import stages

    ticks = iter([0.0, 1.0, 3.0, 4.0, 7.0, 10.0])  # outer 0-10 holds inner 1-3 and 4-7
    monkeypatch.setattr(stages, "_clock", lambda: next(ticks))
    with stages.recording() as seconds:
        with stages.stage("outer"):
            with stages.stage("inner"):
                pass
            with stages.stage("inner"):
                pass
    assert seconds == {"inner": 5.0, "outer": 5.0}
    stage = stages.stage
    with stage("outside any recording"):
        pass  # a no-op, not an error
