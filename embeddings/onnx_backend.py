"""Run a sentence-transformers embedder on ONNX Runtime, in fp32 or int8, without torch at query time.

Why: on a 2-core CPU ingest time is embedding time. Exported once (at model-build time) with mean pooling and
L2 normalisation inside the graph, fused by ONNX Runtime's transformer optimiser and, for the int8 variant,
dynamically quantised, the same model embeds faster and loads without importing torch or transformers (the
tokenizer comes from the folder's tokenizer.json through `tokenizers`).

Export needs torch and the sentence-transformers folder; running needs only onnxruntime, tokenizers and numpy.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from embeddings.base import PrefixedEmbedder
from embeddings.spec import ModelSpec

FP32_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "yuanwen-onnx.json"  # max_seq_length, dim, pad id: what the embedder needs besides the graph
OPSET = 17

# Weights of every projection (the fused Attention node's QKV and the other MatMuls) go to int8, per output channel:
# cosine to fp32 ≈ 0.997 on e5-small, where per-tensor scales gave 0.985 (docs/benchmarks.md). The attention
# score and context products stay in fp32. The 250k-token embedding table (fused EmbedLayerNormalization) goes to
# int8 too: the same cosine, and the loaded model takes ~470 MB instead of ~750 MB.
QUANTIZED_OP_TYPES = ("MatMul", "Attention", "EmbedLayerNormalization")


def export_onnx(st_folder: Path, out_dir: Path, *, max_seq_length: int = 512) -> Path:
    """Write `out_dir/model.onnx` (token ids + mask → normalised mean-pooled vectors) and its tokenizer."""
    import torch
    from transformers import AutoModel

    out_dir.mkdir(parents=True, exist_ok=True)
    # Eager attention exports as plain MatMul/Softmax, a pattern ONNX Runtime's optimiser fuses into one Attention
    # node (the SDPA export is left unfused and runs ~1.5x slower).
    encoder = AutoModel.from_pretrained(str(st_folder), local_files_only=True, attn_implementation="eager").eval()
    wrapped = _mean_pooled_encoder(encoder).eval()
    ids = torch.tensor([[0, 10, 11, 12, 2], [0, 10, 2, 1, 1]], dtype=torch.int64)
    mask = (ids != 1).to(torch.int64)
    path = out_dir / FP32_FILE
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(
            wrapped,
            (ids, mask),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["sentence_embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "sequence"},
                "attention_mask": {0: "batch", 1: "sequence"},
                "sentence_embedding": {0: "batch"},
            },
            opset_version=OPSET,
            dynamo=False,
        )
    (out_dir / TOKENIZER_FILE).write_bytes((st_folder / TOKENIZER_FILE).read_bytes())
    config = {
        "max_seq_length": max_seq_length,
        "dim": int(encoder.config.hidden_size),
        "pad_token_id": int(encoder.config.pad_token_id if encoder.config.pad_token_id is not None else 0),
        "num_heads": int(encoder.config.num_attention_heads),
    }
    (out_dir / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return path


def _mean_pooled_encoder(encoder):
    """The encoder with mean pooling over real tokens and L2 normalisation, as one exportable torch module."""
    import torch

    class MeanPooledEncoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    return MeanPooledEncoder()


def optimize_onnx(path: Path, *, num_heads: int, hidden_size: int) -> None:
    """Fuse attention, LayerNorm and GELU in place with ONNX Runtime's BERT optimiser (about 10–20% faster)."""
    from onnxruntime.transformers.optimizer import optimize_model

    model = optimize_model(str(path), model_type="bert", num_heads=num_heads, hidden_size=hidden_size)
    model.save_model_to_file(str(path))


def quantize_int8(fp32_path: Path, int8_path: Path, *, per_channel: bool = True, reduce_range: bool = False,
                  op_types: tuple[str, ...] = QUANTIZED_OP_TYPES, exclude_nodes: list[str] | None = None) -> Path:
    """Dynamic int8 quantisation of the weights of `op_types` nodes (activations quantised per batch at run time)."""
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(fp32_path),
        str(int8_path),
        weight_type=QuantType.QInt8,
        per_channel=per_channel,
        reduce_range=reduce_range,
        op_types_to_quantize=list(op_types),
        nodes_to_exclude=exclude_nodes or [],
        # Fused com.microsoft nodes defeat ONNX shape inference; their outputs are float32.
        extra_options={"DefaultTensorType": TensorProto.FLOAT},
    )
    return int8_path


class OnnxEmbedder(PrefixedEmbedder):
    """Embeds with an ONNX Runtime session over an exported folder, adding the spec's prefixes.

    Texts are tokenised together, sorted by token count and run in batches capped by tokens as well as rows, so
    a batch pads little (padding is wasted work on a CPU). Results come back in input order.
    """

    def __init__(self, folder: Path, spec: ModelSpec, *, model_file: str = INT8_FILE, threads: int | None = None,
                 max_batch_tokens: int = 8192) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        self.spec = spec
        self.name = spec.name
        self.model_file = model_file
        config = json.loads((self.folder / CONFIG_FILE).read_text(encoding="utf-8"))
        self.dim = int(config["dim"])
        self.max_seq_length = int(spec.max_seq_length or config["max_seq_length"])
        self.max_batch_tokens = max_batch_tokens
        self._pad_id = int(config["pad_token_id"])
        self.tokenizer = Tokenizer.from_file(str(self.folder / TOKENIZER_FILE))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_seq_length)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(
            str(self.folder / model_file), sess_options=options, providers=["CPUExecutionProvider"]
        )

    def _embed(self, texts: list[str], batch_size: int, progress: Callable[[int], None] | None) -> np.ndarray:
        vectors = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return vectors
        token_ids = [encoding.ids for encoding in self.tokenizer.encode_batch(texts)]
        order = sorted(range(len(texts)), key=lambda i: len(token_ids[i]), reverse=True)
        for batch in _batches(order, token_ids, batch_size, self.max_batch_tokens):
            width = len(token_ids[batch[0]])  # longest first: the first row sets the width
            ids = np.full((len(batch), width), self._pad_id, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                ids[row, : len(token_ids[i])] = token_ids[i]
                mask[row, : len(token_ids[i])] = 1
            (out,) = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
            vectors[batch] = out
            if progress is not None:
                progress(len(batch))
        if self.spec.normalize:
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors

    def __repr__(self) -> str:
        return f"OnnxEmbedder(name={self.name!r}, dim={self.dim}, model={self.model_file})"


def _batches(order: list[int], token_ids: list[list[int]], max_rows: int, max_tokens: int) -> list[list[int]]:
    """Consecutive runs of `order` (longest first) with at most `max_rows` rows and `max_tokens` padded tokens."""
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        width = len(token_ids[current[0]]) if current else len(token_ids[i])
        if current and (len(current) >= max_rows or (len(current) + 1) * width > max_tokens):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches
