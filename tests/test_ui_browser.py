"""End to end in Debian's chromium: ask, see the cited evidence, upload a document, ask about it.

The server runs in this process on a free 127.0.0.1 port over an index built with the fake
embedder (no model download, no model load); the answerer is extractive. Screenshots go to
tests/artifacts/ (desktop 1280 wide, phone 390 wide).
"""

from __future__ import annotations

from pathlib import Path

import pytest


CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 60_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                       "(apt-get install chromium); no browser is downloaded"),
]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright for Python is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _ask(page, question: str) -> None:
    page.locator("#yw-question textarea").fill(question)
    page.locator("#yw-ask").click()


def test_ask_upload_and_ask_again_in_the_browser(browser, ui_server, tmp_path):
    from playwright.sync_api import expect

    url, backend = ui_server
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url)
    page.locator("#yw-question textarea").wait_for(timeout=TIMEOUT_MS)

    # Example questions come from the indexed documents.
    expect(page.locator("#yw-examples")).to_contain_text("多少", timeout=TIMEOUT_MS)
    expect(page.locator("#yw-empty")).to_be_hidden()

    # A seed question: the answer streams into the chat, its [1] links to a source card with the evidence marked.
    _ask(page, "浈江区推荐了多少家企业申报高新技术企业？")
    bot = page.locator('#yw-chat [data-testid="bot"]').last
    expect(bot).to_contain_text("47家企业", timeout=TIMEOUT_MS)
    expect(bot).to_contain_text("extractive")
    expect(page.locator('#yw-chat a[href="#yw-src-1"]')).to_be_visible()
    card = page.locator("#yw-sources #yw-src-1")
    expect(card).to_contain_text("a.txt")
    expect(card.locator("mark")).to_contain_text("已推荐47家企业申报高新技术企业")
    page.screenshot(path=str(ARTIFACTS / "ui_desktop.png"), full_page=True)

    # Upload a new document (its text tries to run script) and ask about it.
    doc = tmp_path / "青松镇.txt"
    doc.write_text("青松镇概况\n\n青松镇2023年共种植茶树4800亩。<img src=x onerror=\"window.__ywXss=1\">\n",
                   encoding="utf-8")
    page.get_by_role("tab", name="Documents").click()
    page.locator("#yw-upload input[type=file]").set_input_files(str(doc))
    page.locator("#yw-add").click()
    expect(page.locator("#yw-status")).to_contain_text("Indexed 青松镇.txt", timeout=TIMEOUT_MS)
    expect(page.locator("#yw-docs")).to_contain_text("青松镇.txt")
    page.screenshot(path=str(ARTIFACTS / "ui_documents.png"), full_page=True)

    page.get_by_role("tab", name="Chat").click()
    _ask(page, "青松镇种植了多少亩茶树？")
    expect(page.locator('#yw-chat [data-testid="bot"]').last).to_contain_text("4800", timeout=TIMEOUT_MS)
    expect(page.locator("#yw-sources")).to_contain_text("青松镇.txt")
    expect(page.locator("#yw-sources mark")).to_contain_text("4800")
    assert page.evaluate("window.__ywXss") is None  # the document's markup was shown, not run
    page.close()

    # A second browser session at phone width starts with an empty chat (no shared history).
    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1, is_mobile=True)
    phone.goto(url)
    phone.locator("#yw-question textarea").wait_for(timeout=TIMEOUT_MS)
    expect(phone.locator("#yw-examples")).to_contain_text("多少", timeout=TIMEOUT_MS)
    assert phone.locator('#yw-chat [data-testid="bot"]').count() == 0
    _ask(phone, "鹰峰社区常驻人口达多少万人？")
    expect(phone.locator('#yw-chat [data-testid="bot"]').last).to_contain_text("2.7万", timeout=TIMEOUT_MS)
    expect(phone.locator("#yw-chat")).not_to_contain_text("青松镇")
    expect(phone.locator("#yw-sources mark")).to_be_visible()
    phone.screenshot(path=str(ARTIFACTS / "ui_phone.png"), full_page=True)
    phone.close()


