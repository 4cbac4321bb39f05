"""Answerability: an answer must state the asked attribute of the asked subject (rag/answer/answerability.py).

A small collection where every fact belongs to one subject, and questions that swap the
subject for another of the same kind (county, town, village, organisation, year), ask
another attribute, or ask for a kind of answer the passages do not hold. Each swap has its
answerable twin, so the checks cannot pass by refusing everything.
"""

import json

import pytest

from rag.answer.answerability import asked_for, judge
from rag.answer.question import analyse_question
from rag.answer.pipeline import Pipeline
from tests.fixtures_answering import KeywordRetriever, ScriptedGenerator, make_chunks, passage_from

DOCS = {
    "ruyuan.txt": ("乳源基层治理",
                   "乳源瑶族自治县组建56支瑶乡先锋服务队，3400名机关党员到社区报到。\n"
                   "游溪镇中联村建设瑶客共生广场，由万科集团援建。\n"
                   "乳源县筹措资金800万元修建瑶山大桥。\n"
                   "2021年，乳源县村集体经济收入达到1200万元，2022年起推行积分制管理。"),
    "taojiang.txt": ("桃江县大栗港镇乡村振兴",
                     "大栗港镇筹措资金1700万元修建栗山河大桥。\n"
                     "大栗港镇刘家村建成竹笋加工厂3座。"),
    "firms.txt": ("企业年报摘要",
                  "华为公司2022年研发投入1615亿元。\n"
                  "碧桂园集团2022年捐建学校12所。"),
}


@pytest.fixture
def retriever() -> KeywordRetriever:
    chunks = []
    for source, (title, body) in DOCS.items():
        chunks.extend(make_chunks(title + "\n" + body, source, title))
    return KeywordRetriever(chunks)


def ask(retriever, question, generator=None, history=None):
    return Pipeline(retriever, generator).ask(question, history)


@pytest.mark.parametrize(
    "question, expected",
    [
        ("乳源县组建了多少支瑶乡先锋服务队？", "56"),
        ("游溪镇中联村建设了什么广场？", "瑶客共生广场"),
        ("大栗港镇刘家村建成了几座竹笋加工厂？", "3座"),
        ("大栗港镇筹措了多少资金修建栗山河大桥？", "1700万元"),
        ("碧桂园集团2022年捐建了多少所学校？", "12所"),
        ("2021年乳源县村集体经济收入达到多少？", "1200万元"),
        ("华为公司2022年研发投入是多少？", "1615亿元"),
    ],
)
def test_the_subjects_own_facts_are_answered(retriever, question, expected):
    ans = ask(retriever, question)
    assert not ans.refused, ans.details.get("refusal")
    assert expected in ans.answer and ans.citations


@pytest.mark.parametrize(
    "question, kind",
    [
        ("桃江县组建了多少支瑶乡先锋服务队？", "county"),
        ("浈江区有多少名机关党员到社区报到？", "district"),
        ("游溪镇筹措了多少资金修建栗山河大桥？", "town"),
        ("大栗港镇朱家村建成了几座竹笋加工厂？", "village"),
        ("华为公司2022年捐建了多少所学校？", "organisation"),
        ("2022年乳源县村集体经济收入达到多少？", "year"),
    ],
)
def test_a_fact_of_another_subject_of_the_same_kind_is_refused(retriever, question, kind):
    ans = ask(retriever, question)
    assert ans.refused, f"{kind}: {ans.answer}"
    assert ans.details["refusal"]["reason"] == "answerability"


def test_the_refusal_says_whose_fact_the_documents_state_and_cites_it(retriever):
    ans = ask(retriever, "桃江县组建了多少支瑶乡先锋服务队？")
    assert ans.refused and "没有提到桃江县" in ans.answer and "56支瑶乡先锋服务队" in ans.answer
    assert [c.source for c in ans.citations] == ["ruyuan.txt"] and "56" in ans.citations[0].text
    assert ans.details["refusal"]["missing"] == ["桃江县"]


def test_another_attribute_of_the_same_subject_is_refused(retriever):
    # 营收 asked, only 研发投入 stated: the number is there, the attribute is not.
    ans = ask(retriever, "华为公司2022年营收是多少？")
    assert ans.refused and ans.details["refusal"]["reason"] == "answerability"
    assert "1615" not in ans.answer.split("文档提到")[0]


