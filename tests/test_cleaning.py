"""Cleaning scraped news: furniture goes, every article sentence stays."""

from __future__ import annotations

import re

import pytest

from rag.ingest.cleaning import clean_text, find_boilerplate, line_key, noise_reason

# What the seed articles' furniture looks like. Every dropped line must match one of these; they are written as
# categories (share buttons, promotions, credits, ...), not as copies of the lines.
EXPECTED_NOISE = [
    r"^[\W\dA-Za-z]{1,3}$",  # lone numbers and symbols: "0", "+1", "X", "1."
    r"^(分享到?|微信|微博)([-\s]*(微信|微博))*$",
    r"\|.*\|.*\|",  # navigation bars
    r"^>.*>",  # breadcrumbs
    r"订阅|剩余\d+%|打开|立即|您已|更多精彩",
    r"^【?(编辑|校对|整理)】?\s*\S{2,4}$",
    r"^(上一篇|下一篇)[:：]",
    r"^关键词[:：]",
    r"版权|转载|免责|ICP|Powered by|未经授权|联系人|^欢迎访问",
]
COPYRIGHT_BLOCK_OR_NAV_BAR = re.compile(r"版权|转载|免责|ICP|Powered by|未经授权|\|.*\|.*\|")


def test_seed_dropped_lines_are_all_noise(seed_raw_texts):
    dropped_anywhere = []
    for name, raw in seed_raw_texts.items():
        result = clean_text(raw)
        for line in result.dropped:
            repeated = line_key(line) in line_key(result.text)  # a duplicate paragraph: its first copy stays
            assert repeated or any(re.search(p, line) for p in EXPECTED_NOISE), f"{name}: dropped content {line!r}"
        dropped_anywhere += result.dropped
    # the furniture the seed files are known to carry is really gone
    for furniture in ["分享到", "微博", "+1", "您已点过", "订阅后可查看全文(剩余80%)", "立即打开", "编辑 李幔",
                      "> 金融财经 > 正文", "下一篇:最后一页", "欢迎访问 组织法治网!", "(严禁第三方复制和转载)"]:
        assert furniture in dropped_anywhere


def test_seed_article_sentences_all_survive(seed_raw_texts):
    for name, raw in seed_raw_texts.items():
        cleaned = line_key(clean_text(raw).text)
        for line in raw.split("\n"):
            line = line.strip()
            if len(line) > 40 and not COPYRIGHT_BLOCK_OR_NAV_BAR.search(line):
                assert line_key(line) in cleaned, f"{name}: lost {line[:30]!r}"


def test_seed_keeps_headings_datelines_and_bylines(seed_documents):
    paragraphs = {p for d in seed_documents for p in d.text.split("\n\n")}
    for kept in ["聚焦组织体系建设", "建强乡村振兴“战斗堡垒”", "2022-07-25 08:45:44 来源:韶关日报",
                 "西江日报记者 陆志锋", "党建先行 党员干部奋斗一线", "(作者系中共韶关市浈江区委常委、组织部部长 黄鹤明)"]:
        assert kept in paragraphs


def test_seed_paragraph_format(seed_documents):
    for document in seed_documents:
        assert "\n\n\n" not in document.text
        for paragraph in document.text.split("\n\n"):
            assert paragraph and paragraph == paragraph.strip()


def test_seed_eval_evidence_survives_cleaning(seed_documents, seed_eval_questions):
    texts = {d.source: line_key(d.text) for d in seed_documents}
    for question in seed_eval_questions:
        if not question["evidence"]:
            continue
        haystacks = [texts[question["source"]]] if question.get("source") else list(texts.values())
        assert any(line_key(e) in h for e in question["evidence"] for h in haystacks), question["qid"]


def test_repeated_paragraph_dropped_keeping_first(seed_raw_texts):
    result = clean_text(seed_raw_texts["000_289081fbdfcbe5f1.txt"])
    assert result.text.count("浈江区人才驿站揭牌") == 1
    text = clean_text("第一段内容在这里。\n\n第二段。\n\n第一段内容在这里。\n\n小结\n\n其它。\n\n小结")
    assert text.text == "第一段内容在这里。\n\n第二段。\n\n小结\n\n其它。\n\n小结"  # short headings may repeat
    assert text.dropped == ["第一段内容在这里。"]


@pytest.mark.parametrize("line", [
    "首页 | 新闻 | 体育 | 财经 | 娱乐",
    "关于我们｜广告服务｜版权声明｜联系我们",
    "首页 新闻 国内 国际 财经 科技",
    "当前位置：首页 > 新闻中心 > 正文",
    "首页 » 地方新闻",
    "> 时政要闻 > 正文",
    "分享到：微信 微博 QQ空间",
    "【打印】【关闭窗口】",
    "字号：大 中 小",
    "订阅后可查看全文(剩余35%)",
    "还没看够？打开某某APP看看吧",
    "立即下载",
    "您已赞过",
    "更多精彩内容请关注本频道",
    "点击查看原文",
    "扫码关注公众号",
    "Copyright © 2024 某某网 All Rights Reserved",
    "京ICP备12345678号-1",
    "京公网安备 11010502030001号",
    "Powered by WordPress",
    "（本文为本网原创，未经授权不得转载）",
    "(严禁复制)",
    "西江日报、西江网版权与免责声明",
    "上一篇：某某会议召开",
    "下一篇",
    "关键词：乡村振兴 人才",
    "标签: 经济",
    "责任编辑：王小明",
    "（责任编辑：张三 校对：李四）",
    "编辑 李幔",
    "【编审】赵六",
    "审核：王五、赵六",
    "欢迎光临某某网！",
    "+1",
    "0",
    "X",
    "2.",
    "——",
])
def test_noise_lines(line):
    assert noise_reason(line), line


