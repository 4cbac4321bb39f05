"""What kind of Chinese word this is: how rare in general Chinese, a person's name, a place.

Question analysis, clause ranking, answerability and feedback keywords all ask these questions of
jieba's words; one set of answers keeps them agreeing ("乳源" is a name everywhere or nowhere).
Rarity is jieba's general-Chinese IDF table, so "生产总值" outweighs "地区" and a word jieba does not
know (a name, a number) is as rare as it gets.
"""

from __future__ import annotations

import functools
import logging
import re

# A number as written in a question or a passage: "13757", "2.7", "1,200".
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")

# Weight of terms that jieba's IDF table does not know (names, numbers): as rare as it gets.
UNKNOWN_TERM_IDF = 12.0
# A word this common in general Chinese (jieba IDF) is a word, not a name ("重点村", "示范县").
_MIN_NAME_IDF = 8.4

# Administrative levels, longest first ("乳源瑶族自治县" is a 自治县, "桃江县" a 县).
PLACE_LEVELS = ("自治县", "自治州", "自治区", "社区", "街道", "省", "市", "县", "区", "镇", "乡", "村")
_PLACE_ENDINGS = PLACE_LEVELS + ("国", "州", "岛", "馆", "中心", "体育场")

# Endings of organisations' names ("万科集团", "华南农业大学").
ORG_SUFFIXES = ("集团", "公司", "大学", "学院", "银行", "证券", "医院", "研究院", "研究所", "协会", "委员会", "厂", "合作社",
                "学校", "中学", "小学", "出版社", "报社", "电视台", "实业", "控股", "传媒")
# What "哪家/哪个 X" asks when X is one of these: an organisation, by any name ("万科集团" for 哪家公司).
ORG_KINDS = ("公司", "企业", "单位", "机构", "集团", "银行", "医院", "学校", "高校", "大学", "院校", "厂家", "组织", "部门", "企")

# Common Chinese surnames: a rare two- or three-character word that starts with one and that jieba
# tags as a place or a noun ("吴京"/ns) is read as a person's name too.
_SURNAMES = frozenset("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")


@functools.lru_cache(maxsize=1)
def _idf() -> tuple[dict, float]:
    import jieba
    import jieba.analyse

    jieba.setLogLevel(logging.WARNING)
    table = jieba.analyse.default_tfidf
    return table.idf_freq, table.median_idf


@functools.lru_cache(maxsize=1)
def posseg():
    """jieba's part-of-speech tagger (``posseg().cut(text)`` → words with flags: nr person, ns place, …)."""
    import jieba.posseg

    return jieba.posseg


def term_weight(term: str) -> float:
    """The IDF of ``term`` in general Chinese; numbers and unknown words weigh ``UNKNOWN_TERM_IDF``."""
    idf, _median = _idf()
    if NUMBER.fullmatch(term):
        return UNKNOWN_TERM_IDF
    return idf.get(term, UNKNOWN_TERM_IDF)


def is_common_word(word: str) -> bool:
    idf, _median = _idf()
    value = idf.get(word)
    return value is not None and value < _MIN_NAME_IDF


def is_name_like(stem: str) -> bool:
    """Could ``stem`` be a proper name: two characters or more, not a common word of general Chinese?"""
    return len(stem) >= 2 and not is_common_word(stem)


def is_person_name(word: str, flag: str) -> bool:
    """jieba's person tags (nr, nrfg, nrt), or a rare 2–3 character word led by a common surname."""
    if len(word) < 2:
        return False
    if flag in ("nr", "nrfg", "nrt"):
        return True
    return (flag in ("ns", "n", "nz", "x") and len(word) <= 3 and word[0] in _SURNAMES
            and re.fullmatch(r"[\u4e00-\u9fff]+", word) is not None and not is_common_word(word))


def has_new_place(text: str, question: str) -> bool:
    """Does ``text`` name a place the question does not (jieba ``ns``, or a name with a place ending)?"""
    for w in posseg().cut(text):
        if len(w.word) >= 2 and w.word not in question and (
            w.flag == "ns" or (w.word.endswith(_PLACE_ENDINGS) and is_name_like(w.word[:-1]))
        ):
            return True
    return False


# A person's occupation, which jieba now and then tags as an organisation ("中医师"/nt).
OCCUPATION_ENDINGS = ("师", "员", "生", "手", "家", "长", "工")
# Endings jieba keeps as one word that name no organisation by themselves ("…科技股份" + "有限公司").
_GENERIC_ORG_ENDINGS = ("有限公司", "股份有限公司", "有限责任公司", "股份公司", "集团公司")


def has_new_org(text: str, question: str) -> bool:
    """Does ``text`` name an organisation the question does not (jieba ``nt``, or a name before an
    organisation ending: "万科" + "集团")?"""
    words = list(posseg().cut(text))
    for i, w in enumerate(words):
        name, start = w.word, i
        if (w.word in ORG_SUFFIXES or w.word in _GENERIC_ORG_ENDINGS) and i and words[i - 1].flag in (
                "nz", "nr", "ns", "nt", "n", "j", "eng"):
            name, start = words[i - 1].word + w.word, i - 1
        elif not ((w.flag == "nt" and not w.word.endswith(OCCUPATION_ENDINGS))
                  or (w.word.endswith(ORG_SUFFIXES) and len(w.word) > 2)):
            continue
        if start and words[start - 1].flag in ("m", "q", "mq"):
            continue  # "17家高校院所" counts a kind of organisation, it names none
        if len(name) >= 3 and name not in question and not is_common_word(name):
            return True
    return False
