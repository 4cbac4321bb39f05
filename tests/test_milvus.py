"""The Milvus backend, on Milvus Lite (embedded, a local .db file) and on a real Milvus standalone server
(tests/fixtures_milvus.py): same results as FAISS, in-place incremental updates and deletes in one long-lived
collection, readers of the previous version undisturbed, a killed indexer leaving the previous state answering,
and collections of rebuilt indexes dropped."""

import json

import numpy as np
import pytest

pytest.importorskip("pymilvus", reason="pymilvus not installed (pip install 'yuanwen[milvus]')")

from rag.app.config import load_settings  # noqa: E402
from rag.store.index import Index, current_version  # noqa: E402
from rag.ingest.indexing import remove_documents, update_index  # noqa: E402
from rag.errors import YuanwenError  # noqa: E402
from rag.store.milvus_store import ALIVE, DEFAULT_INDEX, SETTLE_ROWS, IndexSpec, MilvusStore, client  # noqa: E402
from rag.retrieve.retrieval import Retriever  # noqa: E402

QUESTIONS = ["乡镇干部周转房建了多少套", "鹰峰社区常驻人口", "人才公寓投资", "韶关学院培训班"]
CHANGED = "肇庆投入3.3亿元建成2629套乡镇干部周转房。"


def milvus_index(corpus_dir, index_dir, embedder, monkeypatch, **kw):
    """Index into Milvus at the configured URI ($YUANWEN_MILVUS_URI, set by the milvus_uri fixture; else Lite)."""
    return update_index([corpus_dir], index_dir, embedder=embedder, store=load_settings(vector_store="milvus").store,
                        **kw)


def rows_in_collection(store: MilvusStore) -> dict[int, tuple[int, int]]:
    """key → (gen_from, gen_to) of every row physically in the collection."""
    rows = client(store.uri).query(store.collection, filter="id >= 0", output_fields=["id", "gen_from", "gen_to"],
                                   consistency_level="Strong")
    return {int(r["id"]): (int(r["gen_from"]), int(r["gen_to"])) for r in rows}


def top_texts(index: Index, embedder, question: str, mode: str = "dense") -> list[str]:
    return [p.text for p in Retriever(index, embedder, mode=mode).search(question, k=3)]


@pytest.fixture
def both(corpus_dir, tmp_path, fake_embedder, monkeypatch, milvus_uri):
    update_index([corpus_dir], tmp_path / "faiss", embedder=fake_embedder)
    milvus_index(corpus_dir, tmp_path / "milvus", fake_embedder, monkeypatch)
    return Index.open(tmp_path / "faiss"), Index.open(tmp_path / "milvus")


def test_milvus_round_trip_matches_faiss(both, fake_embedder, milvus_uri):
    faiss_idx, milvus_idx = both
    assert isinstance(milvus_idx.vectors, MilvusStore) and milvus_idx.manifest.vector_store == "milvus"
    assert milvus_uri == "lite" or milvus_idx.vectors.uri == milvus_uri
    assert len(milvus_idx.vectors) == len(faiss_idx.vectors) == len(milvus_idx)
    for mode in ("dense", "hybrid"):
        for q in QUESTIONS:
            a = [(p.chunk.id, round(p.score, 4)) for p in Retriever(faiss_idx, fake_embedder, mode=mode).search(q, k=3)]
            b = [(p.chunk.id, round(p.score, 4)) for p in Retriever(milvus_idx, fake_embedder, mode=mode).search(q, k=3)]
            assert a == b, (mode, q)
    assert np.allclose(milvus_idx.vectors_array(), faiss_idx.vectors_array(), atol=1e-6)


