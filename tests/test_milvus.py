"""The Milvus backend on Milvus Lite (embedded, a local .db file): round trip, same results as FAISS,
incremental update, delete, and old versions' collections dropped."""

import pytest

pytest.importorskip("pymilvus", reason="pymilvus not installed (pip install 'yuanwen[milvus]')")

from rag.index import Index  # noqa: E402
from rag.indexing import remove_documents, update_index  # noqa: E402
from rag.milvus_store import MilvusStore, client  # noqa: E402
from rag.retrieval import Retriever  # noqa: E402

QUESTIONS = ["乡镇干部周转房建了多少套", "鹰峰社区常驻人口", "人才公寓投资", "韶关学院培训班"]


@pytest.fixture
def both(corpus_dir, tmp_path, fake_embedder, monkeypatch):
    update_index([corpus_dir], tmp_path / "faiss", embedder=fake_embedder)
    monkeypatch.setenv("YUANWEN_VECTOR_STORE", "milvus")
    update_index([corpus_dir], tmp_path / "milvus", embedder=fake_embedder)
    monkeypatch.delenv("YUANWEN_VECTOR_STORE")
    return Index.open(tmp_path / "faiss"), Index.open(tmp_path / "milvus")


def test_milvus_round_trip_matches_faiss(both, fake_embedder):
    faiss_idx, milvus_idx = both
    assert isinstance(milvus_idx.vectors, MilvusStore) and milvus_idx.manifest.vector_store == "milvus"
    assert len(milvus_idx.vectors) == len(faiss_idx.vectors) == len(milvus_idx)
    for mode in ("dense", "hybrid"):
        for q in QUESTIONS:
            a = [p.chunk.id for p in Retriever(faiss_idx, fake_embedder, mode=mode).search(q, k=3)]
            b = [p.chunk.id for p in Retriever(milvus_idx, fake_embedder, mode=mode).search(q, k=3)]
            assert a == b, (mode, q)


def test_milvus_incremental_update_delete_and_prune(both, corpus_dir, tmp_path, fake_embedder):
    _, first = both
    first_collection = first.vectors.collection
    (corpus_dir / "d.txt").write_text("新文档\n\n大栗港镇打造笋竹林示范基地6000余亩。", encoding="utf-8")
    report = update_index([corpus_dir], tmp_path / "milvus", embedder=fake_embedder)  # stays on Milvus
    assert report.added >= 1 and report.embedded == report.added
    second = Index.open(tmp_path / "milvus")
    assert second.manifest.vector_store == "milvus" and len(second.vectors) == len(first.vectors) + report.added
    top = Retriever(second, fake_embedder, mode="dense").search("笋竹林示范基地", k=1)
    assert top[0].source == "d.txt"

    assert remove_documents(["d.txt"], tmp_path / "milvus") == 1
    third = Index.open(tmp_path / "milvus")
    assert len(third.vectors) == len(first.vectors)
    # Only the newest versions are kept; the oldest version's collection went with it.
    assert not client(third.vectors.uri).has_collection(first_collection)
    assert client(third.vectors.uri).has_collection(third.vectors.collection)
