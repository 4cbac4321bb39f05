"""A figure answers only the figure asked: a share is a percentage, a difference is stated as one, a figure
"截至6月" is not the one "截至9月", a county's total is not the city's, a count names what it counts, and a
count of organisations names none of them. Each was an on-topic unanswerable question answered with the
nearby figure (bench/questions/seed_unanswerable_dev.jsonl)."""

from rag.answer.answerability import _relabelled_act, asked_for, judge
from rag.answer.question import analyse_question
from rag.text.words import has_new_org
from tests.fixtures_answering import passage_from

INCOME = "2021年肇庆全市农林牧渔产值722亿元、同比增长9.5%;农村居民人均可支配收入22689元,同比增长10%。"
CASES = "截至今年9月,大栗港镇1038名邻长收集到群众“急难愁盼”民生问题798件,已解决794件。"


def _judge(question, claim, text, texts=()):
    passage = passage_from(text, source="d.txt")
    return judge(asked_for(analyse_question(question), texts), claim, passage, 0, len(text))


def test_a_share_is_answered_by_a_percentage_not_by_a_count():
    text = "在全市13757个村民小组100%实现党组织全覆盖的基础上,在村民小组和集体经济组织建立党组织1449个。"
    j = _judge("村民小组党组织的覆盖率是多少？", "在村民小组和集体经济组织建立党组织1449个", text)
    assert not j.ok and j.reason == "answer_type"
    assert _judge("村民小组党组织的覆盖率是多少？", "在全市13757个村民小组100%实现党组织全覆盖", text).ok
    area = "发展笋竹两用林4.5万亩。"
    assert not _judge("笋竹两用林占全镇林地总面积的比例是多少？", "发展笋竹两用林4.5万亩", area).ok


def test_a_difference_is_not_answered_by_one_side():
    j = _judge("2021年肇庆农村居民人均可支配收入比韶关高多少元？", "农村居民人均可支配收入22689元", INCOME)
    assert not j.ok and j.reason == "answer_type"
    # "同比增长9.5%" states a change, but not in 元
    assert not _judge("2021年肇庆农村居民人均可支配收入比韶关高多少元？", INCOME.rstrip("。"), INCOME).ok
    text = "2021年肇庆农村居民人均可支配收入22689元,比韶关高出1200元。"
    assert _judge("2021年肇庆农村居民人均可支配收入比韶关高多少元？", "比韶关高出1200元", text).ok
    # a difference written as a change is the answer, not a change to set aside
    text = "2021年肇庆农村居民人均可支配收入22689元,比韶关多出1200元。"
    assert _judge("2021年肇庆农村居民人均可支配收入比韶关多多少元？", "比韶关多出1200元", text).ok


def test_a_figure_at_another_month_is_another_figure():
    j = _judge("截至今年6月,大栗港镇的邻长们收集到多少件群众急难愁盼问题？", "1038名邻长收集到群众“急难愁盼”民生问题798件", CASES)
    assert not j.ok and j.reason == "other_subject" and j.other_subject == "9月" and "6月" in j.missing_subjects
    assert _judge("截至今年9月,大栗港镇的邻长们收集到多少件群众急难愁盼问题？", "1038名邻长收集到群众“急难愁盼”民生问题798件", CASES).ok


def test_an_event_month_in_the_question_does_not_rule_out_its_answer():
    # Only a figure is dated by its month; "2009年5月…与哪家公司" may give the month loosely.
    text = "2009年10月,CSPN与搜狐结成十一运会战略合作伙伴。"
    assert _judge("2009年5月,CSPN与哪家公司结成十一运会战略合作伙伴？", "CSPN与搜狐结成十一运会战略合作伙伴", text).ok


def test_a_county_total_does_not_answer_for_the_whole_city():
    text = "乳源全县103个行政村村集体经济收入稳步提高。"
    j = _judge("韶关全市一共有多少个行政村？", "全县103个行政村", text)
    assert not j.ok and j.other_subject == "全县" and "全市" in j.missing_subjects
    assert _judge("乳源全县一共有多少个行政村？", "全县103个行政村", text).ok


def test_a_count_of_organisations_names_none():
    question = "落户乳源的县中托管项目,是哪所大学托管的？"
    assert not has_new_org("推动17家高校院所与10个县(市、区)合作共建122个帮扶协作项目", question)
    assert has_new_org("由华南农业大学托管", question)


def test_a_place_before_its_committee_is_a_subject():
    # "乳源县委" names 乳源: the office of another district does not answer it.
    texts = ["乳源县委人才工作领导小组召开会议。"]
    text = "浈江区成立以区委书记任组长的人才工作领导小组,定期召开区委人才工作会议。"
    j = _judge("担任乳源县委人才工作领导小组组长的县委书记是谁？", "成立以区委书记任组长的人才工作领导小组", text, texts)
    assert not j.ok and "乳源" in j.missing_subjects


def test_a_share_asked_with_bizhong_is_a_number_question():
    # "多大比重" asks for a share, not a sum, though the question names "10万元"
    question = "照肇庆的打算,到2022年年末,一年经营收入上10万元的村集体要占全市村集体多大比重？"
    assert analyse_question(question).answer_type == "number"
    text = "肇庆推动到2022年底全市70%以上、到2023年底全市100%的村集体经济组织年经营性收入达到10万元以上。"
    assert _judge(question, text.rstrip("。"), text).ok


def test_the_kind_asked_ends_before_a_verb_and_le():
    # "哪家单位拿了下来" asks for an organisation (单位), not for a "单位拿"
    text = "浈江区协助韶关冶炼厂获批2022年韶关市重大科技专项“揭榜制”项目。"
    question = "2022年韶关市重大科技专项里的“揭榜制”课题,浈江区帮哪家单位拿了下来？"
    assert _judge(question, text.rstrip("。"), text).ok


def test_a_model_that_puts_another_act_on_the_figure_is_not_believed():
    # The passage 对接 (works with) 100多个 firms; a model writing "培育了100多个" states another fact.
    text = "肇庆全力打造农村科技特派员工作站,全面对接100多个农业龙头企业和涉农企业。"
    assert not _judge("肇庆培育了多少个农业龙头企业？", "肇庆培育了100多个农业龙头企业", text).ok
    assert _judge("肇庆对接了多少个农业龙头企业？", "肇庆对接了100多个农业龙头企业", text).ok
    # a sentence copied from the passage says what it says: no act of the model's to check
    asked = asked_for(analyse_question("肇庆培育了多少个农业龙头企业？"))
    assert _relabelled_act(asked, "全面对接100多个农业龙头企业和涉农企业", text) == ""
    assert _relabelled_act(asked, "肇庆培育了100多个农业龙头企业", text) == "培育"
