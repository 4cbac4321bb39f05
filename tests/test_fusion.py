"""Per-query fusion weights (rag/retrieve/fusion.py) over the tiny fixture index."""

import json

import numpy as np
import pytest

from rag.errors import YuanwenError
from rag.retrieve.fusion import FEATURES, AdaptiveFusion, idf_matched_share, question_form
from rag.store.index import Index
from rag.ingest.indexing import update_index
from rag.retrieve.retrieval import FusionConfig, Retriever

K = len(FEATURES)


def _coefficients(**named) -> np.ndarray:
    out = np.zeros(K)
    for name, value in named.items():
        out[FEATURES.index(name)] = value
    return out


@pytest.fixture
def index(corpus_dir, tmp_path, fake_embedder):
    update_index([corpus_dir], tmp_path / "idx", embedder=fake_embedder)
    return Index.open(tmp_path / "idx")


def test_question_form_tells_questions_from_search_queries():
    assert question_form("2022年英特尔全年营收") == 0.0
    assert question_form("北京冬奥会官方电影 主创团队") == 0.0
    assert question_form("小米13系列手机发布时间？") == 1.0
    assert question_form("乡镇干部周转房建了多少套") == 1.0
    assert question_form("How many village-level party organisations are there") == 1.0
    assert question_form("Shaoguan talent apartments investment") == 0.0


def test_idf_matched_share_weighs_rare_terms():
    assert idf_matched_share([(4.0, True), (1.0, False)]) == pytest.approx(0.8)
    assert idf_matched_share([(1.0, True), (4.0, False)]) == pytest.approx(0.2)
    assert idf_matched_share([]) == 0.0


def test_keyword_idf_and_document_frequencies(index):
    keywords = index.keywords
    assert keywords.document_frequencies(["浈江区", "2629", "zzqx", ""]) == [1, 1, 0, 0]
    idf_known, idf_unknown = keywords.idf(["浈江区", "zzqx"])
    n = len(index)
    assert idf_known == pytest.approx(np.log(1 + (n - 1 + 0.5) / 1.5))
    assert idf_unknown > idf_known > 0


def test_dense_share_follows_the_features_and_weights_sum_to_one():
    fusion = AdaptiveFusion(_coefficients(bias=0.0, bm25_gap=-4.0))
    undecided, decisive = np.zeros(K), np.zeros(K)
    undecided[0] = decisive[0] = 1.0
    decisive[FEATURES.index("bm25_gap")] = 1.0  # BM25's best passage far above its second
    assert fusion.weights(undecided) == (0.5, 0.5)
    w_dense, w_bm25 = fusion.weights(decisive)
    assert w_dense + w_bm25 == pytest.approx(1.0) and w_dense < 0.05
    assert AdaptiveFusion(_coefficients(bias=1e6)).weights(undecided)[0] == pytest.approx(1.0)


def test_weights_file_must_match_the_features(tmp_path):
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"features": ["bias"], "dense_share": [1.0]}))
    with pytest.raises(ValueError, match="features"):
        AdaptiveFusion.load(path)


def test_shipped_weights_trust_bm25_more_when_its_best_passage_stands_out():
    fusion = AdaptiveFusion.load()
    assert fusion.dense_share.shape == (K,)
    flat, peaked = (np.array([1.0, 4.0, 2.5, 0.5, gap, 0.9, 2.0, 1.0, 0.4, 1.0]) for gap in (0.02, 0.6))
    assert 0 < fusion.weights(peaked)[0] < fusion.weights(flat)[0] < 1


def test_neutral_adaptive_weights_equal_the_fixed_fusion(index, fake_embedder):
    fixed = Retriever(index, fake_embedder, fusion=FusionConfig(method="fixed"))
    adaptive = Retriever(index, fake_embedder)
    adaptive.adaptive = AdaptiveFusion(np.zeros(K))  # dense share sigmoid(0) = 0.5
    for question in ("人才公寓投资", "鹰峰社区的常住人口有多少", "zzqx"):
        a, b = fixed.search(question, k=5), adaptive.search(question, k=5)
        assert [p.details["row"] for p in a] == [p.details["row"] for p in b]
        assert [p.score for p in a] == pytest.approx([p.score for p in b])


@pytest.mark.parametrize("signal", ["dense", "bm25"])
def test_a_signal_given_all_the_weight_decides_the_ranking(index, fake_embedder, signal):
    question = "浈江区人才公寓和高新技术企业"
    hybrid = Retriever(index, fake_embedder)
    hybrid.adaptive = AdaptiveFusion(_coefficients(bias=100.0 if signal == "dense" else -100.0))
    alone = Retriever(index, fake_embedder, mode=signal)
    n = len(alone.search(question, k=5))  # BM25 ranks only passages that match
    assert [p.details["row"] for p in hybrid.search(question, k=5)[:n]] == \
        [p.details["row"] for p in alone.search(question, k=5)]
    assert hybrid.retrieve(question, k=5).fusion["dense_weight" if signal == "dense" else "bm25_weight"] == 1.0


def test_retrieval_and_fusion_inputs_expose_the_features(index, fake_embedder):
    r = Retriever(index, fake_embedder)
    features = r.retrieve("乡镇干部周转房建了多少套？", k=3).fusion["features"]
    assert list(features) == list(FEATURES)
    assert features["question_form"] == 1.0 and 0.5 < features["idf_matched"] < 1.0  # "房建" is unknown
    features = r.retrieve("乡镇干部 周转", k=3).fusion["features"]
    assert features["question_form"] == 0.0 and features["idf_matched"] == pytest.approx(1.0)
    inputs = r.fusion_inputs("zzqx 周转房")
    assert len(inputs.rows) == len(inputs.dense_z) == len(inputs.bm25_z) == len(inputs.bm25)
    assert 0.0 < inputs.feature_dict()["idf_matched"] < 1.0  # "zzqx" is not in the collection
    with pytest.raises(YuanwenError, match="hybrid"):
        Retriever(index, fake_embedder, mode="bm25").fusion_inputs("周转房")


def test_unknown_fusion_method(index, fake_embedder):
    with pytest.raises(YuanwenError, match="choose one of"):
        Retriever(index, fake_embedder, fusion=FusionConfig(method="magic"))
