"""Remove page furniture from scraped articles before chunking.

Text saved from Chinese news sites carries navigation bars, share buttons, app promotions, editor credits and
copyright footers. Left in, they become chunks of their own that match every query about "微信" or "版权", and they
dilute the vectors of the real paragraphs next to them. The rules below are generic line patterns (no line of any
particular site is listed); a corpus-level pass (:func:`find_boilerplate`) catches the furniture a site repeats on
every page that no rule foresaw. Headings, datelines and source lines are kept: they are short, but they are content.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from rag.text.language import CJK_CHARS

PARAGRAPH_SEPARATOR = "\n\n"
DEDUP_MIN_CHARS = 5
"""Repeated paragraphs shorter than this (e.g. a heading "小结" used twice) are kept."""

_SENTENCE_END = "。！？!?；;"
_HAN = CJK_CHARS
_HAN_CHAR = re.compile(f"[{_HAN}]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u3000]+")

# --- single-line rules: (name, pattern, longest line the rule may drop) ---------------------------------------
_ROLES = "责任编辑|值班编辑|编辑|责编|校对|审核|审校|审签|终审|初审|复审|二审|三审|编审|签发|监制|统筹|美编|整理"
_NAME = f"[{_HAN}·]{{2,5}}"
_CREDIT = (
    rf"(?:[【\[(（]\s*(?:{_ROLES})\s*[】\])）]\s*[:：]?\s*|(?:{_ROLES})\s*(?:[:：]\s*|\s+))"
    rf"{_NAME}(?:\s*[、,，/]\s*{_NAME})*"
)
_LINE_RULES: tuple[tuple[str, re.Pattern[str], int], ...] = (
    ("lone symbol", re.compile(r"^(?:[\W\d_]{1,8}|[A-Za-z])$"), 8),
    ("editor credit", re.compile(rf"^[(（]?\s*{_CREDIT}(?:\s+{_CREDIT})*\s*[)）]?$"), 60),
    ("previous/next link", re.compile(r"^(?:上一|下一|前一|后一)(?:篇|条|页|则|章)(?:\s*[:：].*)?$"), 100),
    ("keywords", re.compile(r"^[【\[]?(?:关键词|关键字|标签|tags?|keywords?)[】\]]?\s*[:：]", re.IGNORECASE), 100),
    ("welcome banner", re.compile(r"^欢迎(?:访问|光临|浏览|您访问|您光临)"), 40),
    ("subscribe/app promotion", re.compile(
        r"订阅.{0,6}(?:查看|阅读)|剩余\s*\d+\s*%|^(?:还)?没看够|打开.{0,10}(?:看看|阅读|查看|APP|App|app|客户端)"
        r"|^立即(?:打开|下载|查看|订阅|阅读|关注|体验)|^您已(?:点过|赞过|点赞|收藏|投票)|^更多.{0,6}(?:精彩|内容|资讯)"
        r"|^(?:点击|扫描|扫码|长按).{0,12}(?:查看|阅读|关注|下载|二维码|识别)|^(?:阅读|查看|展开)(?:原文|全文)$"
        r"|^下载.{0,8}(?:客户端|APP|App|app)"
    ), 40),
    ("copyright footer", re.compile(
        r"ICP\s*(?:备|证|备案)|公网安备|(?i:powered\s+by)|^(?i:copyright)|©|版权所有|许可证\s*[|｜]"
        r"|(?:本网|本站|本文|本报|本平台|本公众号|本刊|本网站).{0,30}(?:未经|严禁|禁止|不得).{0,20}(?:转载|复制|镜像|摘编|使用)"
        r"|^[(（【\[]?\s*(?:严禁|禁止|未经).{0,20}(?:转载|复制|镜像|摘编)[^。]{0,10}[)）】\]]?$"
    ), 200),
)
_DISCLAIMER_HEADER = re.compile(r"免责声明|版权声明|法律声明|版权说明|版权与免责")
_DISCLAIMER_HEADER_MAX = 30
# Inside a disclaimer block: bare item markers ("1."), numbered items, and lines in its vocabulary.
_ITEM_MARKER_ONLY = re.compile(r"^(?:\d{1,2}|[一二三四五六七八九十]{1,2})\s*[.．、)）]?$|^[(（]\d{1,2}[)）]$")
_ITEM_START = re.compile(r"^(?:\d{1,2}\s*[.．、)）]|[(（]\d{1,2}[)）]|[一二三四五六七八九十]{1,2}、)")
_FOOTER_WORDS = re.compile(r"本网|本站|版权|转载|侵权|免责|联系(?:人|方式|电话|我们)|电话|邮箱|E-?mail", re.IGNORECASE)

_SHARE_WORDS = frozenset({
    "分享", "分享到", "分享至", "转发", "转发到", "收藏", "点赞", "打印", "打印本页", "打印此页", "关闭", "关闭窗口",
    "返回", "返回顶部", "返回首页", "微信", "微信朋友圈", "朋友圈", "微博", "新浪微博", "腾讯微博", "QQ", "QQ空间",
    "QQ好友", "复制链接", "扫一扫", "评论", "举报", "纠错", "字号", "大", "中", "小", "Facebook", "Twitter",
})
_SHARE_SPLIT = re.compile(r"[\s\-–—:：|｜/·、,，【】\[\]()（）]+")
_SHARE_MAX = 30
_NAV_SPLIT = re.compile(r"\s*[|｜丨]\s*")
_BREADCRUMB_SPLIT = re.compile(r"\s*[>»›＞]\s*")
_BREADCRUMB_PREFIX = re.compile(r"^(?:当前位置|您的位置|你的位置|现在位置|所在位置|位置)\s*[:：]\s*")
_BREADCRUMB_ENDS = frozenset({"首页", "主页", "网站首页", "正文", "详情", "内容", "文章"})


@dataclass(frozen=True)
class CleanResult:
    """Cleaned text (paragraphs separated by blank lines) and the lines that were removed, for inspection."""

    text: str
    dropped: list[str] = field(default_factory=list)


def line_key(line: str) -> str:
    """A line with all whitespace removed: how lines are compared across documents."""
    return "".join(line.split())


def find_boilerplate(
    texts: Iterable[str], *, min_docs: int = 3, min_share: float = 0.05, max_chars: int = 200
) -> frozenset[str]:
    """Lines (as :func:`line_key`) that occur in at least ``min_docs`` documents and ``min_share`` of them.

    Furniture a site repeats on every page ("本文来源:XX网", a slogan under the logo) is found this way even when no
    rule knows it. Lines longer than ``max_chars`` are never counted, and identical documents count once, so that
    a collection holding the same article twice does not lose the article.
    """
    counts: Counter[str] = Counter()
    seen_texts: set[int] = set()
    for text in texts:
        digest = hash(text)
        if digest in seen_texts:
            continue
        seen_texts.add(digest)
        keys = {line_key(line) for line in text.split("\n")}
        counts.update(key for key in keys if 0 < len(key) <= max_chars)
    threshold = max(min_docs, math.ceil(min_share * len(seen_texts)))
    return frozenset(key for key, count in counts.items() if count >= threshold)


def noise_reason(line: str) -> str | None:
    """Why a single line is page furniture, or ``None`` when it may be content."""
    line = line.strip()
    if not line:
        return None
    for name, pattern, longest in _LINE_RULES:
        if len(line) <= longest and pattern.search(line):
            return name
    if len(line) <= _DISCLAIMER_HEADER_MAX and _DISCLAIMER_HEADER.search(line) and not _ends_sentence(line):
        return "disclaimer"
    if _is_share_bar(line):
        return "share buttons"
    if _is_nav_bar(line):
        return "navigation bar"
    if _is_breadcrumb(line):
        return "breadcrumb"
    return None


def clean_text(text: str, boilerplate: frozenset[str] = frozenset()) -> CleanResult:
    """Drop furniture lines, disclaimer blocks, boilerplate and repeated paragraphs; keep everything else verbatim.

    Every remaining non-empty line becomes a paragraph (scraped news puts one paragraph per line), except in
    hard-wrapped text, where the lines of a blank-line-separated block are joined back into one paragraph.
    """
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    drop = [False] * len(lines)
    for i, line in enumerate(lines):
        if not line:
            continue
        if line_key(line) in boilerplate:
            drop[i] = True
            continue
        reason = noise_reason(line)
        if reason is None:
            continue
        drop[i] = True
        if reason == "disclaimer":
            _drop_disclaimer_block(lines, drop, i + 1)
    dropped = [line for line, gone in zip(lines, drop) if gone and line]

    blocks: list[list[str]] = [[]]
    for line, gone in zip(lines, drop):
        if not line:
            if blocks[-1]:
                blocks.append([])
        elif not gone:
            blocks[-1].append(line)
    blocks = [block for block in blocks if block]
    if _looks_hard_wrapped(blocks):
        paragraphs = [_join_wrapped(block) for block in blocks]
    else:
        paragraphs = [line for block in blocks for line in block]

    kept: list[str] = []
    seen: set[str] = set()
    for paragraph in paragraphs:
        key = line_key(paragraph)
        if len(key) >= DEDUP_MIN_CHARS and key in seen:
            dropped.append(paragraph)
            continue
        seen.add(key)
        kept.append(paragraph)
    return CleanResult(text=PARAGRAPH_SEPARATOR.join(kept), dropped=dropped)


def _ends_sentence(line: str) -> bool:
    return line.rstrip("”’」』\"')）")[-1:] in _SENTENCE_END


def _drop_disclaimer_block(lines: list[str], drop: list[bool], start: int) -> None:
    """After a "版权与免责声明" header: its numbered items and contact lines, up to the first line of content."""
    j = start
    while j < len(lines):
        line = lines[j]
        if not line:
            j += 1
            continue
        if _ITEM_MARKER_ONLY.match(line):
            drop[j] = True
            if j + 1 < len(lines) and lines[j + 1]:  # the item's text follows its bare marker
                drop[j + 1] = True
                j += 1
        elif _ITEM_START.match(line) or _FOOTER_WORDS.search(line) or noise_reason(line):
            drop[j] = True
        else:
            return
        j += 1


def _is_share_bar(line: str) -> bool:
    if len(line) > _SHARE_MAX:
        return False
    tokens = [t for t in _SHARE_SPLIT.split(line) if t]
    return bool(tokens) and all(t in _SHARE_WORDS for t in tokens) and not all(t in "大中小" for t in tokens)


def _is_nav_bar(line: str) -> bool:
    """Many short link labels separated by bars, or by spaces without any punctuation."""
    if line.startswith(("|", "｜")) or any(ch in line for ch in _SENTENCE_END + "，,"):
        return False  # a Markdown table row, or prose
    items = [item for item in _NAV_SPLIT.split(line) if item]
    if len(items) < 4:
        items = line.split(" ")
        if len(items) < 5 or any(len(item) > 6 for item in items) or re.search(r"[^\w\s]", line):
            return False
    mean_length = sum(len(item) for item in items) / len(items)
    with_digits = sum(1 for item in items if re.search(r"\d", item))
    return mean_length <= 8 and with_digits <= 1


def _is_breadcrumb(line: str) -> bool:
    """"首页 > 财经 > 正文" or "> 金融财经 > 正文": short labels chained by '>'."""
    prefixed = bool(_BREADCRUMB_PREFIX.match(line))
    body = _BREADCRUMB_PREFIX.sub("", line)
    parts = _BREADCRUMB_SPLIT.split(body)
    if len(parts) < 2 or any(ch in line for ch in _SENTENCE_END + "，,"):
        return False
    labels = [p for p in parts if p]
    if not labels or any(len(p) > 12 for p in labels):
        return False
    return prefixed or parts[0] == "" or labels[0] in _BREADCRUMB_ENDS or labels[-1] in _BREADCRUMB_ENDS


def _looks_hard_wrapped(blocks: list[list[str]]) -> bool:
    """Text wrapped at a fixed width: in multi-line blocks, all lines but the last are about equally long."""
    multi = [block for block in blocks if len(block) >= 2]
    if len(multi) < 2:
        return False
    lengths = sorted(len(line) for block in multi for line in block)
    width = lengths[int(0.95 * (len(lengths) - 1))]
    if not 30 <= width <= 150:
        return False
    inner = [len(line) for block in multi for line in block[:-1]]
    near_width = sum(1 for length in inner if length >= 0.7 * width)
    return near_width >= 0.8 * len(inner)


def _join_wrapped(block: list[str]) -> str:
    paragraph = block[0]
    for line in block[1:]:
        cjk_seam = _HAN_CHAR.match(line[0]) or _HAN_CHAR.match(paragraph[-1]) or not paragraph[-1].isascii()
        paragraph += line if cjk_seam else " " + line
    return paragraph
