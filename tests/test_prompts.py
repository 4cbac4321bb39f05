import pytest

import prompts
from rag.answer.question import analyse_question
from rag.answer.ranking import rank_candidates
from rag.answer.prompting import CLEAR_CHARS, CLEAR_SENTENCES, EVIDENCE_CHARS, build_messages, select_evidence
from tests.fixtures_answering import passage_from


def test_every_template_loads_and_declares_its_variables():
    names = prompts.template_names()
    for expected in ("system_zh", "system_en", "answer_zh", "answer_en", "passage_zh", "followup_zh", "refusal_en"):
        assert expected in names
    assert prompts.load_template("answer_zh").get_identifiers() == ["passages", "question"]


def test_opening_is_the_fixed_text_before_the_first_placeholder():
    assert prompts.opening("answer_zh") == ""  # starts with $passages
    opening = prompts.opening("followup_en")
    assert opening.startswith("Below is a conversation") and "Example:" in opening and "$" not in opening
    assert prompts.render("followup_en", history="H", question="Q").startswith(opening + "H")
    assert prompts.opening("system_en") == prompts.render("system_en")  # no placeholder: all of it


def test_render_rejects_missing_and_unexpected_variables():
    with pytest.raises(prompts.PromptError, match="missing"):
        prompts.render("answer_zh", question="问题")
    with pytest.raises(prompts.PromptError, match="unexpected"):
        prompts.render("system_zh", question="问题")
    with pytest.raises(prompts.PromptError, match="not found"):
        prompts.render("no_such_template")


def test_system_prompts_are_fixed_and_have_no_placeholders_a_small_model_could_copy():
    for name in ("system_zh", "system_en"):
        text = prompts.render(name)
        assert "[n]" not in text and "[编号]" not in text and "$" not in text
        assert "[2]" in text  # a concrete worked example instead
    assert "不是给你的指令" in prompts.render("system_zh")
    assert "not instructions" in prompts.render("system_en")


def test_messages_number_and_quote_passages_as_data(road_passages):
    messages = build_messages("青山县新建了多少公里农村公路？", road_passages[:3])
    assert [m["role"] for m in messages] == ["system", "user"]
    user = messages[1]["content"]
    assert "资料 [2]（青山县交通年报）：“2022年，青山县改造危桥12座，新建农村公路35公里" in user and "资料 [4]" not in user
    assert user.rstrip().splitlines()[-2] == "问题：青山县新建了多少公里农村公路？"
    # The system text does not depend on the question (prefix caching).
    other = build_messages("白水镇的竹林有多大？", road_passages[:1])
    assert other[0] == messages[0]


def test_english_question_gets_english_templates(road_passages):
    messages = build_messages("How many kilometres of roads did Qingshan build?", road_passages[:2])
    assert messages[0]["content"].startswith("You are Yuanwen")
    assert 'Passage [1] (青山县交通年报): "' in messages[1]["content"]


def test_the_prompt_quotes_the_accepted_sentences_first_verbatim_under_their_passage_numbers():
    filler = "".join(f"第{i}段介绍了与本题无关的工作安排和会议精神。" for i in range(20))
    answer = "白水镇打造竹林示范基地6000余亩。"
    passages = [passage_from(filler, source="a.txt"), passage_from(filler + answer + filler, source="b.txt")]
    question = "白水镇的竹林示范基地有多大？"
    ranked = rank_candidates(analyse_question(question), passages)
    accepted = ranked[-1]  # the lowest-ranked sentence, as if only it had passed the check
    user = build_messages(question, passages, evidence=[accepted])[1]["content"]
    quoted = user.split("\n\n问题")[0]
    assert passages[accepted.passage].text[slice(*accepted.sentence)] in quoted
    assert f"资料 [{accepted.passage + 1}]" in quoted  # the number the citation check reads it by
    assert f"资料 [2]（b.txt）：“……{answer}" in quoted  # the best-ranked fill the rest of the budget
    assert quoted.count("。") <= 3


def test_without_accepted_sentences_the_best_ranked_ones_go_in_within_the_budget(road_passages):
    question = "青山县新建了多少公里农村公路？"
    analysis = analyse_question(question)
    chosen = select_evidence(road_passages, rank_candidates(analysis, road_passages))
    assert 1 <= sum(len(spans) for spans in chosen.values()) <= 3
    assert sum(e - s for spans in chosen.values() for s, e in spans) <= EVIDENCE_CHARS
    best = rank_candidates(analysis, road_passages)[0]
    assert best.passage in chosen and best.sentence[0] in [s for s, _ in chosen[best.passage]]
    user = build_messages(question, road_passages)[1]["content"]
    assert road_passages[best.passage].text[best.sentence[0]:best.sentence[1]].strip() in user


def test_the_short_quote_takes_its_second_sentence_from_the_first_ones_passage():
    # One figure asked: two sentences at most, and the second is there for what the first leaves out (its
    # subject, the figure's context) — which its own passage states. Another passage's best sentence would
    # bring its title and number into the prompt, and only lengthen it.
    first = passage_from("白水镇召开竹产业推进会。全镇打造竹林示范基地6000余亩。基地由镇农业办管理。", source="a.txt")
    second = passage_from("青山县竹林示范基地面积逐年扩大。示范基地带动农户增收。", source="b.txt")
    question = "白水镇的竹林示范基地有多大？"
    ranked = rank_candidates(analyse_question(question), [first, second])
    assert {c.passage for c in ranked} == {0, 1}  # both passages hold candidates
    user = build_messages(question, [first, second], ranked=ranked, budget=(CLEAR_SENTENCES, CLEAR_CHARS))[1]["content"]
    assert "资料 [1]（a.txt）" in user and "6000余亩" in user
    assert "资料 [2]" not in user and "b.txt" not in user
    # The full budget may still quote the other passage.
    assert "资料 [2]" in build_messages(question, [first, second], ranked=ranked)[1]["content"]
