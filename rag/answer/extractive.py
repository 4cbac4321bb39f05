"""The no-LLM answerer: the clause(s) of the retrieved passages that answer the question.

It never writes text of its own: every answer character is copied from a passage, plus
``[n]`` markers and joining punctuation. The same question analysis and sentence
ranking feed the prompt's context selection (rag/answer/prompting.py) and the refusal checks
(rag/answer/refusal.py), so "which sentence answers this?" is decided in one place.

How a sentence is scored:
- question terms (rag.text.tokenize search-mode tokens) weighted by IDF from jieba's
  general-Chinese table, so "生产总值" outweighs "地区"; numbers in the question
  (years, counts) weigh as much as the rarest word;
- English terms meet Chinese text through toneless pinyin ("Ruyuan" ↔ 乳源), numbers as written;
- an answer-type cue in the question (多少/几 → a number with a unit, 谁/名字 → a person
  name tagged ``nr`` by jieba.posseg, 哪些 → an enumeration, 什么/哪个 → a name or
  quoted term) must be met by the clause that is returned.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rag.text.language import clause_spans, detect_language, has_cjk, sentence_spans
from rag.schema import Passage
from rag.text.tokenize import normalize, tokenize

# Words that only say *what kind* of answer is wanted; they are cues, not content.
QUESTION_WORDS = frozenset(
    "多少 几 第几 哪些 哪个 哪家 哪所 哪里 哪儿 什么 谁 名字 叫 是否 多大 多高 多长 多远 多久 多重 排 如何 怎样 怎么 "
    "why when where what which who whom whose how many much name named called does did do".split()
)

# A question word fused with its measure word by jieba ("几所", "多少家", "哪几个"): a cue too.
_QUESTION_COMPOUND = re.compile(r"^(?:哪|几|多少|什么|多大|多久)[\u4e00-\u9fff]?$|^哪几")
# Cut off before segmenting, or jieba glues them to the next word: a date's unit ("2021年种茶" would
# give "年种") and an adjectival question word ("有多大面积" would give "大面积").
_CUT_BEFORE_SEGMENTING = re.compile(r"(\d+[年月日号]|多大|多长|多高|多远|多久|多重)(?=[\u4e00-\u9fff])")

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# Chinese numerals with a measure word; a lone "一" is left out ("一村一特色" is no count).
_CN_NUMBER = re.compile(r"(?:[二三四五六七八九十两百千]|[一二三四五六七八九十两][十百千万亿])[零一二三四五六七八九十两百千万亿]*[个家位名支条项次天亩人件元所座套种批类户村镇年]")
_ORDINAL = re.compile(r"第[一二三四五六七八九十\d]+")
_ENUMERATION = re.compile(r"、|[和及与].{1,12}[和及与、]")
_ENTITY = re.compile(r"[“\"《「『].{1,30}?[”\"》」』]")
# Fine answer types of Chinese questions: a date or time, a place, a sum of money.
_TIME_CUES = re.compile(r"什么时候|何时|时间|日期|哪天|哪一天|几月|几号|哪年|哪一年|几点")
_PLACE_CUES = re.compile(r"哪里|在哪|哪儿|何地|地点|什么地方|哪个(?:城市|国家|省|地方)|哪座城市|举办地|所在地")
_MONEY_CUES = re.compile(
    r"营收|营业收入|收入|利润|净利|产值|投资|投入|资金|票房|金额|价格|售价|票价|多少钱|经费|预算|GDP|生产总值|工资|收益"
    r"|市值|营业额|融资|销售额|津贴|补贴|补助|奖金|薪酬|费用|成本|报价|房价|罚款|赔偿"
)
_RATIO_CUES = re.compile(r"比例|占比|百分|增长率|增幅|增速|率")
_DATE = re.compile(
    r"\d{1,4}\s*年|\d{1,2}\s*月|\d{1,2}\s*[日号]|[一二三四五六七八九十]{1,3}月|[上下]午|凌晨|傍晚|晚上|\d{1,2}[:：]\d{2}"
    r"|\d{1,2}\s*时|今年|去年|明年|前年|周[一二三四五六日]|星期[一二三四五六日天]|春节|元旦|国庆"
)
_MONEY = re.compile(
    r"\d+(?:[.,]\d+)*\s*(?:多|余)?\s*(?:万亿|亿|万|千)?\s*(?:多|余)?\s*(?:元|美元|欧元|英镑|日元|港元|港币|块)"
    r"|\d+(?:\.\d+)?\s*(?:万亿|亿)|[一二三四五六七八九十百千]+\s*(?:万|亿)\s*元"
)
# Measure words of a count ("多少支"); a question's unit may also be a sum or a length (元, 万, 公里).
_COUNT_UNITS = "个家位名支条项次天亩人件所座套种批类户村镇年吨斤"
# Administrative levels, longest first ("乳源瑶族自治县" is a 自治县, "桃江县" a 县).
PLACE_LEVELS = ("自治县", "自治州", "自治区", "社区", "街道", "省", "市", "县", "区", "镇", "乡", "村")
_PLACE_ENDINGS = PLACE_LEVELS + ("国", "州", "岛", "馆", "中心", "体育场")
# A word this common in general Chinese (jieba IDF) is a word, not a name ("重点村", "示范县").
_MIN_NAME_IDF = 8.4

# Role words whose holder is a person: "党委书记叫什么名字" asks for a name, "项目叫什么名字" does not.
_PERSON_ROLE_SUFFIX = tuple("记长任理席师者员手家官演生")
_PERSON_ROLES_EN = frozenset(
    "secretary mayor director chairman chairwoman chair head leader president manager author founder chief "
    "governor minister principal officer captain editor owner inventor architect designer composer singer "
    "actor actress player coach teacher professor person man woman doctor scientist engineer".split()
)

# Weight of terms that jieba's IDF table does not know (names, numbers): as rare as it gets.
_UNKNOWN_TERM_IDF = 12.0
_TYPE_BONUS = 0.3
_UNIT_BONUS = 0.15
_MAX_CLAUSES = 3
_COUNTED_REACH = 8  # characters around a number where the counted thing may be named ("115个村级党组织")


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

    @property
    def total_weight(self) -> float:
        return sum(self.terms.values()) or 1.0


@dataclass
class Candidate:
    """One answer-bearing span (a window of clauses) of one passage."""

    passage: int  # index into the passages given
    start: int  # offsets in the passage text
    end: int
    sentence: tuple[int, int]  # the whole sentence holding the span
    coverage: float  # IDF-weighted share of question terms in the sentence and the one before it
    sentence_coverage: float  # the same, in the sentence alone
    typed: bool  # the span holds the kind of answer asked for
    score: float
    hits: frozenset = field(default_factory=frozenset)


@functools.lru_cache(maxsize=1)
def _idf() -> tuple[dict, float]:
    import jieba
    import jieba.analyse

    jieba.setLogLevel(logging.WARNING)
    table = jieba.analyse.default_tfidf
    return table.idf_freq, table.median_idf


@functools.lru_cache(maxsize=1)
def _posseg():
    import jieba.posseg

    return jieba.posseg


def term_weight(term: str) -> float:
    idf, _median = _idf()
    if _NUMBER.fullmatch(term):
        return _UNKNOWN_TERM_IDF
    return idf.get(term, _UNKNOWN_TERM_IDF)


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
                or term in translated):
            continue
        if language != "zh" and not has_cjk(term) and len(term) < 3 and not term.isdigit():
            continue
        terms[term] = term_weight(term) if (language == "zh" or has_cjk(term) or term.isdigit()) else 1.0
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
    numbers = tuple(dict.fromkeys(m.group().replace(",", "") for m in _NUMBER.finditer(normalize(question))))
    answer_type, asks = _answer_type(question, language)
    q = normalize(question)
    unit = re.search(r"(?:多少|几)([" + _COUNT_UNITS + "元万亿公里米])", q)
    return QuestionAnalysis(
        question, language, terms, numbers, answer_type, asks,
        unit=unit.group(1) if unit else ("元" if "多少钱" in q else "人" if re.search(r"人数|多少人", q) else ""),
        ordinal=bool(re.search(r"第几|排名|名次", q)),
        alternatives=alternatives,
        names=tuple(names),
        roles=tuple(roles),
        counted=_counted(question, term_groups),
    )


def has_unit(analysis: QuestionAnalysis, text: str) -> bool:
    """A number followed by the measure word the question asks for ("260亩" for "多少亩"), or
    beside the translation of what a cross-lingual question counts ("47家企业" for "how many
    companies")."""
    if analysis.unit:
        return bool(re.search(r"[\d一二三四五六七八九十两百千万]\s*(?:[余多]|万|亿)?\s*" + analysis.unit, text))
    if analysis.counted:
        for m in _NUMBER.finditer(text):
            if m.group().replace(",", "") in analysis.numbers:
                continue
            near = text[max(0, m.start() - _COUNTED_REACH) : m.end() + _COUNTED_REACH]
            if any(a in near for a in analysis.counted):
                return True
    return False


def _counted(question: str, term_groups: Sequence) -> tuple[str, ...]:
    """The translations of what "how many …" counts: the first term group after it."""
    m = re.search(r"\bhow (?:many|much)\b", question, re.IGNORECASE)
    if not m:
        return ()
    lowered = question.lower()
    after = [(lowered.find(g.source.split()[0].lower(), m.end()), g) for g in term_groups if g.kind == "dictionary"]
    after = [(pos, g) for pos, g in after if pos >= 0]
    return tuple(normalize(a) for a in min(after, key=lambda t: t[0])[1].alternatives) if after else ()


def _answer_type(question: str, language: str) -> tuple[str, int]:
    q = normalize(question)
    if language == "zh":
        number_cues = re.findall(r"多少|(?<!哪)几|多大|多高|多长|多远|多久|多重|多广|比例|百分之|人数|数量|总数|数目|次数", q)
        person = bool(re.search(r"谁|哪位|什么人", q)) or bool(
            re.search(r"([\u4e00-\u9fff]{1,6})(?:的)?(?:叫什么名字|的名字|名字是|姓名|叫什么)", q)
            and _role_before_name(q)
        )
        if person:
            return "person", 1 + len(number_cues)
        if _TIME_CUES.search(q) and not re.search(r"多久|多长时间", q):
            return "time", 1 + len(re.findall(r"多少|哪所|哪家|哪个|哪些", q))
        if _PLACE_CUES.search(q) and not number_cues:
            return "place", 1
        unit = re.search(r"(?:多少|几)([" + _COUNT_UNITS + "])", q)
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


# Common Chinese surnames: a rare two- or three-character word that starts with one and that jieba
# tags as a place or a noun ("吴京"/ns) is read as a person's name too.
_SURNAMES = frozenset("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")


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
    for w in _posseg().cut(text):
        if len(w.word) >= 2 and w.word not in question and (
            w.flag == "ns" or (w.word.endswith(_PLACE_ENDINGS) and is_name_like(w.word[:-1]))
        ):
            return True
    return False


def is_name_like(stem: str) -> bool:
    """Could ``stem`` be a proper name: two characters or more, not a common word of general Chinese?"""
    return len(stem) >= 2 and not is_common_word(stem)


def is_common_word(word: str) -> bool:
    idf, _median = _idf()
    value = idf.get(word)
    return value is not None and value < _MIN_NAME_IDF


def _role_before_name(q: str) -> bool:
    m = re.search(r"([\u4e00-\u9fff]+?)(?:的)?(?:叫什么名字|的名字|名字是|姓名|叫什么)", q)
    if not m:
        return False
    return m.group(1).endswith(_PERSON_ROLE_SUFFIX)


# --- matching terms against passage text --------------------------------------------------


@functools.lru_cache(maxsize=4096)
def pinyin_keys(text: str) -> frozenset:
    """Concatenations of 2–4 consecutive toneless syllables: "乳源县" → {"ruyuan", "yuanxian", "ruyuanxian"}."""
    from pypinyin import lazy_pinyin

    keys = set()
    for run in re.findall(r"[\u4e00-\u9fff]+", text):
        syllables = lazy_pinyin(run)
        for i in range(len(syllables)):
            for n in (2, 3, 4):
                if i + n <= len(syllables):
                    keys.add("".join(syllables[i : i + n]))
    return frozenset(keys)


def term_hits(analysis: QuestionAnalysis, text: str) -> frozenset:
    """The question terms found in ``text`` (Chinese as substrings, English names via pinyin)."""
    norm = normalize(text)
    hits = set()
    pinyin = None
    for term in analysis.terms:
        if term in norm or any(a in norm for a in analysis.alternatives.get(term, ())):
            hits.add(term)
        elif not has_cjk(term) and term.isalpha():
            if pinyin is None:
                pinyin = pinyin_keys(norm)
            if term in pinyin:
                hits.add(term)
    return frozenset(hits)


def coverage(analysis: QuestionAnalysis, hits: frozenset) -> float:
    return sum(analysis.terms[t] for t in hits) / analysis.total_weight


def has_answer_type(analysis: QuestionAnalysis, text: str) -> bool:
    """Does ``text`` hold the kind of answer the question asks for?"""
    kind = analysis.answer_type
    if kind == "number":
        found = {m.group().replace(",", "") for m in _NUMBER.finditer(text)}
        if analysis.ordinal and _ORDINAL.search(text):
            return True
        return bool(found - set(analysis.numbers)) or bool(_CN_NUMBER.search(text))
    if kind == "person":
        question = normalize(analysis.question)
        return any(is_person_name(w.word, w.flag) and w.word not in question for w in _posseg().cut(text))
    if kind == "list":
        return bool(_ENUMERATION.search(text))
    if kind == "time":
        question = normalize(analysis.question)
        return any(m.group() not in question for m in _DATE.finditer(text))
    if kind == "money":
        question = normalize(analysis.question)
        return any(m.group() not in question for m in _MONEY.finditer(text))
    if kind == "place":
        return has_new_place(text, normalize(analysis.question))
    if kind == "entity":
        # A quoted or titled name the question does not already contain ("“睦邻制”").
        question = normalize(analysis.question)
        return any(m.group()[1:-1] not in question for m in _ENTITY.finditer(text))
    return True


# --- ranking ---------------------------------------------------------------------------------


def rank_candidates(analysis: QuestionAnalysis, passages: list[Passage]) -> list[Candidate]:
    """Answer-bearing clause windows of ``passages``, best first.

    A window's coverage counts question terms found in its sentence and the sentence
    before it (the subject of a Chinese sentence is often named once, a sentence earlier);
    the window itself must be short and, when the question asks for a kind of answer, hold it.
    """
    out: list[Candidate] = []
    for i, passage in enumerate(passages):
        text = passage.text
        sentences = sentence_spans(text)
        prior = 0.05 / (1 + i)  # ties go to the better-ranked passage
        caption = table_caption(text, sentences)
        for j, (s0, s1) in enumerate(sentences):
            sentence_hits = term_hits(analysis, text[s0:s1])
            if caption is not None and is_table_row(text[s0:s1]):
                # A table row's topic is its table's caption, not the row above it (another region's figures).
                context_hits = term_hits(analysis, text[caption[0]:caption[1]]) | sentence_hits
            else:
                context_start = sentences[j - 1][0] if j else s0
                context_hits = term_hits(analysis, text[context_start:s1])
            row = caption is not None and is_table_row(text[s0:s1])
            clauses = _row_cells(text, s0, s1) if row else clause_spans(text, s0, s1)
            best = None
            for a in range(len(clauses)):
                # A table row's cells are answered one "列名：值" at a time: the row names its subject already.
                for b in range(a, a + 1 if row else min(a + _MAX_CLAUSES, len(clauses))):
                    w0, w1 = clauses[a][0], clauses[b][1]
                    window = text[w0:w1]
                    window_hits = term_hits(analysis, window)
                    typed = has_answer_type(analysis, window) if analysis.answer_type != "any" else True
                    # The window must carry the answer; the sentence (and the one before) the topic.
                    score = (
                        0.6 * coverage(analysis, context_hits | sentence_hits)
                        + 0.4 * coverage(analysis, window_hits)
                        + (_TYPE_BONUS if typed else 0.0)
                        + (_UNIT_BONUS if typed and has_unit(analysis, window) else 0.0)
                        - 0.0015 * (w1 - w0)
                        + prior
                    )
                    if best is None or score > best.score:
                        best = Candidate(
                            passage=i,
                            start=w0,
                            end=w1,
                            sentence=(s0, s1),
                            coverage=coverage(analysis, context_hits | sentence_hits),
                            sentence_coverage=coverage(analysis, sentence_hits),
                            typed=typed,
                            score=score,
                            hits=context_hits | sentence_hits,
                        )
            if best is not None:
                out.append(best)
    out.sort(key=lambda c: c.score, reverse=True)
    return out


# A table row as rag.text.tables writes it: "地区：乳源县，2021年：16842元，2022年：18562元。"
_TABLE_ROW = re.compile(r"^[^：，。\n]{1,30}：[^，。\n]*(?:，[^：，。\n]{1,30}：[^，。\n]*)+。?$")


def _row_cells(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The "列名：值" pairs of a table row (split at its commas only: the colon binds a name to its value)."""
    spans, position = [], start
    for match in re.finditer("，", text[start:end]):
        spans.append((position, start + match.end()))
        position = start + match.end()
    spans.append((position, end))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def is_table_row(sentence: str) -> bool:
    return bool(_TABLE_ROW.match(sentence.strip()))


def table_caption(text: str, sentences: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The span of a table block's caption line (the first line, when the lines after it are table rows)."""
    if len(sentences) < 2 or is_table_row(text[sentences[0][0]:sentences[0][1]]):
        return None
    return sentences[0] if is_table_row(text[sentences[1][0]:sentences[1][1]]) else None


# --- the answerer ----------------------------------------------------------------------------

ENGLISH_QUOTE_PREFIX = "(Quoted from the Chinese source) "


class ExtractiveAnswerer:
    """Answers with cited clauses copied from the passages; instant and never invents."""

    name = "extractive"
    model = ""

    def answer(self, question: str, passages: list[Passage], analysis: QuestionAnalysis | None = None,
               candidates: list[Candidate] | None = None) -> str:
        """The answer text with ``[n]`` markers (n = 1-based index into ``passages``); "" if nothing fits.

        ``candidates``, when given, are the ranked candidates to choose from instead of all of
        ``rank_candidates``: the pipeline passes those its answerability judgement accepted, so
        the clause chosen states the asked attribute of the asked subject, not merely ranks best."""
        analysis = analysis or analyse_question(question)
        if candidates is None:
            candidates = rank_candidates(analysis, passages)
        if not candidates:
            return ""
        chosen = [candidates[0]]
        if analysis.asks > 1:
            second = self._second_piece(analysis, candidates, chosen[0], passages)
            if second is not None:
                chosen.append(second)
        pieces = []
        for c in sorted(chosen, key=lambda c: (c.passage, c.start)):
            piece = passages[c.passage].text[c.start : c.end].rstrip("，,；;：:。.!！?？")
            pieces.append(f"{piece}[{c.passage + 1}]")
        text = "。".join(pieces) + "。"  # one sentence per piece: each is checked against its own passage
        if analysis.language != "zh":
            text = ENGLISH_QUOTE_PREFIX + text
        return text

    @staticmethod
    def _second_piece(analysis, candidates, first, passages) -> Candidate | None:
        """For two-part questions: a typed clause window adding terms the first one lacks."""
        first_text = passages[first.passage].text[first.start : first.end]
        first_window_hits = term_hits(analysis, first_text)
        for c in candidates[1:10]:
            if c.passage == first.passage and c.start < first.end and first.start < c.end:
                continue
            if not c.typed:
                continue
            new_hits = term_hits(analysis, passages[c.passage].text[c.start : c.end]) - first_window_hits
            if coverage(analysis, new_hits) >= 0.15 and c.coverage >= 0.5 * first.coverage:
                return c
        return None
