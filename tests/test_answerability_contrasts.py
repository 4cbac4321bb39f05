"""The other side of a contrast is another fact: 农村居民's income does not answer a question about 城镇居民,
nor does the date work started answer "什么时候完工" — however many other words match, and however
faithfully a model relabels the figure. A qualifier of an amount ("建成后年交易额") is no asked act, and
"今年以来" (since the start of the year) dates nothing."""

import pytest

from rag.answer.answerability import asked_for, judge
from rag.answer.question import analyse_question
from tests.fixtures_answering import passage_from

INCOME = "2021年肇庆全市农林牧渔产值722亿元、同比增长9.5%;农村居民人均可支配收入22689元,同比增长10%。"
BRIDGE = "2024年5月,毛羊坪渡改桥项目已启动测量放样、征地拆迁等前期工作。"


def _judge(question, claim, text):
    passage = passage_from(text, source="d.txt")
    return judge(asked_for(analyse_question(question)), claim, passage, 0, len(text))


def test_a_figure_for_rural_residents_does_not_answer_for_urban_ones():
    j = _judge("肇庆2021年城镇居民人均可支配收入是多少？", "肇庆2021年城镇居民人均可支配收入22689元", INCOME)
    assert not j.ok and j.reason == "other_subject" and j.other_subject == "农村" and "城镇" in j.missing_subjects
    assert _judge("肇庆2021年农村居民人均可支配收入是多少？", "农村居民人均可支配收入22689元", INCOME).ok


def test_a_colloquial_side_is_the_same_side():
    # "城里居民" is 城镇居民 in everyday words: still not answered by the 农村 figure.
    j = _judge("2021年肇庆城里居民平均每人可支配收入有多少？", "肇庆城里居民人均可支配收入22689元", INCOME)
    assert not j.ok and j.other_subject == "农村" and "城里" in j.missing_subjects


@pytest.mark.parametrize("question, other_question, claim, asked, stated", [
    ("全县有几个省级工程技术研究中心通过认定？", "全县有几个市级工程研发中心通过认定？", "全县5个市级工程研发中心通过认定", "省级", "市级"),
    ("肇庆建了多少个村级乡村振兴人才驿站？", "肇庆建了多少个镇级乡村振兴人才驿站？", "肇庆建设镇级乡村振兴人才驿站88个", "村级", "镇级"),
])
def test_a_recognition_at_another_level_is_another_fact(question, other_question, claim, asked, stated):
    text = claim + ",11家企业申报高新技术企业。"
    j = _judge(question, claim, text)
    assert not j.ok and j.other_subject == stated and asked in j.missing_subjects
    assert _judge(other_question, claim, text).ok


def test_the_start_date_does_not_answer_when_it_will_be_finished():
    j = _judge("毛羊坪渡改桥预计什么时候完工通车？", "毛羊坪渡改桥预计2024年5月完工通车", BRIDGE)
    assert not j.ok and j.other_subject == "启动"
    assert _judge("毛羊坪渡改桥什么时候启动前期工作？", "毛羊坪渡改桥2024年5月启动前期工作", BRIDGE).ok


def test_an_act_that_only_qualifies_an_amount_is_not_contrasted():
    text = "中农联·粤北农产品流通产业中心项目已开工建设,将打造年交易额200亿元的涉农智慧冷链产业示范基地。"
    j = _judge("中农联·粤北农产品流通产业中心建成后，一年的交易额能达到多少？",
               "中农联·粤北农产品流通产业中心项目已开工建设,将打造年交易额200亿元的涉农智慧冷链产业示范基地", text)
    assert j.ok, j.reason


def test_since_the_start_of_the_year_is_no_date():
    # "今年以来" counts a period; it does not say when the bridge will be finished (or when anything happened).
    from rag.answer.ranking import has_answer_type

    when = analyse_question("毛羊坪渡改桥预计什么时候完工通车？")
    assert not has_answer_type(when, "今年以来,大栗港镇党委政府表彰人才33人")
    assert has_answer_type(when, "毛羊坪渡改桥预计今年5月完工通车")
    assert has_answer_type(when, "该桥去年开工")


def test_a_side_of_a_contrast_is_met_only_by_synonyms_on_its_side():
    # Cilin puts 乡镇 beside 城镇: as an alternative it would let a 乡镇 sentence cover a 城镇居民 question.
    from rag.answer.ranking import term_hits

    urban = analyse_question("青山县城镇居民人均可支配收入是多少？")
    assert "乡镇" not in urban.alternatives.get("城镇", ())
    assert "城镇" not in term_hits(urban, "青山县投入3亿元建成乡镇干部周转房。")
    rural = analyse_question("青山县农村修了多少公里路？")
    assert "乡村" in rural.alternatives["农村"] and "城市" not in rural.alternatives["农村"]
