from rag.answer.pipeline import Pipeline
from rag.schema import Answer
from tests.fixtures_answering import ScriptedGenerator


def test_extractive_answer_with_citation(keyword_retriever):
    ans = Pipeline(keyword_retriever).ask("青山县2022年新建了多少公里农村公路？")
    assert not ans.refused and ans.generator == "extractive" and "35公里" in ans.answer
    assert ans.citations and ans.citations[0].n == 1
    doc = ans.passages[0].chunk
    assert ans.citations[0].text in doc.text and ans.prompt is None


def test_streaming_yields_pieces_then_verified_answer(keyword_retriever):
    gen = ScriptedGenerator("青山县新建农村公路35公里[3]。该县还是全国文明城市[1]。")
    items = list(Pipeline(keyword_retriever, gen).ask_stream("青山县2022年新建了多少公里农村公路？"))
    assert all(isinstance(i, str) for i in items[:-1]) and len(items) > 3
    final = items[-1]
    assert isinstance(final, Answer) and final.generator == "scripted" and final.model == "fake-model"
    assert final.answer == "青山县新建农村公路35公里[1]。"  # wrong number fixed, unsupported sentence dropped
    assert final.prompt == gen.calls[0] and final.details["raw_answer"].startswith("青山县")


def test_model_answer_without_support_falls_back_to_the_extractive_answer(keyword_retriever):
    gen = ScriptedGenerator("青山县新建农村公路99公里[1]。")
    ans = Pipeline(keyword_retriever, gen).ask("青山县2022年新建了多少公里农村公路？")
    assert not ans.refused and "35公里" in ans.answer and "99" not in ans.answer and ans.citations
    assert ans.generator == "extractive" and ans.model == ""  # who answered, not who was asked
    assert ans.details["fallback"]["from"] == "scripted" and ans.details["fallback"]["reason"] == "no_citation"
    assert ans.details["citation_check"]["dropped"] == 1  # the model's own answer, as checked


def test_a_model_that_declines_is_believed_not_replaced(keyword_retriever):
    gen = ScriptedGenerator("文档中没有找到答案。")
    ans = Pipeline(keyword_retriever, gen).ask("青山县2022年新建了多少公里农村公路？")
    assert ans.refused and ans.answer.startswith("文档中没有找到") and "fallback" not in ans.details


def test_english_model_answer_that_converts_wan_wrongly_is_replaced(keyword_retriever):
    gen = ScriptedGenerator("Qingshan County (青山县) has 2.7 million km of roads (2.7万公里) [1].")
    ans = Pipeline(keyword_retriever, gen).ask("How long are the roads of Qingshan (青山县) in total?")
    assert "million" not in ans.answer
    assert ans.details["citation_check"]["sentences"][0]["status"] == "dropped"


def test_refusal_before_generation_does_not_call_the_model(keyword_retriever):
    gen = ScriptedGenerator("青山县的地区生产总值是100亿元[1]。")
    ans = Pipeline(keyword_retriever, gen).ask("青山县2023年的地区生产总值是多少？")
    assert ans.refused and gen.calls == [] and ans.passages
    assert ans.details["refusal"]["reason"] == "numbers"


def test_attribute_missing_from_on_topic_passages_is_refused_before_the_model_is_asked(keyword_retriever):
    # Subject and year are in the passages, the asked attribute (地区生产总值) is not: no sentence
    # can answer, so the model is never given the chance to invent a figure.
    gen = ScriptedGenerator("青山县2022年的地区生产总值是100亿元[1]。")
    ans = Pipeline(keyword_retriever, gen).ask("青山县2022年的地区生产总值是多少？")
    assert ans.refused and len(gen.calls) == 0 and ans.details["refusal"]["reason"] == "answerability"


def test_followup_query_is_rewritten_and_shown(keyword_retriever):
    history = [{"role": "user", "content": "青山县2022年新建了多少公里农村公路？"}, {"role": "assistant", "content": "35公里[1]。"}]
    ans = Pipeline(keyword_retriever).ask("那白水镇呢？", history)
    assert ans.query == "白水镇2022年新建了多少公里农村公路？"
    assert keyword_retriever.queries[-1] == ans.query


