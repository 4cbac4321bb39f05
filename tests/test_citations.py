from rag.answer.citations import number_values, split_cited_sentences, verify_citations
from tests.fixtures_answering import passage_from

P1 = "2022年，青山县改造危桥12座。全年新建农村公路35公里，总投资1.2亿元。"
P2 = "青山县与华南农业大学、青山学院联合举办农技人员培训班，共培训农技人员320人次。"


def _passages():
    return [passage_from(P1, source="a.txt", start=10), passage_from(P2, source="b.txt", start=500)]


def test_correct_citation_kept_with_span_in_document_coordinates():
    text, cits, report = verify_citations("新建农村公路35公里[1]。", _passages())
    assert text == "新建农村公路35公里[1]。"
    assert len(cits) == 1 and cits[0].n == 1 and cits[0].source == "a.txt"
    assert cits[0].text == "全年新建农村公路35公里，总投资1.2亿元。"
    assert cits[0].start == 10 + P1.index("全年") and cits[0].end == cits[0].start + len(cits[0].text)
    assert report["sentences"][0]["status"] == "kept"


def test_wrong_citation_is_recited_and_renumbered():
    text, cits, report = verify_citations("共培训农技人员320人次[1]。", _passages())
    assert text == "共培训农技人员320人次[1]。"  # passage 2 → listed as source 1
    assert cits[0].source == "b.txt" and report["recited"] == 1 and report["removed"] == 1


def test_number_must_match_exactly():
    text, cits, report = verify_citations("青山县新建农村公路36公里[1]。", _passages())
    assert text == "" and cits == [] and report["dropped"] == 1


def test_unsupported_sentence_dropped_and_supported_one_kept():
    answer = "青山县新建农村公路35公里[1]。该县还获得了全国文明城市称号[1]。"
    text, cits, report = verify_citations(answer, _passages())
    assert text == "青山县新建农村公路35公里[1]。"
    assert [s["status"] for s in report["sentences"]] == ["kept", "dropped"]


def test_uncited_sentence_gets_its_source_and_markers_after_full_stop_attach():
    answer = "培训农技人员320人次。[2] 新建农村公路35公里。"
    text, cits, _ = verify_citations(answer, _passages())
    assert text == "培训农技人员320人次[1]。新建农村公路35公里[2]。"
    assert [c.source for c in cits] == ["b.txt", "a.txt"]


def test_marker_forms():
    sentences = split_cited_sentences("甲乙丙[1, 2]。丁戊己【3】")
    assert sentences[0][1] == [1, 2] and sentences[1][1] == [3]


def test_out_of_range_marker_removed():
    text, cits, report = verify_citations("新建农村公路35公里[7]。", _passages())
    assert text == "新建农村公路35公里[1]。" and cits[0].source == "a.txt"


def test_english_sentence_checked_on_numbers_and_chinese():
    text, cits, _ = verify_citations("Qingshan (青山县) built 35 km of rural roads [2].", _passages())
    assert text == "Qingshan (青山县) built 35 km of rural roads [1]." and cits[0].source == "a.txt"
    text, cits, _ = verify_citations("Qingshan built 99 km of rural roads [1].", _passages())
    assert text == "" and cits == []


def test_number_values_understand_chinese_units():
    assert {27000.0, 2.7} in number_values("2.7万人")
    assert number_values("13,757个")[0] == {13757.0}


def test_a_claim_number_with_a_unit_must_match_by_value():
    assert number_values("2.7 million", claim=True) == [{2700000.0}]
    passages = [passage_from("全县公路总里程达到2.7万公里，总投资722亿元。", source="a.txt")]
    text, cits, _ = verify_citations("The roads total 2.7 million km [1].", passages)
    assert not cits and text == ""
    text, cits, _ = verify_citations("The roads total 27,000 km (2.7万公里) [1].", passages)
    assert cits and "27,000" in text
    text, cits, _ = verify_citations("It invested 722 billion yuan [1].", passages)
    assert not cits
    text, cits, _ = verify_citations("It invested 72.2 billion yuan (722亿元) [1].", passages)
    assert cits


def test_a_sentence_with_nothing_checkable_is_dropped_with_its_citation():
    passages = [passage_from("肇庆投入3.3亿元建成2629套乡镇干部周转房。", source="c.md")]
    text, cits, report = verify_citations("Zhaoqing (肇庆) built 2629 flats [1]. Sure, happy to help [1].", passages)
    assert len(cits) == 1 and "happy" not in text
    assert [s["status"] for s in report["sentences"]] == ["kept", "dropped"]


def test_english_sentence_quoting_chinese_is_recited_to_the_passage_holding_it():
    # Both passages name Qingshan; only b.txt holds the university the sentence quotes.
    text, cits, report = verify_citations(
        "Qingshan (青山县) trains technicians with South China Agricultural University (华南农业大学) [1].", _passages()
    )
    assert [c.source for c in cits] == ["b.txt"] and text.endswith("[1].")
    assert report["sentences"][0]["status"] == "recited"
    text, cits, _ = verify_citations("Qingshan works with Peking University (北京大学) [2].", _passages())
    assert cits == []
