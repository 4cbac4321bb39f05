"""Saved conversations and feedback: the SQLite store, crash safety, Markdown and eval export, the CLI."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import types

import pytest

from rag.app.cli import main
from rag.app.conversations import ConversationStore, conversation_markdown
from rag.errors import YuanwenError
from rag.app.feedback import answer_keywords, export_lines
from rag.app.metrics import load_questions
from rag.schema import Answer, Chunk, Citation, Passage
from tests.fixtures_server import REPO


def make_answer(question="白云镇种植了多少亩茶树？", text="白云镇2023年共种植茶树3600亩[1]。", refused=False,
                query="") -> Answer:
    doc = "白云镇2023年共种植茶树3600亩，茶农人均增收2100元。"
    chunk = Chunk(id="t:1", source="towns.txt", title="两镇茶叶生产", paragraph=1, start=8, end=8 + len(doc), text=doc)
    span = "白云镇2023年共种植茶树3600亩"
    cit = Citation(n=1, source="towns.txt", text=span, start=8, end=8 + len(span))
    return Answer(question=question, answer=text, refused=refused, generator="llamacpp",
                  model="/root/.cache/yuanwen/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
                  citations=[] if refused else [cit], passages=[Passage(chunk, 0.9)], query=query or question,
                  details={"timings": {"total_s": 1.5}, "prompt_noise": "x" * 10})


@pytest.fixture
def store(tmp_path):
    return ConversationStore.for_data_dir(tmp_path / "data")


def test_turns_are_saved_with_citations_passages_and_timings(store):
    conv_id, t1 = store.add_turn("local", None, "default", make_answer())
    store.add_turn("local", conv_id, "default", make_answer("那青松镇呢？", "青松镇种植茶树4800亩[1]。", query="青松镇种植了多少亩茶树？"))
    conv = store.get("local", conv_id)
    assert conv.title == "白云镇种植了多少亩茶树？" and conv.kb == "default" and len(conv.turns) == 2
    first = conv.turns[0].answer
    assert first.citations[0].text == "白云镇2023年共种植茶树3600亩" and first.passages[0].chunk.paragraph == 1
    assert first.details == {"timings": {"total_s": 1.5}}  # prompt noise is not kept
    assert conv.turns[1].answer.query == "青松镇种植了多少亩茶树？"
    assert conv.history()[2] == {"role": "user", "content": "那青松镇呢？"}


def test_listing_is_newest_first_and_rename_delete_work(store):
    a, _ = store.add_turn("local", None, "default", make_answer("第一个问题？"))
    time.sleep(0.01)
    b, _ = store.add_turn("local", None, "policy", make_answer("第二个问题？"))
    assert [c.id for c in store.list("local")] == [b, a]
    assert [c.id for c in store.list("local", "policy")] == [b]
    time.sleep(0.01)
    store.add_turn("local", a, "default", make_answer("追问？"))
    assert [c.id for c in store.list("local")] == [a, b]
    store.rename("local", a, "  茶树  面积 ")
    assert store.get("local", a).title == "茶树 面积"
    with pytest.raises(YuanwenError):
        store.rename("local", a, "   ")
    store.delete("local", a)
    assert [c.id for c in store.list("local")] == [b]


def test_users_never_reach_each_others_conversations_or_feedback(store):
    conv_id, turn = store.add_turn("alice", None, "default", make_answer())
    assert store.list("bob") == []
    for attempt in (lambda: store.get("bob", conv_id), lambda: store.rename("bob", conv_id, "x"),
                    lambda: store.delete("bob", conv_id), lambda: store.rate("bob", turn, "up"),
                    lambda: store.add_turn("bob", conv_id, "default", make_answer())):
        with pytest.raises(YuanwenError, match="no "):
            attempt()
    store.rate("alice", turn, "down", "wrong town")
    assert store.get("alice", conv_id).turns[0].comment == "wrong town"
    assert store.rated_turns("default", "bob") == []


def test_a_writer_killed_mid_stream_leaves_an_intact_database(tmp_path):
    """SIGKILL a process that saves turns as fast as it can: the file is intact and every saved
    conversation has its turns (a turn and its conversation are written in one transaction)."""
    data = tmp_path / "data"
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(REPO)!r})
        from rag.app.conversations import ConversationStore
        from tests.test_conversations import make_answer
        store = ConversationStore.for_data_dir({str(data)!r})
        print("ready", flush=True)
        conv = None
        for i in range(100000):
            conv, _ = store.add_turn("local", None if i % 3 == 0 else conv, "default", make_answer(f"问题{{i}}？"))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(1.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    store = ConversationStore.for_data_dir(data)
    assert store.integrity() == "ok"
    convs = store.list("local", limit=100000)
    assert len(convs) > 3
    with sqlite3.connect(data / "conversations.sqlite3") as db:
        orphans = db.execute("SELECT COUNT(*) FROM conversations c WHERE NOT EXISTS "
                             "(SELECT 1 FROM turns t WHERE t.conversation_id = c.id)").fetchone()[0]
    assert orphans == 0
    store.add_turn("local", None, "default", make_answer())  # still writable


def test_markdown_export_numbers_citations_and_quotes_passages(store):
    conv_id, turn = store.add_turn("local", None, "default", make_answer())
    store.add_turn("local", conv_id, "default", make_answer("那青松镇呢？", "青松镇种植茶树4800亩[1]。", query="青松镇种植了多少亩茶树？"))
    store.rate("local", turn, "up", "准确")
    md = conversation_markdown(store.get("local", conv_id))
    assert md.startswith("# 白云镇种植了多少亩茶树？\n")
    assert "## 1. 白云镇种植了多少亩茶树？" in md and "## 2. 那青松镇呢？" in md
    assert "[1] towns.txt · 两镇茶叶生产, chars 8–" in md and "> 白云镇2023年共种植茶树3600亩" in md
    assert "*Searched for: 青松镇种植了多少亩茶树？*" in md
    assert "Qwen2.5-Coder-1.5B-Instruct Q4_K_M" in md and ".cache" not in md  # a name, never a path
    assert "Feedback: 👍 — 准确" in md


def test_feedback_export_writes_eval_lines_eval_can_read(store, tmp_path):
    c1, up = store.add_turn("local", None, "default", make_answer())
    _, follow = store.add_turn("local", c1, "default", make_answer("那青松镇呢？", "青松镇种植茶树4800亩[1]。"))
    _, down = store.add_turn("bob", None, "default", make_answer("白云镇茶农增收多少？", "3600亩[1]。"))
    _, refusal = store.add_turn("local", None, "default", make_answer("白云镇有几所小学？", "文档中没有找到。", refused=True))
    store.add_turn("local", None, "other-kb", make_answer())
    store.rate("local", up, "up")
    store.rate("local", follow, "up")
    store.rate("bob", down, "down", "should be 2100元")
    store.rate("local", refusal, "up")
    lines = {line["qid"]: line for line in export_lines(store, "default")}
    assert set(lines) == {f"feedback-{up}", f"feedback-{follow}", f"feedback-{down}", f"feedback-{refusal}"}
    good = lines[f"feedback-{up}"]
    assert good["answerable"] is True and good["evidence"] == ["白云镇2023年共种植茶树3600亩"]
    assert good["source"] == "towns.txt" and "3600" in good["answer_keywords"] and "2023" in good["answer_keywords"]
    assert lines[f"feedback-{follow}"]["history"] == ["白云镇种植了多少亩茶树？"]
    bad = lines[f"feedback-{down}"]
    assert bad["todo"] and bad["comment"] == "should be 2100元" and bad["given_answer"] == "3600亩[1]。"
    assert lines[f"feedback-{refusal}"]["answerable"] is False
    assert [line["qid"] for line in export_lines(store, "default", "bob")] == [f"feedback-{down}"]

    path = tmp_path / "fb.jsonl"
    path.write_text("".join(json.dumps(v, ensure_ascii=False) + "\n" for v in lines.values()), encoding="utf-8")
    questions = load_questions(path)  # the todo line is skipped until a person completes it
    assert sorted(q.qid for q in questions) == sorted(k for k in lines if k != f"feedback-{down}")


def test_answer_keywords_are_numbers_and_names_the_cited_text_holds():
    assert answer_keywords("白云镇种植茶树3600亩[1]，另有5000亩。", "白云镇2023年共种植茶树3600亩") == ["3600", "白云镇"]


def test_cli_chat_saves_resumes_lists_exports_and_feedback_export(tmp_path, monkeypatch, corpus_dir, capsys,
                                                                  tiny_st_model_dir):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("YUANWEN_CONFIG", raising=False)
    monkeypatch.setenv("YUANWEN_INDEX", str(tmp_path / "data" / "index"))
    assert main(["index", str(corpus_dir), "--embedder", str(tiny_st_model_dir)]) == 0
    asked = iter(["浈江区推荐了多少家企业申报高新技术企业？", ""])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(asked))
    assert main(["chat", "--generator", "extractive", "--retriever", "bm25"]) == 0
    out = capsys.readouterr().out
    assert "47" in out and "saved as conversation" in out
    conv_id = out.split("saved as conversation ")[1].split()[0]

    assert main(["conversations", "list", "--json"]) == 0
    convs = json.loads(capsys.readouterr().out)["conversations"]
    assert [c["id"] for c in convs] == [conv_id] and convs[0]["title"] == "浈江区推荐了多少家企业申报高新技术企业？"

    asked = iter(["浈江区共投资多少万元建设完善人才公寓？", ""])
    assert main(["chat", "--resume", conv_id, "--generator", "extractive", "--retriever", "bm25"]) == 0
    assert "resuming" in capsys.readouterr().out
    assert main(["conversations", "export", conv_id]) == 0
    md = capsys.readouterr().out
    assert "## 1. 浈江区推荐了多少家企业申报高新技术企业？" in md and "## 2. 浈江区共投资多少万元" in md and "> " in md

    store = ConversationStore.for_data_dir(tmp_path / "data")
    store.rate("local", store.get("local", conv_id).turns[0].id, "up")
    assert main(["feedback", "export", "--out", str(tmp_path / "fb.jsonl")]) == 0
    line = json.loads((tmp_path / "fb.jsonl").read_text(encoding="utf-8"))
    assert line["answerable"] is True and "47" in line["answer_keywords"]
    assert "1 ready, 0 to complete" in capsys.readouterr().err
    assert main(["eval", str(tmp_path / "fb.jsonl"), "--retrieval-only", "--retriever", "bm25", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["hit@5"] == 1.0

    assert main(["chat", "--resume", "nope"]) == 1
    assert main(["conversations", "delete", conv_id]) == 0
    assert main(["conversations", "list"]) == 0
    assert "no saved conversations" in capsys.readouterr().out


# -- the UI's sidebar handlers -------------------------------------------------------------------
def _request(user=None):
    return types.SimpleNamespace(username=user)


def test_sidebar_saves_reopens_rates_exports_and_keeps_users_apart(ui_backend):
    import gradio as gr

    from ui import sidebar
    from ui.app import chat_turn

    alice, bob = _request("alice"), _request("bob")
    outs = list(chat_turn(ui_backend, "浈江区推荐了多少家企业申报高新技术企业？", [], [], sidebar.empty_state(), "default",
                          5, "hybrid", "extractive", "", alice))
    chat, turns, sources, info, debug, box, state, listing, copy_text = outs[-1]
    assert state["id"] and state["turns"] == {"1": state["turns"]["1"]}
    assert listing.choices == [("浈江区推荐了多少家企业申报高新技术企业？", state["id"])]
    assert "47" in copy_text and "[1] a.txt" in copy_text

    # Reopened in a fresh session: the chat, its history and the Sources come back.
    chat2, history, state2, sources2, *_ = sidebar.open_conversation(ui_backend, state["id"], alice)
    assert chat2[1]["content"] == chat[1]["content"] and history == turns and "<mark>" in sources2
    assert sidebar.conversation_choices(ui_backend, "default", "bob") == []
    *_, status = sidebar.open_conversation(ui_backend, state["id"], bob)
    assert "no conversation" in status

    like = types.SimpleNamespace(index=1, value=None, liked=False)
    status, state3 = sidebar.rate(ui_backend, state2, like, alice)
    assert "👎" in status
    assert sidebar.comment(ui_backend, state3, "wrong number", alice)[0] == "Comment saved."
    turn = ui_backend.conversations.get("alice", state["id"]).turns[0]
    assert turn.rating == -1 and turn.comment == "wrong number"

    file_update, status = sidebar.export_markdown(ui_backend, state, alice)
    md = open(file_update["value"], encoding="utf-8").read()
    assert "# 浈江区推荐了多少家企业申报高新技术企业？" in md and "> " in md and "Feedback: 👎 — wrong number" in md

    status, listing, _ = sidebar.rename(ui_backend, state, "人才工作", "default", alice)
    assert listing.choices == [("人才工作", state["id"])]
    status, listing, fresh = sidebar.delete(ui_backend, state, "default", alice)
    assert listing.choices == [] and fresh == sidebar.empty_state()
    assert isinstance(sidebar.sidebar(ui_backend, "default", alice), gr.Radio)


def test_markdown_exports_older_than_an_hour_are_cleaned_up(tmp_path):
    import os

    from ui.sidebar import EXPORT_KEEP_SECONDS, export_folder

    first = export_folder(tmp_path)
    (first / "a.md").write_text("x", encoding="utf-8")
    second = export_folder(tmp_path)
    assert first.exists() and second.exists() and first != second
    old = first.stat().st_mtime - EXPORT_KEEP_SECONDS - 10
    os.utime(first, (old, old))
    third = export_folder(tmp_path)
    assert not first.exists() and second.exists() and third.exists()
