"""Answerability when the question words the asked attribute otherwise than the document.

The lexical attribute share refuses "村里拿出了多少亩空着的地" against "流转闲置土地260亩": no word
is shared. Meaning (the retriever's embedder, rag/answer/similarity.py) and a shared head
character ("竹笋" ~ "鲜笋") let such a sentence answer; neither may let through a sentence about
another subject or one that states another attribute. The embedder here is a stand-in that
reads meaning off groups of synonyms, so each test decides what is "close" in plain sight.
"""

import numpy as np
import pytest

from rag.answer.answerability import SIMILARITY_FLOOR, asked_for, judge
from rag.answer.question import analyse_question
from rag.answer.pipeline import Pipeline
from tests.fixtures_answering import KeywordRetriever, ScriptedGenerator, make_chunks, passage_from

# Each group is one meaning; a text means what its groups' words say.
MEANINGS = [
    ("空着的地", "闲置土地", "闲置的土地"),
    ("东田村",),
    ("刘家村",),
    ("烧仙草",),
    ("亩产", "每亩产量"),
    ("修路", "道路", "硬化"),
    ("竹笋", "鲜笋", "笋"),
]

DOCS = {
    "dongtian.txt": ("东坪镇东田村种植烧仙草",
                     "东坪镇东田村与中草药企业合作，通过村集体经济组织流转闲置土地260亩。\n"
                     "东田村去年硬化村道3公里。"),
    "liujia.txt": ("大栗港镇刘家村",
                   "大栗港镇刘家村建成竹笋加工厂3座，流转闲置土地120亩。"),
}


class MeaningEmbedder:
    """e5's interface (embed_queries / embed_passages, unit rows) over the meaning groups above."""

    name = "meaning-stub"
    dim = len(MEANINGS) + 1

    def __init__(self):
        self.calls = 0

    def _vector(self, text: str) -> np.ndarray:
        v = np.array([1.0 if any(w in text for w in group) else 0.0 for group in MEANINGS] + [0.3])
        return (v / np.linalg.norm(v)).astype(np.float32)

    def embed_queries(self, texts):
        self.calls += 1
        return np.stack([self._vector(t) for t in texts])

    def embed_passages(self, texts, *, batch_size=16, progress=None):
        self.calls += 1
        return np.stack([self._vector(t) for t in texts])


class MeaningRetriever(KeywordRetriever):
    """The keyword retriever with an embedder, as the hybrid retriever has."""

    def __init__(self, chunks):
        super().__init__(chunks)
        self.embedder = MeaningEmbedder()


def _chunks():
    chunks = []
    for source, (title, body) in DOCS.items():
        chunks.extend(make_chunks(title + "\n" + body, source, title))
    return chunks


@pytest.fixture
def with_meaning():
    return MeaningRetriever(_chunks())


@pytest.fixture
def words_only():
    return KeywordRetriever(_chunks())


def test_the_stand_in_puts_synonyms_above_the_floor_and_others_below():
    emb = MeaningEmbedder()
    q = emb.embed_queries(["东田村拿出了多少亩空着的地？"])[0]
    same, other = emb.embed_passages(["东田村流转闲置土地260亩", "东田村去年硬化村道3公里"])
    assert float(same @ q) >= SIMILARITY_FLOOR > float(other @ q)


def test_an_attribute_worded_otherwise_is_answered_on_its_meaning(with_meaning, words_only):
    question = "东田村拿出了多少亩空着的地？"
    ans = Pipeline(with_meaning, None).ask(question)
    assert not ans.refused, ans.details.get("refusal")
    assert "260亩" in ans.answer and ans.citations[0].source == "dongtian.txt"
    assert ans.details["answerability"]["best_score"] >= 0.2
    # The words alone do not carry it: without the embedder the same question is refused.
    assert Pipeline(words_only, None).ask(question).refused


def test_meaning_does_not_answer_for_another_subject(with_meaning):
    # 刘家村's 120亩 is as close in meaning, but it is another village's land.
    ans = Pipeline(with_meaning, None).ask("东田村拿出了多少亩空着的地？")
    assert "120" not in ans.answer
    ans = Pipeline(with_meaning, None).ask("朱家村拿出了多少亩空着的地？")
    assert ans.refused, ans.answer
    assert "260" not in ans.answer.split("文档提到")[0] and "120" not in ans.answer.split("文档提到")[0]


