"""The kind of answer asked, read more closely: a "谁" answer names the person where the passage states the act,
"哪家企业" is answered by an organisation (not a quoted campaign), "哪个村" by a village jieba cut apart, an area by
an area, a figure per person by one; a name given by the passage's title is what each of its sentences is about.
Each was a wrong answer or a false refusal on the paraphrase dev sets (bench/questions/)."""

from rag.answer.answerability import _level_names, asked_for, judge
from rag.answer.question import analyse_question
from rag.answer.ranking import rank_candidates, term_hits
from rag.schema import Passage
from rag.text.words import has_new_org
from tests.fixtures_answering import make_chunks, passage_from


def _judge(question, claim, text):
    passage = passage_from(text, source="d.txt")
    return judge(asked_for(analyse_question(question)), claim, passage, 0, len(text))


def test_a_person_from_a_caption_is_not_who_did_the_act():
    # the author's caption sits in the passage; the leading group is headed by the 区委书记
    text = "浈江区委常委、组织部部长黄鹤明传达党的二十大精神。成立以区委书记任组长的人才工作领导小组。"
    question = "浈江区的人才工作领导小组是谁来牵头的？"
    j = _judge(question, "浈江区委常委、组织部部长黄鹤明牵头成立了人才工作领导小组", text)
    assert not j.ok and j.reason == "answer_type"
    assert _judge(question, "成立以区委书记任组长的人才工作领导小组", text).ok
    # a caption on its own line is its own sentence, even without a full stop
    captioned = "浈江区委常委、组织部部长黄鹤明传达党的二十大精神\n\n近年来,浈江区吸纳汇聚优秀人才。"
    assert not _judge("浈江区统筹人才事务的那个领导机构,由哪位区领导担任一把手？",
                      "组织部部长黄鹤明担任统筹人才事务的领导机构的一把手", captioned).type_ok
    # the act in other words ("开工仪式上说道" for 动工典礼上发言) still names the person who did it
    spoke = "“项目的开工,是推动乡村振兴的具体行动。”市委常委、常务副市长蒋红林在开工仪式上说道。"
    assert _judge("在项目动工典礼上发言的韶关市领导是谁？", "韶关市领导蒋红林在开工仪式上发言", spoke).type_ok
    # a name in the sentence that states the act is the answer
    led = "人才工作领导小组由区委书记张志强任组长。"
    assert _judge("浈江区的人才工作领导小组组长是谁？", "人才工作领导小组由张志强任组长", led).type_ok


def test_which_company_is_not_answered_by_a_quoted_campaign():
    text = "韶关积极发动企业、群众等社会主体,撬动社会力量参与“百千万工程”。乳源积极争取万科集团援建的乡村振兴示范带项目落地游溪镇中联村。"
    question = "游溪镇中联村那条乡村振兴示范带,是靠哪家企业出资帮着建起来的？"
    assert not _judge(question, "韶关撬动社会力量参与“百千万工程”出资帮着建起来的", text).type_ok
    assert _judge(question, "乳源积极争取万科集团援建的乡村振兴示范带项目落地游溪镇中联村", text).ok


def test_a_kind_word_before_its_verb_still_asks_for_an_organisation():
    # "哪家企业出力援建的": the kind is 企业; "发动企业" (a verb before it) names no firm
    text = "韶关积极发动企业、群众等社会主体,撬动社会力量参与“百千万工程”。"
    claim = "中联村的乡村振兴示范带是韶关积极发动企业、群众等社会主体,撬动社会力量参与“百千万工程”"
    assert not _judge("中联村的乡村振兴示范带是哪家企业出力援建的？", claim, text).type_ok
    # a firm named with a business ending is an organisation
    built = "五羊新城于1980年代由东华实业开发。"
    assert _judge("五羊新城由哪个公司开发？", built.rstrip("。"), built).type_ok


def test_a_demonstrative_starts_the_name_after_it():
    asked = asked_for(analyse_question("游溪镇中联村那条乡村振兴示范带是哪家企业援建的？"))
    assert all("那条" not in s.text for s in asked.subjects)


