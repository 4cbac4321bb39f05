import pytest

import prompts
from rag.answer.prompting import build_messages, excerpt
from rag.answer.extractive import analyse_question
from tests.fixtures_answering import passage_from


def test_every_template_loads_and_declares_its_variables():
    names = prompts.template_names()
    for expected in ("system_zh", "system_en", "answer_zh", "answer_en", "passage_zh", "followup_zh", "refusal_en"):
        assert expected in names
    assert prompts.load_template("answer_zh").get_identifiers() == ["passages", "question"]


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
    assert "资料 [1]（青山县交通年报）：“" in user and "资料 [3]" in user and "资料 [4]" not in user
    assert user.rstrip().splitlines()[-2] == "问题：青山县新建了多少公里农村公路？"
    # The system text does not depend on the question (prefix caching).
    other = build_messages("白水镇的竹林有多大？", road_passages[:1])
    assert other[0] == messages[0]


def test_english_question_gets_english_templates(road_passages):
    messages = build_messages("How many kilometres of roads did Qingshan build?", road_passages[:2])
    assert messages[0]["content"].startswith("You are Yuanwen")
    assert 'Passage [1] (青山县交通年报): "' in messages[1]["content"]


def test_excerpt_keeps_the_answer_sentence_and_neighbours_of_a_long_passage():
    filler = "".join(f"第{i}段介绍了与本题无关的工作安排和会议精神。" for i in range(20))
    text = filler + "白水镇打造竹林示范基地6000余亩。" + filler
    p = passage_from(text)
    short = excerpt(p, analyse_question("白水镇的竹林示范基地有多大？"), max_chars=120)
    assert "白水镇打造竹林示范基地6000余亩。" in short
    assert len(short) <= 120 + 4 and short.startswith("……") and short.endswith("……")
    assert short.strip("…") in text
