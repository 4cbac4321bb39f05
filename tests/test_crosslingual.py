"""Cross-lingual path: language detection, dictionary lookup, pinyin names, the persisted
term index and its incremental update, and English questions end to end."""

import json
from pathlib import Path

import pytest

from rag.retrieve.crosslingual import CollectionTerms, build_collection_terms, documents_language, translate
from rag.retrieve.crosslingual import dictionary
from rag.text import pinyin
from rag.store.index import Index, current_version
from rag.ingest.indexing import update_index
from rag.text.language import detect_language
from rag.answer.pipeline import Pipeline
from rag.retrieve.retrieval import Retriever

TEXTS = [
    "浈江区已推荐47家企业申报高新技术企业，推动乡村振兴。",
    "乳源县115个村级党组织参与“双向承诺”，大栗港镇建设笋竹林示范基地。",
    "在全市13757个村民小组实现党组织全覆盖。东田村种植仙草。",
]


@pytest.fixture(scope="module")
def terms() -> CollectionTerms:
    return build_collection_terms(TEXTS)


def test_language_of_questions_and_collections():
    assert detect_language("How many companies has Ruyuan set up?") == "en"
    assert detect_language("乳源县有多少个村级党组织？") == "zh"
    assert documents_language(TEXTS) == "zh"
    assert documents_language(["The quick brown fox.", "An English collection."]) == "en"
    assert build_collection_terms(["An English collection only."]).pinyin == {}


def test_dictionary_keys_are_stemmed_and_spelling_neutral():
    assert dictionary.phrase_key(["organisations"]) == dictionary.phrase_key(["organization"])
    assert dictionary.phrase_key(["colleges"]) == dictionary.phrase_key(["college"])
    assert dictionary.sense_keys("to circulate (of goods or capital)") == [dictionary.phrase_key(["circulate"])]
    assert dictionary.sense_keys("variant of 裡|里[li3]") == []


def test_dictionary_lookup_multiword_and_restricted_to_collection(terms):
    xq = translate("How many villager groups have high-tech enterprises?", terms)
    by_source = {g.source: g for g in xq.groups}
    assert by_source["high tech"].alternatives == ["高新技术"]  # multi-word sense, hyphen split
    assert "企业" in by_source["enterprises"].alternatives
    # Only words of this collection: 集团 ("group") is in CC-CEDICT but not in these texts.
    assert all(a in terms.terms for g in xq.groups if g.kind == "dictionary" for a in g.alternatives)
    assert "集团" not in by_source["groups"].alternatives
    # Adjacent terms standing together in the collection make a phrase group.
    assert any(g.kind == "phrase" and "村民小组" in g.alternatives for g in xq.groups)


def test_ambiguous_word_is_one_pooled_group(terms):
    xq = translate("party organisation", terms)
    party = [g for g in xq.groups if g.source == "party"]
    assert len(party) == 1 and "党" in party[0].alternatives
    # the passage's sense is picked for the answer checks
    assert "组织" in xq.terms_in(["乡村党组织"])


def test_pinyin_names_joined_split_and_possessive(terms):
    for question in ("Where is Daligang town?", "Where is Da Li Gang town?", "What is Ruyuan's plan?",
                     "daligang bamboo"):
        groups = [g for g in translate(question, terms).groups if g.kind == "pinyin"]
        assert groups, question
        assert groups[0].alternatives[0] in ("大栗港", "乳源"), question
    assert pinyin.pinyin_key("大栗港") == "daligang"
    assert not [g for g in translate("Where is Beijing?", terms).groups if g.kind == "pinyin"]


def test_numbers_are_kept(terms):
    groups = translate("What happened to the 13,757 groups in 2021?", terms).groups
    assert [g.alternatives for g in groups if g.kind == "number"] == [["13757"], ["2021"]]


def test_term_index_persisted_and_updated_incrementally(tmp_path, corpus_dir, fake_embedder):
    index_dir = tmp_path / "idx"
    update_index([corpus_dir], index_dir, embedder=fake_embedder)
    first = current_version(index_dir)
    saved = json.loads((first / "crosslingual" / "terms.json").read_text(encoding="utf-8"))
    assert saved["language"] == "zh" and saved["pinyin"]["乳源"] == "ruyuan"
    assert "乳源" in Index.open(index_dir).collection_terms.names["ruyuan"]
    assert not list(first.rglob("*.pkl")) and not list(first.rglob("*.pickle"))

    (corpus_dir / "d.txt").write_text("凤武产业合作园在东莞动工。", encoding="utf-8")
    calls = []
    import pypinyin

    real = pypinyin.lazy_pinyin

    def counting(text, *a, **kw):
        calls.append(text)
        return real(text, *a, **kw)

    pypinyin.lazy_pinyin = counting
    try:
        update_index([corpus_dir], index_dir, embedder=fake_embedder)
    finally:
        pypinyin.lazy_pinyin = real
    assert calls and all("乳源" not in c for c in calls)  # old text reused, only new text read
    terms = Index.open(index_dir).collection_terms
    assert "凤武" in terms.names["fengwu"] and "乳源" in terms.names["ruyuan"]

    (corpus_dir / "d.txt").unlink()
    update_index([corpus_dir], index_dir, embedder=fake_embedder)
    assert "fengwu" not in Index.open(index_dir).collection_terms.names