def test_prompt_for_uses_context_passages(keyword_retriever):
    pipe = Pipeline(keyword_retriever, context_passages=2)
    passages = keyword_retriever.search("青山县农村公路", 5)
    messages = pipe.prompt_for("青山县新建了多少公里农村公路？", passages)
    assert "资料 [2]" in messages[1]["content"] and "资料 [3]" not in messages[1]["content"]


def test_english_question_answered_by_quoting(keyword_retriever):
    ans = Pipeline(keyword_retriever).ask("How large is the bamboo forest demonstration base in Baishui (白水镇)?")
    assert not ans.refused and ans.answer.startswith("(Quoted from the Chinese source)") and "6000" in ans.answer


def test_the_passages_are_ranked_once_per_question(keyword_retriever, monkeypatch):
    # Refusal, answerability, the prompt, the extractive answer and the fallback all read the same
    # ranking of the context: it is computed once, whichever of them run.
    import rag.answer.extractive, rag.answer.pipeline, rag.answer.prompting, rag.answer.ranking, rag.answer.refusal

    calls = []
    real = rag.answer.ranking.rank_candidates

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    for module in (rag.answer.extractive, rag.answer.pipeline, rag.answer.prompting, rag.answer.refusal):
        if hasattr(module, "rank_candidates"):
            monkeypatch.setattr(module, "rank_candidates", counting)
    question = "青山县2022年新建了多少公里农村公路？"
    for generator in (None, ScriptedGenerator("青山县新建农村公路99公里[1]。")):  # the second falls back
        calls.clear()
        ans = Pipeline(keyword_retriever, generator).ask(question)
        assert not ans.refused and "35公里" in ans.answer
        assert len(calls) == 1
    assert ans.details["fallback"]["from"] == "scripted"


def test_a_model_that_pastes_the_quoted_passages_is_replaced(keyword_retriever):
    # Every sentence is verbatim, so citations check out; but the prompt's own quoting shows it copied the
    # evidence block instead of answering: the extractive answer is given instead.
    gen = ScriptedGenerator("资料（青山县交通年报）：“……2022年，青山县改造危桥12座，新建农村公路35公里[1]。")
    ans = Pipeline(keyword_retriever, gen).ask("青山县2022年新建了多少公里农村公路？")
    assert not ans.refused and "35公里" in ans.answer and "资料" not in ans.answer
    assert ans.generator == "extractive" and ans.details["fallback"]["reason"] == "copied_prompt"
    ok = Pipeline(keyword_retriever, ScriptedGenerator("青山县2022年新建农村公路35公里[1]。"))
    assert ok.ask("青山县2022年新建了多少公里农村公路？").generator == "scripted"


def test_one_figure_asked_gets_a_short_quote_and_a_list_the_full_one(keyword_retriever):
    # A number asked, one sentence states it: two sentences at most and the one-sentence instruction (fewer tokens
    # to prefill before the first one is streamed); a list question keeps the full budget and instruction.
    import prompts
    from rag.answer.prompting import CLEAR_CHARS

    gen = ScriptedGenerator("青山县2022年新建农村公路35公里[1]。")
    Pipeline(keyword_retriever, gen).ask("青山县2022年新建了多少公里农村公路？")
    short = gen.calls[0][1]["content"]
    assert short.endswith(prompts.render("answer_one_zh", passages="", question="x").splitlines()[-1])
    quoted = "".join(line.split("：“", 1)[1] for line in short.splitlines() if line.startswith("资料"))
    assert "35公里" in quoted and len(quoted.replace("……", "")) <= CLEAR_CHARS + 4

    gen = ScriptedGenerator("华南农业大学、青山学院[1]。")
    Pipeline(keyword_retriever, gen).ask("青山县与哪些学校联合举办农技人员培训班？")
    assert gen.calls[0][1]["content"].endswith(prompts.render("answer_zh", passages="", question="x").splitlines()[-1])