@pytest.mark.parametrize("line", [
    "聚焦组织体系建设",
    "党建先行 党员干部奋斗一线",
    "2022-07-25 08:45:44 来源:韶关日报",
    "西江日报记者 陆志锋",
    "编辑部成立于1998年",
    "他通过微信和微博发布了通知，打开了新局面。",
    "该公司未经许可使用他人作品，被判赔偿。",
    "版权保护是创新的基础，今年全省受理版权登记十万件。",
    "| 年份 | 产值 |",
    "2021 | 722亿元 | 9.5% | 同比",
    "价格 > 成本 > 0 时企业盈利，这是常识。",
    "更多的农民参与到合作社中来，收入增加了三成，村集体也有了稳定的分红收入来源。",
    "一是强化核心，提升领导力。",
    "(作者系中共韶关市浈江区委常委、组织部部长 黄鹤明)",
    "欢迎来到丹霞山",
    "GDP",
    "南方+",
])
def test_content_lines_kept(line):
    assert noise_reason(line) is None, line


def test_disclaimer_block_with_numbered_items_goes_as_a_whole():
    text = "\n".join([
        "正文第一段说明了情况。",
        "",
        "某某网版权与免责声明",
        "",
        "1.",
        "凡本网注明来源的作品，版权均属本网所有。",
        "2.",
        "本网转载稿件仅为传递信息。",
        "3. 如有问题请与我们沟通处理。",
        "联系人:王女士(电话:010-12345678)",
        "",
        "另一段正文，在声明之后。",
    ])
    result = clean_text(text)
    assert result.text == "正文第一段说明了情况。\n\n另一段正文，在声明之后。"
    assert "3. 如有问题请与我们沟通处理。" in result.dropped


def test_whitespace_normalised_within_lines():
    assert clean_text("  来源:某报\u00a0\u00a0\u00a0 作者:某人 \n\n\u3000\u3000正文。").text == "来源:某报 作者:某人\n\n正文。"


def test_hard_wrapped_blocks_are_joined():
    english = (
        "The village committee met on Monday to discuss the new irrigation plan for\n"
        "the coming season, and agreed to share the costs between all households of\n"
        "the three hamlets.\n\n"
        "A second meeting will decide who maintains the pumps and how repairs will\n"
        "be paid for, once the county has approved the budget for the next year.\n"
    )
    paragraphs = clean_text(english).text.split("\n\n")
    assert paragraphs[0].startswith("The village") and paragraphs[0].endswith("three hamlets.")
    assert "plan for the coming" in paragraphs[0]
    chinese = ("乡村振兴战略实施以来，各地结合实际探索出许多好做法，值得认真总结推广，特别是在\n"
               "组织建设方面。\n\n"
               "人才是第一资源，要把各类人才吸引到乡村来，形成人才、土地、资金、产业汇聚的良性\n"
               "循环。\n")
    assert clean_text(chinese).text.split("\n\n")[0] == "乡村振兴战略实施以来，各地结合实际探索出许多好做法，值得认真总结推广，特别是在组织建设方面。"


def test_one_line_per_paragraph_text_is_not_joined():
    text = "第一行是一个完整的段落。\n第二行也是一个完整的段落。\n第三行。"
    assert clean_text(text).text == "第一行是一个完整的段落。\n\n第二行也是一个完整的段落。\n\n第三行。"


def test_find_boilerplate_thresholds():
    texts = [f"文章{i}的标题\n本站由某某中心主办\n文章{i}的正文。" for i in range(5)]
    assert find_boilerplate(texts) == frozenset({"本站由某某中心主办"})
    assert find_boilerplate(texts[:2]) == frozenset()  # fewer than min_docs documents
    assert find_boilerplate(texts, min_docs=6) == frozenset()
    many = texts + [f"另一篇{i}\n内容{i}。" for i in range(200)]
    assert find_boilerplate(many, min_share=0.05) == frozenset()  # 5 of 205 documents is under 5 %
    assert find_boilerplate([texts[0]] * 10) == frozenset()  # the same article saved ten times keeps its text


def test_clean_text_with_boilerplate_drops_and_reports():
    result = clean_text("标题\n本站由某某中心主办\n正文。", boilerplate=frozenset({"本站由某某中心主办"}))
    assert result.text == "标题\n\n正文。"
    assert result.dropped == ["本站由某某中心主办"]


def test_empty_text():
    assert clean_text("").text == ""
    assert clean_text("\n\n  \n").dropped == []
