"""The optional cross-encoder stage, with a tiny random CrossEncoder built here (no download)."""

import pytest

from rag.errors import ModelError
from rag.ingest.indexing import update_index
from rag.store.index import Index
from rag.retrieve.rerank import Reranker, load_cross_encoder
from rag.retrieve.retrieval import Retriever
from tests.fixtures_embeddings import tiny_vocab


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory):
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    folder = tmp_path_factory.mktemp("rerankers") / "tiny-ce"
    folder.mkdir()
    vocab = tiny_vocab()
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizer(vocab={t: i for i, t in enumerate(vocab)}, model_max_length=128).save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128, num_labels=1)
    BertForSequenceClassification(config).save_pretrained(folder)
    return str(folder)


@pytest.fixture
def index(corpus_dir, tmp_path, fake_embedder):
    update_index([corpus_dir], tmp_path / "idx", embedder=fake_embedder)
    return Index.open(tmp_path / "idx")


def test_rerank_orders_by_cross_encoder_score(index, fake_embedder, tiny_cross_encoder):
    plain = Retriever(index, fake_embedder).search("人才公寓", k=5)
    reranked = Retriever(index, fake_embedder, reranker=Reranker(tiny_cross_encoder, candidates=5)).search(
        "人才公寓", k=3)
    assert len(reranked) == 3
    encoder = load_cross_encoder(tiny_cross_encoder)
    expected = encoder.predict([("人才公寓", p.text) for p in plain])
    best = sorted(zip(expected, (p.chunk.id for p in plain)), reverse=True)[:3]
    assert [p.chunk.id for p in reranked] == [cid for _, cid in best]
    assert all("rerank" in p.details and "first_stage_score" in p.details for p in reranked)
    assert [p.score for p in reranked] == sorted((p.score for p in reranked), reverse=True)


def test_rerank_returns_new_passages_and_leaves_the_first_stage_ones_alone(index, fake_embedder, tiny_cross_encoder):
    first = Retriever(index, fake_embedder).search("人才公寓", k=5)
    before = [(p.score, dict(p.details)) for p in first]
    reranked = Reranker(tiny_cross_encoder, candidates=5).rerank("人才公寓", first, 3)
    assert [(p.score, p.details) for p in first] == before  # the first stage's ranking is still what it was
    by_id = {p.chunk.id: p for p in first}
    for p in reranked:
        assert p.details["first_stage_score"] == by_id[p.chunk.id].score and p.score == p.details["rerank"]
        assert (p.dense, p.bm25) == (by_id[p.chunk.id].dense, by_id[p.chunk.id].bm25)


def test_missing_reranker_is_a_clear_error(index, fake_embedder, tmp_path):
    r = Retriever(index, fake_embedder, reranker=Reranker(str(tmp_path / "no-such-model")))
    with pytest.raises(ModelError, match="reranker"):
        r.search("人才公寓", k=3)