def test_http_api_ask_search_and_health(ui_server):
    """The named Gradio endpoints answer gradio_client; /health answers a plain GET."""
    import json
    import urllib.request

    client_mod = pytest.importorskip("gradio_client")
    url, _ = ui_server
    with urllib.request.urlopen(url + "health", timeout=30) as resp:
        health = json.loads(resp.read())
    assert health["status"] == "ok" and health["documents"] == 3 and health["embedder"] == "fake-char-bigram-64"

    client = client_mod.Client(url, verbose=False)
    answer = client.predict("浈江区推荐了多少家企业申报高新技术企业？", 5, "hybrid", "extractive", "", api_name="/ask")
    assert "47" in answer["answer"] and answer["citations"][0]["source"] == "a.txt"
    found = client.predict("鹰峰社区常驻人口", 2, "bm25", api_name="/search")
    assert found["passages"][0]["source"] == "b.txt" and len(found["passages"]) <= 2


def _text_input(page, elem_id: str):
    return page.locator(f"#{elem_id}").locator("textarea, input").first


def test_knowledge_base_conversation_feedback_and_export_in_the_browser(browser, ui_server, tmp_path):
    """A second knowledge base, an upload into it, a question; after a reload the conversation is
    reopened from the sidebar with its Sources, rated, commented and exported as Markdown."""
    from playwright.sync_api import expect

    url, backend = ui_server
    ARTIFACTS.mkdir(exist_ok=True)
    question = "青松镇种植了多少亩茶树？"
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(url)
    page.locator("#yw-question textarea").wait_for(timeout=TIMEOUT_MS)
    expect(page.locator("#yw-examples")).to_contain_text("多少", timeout=TIMEOUT_MS)  # the page has loaded

    page.get_by_role("tab", name="Documents").click()
    _text_input(page, "yw-new-kb").fill("茶叶")
    page.locator("#yw-create-kb").click()
    expect(page.locator("#yw-status")).to_contain_text("Created knowledge base 茶叶", timeout=TIMEOUT_MS)
    expect(_text_input(page, "yw-kb")).to_have_value("茶叶")
    expect(page.locator("#yw-docs")).to_contain_text("No documents", timeout=TIMEOUT_MS)

    doc = tmp_path / "青松镇.txt"
    doc.write_text("青松镇概况\n\n青松镇2023年共种植茶树4800亩。<img src=x onerror=\"window.__ywXss=1\">\n",
                   encoding="utf-8")
    page.locator("#yw-upload input[type=file]").set_input_files(str(doc))
    page.locator("#yw-add").click()
    expect(page.locator("#yw-status")).to_contain_text("Indexed 青松镇.txt", timeout=TIMEOUT_MS)
    expect(page.locator("#yw-docs")).to_contain_text("青松镇.txt")
    expect(page.locator("#yw-docs")).not_to_contain_text("a.txt")  # the default knowledge base's documents

    page.get_by_role("tab", name="Chat").click()
    _ask(page, question)
    expect(page.locator('#yw-chat [data-testid="bot"]').last).to_contain_text("4800", timeout=TIMEOUT_MS)
    expect(page.locator("#yw-conversations")).to_contain_text(question, timeout=TIMEOUT_MS)

    # Reload: the knowledge base is remembered, the chat is empty, the conversation is in the sidebar.
    page.reload()
    page.locator("#yw-question textarea").wait_for(timeout=TIMEOUT_MS)
    expect(_text_input(page, "yw-kb")).to_have_value("茶叶", timeout=TIMEOUT_MS)
    expect(page.locator("#yw-conversations")).to_contain_text(question, timeout=TIMEOUT_MS)
    assert page.locator('#yw-chat [data-testid="bot"]').count() == 0
    page.locator("#yw-conversations label", has_text=question).click()
    expect(page.locator('#yw-chat [data-testid="bot"]').last).to_contain_text("4800", timeout=TIMEOUT_MS)
    expect(page.locator("#yw-sources")).to_contain_text("青松镇.txt")
    expect(page.locator("#yw-sources mark")).to_contain_text("4800")

    # Copy the answer with its citations.
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
    page.locator("#yw-copy").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "4800" in copied and "[1] 青松镇.txt · 青松镇概况: “青松镇2023年共种植茶树4800亩。”" in copied

    # Rate it, with a comment.
    page.locator('#yw-chat [data-testid="bot"]').last.hover()
    page.locator('#yw-chat button[aria-label="Like"]').last.click()
    expect(page.locator("#yw-conv-status")).to_contain_text("Feedback saved (👍)", timeout=TIMEOUT_MS)
    _text_input(page, "yw-feedback-comment").fill("对，4800亩")
    page.locator("#yw-feedback-send").click()
    expect(page.locator("#yw-conv-status")).to_contain_text("Comment saved", timeout=TIMEOUT_MS)

    # Export as Markdown and download it.
    page.locator("#yw-conv-tools").get_by_text("This conversation").click()
    page.locator("#yw-export").click()
    link = page.locator("#yw-export-file a").first
    link.wait_for(timeout=TIMEOUT_MS)
    with page.expect_download(timeout=TIMEOUT_MS) as download:
        link.click()
    md = Path(download.value.path()).read_text(encoding="utf-8")
    assert md.startswith(f"# {question}") and "> 青松镇2023年共种植茶树4800亩" in md and "Feedback: 👍 — 对，4800亩" in md
    page.screenshot(path=str(ARTIFACTS / "ui_conversations.png"), full_page=True)
    assert page.evaluate("window.__ywXss") is None
    turn = backend.conversations.list("local", "茶叶")[0]
    assert backend.conversations.get("local", turn.id).turns[0].rating == 1
    context.close()

    # At phone width, in a fresh browser: pick the knowledge base, reopen the conversation, see its Sources.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1, is_mobile=True)
    page = phone.new_page()
    page.goto(url)
    page.locator("#yw-question textarea").wait_for(timeout=TIMEOUT_MS)
    expect(page.locator("#yw-conversations")).not_to_contain_text(question, timeout=TIMEOUT_MS)
    _text_input(page, "yw-kb").click()
    page.get_by_role("option", name="茶叶").click()
    page.locator("#yw-conversations label", has_text=question).click(timeout=TIMEOUT_MS)
    expect(page.locator("#yw-sources mark")).to_contain_text("4800", timeout=TIMEOUT_MS)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1  # nothing wider than the phone
    page.screenshot(path=str(ARTIFACTS / "ui_conversations_phone.png"), full_page=True)
    phone.close()


