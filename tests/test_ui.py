"""Handlers of the chat UI, without a browser: rendering, uploads, sessions, errors."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from rag.app.config import Settings
from rag.errors import YuanwenError
from rag.schema import Answer, Chunk, Citation, Passage
from ui import app as ui_app
from ui import render
from ui.app import Backend, corpus_view, parse_auth, remove, respond, upload
from ui.examples import example_questions, question_from_text
from ui.uploads import safe_upload_name, store_upload, uploads_dir_for


EVIL_TEXT = 'intro <script>alert("x")</script> and <img src=x onerror=alert(1)> support here. tail'
EVIL_SOURCE = "<img src=x onerror=alert(2)>.txt"


def _evil_answer(refused: bool = False) -> Answer:
    doc_offset = 100  # the chunk starts at character 100 of its document
    chunk = Chunk(id="c1", source=EVIL_SOURCE, title="<b>title</b>", paragraph=2, start=doc_offset,
                  end=doc_offset + len(EVIL_TEXT), text=EVIL_TEXT)
    span_start = EVIL_TEXT.index("<img")
    span_end = EVIL_TEXT.index(" tail")
    cit = Citation(n=1, source=EVIL_SOURCE, text=EVIL_TEXT[span_start:span_end],
                   start=doc_offset + span_start, end=doc_offset + span_end)
    return Answer(question="q <script>", answer="It says so [1].", refused=refused, generator="extractive", model="",
                  citations=[] if refused else [cit], passages=[Passage(chunk, 1.0)], query="q <script>")


def _run(gen) -> list[tuple]:
    return list(gen)


def _ask(backend, question, chat=None, turns=None, mode="hybrid", choice="extractive"):
    outputs = _run(respond(backend, question, chat or [], turns or [], 5, mode, choice, ""))
    return outputs[-1]


# -- rendering -------------------------------------------------------------------------
def test_sources_mark_the_supporting_span_relative_to_the_chunk_and_escape_everything():
    html = render.sources_html(_evil_answer())
    expected = "<mark>&lt;img src=x onerror=alert(1)&gt; support here.</mark>"
    assert expected in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;img src=x onerror=alert(2)&gt;.txt" in html  # the file name
    assert 'id="yw-src-1"' in html and "¶3" in html


def test_refusal_shows_the_closest_passages_without_marks():
    html = render.sources_html(_evil_answer(refused=True))
    assert "closest passages" in html
    assert "<mark>" not in html and "<script" not in html
    assert "&lt;script&gt;" in html


def test_highlight_clips_offsets_outside_the_passage():
    assert render.highlighted("abc<d", -5, 99) == "<mark>abc&lt;d</mark>"
    assert render.highlighted("abc", 2, 1) == "abc"


def test_answer_markdown_links_markers_to_source_cards_and_names_the_generator():
    ans = _evil_answer()
    ans.answer = "<img src=x onerror=alert(3)> 47家 [1]。"
    md = render.answer_markdown(ans)
    assert "](#yw-src-1)" in md
    assert "<img" not in md and "&lt;img" in md
    assert "extractive" in md


def test_query_and_debug_show_rewritten_query_terms_and_escaped_prompt():
    ans = _evil_answer()
    ans.question = "它呢？"
    ans.details = {"translated_terms": ["<长城>"]}
    ans.prompt = [{"role": "system", "content": "<script>x</script>"}]
    info = render.query_html(ans)
    assert "q &lt;script&gt;" in info and "&lt;长城&gt;" in info and "extractive" in info
    debug = render.debug_html(ans)
    assert "&lt;script&gt;x&lt;/script&gt;" in debug and "<script" not in debug


def test_documents_table_escapes_names_and_titles():
    doc = types.SimpleNamespace(key="/d/<script>.txt", root="/d", source="<script>.txt", title="<img onerror=x>",
                                n_chunks=3)
    html = render.documents_html([doc])
    assert "&lt;script&gt;.txt" in html and "&lt;img onerror=x&gt;" in html and "<script" not in html


# -- uploads ---------------------------------------------------------------------------
@pytest.mark.parametrize("name, stored", [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("/abs/path/notes.md", "notes.md"),
    ("..\\..\\windows\\win.html", "win.html"),
    (".hidden.txt", "hidden.txt"),
    ("报告 2023.htm", "报告 2023.htm"),
    ("<script>.txt", "_script_.txt"),
])
def test_upload_names_become_plain_base_names(name, stored):
    assert safe_upload_name(name) == stored


@pytest.mark.parametrize("name", ["..", "", "/", "a/..", ".txt", "evil.exe", "noext"])
def test_unusable_upload_names_are_refused(name):
    with pytest.raises(YuanwenError):
        safe_upload_name(name)


def test_store_upload_stays_inside_the_folder_and_never_follows_symlinks(tmp_path):
    src = tmp_path / "src.txt"
    src.write_text("内容", encoding="utf-8")
    uploads = tmp_path / "uploads"
    stored = store_upload(src, "../../../escape.txt", uploads)
    assert stored == uploads / "escape.txt" and stored.read_text(encoding="utf-8") == "内容"
    assert not (tmp_path / "escape.txt").exists()

    outside = tmp_path / "outside.txt"
    outside.write_text("keep", encoding="utf-8")
    (uploads / "link.txt").symlink_to(outside)
    with pytest.raises(YuanwenError, match="not a regular file"):
        store_upload(src, "link.txt", uploads)
    assert outside.read_text(encoding="utf-8") == "keep"

    linked_dir = tmp_path / "linked"
    linked_dir.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(YuanwenError, match="symlink"):
        store_upload(src, "a.txt", linked_dir)


def test_uploads_live_beside_the_index():
    assert uploads_dir_for(".yuanwen/index") == Path(".yuanwen/uploads").absolute()


def test_upload_indexes_with_progress_then_remove_drops_it(ui_backend, tmp_path):
    src = tmp_path / "incoming.txt"
    src.write_text("青松镇概况\n\n青松镇2023年共种植茶树4800亩。", encoding="utf-8")
    calls = []
    status = upload(ui_backend, [types.SimpleNamespace(name=str(src), orig_name="../青松镇.txt")],
                    progress=lambda *a, **kw: calls.append((a, kw)))
    assert "Indexed 青松镇.txt" in status, status
    assert calls and any(kw.get("desc") == "embedding" for _, kw in calls)
    assert (ui_backend.uploads_dir / "青松镇.txt").is_file()
    assert "青松镇.txt" in [d.source for d in ui_backend.documents()]

    *_, last = _run(respond(ui_backend, "青松镇种植了多少亩茶树？", [], [], 5, "hybrid", "extractive", ""))
    assert "4800" in last[0][-1]["content"]

    assert remove(ui_backend, "青松镇.txt") == "Removed 青松镇.txt."
    assert "青松镇.txt" not in [d.source for d in ui_backend.documents()]
    assert not (ui_backend.uploads_dir / "青松镇.txt").exists()


def test_upload_of_an_unsupported_file_is_a_friendly_message(ui_backend, tmp_path):
    src = tmp_path / "x.exe"
    src.write_bytes(b"MZ")
    status = upload(ui_backend, [types.SimpleNamespace(name=str(src), orig_name="x.exe")], progress=lambda *a, **k: None)
    assert status.startswith("⚠️") and "unsupported file type" in status and "Traceback" not in status


# -- chat --------------------------------------------------------------------------------
def test_respond_streams_then_shows_the_verified_answer_with_sources(ui_backend):
    outputs = _run(respond(ui_backend, "浈江区推荐了多少家企业申报高新技术企业？", [], [], 5, "hybrid", "extractive", ""))
    assert len(outputs) >= 2  # the pending turn first, then the answer
    chat, turns, sources, info, debug, box = outputs[-1]
    assert chat[0] == {"role": "user", "content": "浈江区推荐了多少家企业申报高新技术企业？"}
    assert "47" in chat[1]["content"] and "(#yw-src-1)" in chat[1]["content"]
    assert "<mark>" in sources and "47" in sources.split("<mark>")[1]
    assert "extractive" in info and box == ""
    assert turns[-1]["role"] == "assistant" and "yw-src" not in turns[-1]["content"]


def test_two_sessions_never_see_each_other(ui_backend):
    a_chat, a_turns, *_ = _ask(ui_backend, "浈江区推荐了多少家企业申报高新技术企业？")
    b_chat, b_turns, *_ = _ask(ui_backend, "鹰峰社区常驻人口是多少？")
    assert all("浈江" not in m["content"] for m in b_chat + b_turns)
    a_chat2, a_turns2, *_ = _ask(ui_backend, "肇庆建成了多少套周转房？", a_chat, a_turns)
    assert len(a_turns2) == 4 and len(b_turns) == 2
    assert all("鹰峰" not in m["content"] for m in a_chat2)


def test_the_ui_module_holds_no_shared_mutable_state():
    mutable = (list, dict, set, bytearray)
    shared = [name for name, value in vars(ui_app).items()
              if not name.startswith("__") and isinstance(value, mutable)]
    assert shared == []
    with pytest.raises(Exception):
        Backend.from_settings(Settings()).settings = Settings(k=1)  # frozen


def test_empty_index_shows_the_empty_state_and_asking_explains_what_to_do(tmp_path, fake_embedder):
    backend = Backend.from_settings(Settings(index=str(tmp_path / "none" / "index")), embedder=fake_embedder)
    empty, examples, docs_html, dropdown = corpus_view(backend)
    assert empty["visible"] is True and "No documents are indexed yet" in empty["value"]
    assert examples.raw_samples == [] and "No documents" in docs_html
    chat, *_ = _ask(backend, "有什么？")
    assert "no documents are indexed yet" in chat[-1]["content"] and "Documents tab" in chat[-1]["content"]


def test_corpus_view_offers_examples_from_the_documents(ui_backend):
    empty, examples, docs_html, dropdown = corpus_view(ui_backend)
    assert empty["visible"] is False
    questions = [s[0] for s in examples.raw_samples]
    assert "浈江区共投资多少万元建设完善人才公寓？" in questions
    keys = {d.source: d.key for d in ui_backend.documents()}
    assert "a.txt" in docs_html and sorted(dropdown.choices) == sorted(
        [(s, keys[s]) for s in ("a.txt", "b.txt", "sub/c.md")])


def test_example_questions_ask_for_a_number_the_text_holds():
    assert question_from_text("标题\n\n鹰峰社区常驻人口达2.7万人。", "标题") == "鹰峰社区常驻人口达多少万人？"
    # A clause without its subject takes the place its sentence, else the title, names.
    assert question_from_text("乳源县基层治理\n\n如鹰峰社区党委，管辖面积仅有2平方公里。", "乳源县基层治理") == \
        "鹰峰社区管辖面积仅有多少平方公里？"
    assert question_from_text("韶关市浈江区人才工作\n\n大力实施人才公寓工程，共投资200多万元建设完善人才公寓。",
                              "韶关市浈江区人才工作") == "浈江区共投资多少万元建设完善人才公寓？"
    doc = types.SimpleNamespace(title="长城", text="长城\n\n没有数字的句子。")
    assert example_questions([doc]) == ["长城的主要内容是什么？"]


def test_domain_errors_become_a_message_with_the_fix(ui_backend):
    chat, *_ = _ask(ui_backend, "问题", mode="no-such-mode")
    msg = chat[-1]["content"]
    assert msg.startswith("⚠️") and "unknown retriever" in msg and "**Fix:**" in msg


def test_unexpected_errors_become_a_message_not_a_traceback(ui_backend, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Backend, "pipeline", broken)
    chat, turns, *_ = _ask(ui_backend, "问题")
    msg = chat[-1]["content"]
    assert "something went wrong" in msg and "disk on fire" in msg and "Traceback" not in msg
    assert turns == []


def test_a_failing_generator_choice_is_reported(ui_backend):
    chat, *_ = _ask(ui_backend, "浈江区推荐了多少家企业？", choice="transformers:")
    assert "needs a model" in chat[-1]["content"]


# -- API and launch options ---------------------------------------------------------------
def test_api_ask_and_search_return_the_cli_json_shapes(ui_backend):
    data = ui_app.api_ask(ui_backend, "浈江区推荐了多少家企业申报高新技术企业？", 5, "hybrid", "extractive")
    assert data["refused"] is False and data["citations"] and "47" in data["answer"]
    found = ui_app.api_search(ui_backend, "鹰峰社区常驻人口", 3, "bm25")
    assert found["passages"][0]["source"] == "b.txt" and len(found["passages"]) <= 3


def test_api_errors_are_gradio_errors_with_the_fix(ui_backend):
    import gradio as gr

    with pytest.raises(gr.Error, match="unknown retriever"):
        ui_app.api_search(ui_backend, "x", 3, "nope")


def test_auth_must_be_user_colon_password():
    assert parse_auth("demo:pa:ss") == [("demo", "pa:ss")]
    assert parse_auth(["a:1", "b:2"]) == [("a", "1"), ("b", "2")]
    assert parse_auth(None) is None
    for bad in ("demo", ":x", "demo:"):
        with pytest.raises(YuanwenError):
            parse_auth(bad)


def test_the_page_builds_with_named_api_endpoints(ui_backend):
    demo = ui_app.build_app(ui_backend)
    names = {fn.api_name for fn in demo.fns.values() if getattr(fn, "api_visibility", "public") == "public"}
    assert {"ask", "search"} <= names


def test_a_refusal_names_its_reason_and_marks_what_the_documents_state_of_another_subject():
    chunk = Chunk(id="r:0", source="ruyuan.txt", title="乳源", paragraph=0, start=10, end=40,
                  text="乳源组建56支瑶乡先锋服务队<b>。")
    cit = Citation(n=1, source="ruyuan.txt", text="乳源组建56支瑶乡先锋服务队", start=10, end=24)
    ans = Answer(question="桃江县组建了多少支服务队？", answer="文档中没有找到……：文档提到“乳源组建56支瑶乡先锋服务队”[1]，但没有提到桃江县的情况。",
                 refused=True, generator="extractive", model="", citations=[cit], passages=[Passage(chunk, 1.0)],
                 query="桃江县组建了多少支服务队？",
                 details={"refusal": {"reason": "answerability", "missing": ["桃江县"],
                                      "closest": {"reason": "subject"}}})
    html = render.sources_html(ans)
    assert "do not state this for 桃江县" in html and "<mark>" in html and "&lt;b&gt;" in html and "<b>" not in html
    md = render.answer_markdown(ans)
    assert "refused: the passages do not state this for 桃江县" in md and "(#" in md


def test_answer_footer_names_the_model_and_shows_the_rewritten_follow_up():
    ans = _evil_answer()
    ans.question, ans.query = "那乳源县呢？", "乳源县推荐了多少家企业？"
    ans.generator, ans.model = "llamacpp", "/root/.cache/yuanwen/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    md = render.answer_markdown(ans)
    assert "*Searched for: 乳源县推荐了多少家企业？*" in md
    assert "llamacpp · Qwen2.5-Coder-1.5B-Instruct Q4_K_M" in md and ".cache" not in md
    assert "Qwen2.5-Coder-1.5B-Instruct Q4_K_M" in render.query_html(ans) and ".gguf" not in render.query_html(ans)
    text = render.text_with_sources(ans)
    assert text.startswith("It says so [1].") and "[1] <img src=x onerror=alert(2)>.txt · <b>title</b>: “" in text


def test_model_display_names():
    from rag.generation.offline_models import display_name

    assert display_name("/x/Mistral-7B-Instruct-v0.3.Q5_K_M.gguf") == "Mistral-7B-Instruct-v0.3 Q5_K_M"
    assert display_name("/m/tiny-f16.gguf") == "tiny F16" and display_name("qwen2.5:7b") == "qwen2.5:7b"
    assert display_name("qwen2.5-coder-0.5b") == "Qwen2.5-Coder-0.5B-Instruct Q4_K_M" and display_name("") == ""


def test_reindex_reads_changed_files_again(ui_backend, tmp_path):
    from ui.app import reindex

    src = tmp_path / "incoming.txt"
    src.write_text("青松镇概况\n\n青松镇2023年共种植茶树4800亩。", encoding="utf-8")
    upload(ui_backend, [types.SimpleNamespace(name=str(src), orig_name="青松镇.txt")], progress=lambda *a, **k: None)
    (ui_backend.uploads_dir / "青松镇.txt").write_text("青松镇概况\n\n青松镇2024年共种植茶树5200亩。", encoding="utf-8")
    status = reindex(ui_backend, progress=lambda *a, **k: None)
    assert status.startswith("Re-indexed 4 documents") and "1 passages embedded" in status
    *_, last = _run(respond(ui_backend, "青松镇种植了多少亩茶树？", [], [], 5, "hybrid", "extractive", ""))
    assert "5200" in last[0][-1]["content"]


def test_reindex_keeps_the_folder_part_of_each_source_name(tmp_path, fake_embedder):
    """A folder indexed from the CLI holds sub/c.md; re-indexing from the UI must not rename it c.md."""
    from rag.app.builder import index_files
    from ui.app import Backend, reindex

    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("青松镇概况\n\n青松镇2023年共种植茶树4800亩。", encoding="utf-8")
    (folder / "sub" / "c.md").write_text("# 白云村\n\n白云村2023年修建水渠12公里。", encoding="utf-8")
    settings = Settings(index=str(tmp_path / "idx"), generator="extractive")
    index_files(settings, [folder], embedder=fake_embedder)
    backend = Backend.from_settings(settings, embedder=fake_embedder)
    (folder / "sub" / "c.md").write_text("# 白云村\n\n白云村2024年修建水渠15公里。", encoding="utf-8")
    status = reindex(backend, progress=lambda *a, **k: None)
    assert status.startswith("Re-indexed 2 documents"), status
    assert sorted(d.source for d in backend.documents()) == ["a.txt", "sub/c.md"]
    *_, last = _run(respond(backend, "白云村修建了多少公里水渠？", [], [], 5, "hybrid", "extractive", ""))
    assert "15公里" in last[0][-1]["content"] and "sub/c.md" in last[2]