def test_meaning_does_not_answer_an_attribute_the_documents_do_not_state(with_meaning):
    # On topic (东田村, 烧仙草), but no sentence states a yield per mu.
    ans = Pipeline(with_meaning, None).ask("东田村的烧仙草亩产多少斤？")
    assert ans.refused, ans.answer


def test_without_the_stage_meaning_is_not_asked(with_meaning):
    with_meaning.embedder.calls = 0
    Pipeline(with_meaning, None, answerability=False).ask("东田村拿出了多少亩空着的地？")
    assert with_meaning.embedder.calls == 0


def test_a_word_with_the_same_head_counts_in_part():
    passage = passage_from("大栗港镇发展笋竹两用林4.5万亩。2023年产鲜笋200余万斤。", source="bamboo.txt")
    asked = asked_for(analyse_question("大栗港镇2023年出产了多少新鲜竹笋？"))
    second = passage.text.index("2023")
    j = judge(asked, "2023年产鲜笋200余万斤", passage, second, len(passage.text))
    assert j.ok and 0.2 <= j.attribute < 1.0  # 出产 ~ 年产, 竹笋 ~ 鲜笋: half credit each; 新鲜 none


def test_a_rare_word_is_a_name_and_gets_no_credit_for_its_head():
    # 国考 (the civil service exam) is not 高考, though both end in 考.
    passage = passage_from("2023年全国高考报名人数1291万人，比去年增加98万人。", source="exam.txt")
    asked = asked_for(analyse_question("2023年国考计划招录多少人"))
    assert not judge(asked, "2023年全国高考报名人数1291万人", passage, 0, len(passage.text)).ok


def test_this_year_in_a_dated_document_is_the_documents_year():
    passage = passage_from("2021年引进的副主任中医师文胜今年获评第六届“广东好医生”。", source="doctor.txt")
    asked = asked_for(analyse_question("中医师文胜2022年获得了什么荣誉称号？"))
    claim = "副主任中医师文胜今年获评第六届“广东好医生”"
    dated_2022 = judge(asked, claim, passage, 0, len(passage.text), lead="2022-07-25 08:45:44 来源:韶关日报")
    assert dated_2022.ok, dated_2022.to_json()
    # Undated, or dated another year, the sentence's own 2021 is what it is about.
    for lead in ("", "2023-07-25 08:45:44 来源:韶关日报"):
        j = judge(asked, claim, passage, 0, len(passage.text), lead=lead)
        assert not j.ok and j.other_subject == "2021年"


def test_a_rare_place_named_without_its_level_is_a_subject():
    asked = asked_for(analyse_question("肇庆挑了多少名干部下派到村里当第一书记？"))
    assert "肇庆" in [s.text for s in asked.subjects]
    other = passage_from("先后选派13名党政储备类“丹霞英才”挂职村党组织“第一书记”。", source="ruyuan.txt")
    j = judge(asked, other.text, other, 0, len(other.text))
    assert not j.ok and j.missing_subjects == ["肇庆"]
    own = passage_from("肇庆实施“头雁”工程，选优派强389名驻村第一书记。", source="zhaoqing.txt")
    assert judge(asked, "选优派强389名驻村第一书记", own, 0, len(own.text)).ok
    # A common one ("中国") still weighs as a word, not a gate.
    assert "中国" not in [s.text for s in asked_for(analyse_question("中国第三艘航母叫什么名字？")).subjects]


def test_which_village_is_answered_by_a_village():
    asked = asked_for(analyse_question("大栗港镇哪个村获评“中国美丽休闲乡村”？"))
    assert asked.answer_type == "place"
    passage = passage_from("大栗港镇党委把党建引领作为“第一抓手”，先后成功创建朱家村为“中国美丽休闲乡村”。", source="v.txt")
    assert judge(asked, "先后成功创建朱家村为“中国美丽休闲乡村”", passage, 0, len(passage.text)).ok
    assert not judge(asked, "大栗港镇党委把党建引领作为“第一抓手”", passage, 0, len(passage.text)).type_ok


