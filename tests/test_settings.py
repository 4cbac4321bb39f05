"""One Settings object (flags > environment > yuanwen.toml), one builder: a key in yuanwen.toml means the
same thing in the CLI and in the UI."""

import json

import numpy as np
import pytest

from rag.app.cli import main
from rag.app.config import _ENV, load_settings
from rag.errors import YuanwenError
from rag.store.index import Index

QUESTION = "乡镇干部周转房建了多少套"


@pytest.fixture
def toml(tmp_path, monkeypatch):
    """Write yuanwen.toml (named by YUANWEN_CONFIG) with no YUANWEN_* setting left in the environment."""
    for names in _ENV.values():
        for env in (names,) if isinstance(names, str) else names:
            monkeypatch.delenv(env, raising=False)
    path = tmp_path / "yuanwen.toml"
    monkeypatch.setenv("YUANWEN_CONFIG", str(path))

    def write(**values):
        path.write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items()), encoding="utf-8")

    return write


class ByLengthCrossEncoder:
    """A stand-in cross-encoder: the shorter the passage, the higher its score."""

    def predict(self, pairs, **_):
        return np.array([-float(len(text)) for _, text in pairs])


def test_flags_beat_environment_beat_toml(toml, monkeypatch):
    toml(k=3, retriever="bm25", vector_store="milvus")
    s = load_settings()
    assert (s.k, s.retriever, s.store.vector_store) == (3, "bm25", "milvus")
    monkeypatch.setenv("YUANWEN_RETRIEVER", "dense")
    assert load_settings().retriever == "dense"
    assert load_settings(retriever="hybrid", k=None).retriever == "hybrid" and load_settings(k=None).k == 3


def test_cache_root_and_openai_key_come_from_the_settings(toml, tmp_path, monkeypatch):
    from rag.cache import cache_dir

    toml(cache=str(tmp_path / "from-toml"), openai_key="toml-key")
    assert load_settings().openai_key == "toml-key" and cache_dir() == tmp_path / "from-toml"
    monkeypatch.setenv("YUANWEN_CACHE", str(tmp_path / "from-env"))
    monkeypatch.setenv("OPENAI_API_KEY", "openai-key")
    assert load_settings().openai_key == "openai-key" and cache_dir() == tmp_path / "from-env"
    monkeypatch.setenv("YUANWEN_OPENAI_KEY", "yuanwen-key")  # the project's own name wins
    assert load_settings().openai_key == "yuanwen-key"
    assert load_settings(cache=str(tmp_path / "flag")).cache == str(tmp_path / "flag") and cache_dir() == tmp_path / "flag"


def test_bad_values_name_the_fix(toml):
    toml(k="many")
    with pytest.raises(YuanwenError) as info:
        load_settings()
    assert "k" in info.value.message and info.value.hint
    toml(top_k=3)
    with pytest.raises(YuanwenError) as info:
        load_settings()
    assert "top_k" in info.value.message and "k" in info.value.hint


def test_toml_k_retriever_and_rerank_reach_cli_search_and_ask(toml, corpus_dir, tmp_path, tiny_st_model_dir,
                                                                capsys, monkeypatch):
    idx = tmp_path / "idx"
    toml(index=str(idx), embedder=str(tiny_st_model_dir))
    assert main(["index", str(corpus_dir)]) == 0
    capsys.readouterr()

    toml(index=str(idx), k=2, retriever="dense")
    assert main(["search", QUESTION, "--json"]) == 0
    from_toml = json.loads(capsys.readouterr().out)["passages"]
    assert main(["search", QUESTION, "--retriever", "dense", "-k", "2", "--json"]) == 0
    assert from_toml == json.loads(capsys.readouterr().out)["passages"] and len(from_toml) == 2
    assert main(["search", QUESTION, "--retriever", "hybrid", "-k", "2", "--json"]) == 0
    assert [p["score"] for p in json.loads(capsys.readouterr().out)["passages"]] != [p["score"] for p in from_toml]
    assert main(["ask", QUESTION, "--generator", "extractive", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["passages"]) == 2  # k from yuanwen.toml reaches ask
    assert main(["ask", QUESTION, "--generator", "extractive", "-k", "3", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["passages"]) == 3

    monkeypatch.setattr("rag.retrieve.rerank.load_cross_encoder", lambda name: ByLengthCrossEncoder())
    toml(index=str(idx), k=3, retriever="dense", rerank="any-cross-encoder")
    assert main(["search", QUESTION, "--json"]) == 0
    reranked = json.loads(capsys.readouterr().out)["passages"]
    assert [p["score"] for p in reranked] == sorted((-float(len(p["text"])) for p in reranked), reverse=True)


def test_the_ui_builds_what_the_cli_builds(toml, ui_index_dir, fake_embedder, monkeypatch):
    from rag.app.builder import make_pipeline
    from ui.app import Backend, api_search

    monkeypatch.setattr("rag.retrieve.rerank.load_cross_encoder", lambda name: ByLengthCrossEncoder())
    toml(index=str(ui_index_dir), k=2, retriever="dense", rerank="any-cross-encoder", generator="extractive")
    settings = load_settings()
    backend = Backend.from_settings(settings, embedder=fake_embedder)
    ui_pipe = backend.pipeline(settings.k, settings.retriever, settings.generator)
    cli_pipe = make_pipeline(settings, embedder=fake_embedder)
    for pipe in (ui_pipe, cli_pipe):
        assert pipe.k == 2 and pipe.generator is None
        assert pipe.retriever.mode == "dense" and pipe.retriever.reranker.model == "any-cross-encoder"
    passages = api_search(backend, QUESTION, k=settings.k, retriever=settings.retriever)["passages"]
    assert len(passages) == 2
    assert [p["score"] for p in passages] == sorted((-float(len(p["text"])) for p in passages), reverse=True)
    ui_answer, cli_answer = ui_pipe.ask(QUESTION), cli_pipe.ask(QUESTION)
    assert ui_answer.answer == cli_answer.answer and len(ui_answer.passages) == 2


def test_toml_store_settings_reach_cli_index_and_ui_upload(toml, corpus_dir, tmp_path, tiny_st_model_dir,
                                                          fake_embedder, capsys):
    from ui.app import Backend

    toml(index=str(tmp_path / "cli"), embedder=str(tiny_st_model_dir), faiss_index="HNSW16,Flat efSearch=24")
    assert main(["index", str(corpus_dir)]) == 0
    cli_index = Index.open(tmp_path / "cli")
    assert (cli_index.manifest.faiss_index_type, cli_index.manifest.faiss_search_params) == ("HNSW16,Flat",
                                                                                             "efSearch=24")
    toml(index=str(tmp_path / "ui"), faiss_index="HNSW16,Flat efSearch=24")
    backend = Backend.from_settings(load_settings(), embedder=fake_embedder)
    backend.ingest([(str(corpus_dir / "a.txt"), "a.txt")])
    ui_index = Index.open(tmp_path / "ui")
    assert (ui_index.manifest.faiss_index_type, ui_index.manifest.faiss_search_params) == ("HNSW16,Flat",
                                                                                           "efSearch=24")