def test_a_question_for_a_date_is_not_answered_with_a_sum(retriever):
    ans = ask(retriever, "大栗港镇什么时候修建栗山河大桥？")
    assert ans.refused
    assert ans.details["refusal"]["closest"]["reason"] == "answer_type"
    assert "时间" in ans.answer


def test_a_model_answer_about_another_subject_falls_back_to_one_that_passes(retriever):
    # The model copies 乳源's 800万元 and relabels it 大栗港镇: the citation check keeps it (the
    # words and the number are in that passage), answerability does not.
    gen = ScriptedGenerator("大栗港镇筹措资金800万元修建大桥[2]。")
    ans = ask(retriever, "大栗港镇筹措了多少资金修建栗山河大桥？", gen)
    assert len(gen.calls) == 1 and not ans.refused
    assert ans.details["citation_check"]["sentences"][0]["status"] == "kept"
    assert "1700" in ans.answer and "800" not in ans.answer
    assert ans.generator == "extractive" and ans.details["fallback"]["reason"] == "answerability"


def test_a_failing_model_answer_is_never_shown(retriever):
    # A model answer that fails answerability, with no extractive answer that passes: refused,
    # and the refusal does not repeat the model's text.
    gen = ScriptedGenerator("乳源县筹措资金1700万元修建栗山河大桥[1]。")
    ans = Pipeline(retriever, gen)
    asked = asked_for(analyse_question("乳源县筹措了多少资金修建瑶山大桥？"))
    passages = retriever.search("乳源县筹措了多少资金修建瑶山大桥？", 3)
    report = {"sentences": [{"text": "乳源县筹措资金1700万元修建栗山河大桥", "passages": [i + 1],
                             "spans": {i + 1: [0, len(p.text)]}} for i, p in enumerate(passages) if "1700" in p.text]}
    assert report["sentences"]
    decision = ans._check(asked, asked.analysis, ["c"], report, passages, {})
    assert decision.refused and decision.reason == "answerability"


def test_a_follow_up_that_switches_subject_is_rewritten_and_checked(retriever):
    first = ask(retriever, "乳源县有多少名机关党员到社区报到？")
    assert not first.refused and "3400" in first.answer
    history = [{"role": "user", "content": "乳源县有多少名机关党员到社区报到？"},
               {"role": "assistant", "content": first.answer}]
    ans = ask(retriever, "那浈江区呢？", history=history)
    assert ans.query == "浈江区有多少名机关党员到社区报到？"
    assert ans.refused and "没有提到浈江区" in ans.answer


def test_judge_reads_subject_type_and_attribute_from_the_supporting_sentence():
    passage = passage_from("2023年春节档期总票房达67.57亿元，超越2022年春节档成为影史第二。", source="box.txt")
    asked = asked_for(analyse_question("2022年春节档的总票房是多少？"))
    j = judge(asked, "2023年春节档期总票房达67.57亿元", passage, 0, len(passage.text))
    # The clause holding the figure is about 2023, though the sentence also names 2022.
    assert not j.ok and j.reason == "other_subject" and j.other_subject == "2023年"
    asked = asked_for(analyse_question("2023年春节档的总票房是多少？"))
    assert judge(asked, "2023年春节档期总票房达67.57亿元", passage, 0, len(passage.text)).ok


def test_a_quoted_question_is_no_answer():
    passage = passage_from("更多关于“小米Mix4使用什么处理器”的信息请在本站查找。", source="ad.txt")
    asked = asked_for(analyse_question("小米MIX4的处理器是什么？"))
    j = judge(asked, passage.text, passage, 0, len(passage.text))
    assert not j.ok and j.reason == "question_form"


def test_a_person_answer_must_stand_beside_the_asked_role():
    passage = passage_from("用刘琳老师主要还是因为导演觉得她合适。导演辛爽介绍了拍摄过程。", source="tv.txt")
    asked = asked_for(analyse_question("《漫长的季节》的导演是谁？"))
    assert asked.role == "导演"
    first = passage.text.index("。") + 1
    assert not judge(asked, "用刘琳老师主要还是因为导演觉得她合适", passage, 0, first).type_ok
    assert judge(asked, "导演辛爽介绍了拍摄过程", passage, first, len(passage.text)).type_ok