def test_a_village_written_after_its_town_is_found():
    # jieba cuts "官渡镇镇仔村" as 官渡/镇镇/仔村
    text = "韶关翁源华润希望乡村项目在韶关市翁源县官渡镇镇仔村开工。"
    assert "镇仔村" in _level_names(text, "村")
    assert _judge("华润出钱的翁源希望乡村项目落户在哪个村？", text.rstrip("。"), text).ok
    # only after a named town: "全镇" and "该镇" name none
    assert _level_names("全镇镇仔村开工。", "村") == []
    assert _level_names("该镇下辖村开展工作。", "村") == []


def test_a_company_named_with_its_legal_form_is_an_organisation():
    assert has_new_org("广东硕成科技股份有限公司成功入围国家级专精特新“小巨人”企业名单", "哪家企业入围了名单")
    assert not has_new_org("该县企业入围名单", "哪家企业入围了名单")


def test_an_area_is_answered_by_an_area():
    text = "东田村通过村级集体经济组织流转闲置土地260亩,去年该村集体经济首次突破10万元。"
    question = "东田村通过村集体转租了多大面积的闲置田地？"
    assert not _judge(question, "去年该村集体经济首次突破10万元", text).ok
    assert _judge(question, "东田村通过村级集体经济组织流转闲置土地260亩", text).ok
    ranked = rank_candidates(analyse_question(question), [passage_from(text)])
    best = ranked[0]
    assert "260亩" in passage_from(text).text[best.start:best.end]


def test_a_figure_per_person_is_not_answered_by_a_total():
    text = "推动到2022年底全市70%以上的村集体经济组织年经营性收入达到10万元以上。"
    assert not _judge("肇庆2022年农村居民人均可支配收入是多少元？", text.rstrip("。"), text).ok
    income = "2021年肇庆全市农林牧渔产值722亿元、同比增长9.5%;农村居民人均可支配收入22689元。"
    assert not _judge("2021年肇庆农民平均每人到手能花的钱有多少？", "2021年肇庆全市农林牧渔产值722亿元", income).ok
    ranked = rank_candidates(analyse_question("2021年肇庆农民平均每人到手能花的钱有多少？"), [passage_from(income)])
    assert "22689元" in income[ranked[0].start:ranked[0].end]


def test_a_name_in_the_title_is_what_each_sentence_is_about():
    # the talent database sentence does not repeat the town its article's lead names
    lead = "近年来,桃江县大栗港镇党委坚持把党建引领作为推动乡村振兴的第一抓手"
    text = "精心构建乡村振兴人才信息库,目前已收录824位各类人才。今年以来,表彰产业能人等领域人才33人。"
    chunk = make_chunks(text, "town.txt", lead)[0]
    analysis = analyse_question("大栗港镇收录了多少位人才？")
    titled = rank_candidates(analysis, [Passage(chunk=chunk, score=1.0)])
    untitled = rank_candidates(analysis, [passage_from(text)])
    assert term_hits(analysis, lead) <= titled[0].hits
    assert titled[0].coverage > untitled[0].coverage


def test_requests_resolved_are_not_requests_received():
    # "处理完了多少件" is met by "已解决794件", so the window reaches it; "收集到多少件" stays with 798
    text = "截至今年9月,我镇1038名邻长收集到群众“急难愁盼”民生问题798件,已解决794件。"
    resolved = rank_candidates(analyse_question("截至今年9月,大栗港镇邻长们反映上来的烦心事里,处理完了多少件？"),
                               [passage_from(text)])
    assert "794件" in text[resolved[0].start:resolved[0].end]
    received = rank_candidates(analyse_question("截至今年9月,大栗港镇的邻长们收集到多少件群众急难愁盼问题？"),
                               [passage_from(text)])
    assert "794件" not in text[received[0].start:received[0].end]


def test_a_count_of_people_is_met_by_any_measure_word_for_people():
    from rag.answer.ranking import has_unit

    analysis = analyse_question("大栗港镇的人才库里登记了多少人？")
    assert has_unit(analysis, "目前已收录824位各类人才")
    assert not has_unit(analysis, "建设人才公寓82套")


