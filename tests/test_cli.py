"""The `yuanwen` CLI contract: commands, JSON shapes, eval --out format and one-line errors."""

import json
import subprocess
import sys

import pytest

from rag.app.cli import main


@pytest.fixture
def indexed(corpus_dir, tmp_path, tiny_st_model_dir, capsys):
    idx = tmp_path / "idx"
    assert main(["index", str(corpus_dir), "--index", str(idx), "--embedder", str(tiny_st_model_dir)]) == 0
    capsys.readouterr()
    return idx


def test_index_reports_counts(corpus_dir, tmp_path, tiny_st_model_dir, capsys):
    idx = tmp_path / "idx"
    args = ["index", str(corpus_dir), "--index", str(idx), "--embedder", str(tiny_st_model_dir), "--json"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["documents"] == 3 and first["added"] == first["chunks"] > 0
    assert main(args) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["added"] == 0 and again["embedded"] == 0 and again["unchanged"] == first["chunks"]


def test_search_json_contract(indexed, capsys):
    assert main(["search", "乡镇干部周转房建了多少套", "--index", str(indexed), "-k", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["query"] == "乡镇干部周转房建了多少套"
    assert len(data["passages"]) == 2
    top = data["passages"][0]
    assert {"source", "title", "text", "score", "start", "end"} <= set(top)
    assert top["source"] == "sub/c.md" and "2629" in top["text"]
    assert data["passages"][0]["score"] >= data["passages"][1]["score"]


@pytest.mark.parametrize("retriever", ["bm25", "dense", "hybrid"])
def test_search_retriever_option(indexed, capsys, retriever):
    assert main(["search", "鹰峰社区", "--index", str(indexed), "--retriever", retriever, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["passages"]


def test_eval_retrieval_only_out_format(indexed, tmp_path, capsys):
    qfile = tmp_path / "q.jsonl"
    qs = [
        {"qid": "q1", "question": "乡镇干部周转房有多少套?", "answerable": True, "evidence": ["2629套"],
         "answer_keywords": ["2629"], "source": "c.md"},
        {"qid": "q2", "question": "鹰峰社区常驻人口多少?", "answerable": True, "evidence": ["2.7万人"],
         "answer_keywords": ["2.7万"]},
    ]
    qfile.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in qs), encoding="utf-8")
    out = tmp_path / "res.jsonl"
    assert main(["eval", str(qfile), "--index", str(indexed), "--retrieval-only", "--out", str(out), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["hit@5"] == 1.0 and 0 < metrics["mrr@10"] <= 1
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["qid"] for r in rows] == ["q1", "q2"]
    for r in rows:
        assert set(r) >= {"qid", "passages", "answer", "refused", "citations"}
        assert r["answer"] is None and r["refused"] is None and r["citations"] is None
        assert 1 <= len(r["passages"]) <= 10

    assert main(["eval", str(qfile), "--index", str(indexed), "--generator", "extractive", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "answer_keyword_accuracy" in printed and "hit@5" in printed
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(isinstance(r["answer"], str) and isinstance(r["refused"], bool) for r in rows)
    answered = [r for r in rows if not r["refused"]]
    assert answered and all({"n", "source", "text"} <= set(c) for r in answered for c in r["citations"])



def test_eval_reports_bad_lines_and_scores_the_rest(indexed, tmp_path, capsys):
    good = [
        {"qid": "q1", "question": "乡镇干部周转房有多少套?", "answerable": True, "evidence": ["2629套"],
         "answer_keywords": ["2629"]},
        {"qid": "q2", "question": "鹰峰社区常驻人口多少?", "answerable": True, "evidence": ["2.7万人"],
         "answer_keywords": ["2.7万"]},
    ]
    lines = [json.dumps(good[0], ensure_ascii=False),
             json.dumps({"qid": "empty", "question": "  ", "answerable": True, "evidence": ["x"]}),
             '{"qid": "broken", "question": "鹰峰社区',  # malformed JSON
             json.dumps(good[1], ensure_ascii=False)]
    qfile = tmp_path / "q.jsonl"
    qfile.write_text("\n".join(lines), encoding="utf-8")
    clean = tmp_path / "clean.jsonl"
    clean.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in good), encoding="utf-8")
    out = tmp_path / "res.jsonl"
    for args in (["--retrieval-only"], ["--generator", "extractive"]):
        assert main(["eval", str(clean), "--index", str(indexed), *args, "--json"]) == 0
        expected = json.loads(capsys.readouterr().out)
        assert main(["eval", str(qfile), "--index", str(indexed), *args, "--out", str(out), "--json"]) == 0
        captured = capsys.readouterr()
        metrics = json.loads(captured.out)
        assert metrics["questions"] == 2 and metrics["bad_lines"] == 2
        assert [(b["line"], b["qid"]) for b in metrics["bad_line_errors"]] == [(2, "empty"), (3, None)]
        assert "empty question" in metrics["bad_line_errors"][0]["error"]
        assert "JSON" in metrics["bad_line_errors"][1]["error"]
        scored = {k: v for k, v in metrics.items() if k not in ("bad_lines", "bad_line_errors", "median_latency_ms")}
        assert scored == {k: v for k, v in expected.items() if k not in ("bad_lines", "median_latency_ms")}
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert [r["qid"] for r in rows] == ["q1", "q2", "empty", "line 3"]
        for r in rows[2:]:
            assert r["error"] and r["answer"] is None and r["passages"] == [] and r["citations"] is None
        assert "qid" in rows[0] and "error" not in rows[0]
        assert f"{qfile}:2 (qid empty): empty question" in captured.err

    assert main(["eval", str(qfile), "--index", str(indexed), "--retrieval-only"]) == 0
    assert "2 bad lines skipped" in capsys.readouterr().out
    only_bad = tmp_path / "bad.jsonl"
    only_bad.write_text(lines[1] + "\n" + lines[2], encoding="utf-8")
    assert main(["eval", str(only_bad), "--index", str(indexed), "--retrieval-only"]) == 1
    assert "no questions that can be asked" in capsys.readouterr().err

def test_ask_json(indexed, capsys):
    assert main(["ask", "乡镇干部周转房建了多少套?", "--index", str(indexed), "--generator", "extractive",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"answer", "refused", "generator", "model", "citations", "passages"} <= set(data)
    assert data["generator"] == "extractive"
    if not data["refused"]:
        assert "2629" in data["answer"] and data["citations"][0]["source"] == "sub/c.md"


@pytest.mark.parametrize(
    "args, message",
    [
        (["index", "/no/such/folder"], "no such file"),
        (["search", "问题"], "no index"),
        (["eval", "/no/such.jsonl"], "no eval file"),
    ],
)
def test_errors_are_one_clean_line(tmp_path, capsys, args, message):
    if args[0] != "index":
        args = args + ["--index", str(tmp_path / "missing")]
    else:
        args = args + ["--index", str(tmp_path / "idx")]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert err.strip().splitlines()[0].startswith("error:")


def test_empty_folder_and_corrupt_index(tmp_path, indexed, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["index", str(tmp_path / "empty"), "--index", str(tmp_path / "i2")]) == 1
    assert "no readable documents" in capsys.readouterr().err
    version = (indexed / (indexed / "CURRENT").read_text().strip())
    (version / "docstore.sqlite").write_bytes(b"not a database")
    assert main(["search", "问题", "--index", str(indexed)]) == 1
    err = capsys.readouterr().err
    assert "damaged" in err and "--rebuild" in err and "Traceback" not in err


def test_wrong_embedder_is_a_clear_error(indexed, corpus_dir, capsys):
    assert main(["index", str(corpus_dir), "--index", str(indexed), "--embedder", "multilingual-e5-small"]) == 1
    err = capsys.readouterr().err
    assert "was built with embedder" in err and "--rebuild" in err


def test_python_m_rag_help():
    out = subprocess.run([sys.executable, "-m", "rag", "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0
    for cmd in ("index", "search", "eval", "ask", "chat", "serve"):
        assert cmd in out.stdout


def test_ask_prints_a_refusal_once_with_its_reason(indexed, capsys):
    # 115 村级党组织 are 乳源's; asked of 浈江区, the answer is a refusal that says so.
    assert main(["ask", "浈江区有多少个村级党组织参与“双向承诺”？", "--index", str(indexed),
                 "--generator", "extractive"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("文档中没有找到") == 1
    assert "refused: the passages do not state this for 浈江区" in printed


def test_eval_metrics_name_the_configured_generator_and_count_fallbacks(indexed, tmp_path, capsys, monkeypatch):
    """A model answer that fails the answerability check is replaced by the extractive one: the metrics say
    which generator was configured and how many answers each gave (not the first answer's generator)."""
    from rag.app import builder
    from tests.fixtures_answering import ScriptedGenerator

    questions = [{"qid": "houses", "question": "乡镇干部周转房建了多少套?", "answerable": True, "evidence": ["2629套"],
                  "answer_keywords": ["2629"]},
                 {"qid": "people", "question": "鹰峰社区常驻人口多少?", "answerable": True, "evidence": ["2.7万人"],
                  "answer_keywords": ["2.7万"]}]
    qfile = tmp_path / "q.jsonl"
    qfile.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in questions), encoding="utf-8")
    # The scripted model states 2629 houses for both: right for the first, not what the second passage says.
    monkeypatch.setattr(builder, "make_generator", lambda *a, **k: ScriptedGenerator("乡镇干部周转房2629套[1]。"))
    assert main(["eval", str(qfile), "--index", str(indexed), "--generator", "scripted", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["generator"] == "scripted"
    assert metrics["answers_by_generator"].get("scripted") == 1, metrics
    assert sum(metrics["answers_by_generator"].values()) == 2
