"""A document is keyed by its path, unique per index: two folders that both hold a.txt are indexed, shown,
cited and removed separately."""

import pytest

from rag.answer.pipeline import Pipeline
from rag.app.cli import main
from rag.app.config import Settings
from rag.ingest.indexing import update_index
from rag.retrieve.retrieval import Retriever
from rag.store.index import Index

TEXTS = {"north": "北山镇概况\n\n北山镇2023年共种植茶树4800亩。",
         "south": "南湖镇概况\n\n南湖镇2023年共种植水稻1200亩。"}


@pytest.fixture
def twin_index(tmp_path, fake_embedder):
    folders = []
    for name, text in TEXTS.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "a.txt").write_text(text, encoding="utf-8")
        folders.append(folder)
    index_dir = tmp_path / "idx"
    report = update_index(folders, index_dir, embedder=fake_embedder)
    assert report.documents == 2
    keys = {name: str((tmp_path / name / "a.txt").resolve()) for name in TEXTS}
    return index_dir, keys


def test_both_are_indexed_and_cited_by_their_own_path(twin_index, fake_embedder):
    index_dir, keys = twin_index
    index = Index.open(index_dir)
    assert sorted((d.source, d.key) for d in index.documents()) == sorted(("a.txt", k) for k in keys.values())
    assert "北山镇" in index.document_text(keys["north"]) and "南湖镇" in index.document_text(keys["south"])
    pipe = Pipeline(Retriever(index, fake_embedder), None, k=4)
    for name, question, fact in (("south", "南湖镇种植了多少亩水稻？", "1200"),
                                 ("north", "北山镇种植了多少亩茶树？", "4800")):
        answer = pipe.ask(question)
        assert not answer.refused and fact in answer.answer, answer.answer
        for citation in answer.citations:
            assert citation.doc_key == keys[name] and citation.to_json()["doc_key"] == keys[name]
            assert citation.passage.chunk.doc_key == keys[name] and citation.passage in answer.passages
            assert index.document_text(citation.doc_key)[citation.start:citation.end] == citation.text


def test_both_are_shown_and_removed_separately_in_the_ui_and_the_cli(twin_index, fake_embedder, capsys):
    from ui import render
    from ui.app import Backend, corpus_view, remove, respond

    index_dir, keys = twin_index
    backend = Backend.from_settings(Settings(index=str(index_dir), generator="extractive"), embedder=fake_embedder)
    _, _, table, menu = corpus_view(backend)
    labels = dict((value, label) for label, value in menu.choices)
    assert set(labels) == set(keys.values()) and len(set(labels.values())) == 2
    for name, key in keys.items():
        assert labels[key].startswith("a.txt") and name in labels[key] and render.esc(labels[key]) in table

    *_, (chat, _, sources, *_rest) = respond(backend, "南湖镇种植了多少亩水稻？", [], [], 4, "hybrid", "extractive", "")
    assert "1200" in chat[-1]["content"] and f'title="{render.esc(keys["south"])}"' in sources

    assert main(["remove", "a.txt", "--index", str(index_dir)]) == 1
    err = capsys.readouterr().err
    assert keys["north"] in err and keys["south"] in err and "pass the path" in err
    assert len(backend.documents()) == 2  # nothing removed by an ambiguous name

    assert remove(backend, keys["north"]) == f"Removed {render.esc(labels[keys['north']])}."
    assert [d.key for d in backend.documents()] == [keys["south"]]
    assert main(["remove", keys["south"], "--index", str(index_dir)]) == 0
    assert backend.documents() == []