def test_english_question_takes_crosslingual_path_chinese_does_not(tmp_path, corpus_dir, fake_embedder):
    index_dir = tmp_path / "idx"
    update_index([corpus_dir], index_dir, embedder=fake_embedder)
    index = Index.open(index_dir)
    retriever = Retriever(index, fake_embedder)
    assert retriever.translate("乳源县有多少个村级党组织？") is None
    keyword = Retriever(index, None, mode="bm25")  # the fake embedder's dense signal is noise
    top = keyword.search("How many village-level party organisations does Ruyuan have?", k=3)
    assert "115个村级党组织" in top[0].text
    assert keyword.search("How many village-level party organisations?", k=3)[0].bm25 > 0
    # without translation no English word meets the Chinese text
    assert Retriever(index, None, mode="bm25", crosslingual="off").search(
        "How many village-level party organisations?", k=3) == []
    found = retriever.retrieve("How many village-level party organisations does Ruyuan have?", k=3)
    assert "translate_ms" in found.timings and "乳源" in found.translation.terms and len(found.passages) == 3
    plain = Retriever(index, fake_embedder, crosslingual="off")
    assert plain.translate("How many village-level party organisations does Ruyuan have?") is None
    answer = Pipeline(retriever, None, k=3).ask("How many village-level party organisations does Ruyuan have?")
    assert "乳源" in answer.details["translated_terms"] and "translate_ms" in answer.details["timings"]


@pytest.mark.slow
def test_english_question_over_seed_corpus_real_embedder(tmp_path):
    from rag.app.builder import make_retriever
    from rag.app.config import Settings

    corpus = Path(__file__).resolve().parent.parent / "data" / "demo"
    index_dir = tmp_path / "seed"
    update_index([corpus], index_dir)
    pipe = Pipeline(make_retriever(Settings(index=str(index_dir))), None, k=10)
    answer = pipe.ask("How many Yao township vanguard service teams has Ruyuan set up?")
    assert not answer.refused and "56" in answer.answer and answer.citations
    assert "乳源" in answer.details["translated_terms"]


def test_dictionary_phrasal_verbs_irregular_forms_and_multiword_sense_fallback():
    terms = build_collection_terms(["乳源组建56支服务队，依托华南农业大学，115个村级党组织参加承诺，农村人口增加。"])
    groups = {g.source: g.alternatives for g in translate("Ruyuan set up teams that rely on colleges", terms).groups}
    assert "组建" in groups["set up"] and "依托" in groups["rely on"]  # a particle ends a sense
    groups = {g.source: g.alternatives for g in translate("organisations took part", terms).groups}
    assert "参加" in groups["took part"]  # "took" → take, CC-CEDICT's "to take part"
    # "rural" has no sense of its own here; 农村 ("rural area") stands in for it.
    assert "农村" in {a for g in translate("rural population", terms).groups for a in g.alternatives}


def test_run_syllables_read_like_pypinyin_in_context():
    from pypinyin import lazy_pinyin

    from rag.text.pinyin import run_syllables

    for run in ["银行行长在行业大会上发言", "重庆重新开放长江大桥", "乳源瑶族自治县大栗港镇", "的", "朝阳朝气"]:
        assert run_syllables(run) == lazy_pinyin(run)
        assert run_syllables(run) == lazy_pinyin(run)  # again, from the per-word cache


def test_answer_checks_key_text_by_the_same_pinyin_as_the_collection():
    # rag.text.pinyin.pinyin_keys (a passage, for the answer checks) reads runs in context, like the
    # collection's n-gram keys: a polyphonic character as in its word.
    from rag.text.pinyin import pinyin_keys

    assert pinyin_keys("乳源县") == {"ruyuan", "yuanxian", "ruyuanxian"}
    keys = pinyin_keys("银行行长在重庆")
    assert {"yinhang", "hangzhang", "chongqing"} <= keys and not {"xingchang", "zhongqing"} & keys
    terms = build_collection_terms(["银行行长在重庆。"])
    assert terms.pinyin["行长"] == "hangzhang" and "hangzhang" in keys


def test_cedict_is_parsed_once_and_read_back_from_the_cache(cache_root):
    from rag.retrieve.crosslingual import dictionary

    tmp_path = cache_root
    dictionary.cedict_entries.cache_clear()
    try:
        parsed = dictionary.cedict_entries()
        (cached,) = (tmp_path / "cedict").glob("entries-*.json")
        dictionary.cedict_entries.cache_clear()
        assert dictionary.cedict_entries() == parsed and len(parsed) > 100_000
        cached.write_text("[[", encoding="utf-8")  # damaged: parsed again and rewritten
        dictionary.cedict_entries.cache_clear()
        assert dictionary.cedict_entries() == parsed and cached.read_text(encoding="utf-8").startswith("[[\"")
    finally:
        dictionary.cedict_entries.cache_clear()