def test_an_occupation_is_no_organisation_and_the_asked_place_is_kept():
    # jieba tags "中医师" as an organisation; "在东莞哪家医院" is not answered by a hospital of 乳源
    assert not has_new_org("副主任中医师文胜今年获评第六届“广东好医生”", "文胜之前在哪家医院上班？")
    question = "文胜医生来乳源之前是在东莞哪家医院上班的？"
    text = "其所在的乳源中医院门诊业务量增加30%。"
    assert not _judge(question, text.rstrip("。"), text).type_ok
    moved = "文胜此前在东莞市人民医院工作。"
    assert _judge(question, moved.rstrip("。"), moved).type_ok


def test_a_table_row_is_a_figure_per_person_when_its_caption_says_so():
    text = "各县农村居民人均可支配收入（元）\n地区：乳源县，2021年：16842元，2022年：18562元。\n地区：新丰县，2021年：16500元，2022年：17790元。"
    row = text.index("地区：乳源县")
    end = text.index("\n", row)
    asked = asked_for(analyse_question("2022年乳源县农村居民人均可支配收入是多少？"))
    assert judge(asked, "2022年：18562元", passage_from(text), row, end).type_ok
    ranked = rank_candidates(asked.analysis, [passage_from(text)])
    assert ranked[0].typed


def test_which_university_is_not_answered_by_a_company():
    question = "落户乳源的全省高校首个县中托管项目,是哪所大学来托管的？"
    company = "乳源积极争取万科集团援建的乡村振兴示范带项目落地游溪镇中联村。"
    assert not _judge(question, company.rstrip("。"), company).type_ok
    counted = "推动17家高校院所与10个县合作共建122个帮扶协作项目。"  # "17家高校" names no university
    assert not _judge(question, counted.rstrip("。"), counted).type_ok
    named = "全省高校首个县中托管项目由华南师范大学托管。"
    assert _judge(question, named.rstrip("。"), named).type_ok


def test_which_town_of_a_place_is_not_answered_by_a_town_of_another_county():
    question = "韶关在东莞的“反向飞地”凤武产业合作园具体在东莞哪个镇？"
    elsewhere = "韶关翁源华润希望乡村项目在韶关市翁源县官渡镇镇仔村开工。"
    assert not _judge(question, elsewhere.rstrip("。"), elsewhere).type_ok
    # a village the claim does not place elsewhere may be the town's (its article is about the town)
    village = "先后成功创建朱家村为“中国美丽休闲乡村”、刘家村为“全国乡村旅游重点村”。"
    assert _judge("大栗港镇哪个村被评为全国乡村旅游重点村？", village.rstrip("。"), village).type_ok


def test_expenditure_is_not_income():
    text = "2021年肇庆全市农林牧渔产值722亿元;农村居民人均可支配收入22689元。"
    assert not _judge("2021年肇庆农村居民人均消费支出是多少元？", text.rstrip("。"), text).ok
    assert _judge("2021年肇庆农村居民人均可支配收入是多少元？", text.rstrip("。"), text).ok


def test_two_places_are_met_by_their_paired_abbreviation_and_first_by_shou():
    analysis = analyse_question("今年东莞支援韶关,市、县两层一共拉来了多少个项目？")
    assert {"东莞", "韶关"} <= term_hits(analysis, "今年莞韶对口帮扶市县两级引进和协助引进项目644个")
    text = ("今年来,省直机关帮扶力量在韶投入资金超13.68亿元,洽谈意向项目60余个。"
            "今年莞韶对口帮扶市县两级引进和协助引进项目644个。")
    best = rank_candidates(analysis, [passage_from(text)])[0]
    assert "644个" in text[best.start:best.end]
    first = analyse_question("韶关在东莞落地的第一块“反向飞地”叫什么名字？")
    assert "第一块" in term_hits(first, "韶关在东莞的首个产业“反向飞地”凤武产业合作园")