def test_incremental_update_writes_in_place_and_old_readers_keep_their_version(both, corpus_dir, tmp_path,
                                                                               fake_embedder, monkeypatch):
    _, first = both
    store = first.vectors
    before = rows_in_collection(store)
    assert len(before) == len(first) and all(g == (1, ALIVE) for g in before.values())
    old_answer = top_texts(first, fake_embedder, "乡镇干部周转房")

    # One paragraph changed, one file added: only those chunks are written, in the same collection.
    c_md = corpus_dir / "sub" / "c.md"
    c_md.write_text(c_md.read_text(encoding="utf-8").replace(CHANGED, "肇庆投入5亿元建成3000套乡镇干部周转房。"),
                    encoding="utf-8")
    (corpus_dir / "d.txt").write_text("新文档\n\n大栗港镇打造笋竹林示范基地6000余亩。", encoding="utf-8")
    report = milvus_index(corpus_dir, tmp_path / "milvus", fake_embedder, monkeypatch)  # stays on Milvus
    assert report.embedded == report.added == 2 and report.removed == 1
    second = Index.open(tmp_path / "milvus")
    assert second.vectors.collection == store.collection and second.manifest.generation == 2
    rows = rows_in_collection(store)
    assert len(rows) == len(before) + 2  # two new rows; the changed chunk's old row stays for generation 1
    assert sorted(g for g in rows.values() if g != (1, ALIVE)) == [(1, 2), (2, ALIVE), (2, ALIVE)]
    assert "5亿元" in top_texts(second, fake_embedder, "乡镇干部周转房")[0]
    assert "大栗港镇" in top_texts(second, fake_embedder, "笋竹林示范基地")[0]
    # A reader that opened the first version still reads exactly it.
    assert top_texts(first, fake_embedder, "乡镇干部周转房") == old_answer and CHANGED in old_answer[0]

    # Deleting a document marks its rows; once the first version is pruned its dead rows are deleted.
    assert remove_documents(["d.txt"], tmp_path / "milvus") == 1
    third = Index.open(tmp_path / "milvus")
    assert len(third) == len(first) and third.manifest.generation == 3
    assert "笋竹林" not in " ".join(top_texts(third, fake_embedder, "笋竹林示范基地", mode="hybrid"))
    rows = rows_in_collection(store)
    assert (1, 2) not in rows.values()  # the changed chunk's first text: no kept version reads it
    assert sorted(g for g in rows.values() if g != (1, ALIVE)) == [(2, 3), (2, ALIVE)]
    assert len(third.vectors) == len(first)


@pytest.mark.slow
def test_killed_update_leaves_the_previous_state_answering(milvus_server, corpus_dir, tmp_path, fake_embedder,
                                                           monkeypatch):
    """On the server only: a Milvus Lite file belongs to one process, so a second indexer process cannot open it."""
    from tests.test_robustness import kill_when_paused, search_top, start_indexer

    monkeypatch.setenv("YUANWEN_MILVUS_URI", milvus_server.uri)
    index_dir = tmp_path / "milvus"
    milvus_index(corpus_dir, index_dir, fake_embedder, monkeypatch)
    live, before = current_version(index_dir), search_top(index_dir)
    store = Index.open(index_dir).vectors
    rows_before = rows_in_collection(store)
    c_md = corpus_dir / "sub" / "c.md"
    c_md.write_text(c_md.read_text(encoding="utf-8").replace(CHANGED, "肇庆建成9999套乡镇干部周转房。"),
                    encoding="utf-8")
    (corpus_dir / "new.txt").write_text("新增文件\n\n大栗港镇打造笋竹林示范基地6000余亩。", encoding="utf-8")
    # Killed after the new generation's rows were written and the changed row marked, before publishing.
    kill_when_paused(start_indexer([corpus_dir], index_dir, pause_at="half-written version"), "half-written version")
    assert current_version(index_dir) == live
    rows = rows_in_collection(store)
    assert len(rows) > len(rows_before)  # the killed writer's rows are there ...
    assert search_top(index_dir) == before  # ... and no reader of the live version sees them
    assert {d.source for d in Index.open(index_dir).documents()} == {"a.txt", "b.txt", "sub/c.md"}

    report = update_index([corpus_dir], index_dir, embedder=fake_embedder)  # the next run clears and publishes
    assert report.documents == 4
    after = Index.open(index_dir)
    assert after.vectors.collection == store.collection and "9999套" in search_top(index_dir)[0][1]
    assert after.vectors._count_rows(client(store.uri), after.manifest.generation) == len(after)


