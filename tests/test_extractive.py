from rag.retrieve.crosslingual.translate import TermGroup
from rag.answer.extractive import ExtractiveAnswerer
from rag.answer.question import analyse_question
from rag.answer.ranking import has_answer_type
from rag.answer.citations import MARKER
from tests.fixtures_answering import passage_from


def _copied_from_passages(answer: str, passages) -> bool:
    body = MARKER.sub("", answer).replace("(Quoted from the Chinese source) ", "")
    return all(piece in "".join(p.text for p in passages) for piece in body.split("。") if piece)


def test_answer_types_from_question_cues():
    assert analyse_question("青山县新建了多少公里农村公路？").answer_type == "number"
    assert analyse_question("青山县新建了多少亩？").unit == "亩"
    assert analyse_question("县委书记叫什么名字？").answer_type == "person"
    assert analyse_question("这个项目叫什么名字？").answer_type != "person"
    assert analyse_question("与哪些院校联合举办培训班？").answer_type == "list"
    assert analyse_question("推行了什么制度？").answer_type == "entity"
    assert analyse_question("What is the name of the party secretary of Daligang?").answer_type == "person"
    assert analyse_question("How many teams has Ruyuan set up?").answer_type == "number"
    assert analyse_question("多少个？排第几？").asks == 2


def test_number_answer_is_the_clause_with_the_number(road_passages):
    ans = ExtractiveAnswerer().answer("青山县2022年新建了多少公里农村公路？", road_passages)
    assert "35公里" in ans and ans.endswith("[2]。")
    assert len(MARKER.sub("", ans)) <= 40  # trimmed to clauses, not the whole passage
    assert _copied_from_passages(ans, road_passages)


def test_list_and_person_answers(road_passages):
    ans = ExtractiveAnswerer().answer("青山县与哪些院校联合举办农技人员培训班？", road_passages)
    assert "华南农业大学、青山学院" in ans and "[3]" in ans
    ans = ExtractiveAnswerer().answer("县委书记叫什么名字？", road_passages)
    assert "李明华" in ans and "[4]" in ans


def test_person_type_needs_a_name_not_just_the_role():
    analysis = analyse_question("大栗港镇党委书记叫什么名字？")
    assert not has_answer_type(analysis, "全镇形成由党委书记负总责的党建新格局")
    assert has_answer_type(analysis, "镇党委书记张建国主持会议")


def test_english_question_quotes_the_chinese_source(road_passages):
    ans = ExtractiveAnswerer().answer("How large is the bamboo forest base in Baishui?", road_passages)
    assert ans.startswith("(Quoted from the Chinese source) ")
    assert "6000余亩" in ans and _copied_from_passages(ans, road_passages)


def test_ordinal_does_not_count_as_an_amount():
    analysis = analyse_question("烧仙草基地流转了多少亩土地？")
    assert not has_answer_type(analysis, "即将迎来第一次收成")
    assert not has_answer_type(analysis, "以一村一特色为目标")
    assert has_answer_type(analysis, "流转闲置土地260亩")


def test_english_how_many_prefers_the_number_beside_what_is_counted():
    passages = [passage_from("2022年浈江区获批重大科技专项。近年来，浈江区已推荐47家企业申报高新技术企业。")]
    a = analyse_question("How many companies has Zhenjiang recommended?",
                         term_groups=[TermGroup("companies", "dictionary", ["企业", "公司"]),
                                      TermGroup("Zhenjiang", "pinyin", ["浈江"])])
    answer = ExtractiveAnswerer().answer(a.question, passages, a)
    assert "47家企业" in answer and "2022" not in answer


def test_two_part_answer_pieces_are_separate_cited_sentences():
    from rag.answer.citations import verify_citations

    passages = [passage_from("今年青山县新建农村公路35公里。"), passage_from("青山县今年改造危桥12座。", source="b.txt")]
    raw = ExtractiveAnswerer().answer("青山县今年新建农村公路多少公里，改造危桥多少座？", passages)
    text, citations, report = verify_citations(raw, passages)
    assert report["dropped"] == 0 and {c.source for c in citations} == {"doc.txt", "b.txt"}, raw


def test_english_answer_types():
    assert analyse_question("Which colleges does Zhenjiang work with?").answer_type == "list"
    assert analyse_question("Which university is it, and how many people are in it?").answer_type == "number"
    assert analyse_question("In which year is the centre to be completed?").answer_type == "number"
    assert analyse_question("Which doctor was honoured?").answer_type == "person"
    assert analyse_question("Which project is this?").answer_type == "entity"  # "this" ends in s, is no plural
