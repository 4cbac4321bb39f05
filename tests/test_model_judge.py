"""The chat model's yes/no on a sentence no word check accepts, and the subjects a collection names itself.

A question whose words are all paraphrased passes no check on words or meaning, though a sentence
states its answer; the model is asked whether it does, and its P(是) decides. A sentence it does not
vouch for stays refused, as does everything when the engine cannot read token probabilities. A bare
county name jieba does not know ("乳源") is still a subject when the documents write it with its level.
"""

import pytest

from rag.answer.answerability import asked_for, judge, places_written_in
from rag.answer.model_judge import JUDGE_CANDIDATES, MIN_YES, yes_probability
from rag.answer.pipeline import Pipeline
from rag.answer.question import analyse_question
from rag.answer.ranking import has_answer_type, names_post_holder
from rag.retrieve.retrieval import Retrieval
from rag.schema import Passage
from tests.fixtures_answering import ScriptedGenerator, make_chunks, passage_from

TEXTS = ["青山县发展茶叶种植，带动农户增收。", "青山县东田村去年流转闲置土地260亩，种植烧仙草。",
         "青山县修建农村公路，方便群众出行。"]
# Every content word paraphrased: 转包 for 流转, 空地 for 闲置土地, 多大一片 for 多少亩.
QUESTION = "东田村去年转包出去的空地有多大一片？"


class FixedRetriever:
    def __init__(self, texts):
        self.chunks = [c for i, t in enumerate(texts) for c in make_chunks(t, f"d{i}.txt", f"青山县新闻{i}")]

    def retrieve(self, query, k=5):
        return Retrieval(query=query, passages=[Passage(chunk=c, score=1.0 - i / 10, bm25=1.0)
                                                for i, c in enumerate(self.chunks[:k])])


class JudgingGenerator(ScriptedGenerator):
    """Answers with a fixed reply; says yes (``p``) only for a sentence holding ``marker``."""

    def __init__(self, reply, marker, p=0.95):
        super().__init__(reply)
        self.marker, self.p = marker, p
        self.judged: list[str] = []

    def yes_probability(self, messages, *, yes, no):
        content = messages[-1]["content"]
        self.judged.append(content)
        assert yes == ("是",) and no == ("否",) and "只回答" in content
        return self.p if self.marker in content else 0.2


def test_a_paraphrased_question_is_refused_without_a_judge():
    retriever = FixedRetriever(TEXTS)
    extractive = Pipeline(retriever, None, k=3).ask(QUESTION)
    assert extractive.refused
    plain = ScriptedGenerator("东田村去年流转闲置土地260亩[2]。")  # no token probabilities: no judge
    assert Pipeline(retriever, plain, k=3).ask(QUESTION).refused and not plain.calls


def test_the_model_vouches_for_the_sentence_that_answers_and_then_answers_from_it():
    gen = JudgingGenerator("东田村去年流转闲置土地260亩[1]。", marker="260亩")
    ans = Pipeline(FixedRetriever(TEXTS), gen, k=3).ask(QUESTION)
    assert not ans.refused, ans.answer
    assert "260亩" in ans.answer and ans.citations[0].passage.chunk.source == "d1.txt"
    verdicts = ans.details["answerability"]["model_judge"]
    assert max(v["p_yes"] for v in verdicts) == 0.95 and len(gen.judged) <= JUDGE_CANDIDATES
    # The model read the vouched sentence as its evidence; the question is in the judge's prompt.
    assert "260亩" in gen.calls[0][-1]["content"] and QUESTION.rstrip("？") in gen.judged[0]


def test_a_sentence_the_model_doubts_is_not_an_answer():
    gen = JudgingGenerator("东田村去年流转闲置土地260亩[1]。", marker="260亩", p=MIN_YES - 0.05)
    ans = Pipeline(FixedRetriever(TEXTS), gen, k=3).ask(QUESTION)
    assert ans.refused and not gen.calls  # asked to judge, never to answer
    assert gen.judged


def test_the_judge_only_sees_sentences_that_pass_the_gates():
    # Another village's figure: the subject gate fails before the model is asked anything.
    gen = JudgingGenerator("西田村去年流转闲置土地300亩[1]。", marker="300亩")
    texts = ["青山县发展茶叶种植，带动农户增收。", "青山县西田村去年流转闲置土地300亩，种植烧仙草。"]
    ans = Pipeline(FixedRetriever(texts), gen, k=2).ask(QUESTION)
    assert ans.refused and not any("300亩" in j for j in gen.judged)


def test_yes_probability_without_an_engine_that_can_tell_is_none():
    assert yes_probability(ScriptedGenerator("x"), QUESTION, TEXTS[1], "t", "zh") is None


def test_a_county_the_documents_write_with_its_level_is_a_subject():
    analysis = analyse_question("乳源翻新装修人才公寓一共花了多少钱？")
    assert not asked_for(analysis).subjects  # jieba tags a bare 乳源 as a common noun
    texts = ["乳源瑶族自治县大力实施人才安居工程，装修人才公寓82套。"]
    assert places_written_in(analysis.question, analysis.terms, texts) == ["乳源"]
    asked = asked_for(analysis, texts)
    assert [s.text for s in asked.subjects] == ["乳源"]
    other = passage_from("浈江区共投资200多万元建设完善人才公寓。", source="zj.txt")
    j = judge(asked, other.text.rstrip("。"), other, 0, len(other.text))
    assert not j.subject_ok and not j.ok
    assert places_written_in("人才公寓多少钱", {"人才": 6.6, "公寓": 8.5}, ["人才村", "公寓区"]) == []  # common words
    station = analyse_question("固始站可以办理什么业务？")  # a station named after the county, not the county
    assert places_written_in(station.question, station.terms, ["车站距固始县城约30公里，位于固始县段集镇。"]) == []
    coolie = analyse_question("苦力的定义是什么？")
    assert places_written_in(coolie.question, coolie.terms, ["苦力市场中，华工制度盛行。"]) == []  # 市场 is no 市


def test_who_leads_a_post_is_answered_by_the_office_that_holds_it():
    leads = analyse_question("浈江区人才工作领导小组由谁来挂帅当组长？")
    assert has_answer_type(leads, "成立以区委书记任组长的人才工作领导小组")
    office = "成立以区委书记任组长的人才工作领导小组"
    assert names_post_holder("浈江区人才工作领导小组由谁来挂帅当组长？", office)
    assert not names_post_holder("谁是浈江区的区委书记？", office)  # asks for the person, not the office
    assert not names_post_holder("浈江区人才工作领导小组由谁来挂帅当组长？", "区委书记出席会议")  # no post held


def test_a_question_word_is_no_place_name():
    asked = asked_for(analyse_question("这篇文章的作者是哪位区领导？"))
    assert not [s for s in asked.subjects if s.kind == "place"]


@pytest.mark.parametrize("filler", ["那篇", "这次"])
def test_pointer_words_are_no_content_terms(filler):
    assert filler not in analyse_question(f"{filler}报道说的大桥花了多少钱？").terms
