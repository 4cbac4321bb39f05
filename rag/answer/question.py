"""What a question asks: its weighted content terms, numbers, the kind of answer wanted and how many.

Refusal, answerability, prompting, citations' ranking and the extractive answerer all start from
this one analysis, so "what is asked" is decided in one place:
- question terms are rag.text.tokenize search-mode tokens weighted by IDF from jieba's
  general-Chinese table (rag.text.words), so "生产总值" outweighs "地区"; numbers in the question
  (years, counts) weigh as much as the rarest word;
- an English question's translated term groups (rag.retrieve.crosslingual) become one term each,
  met by any of their Chinese alternatives; translated names and role words are kept apart;
- an answer-type cue (多少/几 → a number with a unit, 谁/名字 → a person, 哪些 → an enumeration,
  什么/哪个 → a name or quoted term, 时间 → a date, 哪里 → a place, 营收 多少 → a sum of money).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rag.answer.contrasts import contrast_side, side_words
from rag.text.language import detect_language, has_cjk
from rag.text.numerals import spelled_quantities
from rag.text.synonyms import synonyms
from rag.text.tokenize import normalize, tokenize
from rag.text.words import NUMBER, posseg, term_weight

# Words that only say *what kind* of answer is wanted; they are cues, not content.
QUESTION_WORDS = frozenset(
    "多少 几 第几 哪些 哪个 哪家 哪所 哪里 哪儿 什么 什么时候 时候 谁 名字 叫 是否 多大 多高 多长 多远 多久 多重 排 如何 怎样 怎么 "
    "why when where what which who whom whose how many much name named called does did do".split()
)

# Words that say nothing about *what* is asked: vague time ("现在", "近些年": the document's own time is
# meant), totals and hedges ("一共", "预计", "大约"), "within" ("境内"). A document states the fact without
# them, so as terms they only make a reworded question look uncovered.
FILLER_WORDS = frozenset(
    "现在 目前 当前 如今 眼下 当下 平时 平常 平日 通常 一般 近些年 近些 近年 近几年 这些年 近来 最近 至今 迄今 "
    "一共 总共 共计 总计 合计 累计 大概 大约 大致 约莫 左右 将近 预计 估计 预期 境内 辖区内 区内 县内 市内 当地 那里 这里 "
    "向上 之前 此前 以来 已经 曾经 到底 究竟 具体 主要 分别 各自 为了 因为 由于 关于 对于 起来 背后 那位 这位 那个 这个 那些 这些 那家 这家 那篇 这篇 那次 这次 那场 这场".split()
)

_ASKING = r"哪|几|多少|什么"
# A question word fused with its measure word by jieba ("几所", "多少家", "哪几个"): a cue, not a term
# to search for.
_QUESTION_COMPOUND = re.compile(rf"^(?:{_ASKING}|多大|多久)[\u4e00-\u9fff]?$|^哪几")
# Wider: any word led by a question word ("什么时候", "怎么办") or a bare count ("两个"). Such a word
# stays a ranking term (a passage that repeats it is closer), but it names no attribute of the subject
# (rag/answer/answerability.py).
ASKING_WORD = re.compile(rf"^(?:{_ASKING}|怎|如何|为何)|^[一二两三四五六七八九十几]+[个位名家支条项种次]?$")
# A modal glued to a one-character verb by jieba ("要花", "能花", "会有"): the verb alone is no term.
_MODAL_VERB = re.compile(r"^[要能会可想该得需][\u4e00-\u9fff]$")
# Cut off before segmenting, or jieba glues them to the next word: a date's unit ("2021年种茶" would
# give "年种") and an adjectival question word ("有多大面积" would give "大面积").
_CUT_BEFORE_SEGMENTING = re.compile(r"(\d+[年月日号]|多大|多长|多高|多远|多久|多重)(?=[\u4e00-\u9fff])")

# Fine answer types of Chinese questions: a date or time, a place, a sum of money.
_TIME_CUES = re.compile(r"什么时候|何时|时间|日期|哪天|哪一天|几月|几号|哪年|哪一年|几点")
_PLACE_CUES = re.compile(r"哪里|在哪|哪儿|何地|地点|什么地方|哪个(?:城市|国家|省|地方)|哪座城市|举办地|所在地"
                         r"|哪个(?:县级市|地级市|市|县|区|镇|乡|村|社区|街道)")
# "几" asks only on its own: "这几年", "近几天", "十几个" are vague spans and counts, not questions.
_ASKING_JI = r"(?<![这那近前后头十])几"
_MONEY_CUES = re.compile(
    r"营收|营业收入|收入|利润|净利|产值|投资|投入|资金|票房|金额|价格|售价|票价|多少钱|经费|预算|GDP|生产总值|工资|收益"
    r"|市值|营业额|融资|销售额|津贴|补贴|补助|奖金|薪酬|费用|成本|报价|房价|罚款|赔偿"
)
_RATIO_CUES = re.compile(r"比例|比重|占比|百分|增长率|增幅|增速|率|几成")
# "第一" as a document writes it with 首: "首个", "首家"…
_FIRST_MEASURES = "个家批座次届块位条所部款台例"
# A place named after its direction ("东莞") goes by its other character in a pair ("莞韶").
_DIRECTIONS = "东南西北"
# Measure words of a count ("多少支"); a question's unit may also be a sum or a length (元, 万, 公里).
_COUNT_UNITS = "个家位名支条项次天亩人件所座套种批类户村镇年吨斤棵株头辆台艘架枚颗栋"
# A measure word's character starting another word: "多少年轻党员" counts people, not years; "多少村民" villagers.
_NOT_A_UNIT = r"(?!(?<=年)[轻级龄纪代]|(?<=[村镇])民|(?<=家)[庭长属])"

# Role words whose holder is a person: "党委书记叫什么名字" asks for a name, "项目叫什么名字" does not.
_PERSON_ROLE_SUFFIX = tuple("记长任理席师者员手家官演生")
_PERSON_ROLES_EN = frozenset(
    "secretary mayor director chairman chairwoman chair head leader president manager author founder chief "
    "governor minister principal officer captain editor owner inventor architect designer composer singer "
    "actor actress player coach teacher professor person man woman doctor scientist engineer".split()
)


@dataclass(frozen=True)
class QuestionAnalysis:
    """What a question asks for: weighted content terms and the expected kind of answer."""

    question: str
    language: str
    terms: dict[str, float]
    numbers: tuple[str, ...]
    answer_type: str  # "number" | "money" | "time" | "place" | "person" | "list" | "entity" | "any"
    asks: int  # how many things are asked ("多少…排第几" → 2)
    unit: str = ""  # the measure word asked for: "多少亩" → "亩"
    ordinal: bool = False  # "排第几": an ordinal ("第二") is an answer
    # A translated term → every document-language word that counts as it (its pooled senses).
    alternatives: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Translated names (pinyin "Ruyuan" → 乳源): the surest part of a translation, so a passage
    # that lacks one is about something else.
    names: tuple[str, ...] = ()
    # Translated role words of a "who"/"name of the secretary" question (书记): the name
    # given must be the holder's, so it has to stand beside one.
    roles: tuple[str, ...] = ()
    # What "how many …" counts, translated ("companies" → 企业, 公司): a number beside it answers.
    counted: tuple[str, ...] = ()
    # Quantities the question writes in characters, in digits ("两平方公里" → "2"): like ``numbers``
    # they are the question's own, never its answer, but a passage need not write them as digits.
    spelled: tuple[str, ...] = ()

    @property
    def given(self) -> frozenset[str]:
        """Every number the question states itself, however written."""
        return frozenset(self.numbers + self.spelled)

    @property
    def total_weight(self) -> float:
        return sum(self.terms.values()) or 1.0


def analyse_question(question: str, term_groups: Sequence = ()) -> QuestionAnalysis:
    """Content terms (with weights), numbers and answer type of ``question``.

    ``term_groups`` — a cross-lingual question's
    translated terms (rag.retrieve.crosslingual ``TermGroup``s: English words, Chinese alternatives,
    kind) — become one term each, met by any of its alternatives and weighted as one word, so
    an English question is matched against Chinese passages the way a Chinese one is; the
    English words they translate are dropped.
    """
    language = detect_language(question)
    translated = {w for group in term_groups for w in tokenize(group.source)}
    terms: dict[str, float] = {}
    alternatives: dict[str, tuple[str, ...]] = {}
    for term in tokenize(_CUT_BEFORE_SEGMENTING.sub(r"\1，", question)):
        if (term in QUESTION_WORDS or _QUESTION_COMPOUND.match(term) or (len(term) == 1 and not term.isdigit())
                or term in translated or term in FILLER_WORDS or "谁" in term or _MODAL_VERB.match(term)):
            continue
        if language != "zh" and not has_cjk(term) and len(term) < 3 and not term.isdigit():
            continue
        terms[term] = term_weight(term) if (language == "zh" or has_cjk(term) or term.isdigit()) else 1.0
        if len(term) >= 2 and has_cjk(term):
            # "化解" is met by a passage's "解决"; a side of a contrast only by its synonyms on the same side
            # ("农村" by "乡村", "城镇" not by "乡镇").
            side = contrast_side(term)
            if found := tuple(w for w in synonyms(term) if side is None or w in side) + side_words(term) + _firsts(term):
                alternatives[term] = found
    # "今年以来" asks nothing that "今年" does not: a term that is another term and a filler word ("以来")
    # would only make a document's "今年来" look uncovered.
    for term in [t for t in terms if any(t.endswith(f) and t[: -len(f)] in terms for f in FILLER_WORDS)]:
        del terms[term]
        alternatives.pop(term, None)
    for term, pairs in _paired_abbreviations(question, terms).items():
        alternatives[term] = alternatives.get(term, ()) + pairs
    names, roles = [], []
    for group in term_groups:
        if all(w in QUESTION_WORDS for w in tokenize(group.source)):
            continue  # "name" in "what is the name of" asks for a name; it is no topic
        alts = tuple(dict.fromkeys(normalize(t) for t in group.alternatives))
        if not alts:
            continue
        key = alts[0]
        terms[key] = max(terms.get(key, 0.0), term_weight(key))
        alternatives[key] = tuple(dict.fromkeys(alternatives.get(key, ()) + alts))
        if group.kind == "pinyin":
            names.append(key)
        elif _PERSON_ROLES_EN.intersection(tokenize(group.source)):
            roles.append(key)
    numbers = tuple(dict.fromkeys(m.group().replace(",", "") for m in NUMBER.finditer(normalize(question))))
    answer_type, asks = _answer_type(question, language)
    q = normalize(question)
    unit = _asked_unit(q, "元万亿公里米")
    return QuestionAnalysis(
        question, language, terms, numbers, answer_type, asks,
        unit=unit or ("元" if "多少钱" in q else "人" if re.search(r"人数|多少人", q) else ""),
        ordinal=bool(re.search(r"第几|排名|名次", q)),
        alternatives=alternatives,
        names=tuple(names),
        roles=tuple(roles),
        counted=_counted(question, term_groups),
        spelled=tuple(dict.fromkeys(spelled_quantities(q))),
    )


def _firsts(term: str) -> tuple[str, ...]:
    """"第一块" / "第一" is written "首个", "首批"… as often ("韶关在东莞的首个产业“反向飞地”")."""
    if not term.startswith("第一"):
        return ()
    rest = term[2:]
    if not rest or rest in _FIRST_MEASURES:  # "第一块" may be "首个": any measure word
        return tuple("首" + m for m in _FIRST_MEASURES)
    return ("首" + rest,)


def _place_abbreviation(place: str) -> str:
    """The one character a two-character place goes by in a pair ("韶关" → 韶, "东莞" → 莞: not its direction)."""
    return place[1] if place[0] in _DIRECTIONS else place[0]


def _paired_abbreviations(question: str, terms: dict[str, float]) -> dict[str, tuple[str, ...]]:
    """Two places the question names are met together by their paired abbreviation: "东莞支援韶关" by a
    document's "莞韶对口帮扶" (so also "韶莞"). Only two-character places, tagged so by jieba."""
    places = [w.word for w in posseg().cut(question) if w.flag == "ns" and len(w.word) == 2 and w.word in terms]
    out: dict[str, tuple[str, ...]] = {}
    for a in places:
        for b in places:
            if a != b:
                pair = _place_abbreviation(a) + _place_abbreviation(b)
                out[a] = out.get(a, ()) + (pair,)
                out[b] = out.get(b, ()) + (pair,)
    return {k: tuple(dict.fromkeys(v)) for k, v in out.items()}


