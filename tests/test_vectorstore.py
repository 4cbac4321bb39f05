"""FAISS index type by size, overrides, manifest recording, and a save/load round trip of each index type."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.errors import YuanwenError
from rag.store.vectorstore import _hnsw
from rag.store.vectorstore import (
    EXACT_MAX_ROWS,
    FaissStore,
    choose_index_type,
    default_search_params,
    ivf_lists,
    split_index_spec,
)


def _clustered(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((20, dim))
    x = centres[rng.integers(0, 20, n)] + 0.3 * rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_exact_up_to_threshold_then_ivf():
    assert choose_index_type(0) == choose_index_type(EXACT_MAX_ROWS) == "Flat"
    assert choose_index_type(1_000_000) == "IVF4096,SQ8"
    assert choose_index_type(EXACT_MAX_ROWS + 1).startswith("IVF")
    assert ivf_lists(1_000_000) == 4096 and ivf_lists(10) == 16
    assert default_search_params("IVF4096,SQ8") == "nprobe=256"
    assert default_search_params("HNSW32,Flat") == "efSearch=64"
    assert default_search_params("Flat") == ""


def test_setting_overrides_with_search_params(monkeypatch, tmp_path):
    from rag.app.config import load_settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("YUANWEN_FAISS_INDEX", "HNSW16,Flat efSearch=32")
    assert split_index_spec(load_settings().store.faiss_index) == ("HNSW16,Flat", "efSearch=32")
    assert load_settings(faiss_index="Flat").store.faiss_index == "Flat"  # a flag beats the environment
    assert split_index_spec("IVF64,SQ8  nprobe=8") == ("IVF64,SQ8", "nprobe=8")


@pytest.mark.parametrize("index_type", ["Flat", "HNSW32,Flat", "IVF16,SQ8", "IVF16,Flat"])
def test_round_trip_each_index_type(index_type, tmp_path):
    vectors = _clustered(2000)
    store = FaissStore.build(vectors, index_type)
    store.save(tmp_path / "faiss.index")
    loaded = FaissStore.load(tmp_path / "faiss.index", index_type, store.search_params)
    assert len(loaded) == 2000 and loaded.index_type == index_type
    exact = vectors @ vectors[:50].T
    recall = []
    for row in range(50):
        hits = loaded.search(vectors[row], 10)
        assert len(hits) == 10 and hits[0][0] == row and hits[0][1] == pytest.approx(1.0, abs=0.02)
        recall.append(len({i for i, _ in hits} & set(np.argsort(-exact[:, row])[:10].tolist())) / 10)
    assert np.mean(recall) >= 0.9


def test_ivf_search_params_apply():
    store = FaissStore.build(_clustered(1000), "IVF16,SQ8", "nprobe=3")
    assert store.index.nprobe == 3 and store.search_params == "nprobe=3"


def test_bad_index_type_and_params_name_the_fix():
    with pytest.raises(YuanwenError) as info:
        FaissStore.build(_clustered(100), "NoSuchIndex")
    assert "Flat" in info.value.hint
    with pytest.raises(YuanwenError) as info:
        FaissStore.build(_clustered(100), "IVF4096,SQ8")  # more lists than vectors
    assert "fewer IVF lists" in info.value.hint
    with pytest.raises(YuanwenError):
        FaissStore.build(_clustered(100), "Flat", "nprobe=4")


def test_manifest_records_chosen_type_and_params(corpus_dir, tmp_path, fake_embedder):
    from rag.ingest.indexing import update_index
    from rag.store.index import Index
    from rag.store.options import StoreOptions

    small = tmp_path / "small"
    update_index([corpus_dir], small, embedder=fake_embedder)
    manifest = json.loads((Index.open(small).version_dir / "manifest.json").read_text())
    assert (manifest["faiss_index_type"], manifest["faiss_search_params"]) == ("Flat", "")

    tuned = tmp_path / "tuned"
    update_index([corpus_dir], tuned, embedder=fake_embedder, store=StoreOptions(faiss_index="HNSW8,Flat efSearch=20"))
    index = Index.open(tuned)
    assert (index.manifest.faiss_index_type, index.manifest.faiss_search_params) == ("HNSW8,Flat", "efSearch=20")
    assert _hnsw(index.vectors.index).efSearch == 20
    assert index.vectors.search(fake_embedder.embed_queries(["周转房"])[0], 3)


def test_cli_index_type_option(corpus_dir, tmp_path, tiny_st_model_dir, capsys, monkeypatch):
    from rag.app.cli import main
    from rag.store.index import Index

    monkeypatch.delenv("YUANWEN_FAISS_INDEX", raising=False)
    idx = tmp_path / "idx"
    args = ["index", str(corpus_dir), "--index", str(idx), "--embedder", str(tiny_st_model_dir),
            "--index-type", "HNSW16,Flat"]
    assert main(args) == 0
    assert Index.open(idx).manifest.faiss_index_type == "HNSW16,Flat"
    import os

    assert "YUANWEN_FAISS_INDEX" not in os.environ  # the option is a setting, not an environment change