def test_eval_asks_the_history_first_in_one_chat(retriever, tmp_path, monkeypatch, capsys):
    from rag.app import cli

    qfile = tmp_path / "fu.jsonl"
    rows = [
        {"qid": "f1", "history": ["乳源县有多少名机关党员到社区报到？"], "question": "那浈江区呢？",
         "answerable": False, "evidence": [], "answer_keywords": []},
        {"qid": "f2", "history": ["大栗港镇刘家村建成了几座竹笋加工厂？"], "question": "那大栗港镇筹措了多少资金修建栗山河大桥？",
         "answerable": True, "evidence": ["1700万元"], "answer_keywords": ["1700"]},
    ]
    qfile.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    monkeypatch.setattr("rag.app.builder.make_retriever", lambda *a, **kw: retriever)
    out = tmp_path / "res.jsonl"
    assert cli.main(["eval", str(qfile), "--generator", "extractive", "--out", str(out), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["refusal_accuracy"] == 1.0 and metrics["answer_keyword_accuracy"] == 1.0
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert results[0]["query"] == "浈江区有多少名机关党员到社区报到？" and results[0]["refused"]
    assert results[0]["history"][0]["question"] == rows[0]["history"][0] and "3400" in results[0]["history"][0]["answer"]
    assert results[0]["refusal"]["reason"] == "answerability"
    # The earlier question was asked before the graded one, in the same chat.
    assert retriever.queries.index("乳源县有多少名机关党员到社区报到？") < retriever.queries.index(results[0]["query"])


def test_without_the_check_the_swapped_subject_is_answered(retriever):
    # What the stage is for: the same pipeline without it relabels 乳源's teams as 桃江's.
    ans = Pipeline(retriever, None, answerability=False).ask("桃江县组建了多少支瑶乡先锋服务队？")
    assert not ans.refused and "56" in ans.answer


def test_a_claim_copied_out_of_a_question_is_no_statement():
    # A model turns "…“框计算”会实现吗？" into "百度推出的是“框计算”": the sentence it rests on asks, it does not state.
    passage = passage_from("ChatGPT对百度的影响悬而未决。例如，百度此前一直梦寐以求的“框计算”会实现吗？", source="q.txt")
    asked = asked_for(analyse_question("百度推出的类ChatGPT产品叫什么？"))
    j = judge(asked, "百度推出的类ChatGPT产品是“框计算”", passage, 0, len(passage.text))
    assert not j.ok and j.reason == "question_form"


def test_a_named_project_is_a_subject_too():
    # The 2900万元 is the 华润希望乡村项目's budget, not the 毛羊坪渡改桥项目's.
    passage = passage_from("10月26日,韶关翁源华润希望乡村项目开工,项目预算总投资约2900万元,由华润集团出资建设。",
                           source="wengyuan.txt")
    asked = asked_for(analyse_question("毛羊坪渡改桥项目总投资是多少？"))
    assert [s.text for s in asked.subjects] == ["毛羊坪渡改桥项目"]
    j = judge(asked, "毛羊坪渡改桥项目总投资约2900万元", passage, 0, len(passage.text))
    assert not j.ok and j.missing_subjects == ["毛羊坪渡改桥项目"]
    asked = asked_for(analyse_question("华润希望乡村项目总投资是多少？"))
    assert judge(asked, "华润希望乡村项目总投资约2900万元", passage, 0, len(passage.text)).ok


def test_a_park_named_with_a_one_character_head_is_a_subject():
    # jieba cuts "凤武产业合作园" as 凤武/产业/合作/园: the lone 园 still ends a name, so a year of another
    # town's co-operatives does not answer when the park is finished.
    asked = asked_for(analyse_question("两地在东莞建的凤武产业合作园预计什么时候完工？"))
    assert "凤武产业合作园" in [s.text for s in asked.subjects]
    passage = passage_from("大栗港镇现有笋竹加工专业合作社3家,2023年产鲜笋200余万斤。", source="bamboo.txt")
    j = judge(asked, "笋竹加工专业合作社3家,2023年产鲜笋200余万斤", passage, 0, len(passage.text))
    assert not j.ok and not j.subject_ok


def test_another_kind_of_incident_is_another_subject():
    # The 8 deaths are the traffic accident's; nothing is said of a stampede.
    passage = passage_from("山城县发生一起交通事故，一辆客车坠入河谷，已造成8人死亡。", source="news.txt")
    asked = asked_for(analyse_question("山城县踩踏事故造成多少人死亡？"))
    j = judge(asked, "山城县交通事故造成8人死亡", passage, 0, len(passage.text))
    assert not j.ok and j.other_subject == "交通事故"
    asked = asked_for(analyse_question("山城县交通事故造成多少人死亡？"))
    assert judge(asked, "已造成8人死亡", passage, 0, len(passage.text)).ok
    # An adjective before the head is no other incident: "强烈地震" is still the asked earthquake.
    quake = passage_from("当地时间2月6日凌晨，河谷国南部发生强烈地震。", source="quake.txt")
    asked = asked_for(analyse_question("河谷国地震的时间是什么时候？"))
    assert judge(asked, "当地时间2月6日凌晨，河谷国南部发生强烈地震", quake, 0, len(quake.text)).ok


def test_a_figure_for_a_sub_period_does_not_answer_for_the_whole():
    passage = passage_from("2021年，青州市电影票房收入12.5亿元，其中国庆档票房收入2.1亿元。", source="film.txt")
    whole = asked_for(analyse_question("2021年青州市电影票房收入是多少？"))
    j = judge(whole, "国庆档票房收入2.1亿元", passage, 0, len(passage.text))
    assert not j.ok and j.other_subject == "国庆档"
    assert judge(whole, "2021年，青州市电影票房收入12.5亿元", passage, 0, len(passage.text)).ok
    part = asked_for(analyse_question("2021年青州市国庆档票房收入是多少？"))
    assert judge(part, "国庆档票房收入2.1亿元", passage, 0, len(passage.text)).ok


def test_who_did_it_needs_a_person_beside_the_act():
    scene = passage_from("动画版《远山》补充了男主角李明在大学授课的场景。", source="a.txt")
    asked = asked_for(analyse_question("动画《远山》是谁制作的？"))
    assert asked.role == "制作"
    assert not judge(asked, "动画版《远山》补充了男主角李明在大学授课的场景", scene, 0, len(scene.text)).ok
    credit = passage_from("动画版《远山》由王晓峰制作，2022年上线。", source="b.txt")
    assert judge(asked, "动画版《远山》由王晓峰制作", credit, 0, len(credit.text)).ok


def test_a_predicate_broken_off_by_a_line_states_nothing():
    passage = passage_from("远星X9发布在即，可惜处理器是\n摘要：新机已经入网。", source="x9.txt")
    asked = asked_for(analyse_question("远星X9的处理器是什么"))
    j = judge(asked, "可惜处理器是\n摘要：新机已经入网", passage, 0, len(passage.text))
    assert not j.ok and j.reason == "question_form"


def test_question_cues_fused_with_a_word_are_no_content_terms():
    terms = analyse_question("浈江区跟哪几所大学合作？").terms
    assert "几所" not in terms and "哪几" not in terms and "大学" in terms
    terms = analyse_question("深洞村2021年种茶的基地有多大面积？").terms
    assert "种茶" in terms and "面积" in terms and "年种" not in terms and "大面积" not in terms


def test_who_did_it_may_be_an_organisation():
    passage = passage_from("游溪镇中联村建设瑶客共生广场，由万科集团援建。", source="c.txt")
    asked = asked_for(analyse_question("中联村的广场是谁援建的？"))
    assert judge(asked, "由万科集团援建", passage, 0, len(passage.text)).ok
    assert not judge(asked, "游溪镇中联村建设瑶客共生广场", passage, 0, len(passage.text)).ok


def test_a_how_big_question_does_not_need_its_noun_restated():
    # "多大" is a question word: "有多大面积" is answered by "达1400余亩" without the word 面积.
    passage = passage_from("深洞村建立茶叶种植专业合作社。2021年,当地高山茶种植基地达1400余亩。", source="tea.txt")
    asked = asked_for(analyse_question("深洞村2021年种茶的基地有多大面积？"))
    assert asked.head == ""
    assert judge(asked, "2021年,当地高山茶种植基地达1400余亩", passage, 0, len(passage.text)).ok


def test_another_named_project_is_another_subject():
    text = ("韶关在东莞的首个产业“反向飞地”凤武产业合作园项目已于10月动工建设。"
            "10月26日,韶关翁源华润希望乡村项目在韶关市翁源县官渡镇镇仔村开工。")
    passage = passage_from(text, source="feidi.txt")
    asked = asked_for(analyse_question("韶关在东莞的首个产业“反向飞地”项目叫什么?"))
    second = text.index("10月26日")
    j = judge(asked, "韶关翁源华润希望乡村项目在韶关市翁源县官渡镇镇仔村开工", passage, second, len(text))
    assert not j.ok and "华润希望乡村项目" in j.other_subject
    assert judge(asked, "韶关在东莞的首个产业“反向飞地”凤武产业合作园项目已于10月动工建设", passage, 0, second).ok
