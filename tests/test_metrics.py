import json

import pytest

from rag.errors import YuanwenError
from rag.app.metrics import EvalQuestion, answer_length, compute_metrics, is_relevant, keywords_found, load_questions


def _p(source, text, start=0):
    return {"source": source, "title": "", "text": text, "score": 1.0, "start": start, "end": start + len(text)}


QS = [
    EvalQuestion("a", "q1", True, ["已推荐47家企业"], "x.txt", ["47"]),
    EvalQuestion("b", "q2", True, ["人才 公寓"], None, [["二百", "200"]]),
    EvalQuestion("c", "q3", False, [], None, []),
]


def test_relevance_ignores_whitespace_and_checks_source():
    q = QS[0]
    assert is_relevant(q, "x.txt", "今年已推荐 47家企业申报")
    assert not is_relevant(q, "y.txt", "今年已推荐47家企业申报")
    assert is_relevant(QS[1], "z.txt", "建设人才公寓")


def test_retrieval_metrics():
    results = [
        {"qid": "a", "passages": [_p("y.txt", "无关"), _p("x.txt", "已推荐47家企业")]},
        {"qid": "b", "passages": [_p("z.txt", "人才公寓")]},
        {"qid": "c", "passages": []},
    ]
    m = compute_metrics(QS, results)
    assert m["hit@1"] == 0.5 and m["hit@5"] == 1.0
    assert m["mrr@10"] == pytest.approx((0.5 + 1) / 2)
    assert "answer_keyword_accuracy" not in m


def test_answer_metrics():
    results = [
        {"qid": "a", "passages": [_p("x.txt", "今年已推荐47家企业申报")], "answer": "已推荐47家企业[1]。",
         "refused": False, "citations": [{"n": 1, "source": "x.txt", "text": "已推荐47家企业", "start": 2, "end": 10}]},
        {"qid": "b", "passages": [_p("z.txt", "人才公寓")], "answer": "文档中没有找到", "refused": True,
         "citations": []},
        {"qid": "c", "passages": [_p("q.txt", "其他内容")], "answer": "是三百万[1]。", "refused": False,
         "citations": [{"n": 1, "source": "q.txt", "text": "其他内容", "start": 0, "end": 4}]},
    ]
    m = compute_metrics(QS, results)
    assert m["answer_keyword_accuracy"] == 0.5
    assert m["refusal_accuracy"] == 0.0
    assert m["false_refusal_rate"] == 0.5
    assert m["citation_precision"] == 0.5  # the made-up answer's citation does not support it
    assert m["median_answer_chars"] == pytest.approx((9 + 5) / 2)


def test_keywords_normalised():
    assert keywords_found(["22689", ["韶关学院", "shaoguan university"]], "共 22,689 人，Shaoguan University")
    assert not keywords_found(["47"], "四十七")
    assert answer_length("已推荐 47 家[1][2]。") == 7


def test_load_questions(tmp_path):
    f = tmp_path / "q.jsonl"
    f.write_text(json.dumps({"qid": "1", "question": "问"}, ensure_ascii=False) + "\n\n")
    assert load_questions(f)[0].answerable is True
    f.write_text("{not json}\n")
    with pytest.raises(YuanwenError):
        load_questions(f)
    with pytest.raises(YuanwenError):
        load_questions(tmp_path / "missing.jsonl")
