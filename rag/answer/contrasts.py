"""Pairs of words whose sides are different facts: a figure for 农村居民 does not answer a question about
城镇居民, the date work started (开工) not "什么时候完工".

Answerability refuses a sentence that states the other side; question analysis lets a side be met only
by its own words — a general synonym list would cross sides, or reach a third thing ("城镇" ~ "乡镇").
"""

from __future__ import annotations

import itertools

CONTRASTS = tuple((frozenset(a.split()), frozenset(b.split())) for a, b in (
    ("城镇 城市 城区 市区 城里", "农村 乡村 农民 乡下"),
    ("男子 男性 男生 男篮 男足", "女子 女性 女生 女篮 女足"),
    ("出口", "进口"), ("国内 境内", "国外 境外 海外"), ("线上", "线下"), ("公办", "民办"),
    ("最高", "最低"), ("新增", "累计"), ("收入 营收 营业收入", "支出 开支"),
)) + tuple((frozenset({a}), frozenset({b})) for a, b in itertools.combinations(
    # A recognition at one level is not one at another: "省级工程技术研究中心" is not answered by "5个市级工程研发中心".
    ("国家级", "省级", "市级", "县级", "区级", "镇级", "乡级", "村级"), 2))
# The same for the act a date is asked of ("什么时候完工" is not answered by the date work started); only for
# a time question: "建成后年交易额多少" asks for an amount, and the project need not be finished.
ACT_CONTRASTS = ((frozenset("完工 竣工 建成 通车 投产 投用 落成 交付".split()), frozenset("开工 动工 启动 开建 奠基 签约".split())),)

# What became of requests: those received ("收集到…798件") are not those resolved ("已解决794件"). Each side's words
# meet each other ("处理完了多少件" is answered by "已解决794件"); not a refusal rule, as a question often names both.
OUTCOME_CONTRASTS = ((frozenset("收集 受理 收到 接到 征集".split()),
                      frozenset("解决 办结 化解 处理 解答 答复 回复 处置".split())),)


def side_words(word: str) -> tuple[str, ...]:
    """The other words of an outcome side ``word`` is on ("处理" → 解决, 办结…): the ways a document states it."""
    for pair in OUTCOME_CONTRASTS:
        for side in pair:
            if word in side:
                return tuple(sorted(side - {word}))
    return ()


def contrast_side(word: str) -> frozenset[str] | None:
    """The words of the contrast side ``word`` belongs to (None when it is on none)."""
    for pair in CONTRASTS + ACT_CONTRASTS + OUTCOME_CONTRASTS:
        for side in pair:
            if word in side:
                return side
    return None