@pytest.fixture
def one_chat_worker(monkeypatch):
    """The server below runs one chat at a time, so a second chat waits in Gradio's queue."""
    import ui.app

    monkeypatch.setattr(ui.app, "CHAT_WORKERS", 1)


def test_a_waiting_chat_shows_its_place_in_the_queue(browser, one_chat_worker, slow_model_server):
    """While the chat model is busy, a chat's bubble shows how many questions are ahead of it; a chat beyond the
    server's chat workers shows Gradio's own queue place; both are answered, each in its own page, in order."""
    import re

    from playwright.sync_api import expect

    from rag.app.runtime import MODEL_TURNS

    url, model = slow_model_server
    pages = []
    for _ in range(2):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url)
        page.locator("#yw-question textarea").wait_for(timeout=TIMEOUT_MS)
        expect(page.locator("#yw-examples")).to_contain_text("多少", timeout=TIMEOUT_MS)
        pages.append(page)
    first, second = pages
    holder = MODEL_TURNS.join()  # another request has the model
    assert holder.wait(5)
    try:
        _ask(first, "浈江区推荐了多少家企业申报高新技术企业？")
        expect(first.locator('#yw-chat [data-testid="bot"]').last).to_contain_text(
            "1 question is ahead of yours", timeout=TIMEOUT_MS)
        expect(first.locator("#yw-chat")).to_contain_text("前面还有 1 个问题")
        _ask(second, "肇庆建成多少套乡镇干部周转房？")
        expect(second.get_by_text(re.compile(r"queue: 1/1")).first).to_be_visible(timeout=TIMEOUT_MS)
        ARTIFACTS.mkdir(exist_ok=True)
        first.screenshot(path=str(ARTIFACTS / "ui_waiting_for_model.png"))
        second.screenshot(path=str(ARTIFACTS / "ui_waiting_in_queue.png"))
    finally:
        holder.leave()
    expect(first.locator('#yw-chat [data-testid="bot"]').last).to_contain_text("47家企业", timeout=TIMEOUT_MS)
    expect(second.locator('#yw-chat [data-testid="bot"]').last).to_contain_text("2629套", timeout=TIMEOUT_MS)
    expect(first.locator("#yw-chat")).not_to_contain_text("2629套")
    expect(second.locator("#yw-chat")).not_to_contain_text("47家企业")
    assert model.overlaps == 0 and len(model.order) == 2
    for page in pages:
        page.close()
