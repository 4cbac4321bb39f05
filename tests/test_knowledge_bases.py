"""Knowledge bases: named collections under one data folder, from the CLI and the UI's backend."""

from __future__ import annotations

import json

import pytest

from rag.app.cli import main
from rag.app.config import Settings
from rag.errors import YuanwenError
from rag.app.knowledge_bases import create_kb, delete_kb, get_kb, list_kbs, settings_for
from tests.fixtures_server import POLICY, write_docs


@pytest.fixture
def data_env(tmp_path, monkeypatch):
    """A working directory whose configured index is data/index (so the data folder is data/)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("YUANWEN_CONFIG", raising=False)
    monkeypatch.setenv("YUANWEN_INDEX", str(tmp_path / "data" / "index"))
    return tmp_path / "data"


def test_create_list_and_delete(tmp_path):
    s = Settings(index=str(tmp_path / "data" / "index"))
    assert [kb.name for kb in list_kbs(s)] == ["default"]
    kb = create_kb(s, "政策", embedder="some-embedder", retriever="bm25", generator="ignored")
    assert kb.index_dir == tmp_path / "data" / "kb" / "政策" / "index"
    assert kb.settings == {"embedder": "some-embedder", "retriever": "bm25"}  # only what a collection pins
    assert [k.name for k in list_kbs(s)] == ["default", "政策"]
    pinned = settings_for(s, "政策")
    assert pinned.index == str(kb.index_dir) and pinned.retriever == "bm25" and pinned.embedder == "some-embedder"
    with pytest.raises(YuanwenError, match="already exists"):
        create_kb(s, "政策")
    delete_kb(s, "政策")
    assert [k.name for k in list_kbs(s)] == ["default"] and not kb.index_dir.parent.exists()


@pytest.mark.parametrize("bad", ["", "..", "../x", "a/b", ".hidden", "x" * 65, "a b"])
def test_unusable_names_are_refused(tmp_path, bad):
    with pytest.raises(YuanwenError):
        create_kb(Settings(index=str(tmp_path / "index")), bad)


def test_default_cannot_be_created_or_deleted_and_unknown_names_list_the_others(tmp_path):
    s = Settings(index=str(tmp_path / "index"))
    with pytest.raises(YuanwenError):
        create_kb(s, "default")
    with pytest.raises(YuanwenError, match="cannot be deleted"):
        delete_kb(s, "default")
    with pytest.raises(YuanwenError, match=r"there are: default") as info:
        get_kb(s, "nope")
    assert "yuanwen kb create nope" in info.value.hint


def test_cli_kb_commands_and_kb_option(data_env, tmp_path, tiny_st_model_dir, corpus_dir, capsys):
    assert main(["index", str(corpus_dir), "--embedder", str(tiny_st_model_dir)]) == 0
    assert main(["kb", "create", "policy", "--embedder", str(tiny_st_model_dir)]) == 0
    # The knowledge base's own embedder is used: no --embedder needed.
    assert main(["index", str(write_docs(tmp_path / "policy-docs", POLICY)), "--kb", "policy", "--json"]) == 0
    capsys.readouterr()
    assert main(["kb", "list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["knowledge_bases"]}
    assert rows["default"]["documents"] == 3 and rows["policy"]["documents"] == 1
    assert rows["policy"]["embedder"] == str(tiny_st_model_dir)

    assert main(["search", "博士安家补贴", "--kb", "policy", "--retriever", "bm25", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["passages"][0]["source"] == "policy.txt"
    assert main(["search", "博士安家补贴", "--retriever", "bm25", "--json"]) == 0
    assert all(p["source"] != "policy.txt" for p in json.loads(capsys.readouterr().out)["passages"])
    assert main(["ask", "新区为引进的博士提供多少安家补贴？", "--kb", "policy", "--generator", "extractive",
                 "--retriever", "bm25", "--json"]) == 0
    assert "30万元" in json.loads(capsys.readouterr().out)["answer"]
    assert main(["docs", "--kb", "policy", "--json"]) == 0
    assert [d["source"] for d in json.loads(capsys.readouterr().out)["documents"]] == ["policy.txt"]

    assert main(["ask", "x", "--kb", "nope"]) == 1
    assert "yuanwen kb create nope" in capsys.readouterr().err
    assert main(["search", "x", "--kb", "policy", "--index", "elsewhere"]) == 1
    assert main(["kb", "delete", "policy"]) == 1  # no terminal to confirm on
    assert "--yes" in capsys.readouterr().err
    assert main(["kb", "delete", "policy", "--yes"]) == 0
    assert "deleted knowledge base policy" in capsys.readouterr().out
    assert main(["kb", "list", "--json"]) == 0
    assert [r["name"] for r in json.loads(capsys.readouterr().out)["knowledge_bases"]] == ["default"]


def test_backend_for_a_knowledge_base_uploads_and_answers_there(ui_backend, tmp_path):
    import types

    from ui.app import respond, upload

    create_kb(ui_backend.settings, "second")
    b = ui_backend.for_kb("second")
    assert b.kb == "second" and b.uploads_dir.parent.name == "second"
    src = tmp_path / "p.txt"
    src.write_text("人才政策\n\n新区为每位引进的博士提供安家补贴30万元。", encoding="utf-8")
    status = upload(b, [types.SimpleNamespace(name=str(src), orig_name="p.txt")], progress=lambda *a, **k: None)
    assert "Indexed p.txt" in status
    assert [d.source for d in b.documents()] == ["p.txt"] and "p.txt" not in [d.source for d in ui_backend.documents()]
    *_, last = respond(b, "新区为引进的博士提供多少安家补贴？", [], [], 5, "hybrid", "extractive", "")
    assert "30万元" in last[0][-1]["content"]
    assert sorted(ui_backend.kb_names()) == ["default", "second"]
