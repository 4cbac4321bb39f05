"""Dense, BM25 and hybrid retrieval over a tiny index built with the fake embedder."""

import pytest

from rag.errors import YuanwenError
from rag.store.index import Index
from rag.ingest.indexing import update_index
from rag.retrieve.retrieval import Retriever


@pytest.fixture
def index(corpus_dir, tmp_path, fake_embedder):
    (corpus_dir / "dup1.txt").write_text("转载一\n\n同一句被多家网站转载的新闻内容出现在这里。", encoding="utf-8")
    (corpus_dir / "dup2.txt").write_text("转载二\n\n同一句被多家网站转载的新闻内容出现在这里。", encoding="utf-8")
    update_index([corpus_dir], tmp_path / "idx", embedder=fake_embedder)
    return Index.open(tmp_path / "idx")


@pytest.mark.parametrize("mode", ["bm25", "hybrid", "dense"])
def test_finds_exact_numbers_and_names(index, fake_embedder, mode):
    r = Retriever(index, fake_embedder, mode=mode)
    top = r.search("乡镇干部周转房建了多少套？", k=3)
    assert top[0].source == "sub/c.md" and "2629" in top[0].text
    top = r.search("鹰峰社区的常住人口有多少", k=3)
    assert top[0].source == "b.txt"


def test_scores_and_details(index, fake_embedder):
    top = Retriever(index, fake_embedder, mode="hybrid").search("人才公寓投资", k=3)
    assert [p.score for p in top] == sorted((p.score for p in top), reverse=True)
    assert "bm25_rank" in top[0].details and "dense_rank" in top[0].details
    # The signals the refusal checks read are typed fields, present when the retrieval computed them.
    assert all(isinstance(p.dense, float) and isinstance(p.bm25, float) for p in top) and top[0].bm25 > 0
    assert all(p.bm25 is None for p in Retriever(index, fake_embedder, mode="dense").search("人才公寓投资", k=3))
    assert all(p.dense is None for p in Retriever(index, fake_embedder, mode="bm25").search("人才公寓投资", k=3))
    js = top[0].to_json()
    assert set(js) == {"source", "title", "text", "score", "start", "end", "page", "location", "ocr", "doc_key"}
    assert js["page"] is None and js["location"] == "" and js["ocr"] is False  # a .txt has no pages
    assert js["doc_key"] == top[0].chunk.doc_key and js["doc_key"].endswith(js["source"])


def test_traditional_query_finds_simplified_text(index, fake_embedder):
    top = Retriever(index, fake_embedder, mode="bm25").search("鄉鎮幹部周轉房", k=1)
    assert top and top[0].source == "sub/c.md"


def test_near_duplicates_do_not_crowd_top_k(index, fake_embedder):
    top = Retriever(index, fake_embedder, mode="hybrid").search("多家网站转载的新闻", k=5)
    dup_sources = [p.source for p in top if "转载的新闻" in p.text]
    assert len(dup_sources) == 1


def test_query_without_known_terms_falls_back_to_dense(index, fake_embedder):
    r = Retriever(index, fake_embedder, mode="hybrid")
    assert r.bm25_ranking("zzqx", 10) == []
    assert len(r.search("zzqx", k=3)) == 3


def test_bad_mode_and_empty_query(index, fake_embedder):
    with pytest.raises(YuanwenError, match="choose one of"):
        Retriever(index, fake_embedder, mode="magic")
    with pytest.raises(YuanwenError):
        Retriever(index, None, mode="dense")
    with pytest.raises(YuanwenError):
        Retriever(index, fake_embedder).search("   ")
