"""bench/load.py: reading a streamed chat, the figures of a run, and a small run against a server in this process."""

from __future__ import annotations

import json
import os

import pytest

from bench import load


def _chunk(content: str | None = None, **extra) -> str:
    delta = {"content": content} if content is not None else {}
    return "data: " + json.dumps({"choices": [{"index": 0, "delta": delta}], **extra}, ensure_ascii=False)


def _read(lines: list[str]) -> load.RequestResult:
    ticks = iter(range(1, 100))
    return load.read_stream(lines, load.RequestResult(0, "q"), lambda: float(next(ticks)))


def test_a_cited_answer_after_waiting_in_the_queue():
    r = _read([_chunk("", ), ": queued, 2 ahead", "", ": queued, 1 ahead", ": queued, 0 ahead", ": generating",
               ": generating", _chunk("答案是47家[1]。\n\n---\nSources:\n[1] a.txt"),
               _chunk(None, refused=False, citations=[{}]), "data: [DONE]"])
    assert r.places == [2, 1, 0] and r.wait_s == 1.0 and r.ttft_s == 2.0 and r.answer_s == 3.0 and r.total_s == 4.0
    assert r.verdict == "cited" and r.citations == 1


def test_refusals_errors_and_uncited_answers_are_told_apart():
    refused = _read([_chunk("文档中没有找到答案。"), _chunk(None, refused=True, citations=[]), "data: [DONE]"])
    assert refused.verdict == "refused" and refused.ttft_s == refused.answer_s  # the extractive answer: one piece
    warning = _read([_chunk("⚠️ something went wrong (RuntimeError: x)"), _chunk(None), "data: [DONE]"])
    assert warning.verdict == "error" and "RuntimeError" in warning.error
    uncited = _read([_chunk("47家。"), _chunk(None, refused=False, citations=[]), "data: [DONE]"])
    assert uncited.verdict == "error"
    cut_off = _read([_chunk("47家[1]。"), _chunk(None, refused=False, citations=[{}])])  # no [DONE]
    assert cut_off.verdict == "error"


def test_the_summary_takes_percentiles_of_answered_requests_only():
    results = [load.RequestResult(u, "q", ttft_s=float(u), answer_s=float(u) + 1, content="x[1]", refused=False,
                                  citations=1, done=True, places=[u, 0], wait_s=u - 0.5) for u in range(1, 21)]
    results.append(load.RequestResult(99, "q", error="HTTP 500: boom"))
    m = load.summarise(results, [0.01, 0.02, 0.5], 1)
    assert m["requests"] == 21 and m["errors"] == 1 and m["cited"] == 20 and m["cited_or_refused"] == 20
    assert m["ttft_p50_s"] == pytest.approx(10.5) and m["ttft_p95_s"] == pytest.approx(19.05)
    assert m["answer_p95_s"] == pytest.approx(20.05) and m["answer_max_s"] == 21.0
    assert m["told_their_place"] == 20 and m["most_ahead"] == 20
    assert m["wait_p50_s"] == pytest.approx(10.0) and m["ttft_in_turn_p95_s"] == pytest.approx(0.5)
    assert m["health_checks"] == 4 and m["health_failures"] == 1 and m["health_max_s"] == 0.5
    assert m["first_error"] == "HTTP 500: boom"
    assert "| x | 20 × 1 | 1 | 20 / 0 |" in load.table([m | {"generator": "x", "users": 20, "questions_per_user": 1,
                                                            "peak_rss_mb": 100, "load_avg_before": 1.0,
                                                            "load_avg_after": 2.0}])


def test_only_a_server_on_this_machine_is_loaded():
    load.require_loopback("http://127.0.0.1:7860")
    with pytest.raises(SystemExit, match="this machine"):
        load.require_loopback("http://10.0.0.5:7860")


def test_a_small_load_against_a_server_with_a_slow_model(slow_model_server, tmp_path, capsys):
    url, model = slow_model_server
    model.seconds = 0.6
    out = tmp_path / "load.json"
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(json.dumps({"qid": str(i), "question": q, "answerable": "书记" not in q, "evidence": []},
                                              ensure_ascii=False)
                                   for i, q in enumerate(["浈江区推荐了多少家企业申报高新技术企业？", "肇庆建成多少套乡镇干部周转房？",
                                                          "乳源县多少个村级党组织参与双向承诺？", "鹰峰社区的书记是谁？"])),
                         encoding="utf-8")
    code = load.main(["--url", url, "--users", "4", "--pid", str(os.getpid()), "--questions-file", str(questions),
                      "--timeout", "120", "--json", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "| (running server) | 4 × 1 | 0 |" in printed
    (run,) = json.loads(out.read_text(encoding="utf-8"))
    m = run["summary"]
    assert m["errors"] == 0 and m["cited_or_refused"] == 4 and m["cited"] >= 3
    assert m["ttft_p95_s"] >= 0.3 and m["answer_p95_s"] >= m["ttft_p95_s"]
    assert m["told_their_place"] >= 2 and m["health_failures"] == 0 and m["health_checks"] >= 2
    assert m["peak_rss_mb"] > 50
    assert model.overlaps == 0 and len(model.order) == 1 + m["cited"]  # the warm-up, then each cited answer