def test_rebuild_writes_a_new_collection_and_drops_the_old_one_later(both, corpus_dir, tmp_path, fake_embedder,
                                                                       monkeypatch):
    _, first = both
    milvus_index(corpus_dir, tmp_path / "milvus", fake_embedder, monkeypatch, rebuild=True)
    rebuilt = Index.open(tmp_path / "milvus")
    assert rebuilt.vectors.collection != first.vectors.collection
    assert client(first.vectors.uri).has_collection(first.vectors.collection)  # the kept old version reads it
    (corpus_dir / "d.txt").write_text("新文档\n\n第二次更新。", encoding="utf-8")
    milvus_index(corpus_dir, tmp_path / "milvus", fake_embedder, monkeypatch)
    assert not client(first.vectors.uri).has_collection(first.vectors.collection)
    assert client(first.vectors.uri).has_collection(rebuilt.vectors.collection)
    pointer = json.loads((current_version(tmp_path / "milvus") / "milvus.json").read_text())
    assert pointer["collection"] == rebuilt.vectors.collection and pointer["generation"] == 2


def test_index_spec_setting_parses_build_and_search_parameters(monkeypatch):
    spec = IndexSpec.parse("")
    assert str(spec) == DEFAULT_INDEX and spec.index_type == "HNSW" and spec.build == {"M": 16, "efConstruction": 128}
    assert spec.search_params(10) == {"metric_type": "IP", "params": {"ef": 512}}
    assert spec.search_params(800)["params"]["ef"] == 800  # HNSW needs ef >= the number of results
    ivf = IndexSpec.parse("ivf_sq8 nlist=1024 nprobe=32")
    assert (ivf.index_type, ivf.build, ivf.search_params(50)["params"]) == ("IVF_SQ8", {"nlist": 1024}, {"nprobe": 32})
    assert IndexSpec.parse(str(ivf)) == ivf
    with pytest.raises(YuanwenError, match="NAME=VALUE"):
        IndexSpec.parse("HNSW M16")
    monkeypatch.setenv("YUANWEN_MILVUS_INDEX", "IVF_FLAT nlist=8 nprobe=8")
    assert load_settings().store.milvus_index == "IVF_FLAT nlist=8 nprobe=8"


def test_milvus_index_setting_builds_that_index_and_updates_keep_it(corpus_dir, tmp_path, fake_embedder, monkeypatch,
                                                                    milvus_uri):
    monkeypatch.setenv("YUANWEN_MILVUS_INDEX", "IVF_FLAT nlist=4 nprobe=4")
    milvus_index(corpus_dir, tmp_path / "milvus", fake_embedder, monkeypatch)
    first = Index.open(tmp_path / "milvus")
    assert str(first.vectors.index) == "IVF_FLAT nlist=4 nprobe=4"
    assert client(first.vectors.uri).describe_index(first.vectors.collection, "vector")["index_type"] == "IVF_FLAT"
    assert "2629套" in top_texts(first, fake_embedder, "乡镇干部周转房")[0]
    monkeypatch.delenv("YUANWEN_MILVUS_INDEX")  # the collection keeps the index it was built with
    (corpus_dir / "d.txt").write_text("新文档\n\n大栗港镇打造笋竹林示范基地6000余亩。", encoding="utf-8")
    milvus_index(corpus_dir, tmp_path / "milvus", fake_embedder, monkeypatch)
    second = Index.open(tmp_path / "milvus")
    assert second.vectors.collection == first.vectors.collection and str(second.vectors.index) == str(first.vectors.index)


@pytest.mark.slow
def test_large_write_is_served_from_the_built_index_before_it_is_published(milvus_server):
    """Fresh rows are searched from Milvus's temporary index until the real one is built and handed over:
    a write of SETTLE_ROWS or more waits for that, so the published version is searched from the index."""
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((3000, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store = MilvusStore.build(vectors, uri=milvus_server.uri, collection="settle_test", settle=None)  # < SETTLE_ROWS
    c = client(milvus_server.uri)
    assert not any(s.index_id for s in c.list_loaded_segments("settle_test"))  # still the growing segment
    n = SETTLE_ROWS
    more = rng.standard_normal((n, 16)).astype(np.float32)
    more /= np.linalg.norm(more, axis=1, keepdims=True)
    store = store.write_generation(2, np.arange(3000, 3000 + n), more, np.zeros(0, dtype=np.int64), 3000 + n)
    loaded = c.list_loaded_segments("settle_test")
    flushed = c.list_persistent_segments("settle_test")
    assert loaded and sum(s.num_rows for s in flushed) == 3000 + n
    assert {s.segment_id for s in flushed} <= {s.segment_id for s in loaded if s.index_id}
    assert store.search(vectors[7], 5)[0][0] == 7
    c.drop_collection("settle_test")
