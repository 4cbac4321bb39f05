"""FAISS updates by key: an incremental re-index removes and adds vectors in the live index's copy instead of
rebuilding (IVF keeps its trained centroids), HNSW falls back to a rebuild, and an index written before keys
existed (format 1: vectors.npy, row = key) still opens, answers and is migrated by the next update."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.store.index import Index
from rag.ingest.indexing import remove_documents, update_index
from rag.retrieve.retrieval import Retriever
from rag.store.options import StoreOptions
from rag.store.vectorstore import FaissStore

TOPICS = ["人才公寓", "周转房", "笋竹林", "鹰峰社区", "贺江碧道", "农技培训", "双向承诺", "高新技术企业"]


@pytest.fixture
def big_corpus(tmp_path):
    """40 short documents, enough rows to train a small IVF index."""
    root = tmp_path / "many"
    root.mkdir()
    for i in range(40):
        topic = TOPICS[i % len(TOPICS)]
        (root / f"doc{i:02d}.txt").write_text(
            f"第{i}号材料\n\n{topic}项目第{i}期投入{i * 7 + 3}万元。\n\n{topic}相关工作由第{i}工作组负责。",
            encoding="utf-8")
    return root


def centroids(index: Index) -> np.ndarray:
    import faiss

    ivf = faiss.extract_index_ivf(index.vectors.index)
    return ivf.quantizer.reconstruct_n(0, ivf.nlist)


def top(index: Index, embedder, question: str) -> str:
    return Retriever(index, embedder, mode="hybrid").search(question, k=1)[0].text


@pytest.mark.parametrize("index_type", ["Flat", "IVF8,Flat", "IVF8,SQ8"])
def test_update_removes_and_adds_by_key_without_rebuilding(index_type, big_corpus, tmp_path, fake_embedder,
                                                           monkeypatch):
    store = StoreOptions(faiss_index=index_type)
    update_index([big_corpus], tmp_path / "idx", embedder=fake_embedder, store=store)
    first = Index.open(tmp_path / "idx")
    assert first.vectors.in_place and first.manifest.faiss_index_type == index_type
    before_keys = dict(zip((c.content_hash for c in first.docstore.chunk_records()), first.keys.tolist()))

    (big_corpus / "doc05.txt").write_text("第5号材料\n\n周转房项目第5期改为投入999万元。", encoding="utf-8")
    (big_corpus / "doc06.txt").unlink()
    report = update_index([big_corpus], tmp_path / "idx", embedder=fake_embedder, store=store)
    second = Index.open(tmp_path / "idx")
    assert report.embedded == report.added >= 1 and report.removed >= 1
    assert len(second.vectors) == len(second) == len(second.keys) == len(set(second.keys.tolist()))
    # Unchanged chunks kept their keys; new ones got keys above every old one.
    records = second.docstore.chunk_records()
    kept = [(before_keys[c.content_hash], k) for c, k in zip(records, second.keys) if c.content_hash in before_keys]
    assert kept and all(a == b for a, b in kept)
    assert second.keys.max() >= first.manifest.next_key and second.manifest.next_key > second.keys.max()
    if index_type == "IVF8,Flat":
        assert np.array_equal(centroids(first), centroids(second))  # not re-trained
    assert "999万元" in top(second, fake_embedder, "周转房项目第5期投入")
    assert all(c.source != "doc06.txt" for c in second.chunks(list(range(len(second)))))
    # Every row's vector is the one its text embeds to (SQ8: decoded; the fake embedder's new characters fall
    # outside the trained value range, so this update rebuilt rather than clip them).
    texts = [f"{c.chunk.title}\n{c.chunk.text}" if c.chunk.title not in c.chunk.text else c.chunk.text
             for c in records]
    stored, embedded = second.vectors_array(), fake_embedder.embed_passages(texts)
    if "SQ8" in index_type:
        cosine = (stored * embedded).sum(1) / np.linalg.norm(stored, axis=1) / np.linalg.norm(embedded, axis=1)
        assert cosine.min() >= 0.95
    else:
        assert np.abs(stored - embedded).max() < 1e-5

    assert remove_documents(["doc07.txt"], tmp_path / "idx") == 1
    third = Index.open(tmp_path / "idx")
    assert len(third.vectors) == len(third) == len(second) - sum(c.source == "doc07.txt" for c in
                                                                    second.chunks(list(range(len(second)))))
    assert all(c.source != "doc07.txt" for c in third.chunks([r for r, _ in third.dense_search(
        fake_embedder.embed_queries(["第7号材料"])[0], 10)]))


def test_hnsw_cannot_remove_so_it_rebuilds(big_corpus, tmp_path, fake_embedder, monkeypatch):
    store = StoreOptions(faiss_index="HNSW16,Flat")
    update_index([big_corpus], tmp_path / "idx", embedder=fake_embedder, store=store)
    assert not Index.open(tmp_path / "idx").vectors.in_place
    (big_corpus / "doc05.txt").write_text("第5号材料\n\n周转房项目第5期改为投入999万元。", encoding="utf-8")
    update_index([big_corpus], tmp_path / "idx", embedder=fake_embedder, store=store)
    second = Index.open(tmp_path / "idx")
    assert len(second.vectors) == len(second) and "999万元" in top(second, fake_embedder, "周转房项目第5期投入")


def make_format_1(index: Index) -> None:
    """Rewrite a version the way yuanwen wrote it before keys: vectors.npy, a plain FAISS index, format 1."""
    import faiss

    vectors = index.vectors_array()
    folder = index.version_dir
    np.save(folder / "vectors.npy", vectors, allow_pickle=False)
    plain = faiss.IndexFlatIP(vectors.shape[1])
    plain.add(vectors)
    faiss.write_index(plain, str(folder / "faiss.index"))
    (folder / "keys.npy").unlink()
    (folder / "score_sample.npy").unlink()
    manifest = json.loads((folder / "manifest.json").read_text())
    for key in ("generation", "next_key"):
        manifest.pop(key)
    manifest["format_version"] = 1
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_an_index_from_before_keys_opens_answers_and_migrates(corpus_dir, tmp_path, fake_embedder):
    update_index([corpus_dir], tmp_path / "idx", embedder=fake_embedder)
    fresh = Index.open(tmp_path / "idx")
    expected = [(p.chunk.id, round(p.score, 5)) for p in
                Retriever(fresh, fake_embedder, mode="hybrid").search("乡镇干部周转房", k=3)]
    make_format_1(fresh)
    old = Index.open(tmp_path / "idx")
    assert old.manifest.format_version == 1 and not isinstance(old.vectors.index, type(fresh.vectors.index))
    assert [(p.chunk.id, round(p.score, 5)) for p in
            Retriever(old, fake_embedder, mode="hybrid").search("乡镇干部周转房", k=3)] == expected

    (corpus_dir / "d.txt").write_text("新文档\n\n大栗港镇打造笋竹林示范基地6000余亩。", encoding="utf-8")
    report = update_index([corpus_dir], tmp_path / "idx", embedder=fake_embedder)
    migrated = Index.open(tmp_path / "idx")
    assert report.embedded == report.added and migrated.manifest.format_version == 2 and migrated.vectors.in_place
    assert not (migrated.version_dir / "vectors.npy").exists()
    assert Retriever(migrated, fake_embedder, mode="hybrid").search("乡镇干部周转房", k=1)[0].chunk.id == expected[0][0]


def test_sq8_adds_in_place_only_what_it_stores_faithfully():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((400, 16)).astype(np.float32)
    x[:, 12:] = 0  # the training data never uses the last dimensions (text with words not seen before)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    store = FaissStore.build(x[:300], "IVF4,SQ8")
    assert store.stores_faithfully(x[300:])  # drawn like the training data
    outside = np.full((1, 16), 0.25, np.float32)
    assert not store.stores_faithfully(np.vstack([x[300:], outside]))


def test_faiss_store_update_unit():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    store = FaissStore.build(x[:200], "IVF4,Flat", keys=np.arange(1000, 1200))
    store.update(np.arange(1000, 1100), np.arange(5000, 5100), x[200:])
    assert len(store) == 200
    assert store.search(x[250], 1)[0][0] == 5050 and store.search(x[150], 1)[0][0] == 1150
    assert np.allclose(store.get_vectors([5000, 1199]), x[[200, 199]], atol=1e-6)