def test_vague_spans_and_people_in_the_question_are_read_as_such():
    analysis = analyse_question("浈江区这几年帮辖区里多少家公司去申报高新技术企业？")
    assert analysis.unit == "家" and analysis.answer_type == "number"
    assert analyse_question("浈江区管组织工作的那位区委常委叫什么名字？").answer_type == "person"
    # "那位" points at a person the question then asks something else of; "哪个领导" asks for one
    assert analyse_question("县里请来的那位中医今年拿到了什么称号？").answer_type == "entity"
    assert analyse_question("人才工作领导小组由哪个领导挂帅？").answer_type == "person"
    assert analyse_question("哪个领导小组负责人才工作？").answer_type == "entity"
    assert "时候" not in analyse_question("项目计划什么时候建成？").terms


def test_a_project_named_after_a_common_word_ending_like_a_place_is_a_subject():
    # "乡村" ends like a village (村) but names none: the project's name runs through it.
    asked = asked_for(analyse_question("翁源华润希望乡村项目计划什么时候建成？"))
    assert [s.text for s in asked.subjects] == ["翁源华润希望乡村项目"]
    passage = passage_from("10月26日,韶关翁源华润希望乡村项目在翁源县官渡镇镇仔村开工。", source="w.txt")
    # Started (开工) is not finished (建成): the date answers another attribute.
    assert not judge(asked, passage.text, passage, 0, len(passage.text)).ok


def test_a_model_answer_without_a_verified_citation_falls_back_to_an_accepted_sentence(with_meaning):
    # The model rewords the figure and cites nothing checkable; the sentence answerability accepted
    # before answering (on its meaning: the words differ) answers instead, and says who answered.
    gen = ScriptedGenerator("村里拿出了大约两百多亩地。")
    ans = Pipeline(with_meaning, gen).ask("东田村拿出了多少亩空着的地？")
    assert not ans.refused and "260亩" in ans.answer
    assert ans.generator == "extractive" and ans.details["fallback"]["reason"] == "no_citation"
    # A model that says the documents do not answer is believed.
    declined = Pipeline(with_meaning, ScriptedGenerator("文档中没有找到答案。")).ask("东田村拿出了多少亩空着的地？")
    assert declined.refused


def test_the_question_is_embedded_once_for_retrieval_and_meaning(ui_index_dir, fake_embedder):
    """Meaning reuses the question vector retrieval computed with the same embedder."""
    from rag.retrieve.retrieval import Retriever
    from rag.store.index import Index

    retriever = Retriever(Index.open(ui_index_dir), fake_embedder, mode="hybrid")
    fake_embedder.queries_embedded = fake_embedder.passages_embedded = 0
    ans = Pipeline(retriever, None).ask("浈江区推荐了多少家企业申报高新技术企业？")
    assert not ans.refused and "47" in ans.answer
    assert "answerability" in ans.details and fake_embedder.passages_embedded > 0  # meaning was weighed
    assert fake_embedder.queries_embedded == 1


def test_a_cilin_synonym_of_a_question_word_is_met_by_the_document():
    # "农村" asked, "乡村" written: one Cilin synonym set. Sets of more than MAX_SET words stay out ("人均").
    from rag.text.synonyms import synonyms

    assert "乡村" in synonyms("农村") and "登台" in synonyms("上台")
    assert "均匀" not in synonyms("人均")
    analysis = analyse_question("青山县农村去年修了多少公里路？")
    assert "乡村" in analysis.alternatives["农村"]
    from rag.answer.ranking import term_hits

    assert "农村" in term_hits(analysis, "青山县去年新建乡村道路35公里。")
    assert "农村" not in term_hits(analysis, "青山县去年新建城区道路35公里。")


def test_since_this_year_asks_no_more_than_this_year():
    # "今年以来" is "今年" with a filler ("以来"): a document's "今年来" must not leave it uncovered.
    from rag.answer.refusal import check_content

    analysis = analyse_question("今年以来青山县在农村一共栽了多少棵树？")
    assert "今年" in analysis.terms and "今年以来" not in analysis.terms
    text = "青山县推进乡村绿化。今年来,全县乡村绿化植树35万株,乡村面貌明显改善。"
    assert not check_content(analysis, [passage_from(text, source="q.txt")]).refused
    other = "青山县推进城区绿化。今年来,全县修建公园12个。"
    assert check_content(analysis, [passage_from(other, source="q.txt")]).refused