def _counted(question: str, term_groups: Sequence) -> tuple[str, ...]:
    """The translations of what "how many …" counts: the first term group after it."""
    m = re.search(r"\bhow (?:many|much)\b", question, re.IGNORECASE)
    if not m:
        return ()
    lowered = question.lower()
    after = [(lowered.find(g.source.split()[0].lower(), m.end()), g) for g in term_groups if g.kind == "dictionary"]
    after = [(pos, g) for pos, g in after if pos >= 0]
    return tuple(normalize(a) for a in min(after, key=lambda t: t[0])[1].alternatives) if after else ()


def _asked_unit(q: str, measures: str = "") -> str:
    """The measure word a count asks for ("多少支" → 支; "" when none); ``measures``: units of sums and
    lengths that may also be asked for."""
    m = re.search(r"(?:多少|" + _ASKING_JI + r")([" + _COUNT_UNITS + measures + "])" + _NOT_A_UNIT, q)
    return m.group(1) if m else ""


def _answer_type(question: str, language: str) -> tuple[str, int]:
    q = normalize(question)
    if language == "zh":
        number_cues = re.findall(r"多少|(?<!哪)" + _ASKING_JI + r"|多大|多高|多长|多远|多久|多重|多广|比例|比重|占比|百分之|几成|人数|数量|总数|数目|次数", q)
        # "那位中医…什么称号" points at a person and asks for something else; "那位常委叫什么名字" asks for him
        person = bool(re.search(r"谁|哪一?位|什么人|哪个(?:领导|干部|官员|负责人)(?!小组|班子|机构)", q)) or bool(
            re.search(r"[那这]位", q) and (re.search(r"叫什么|名字|姓名", q) or not re.search(r"什么|哪|多少|几|何|怎", q))
        ) or bool(
            re.search(r"([\u4e00-\u9fff]{1,6})(?:的)?(?:叫什么名字|的名字|名字是|姓名|叫什么)", q)
            and _role_before_name(q)
        )
        if person:
            return "person", 1 + len(number_cues)
        if _TIME_CUES.search(q) and not re.search(r"多久|多长时间", q):
            return "time", 1 + len(re.findall(r"多少|哪所|哪家|哪个|哪些", q))
        if _PLACE_CUES.search(q) and not number_cues:
            return "place", 1
        unit = _asked_unit(q)
        if (_MONEY_CUES.search(q) and not _RATIO_CUES.search(q) and not unit
                and (number_cues or not re.search(r"什么|哪|怎|如何", q))):
            return "money", max(1, len(number_cues))
        if number_cues:
            others = len(re.findall(r"哪所|哪家|哪个|哪些|什么", q))
            return "number", len(number_cues) + others
        if re.search(r"哪些|哪几", q):
            return "list", 1
        if re.search(r"什么|哪个|哪所|哪家|哪里|哪儿|叫", q):
            return "entity", 1
        return "any", 1
    words = re.findall(r"[a-z]+", q)
    asks = 1 + len(re.findall(r"\band (?:how|which|what|who|where|when)\b", q))
    if re.search(r"\bhow (?:many|much|large|big|long|high|far|old)\b|\bwhat (?:percentage|proportion|share)\b"
                 r"|\b(?:which|what) year\b", q) or re.search(
        r"\b(?:output value|population|number of|amount of|total investment)\b", q
    ):
        return "number", asks
    which = re.search(r"\bwhich ([a-z]+)\b", q)
    if re.search(r"\bwho(m|se)?\b", q) or (which and which.group(1) in _PERSON_ROLES_EN) or (
        re.search(r"\bname of\b|\bcalled\b|\bnamed\b", q) and _PERSON_ROLES_EN.intersection(words)
    ):
        return "person", asks
    if (which and which.group(1).endswith("s") and not which.group(1).endswith("ss")) or re.search(
        r"\bwhat are\b", q
    ):
        return "list", 1
    if re.search(r"\bwhat|which\b", q):
        return "entity", 1
    return "any", 1


def _role_before_name(q: str) -> bool:
    m = re.search(r"([\u4e00-\u9fff]+?)(?:的)?(?:叫什么名字|的名字|名字是|姓名|叫什么)", q)
    if not m:
        return False
    return m.group(1).endswith(_PERSON_ROLE_SUFFIX)
