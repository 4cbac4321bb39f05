"""Which clause of the passages answers the question: question terms and answer types met in text,
and the answer-bearing clause windows ranked.

The extractive answerer quotes the best window, the prompt quotes the best sentences to a model
(rag/answer/prompting.py), refusal and answerability judge them (rag/answer/refusal.py,
rag/answer/answerability.py) — so "which sentence answers this?" is decided here, once per
question: the pipeline ranks once and hands the same ``Candidate`` list to every stage.

How a window is scored: the IDF-weighted share of the question's terms (rag/answer/question.py)
in its sentence and the sentence before it, and in the window itself; English terms meet Chinese
text through toneless pinyin ("Ruyuan" ↔ 乳源), numbers as written; a bonus when the window holds
the kind of answer asked for (a number with the asked unit, a person's name, an enumeration, a
quoted name, a date, a place, a sum of money); a small cost per character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.answer.measures import asks, fits_count, names_the_counted, same_units, states
from rag.answer.question import QuestionAnalysis
from rag.schema import Passage
from rag.text.language import clause_spans, has_cjk, sentence_spans
from rag.text.pinyin import pinyin_keys
from rag.text.tokenize import normalize
from rag.text.words import NUMBER, ORG_KINDS, has_new_org, has_new_place, is_common_word, is_person_name, posseg

# Chinese numerals with a measure word; a lone "一" is left out ("一村一特色" is no count).
_CN_NUMBER = re.compile(r"(?:[二三四五六七八九十两百千]|[一二三四五六七八九十两][十百千万亿])[零一二三四五六七八九十两百千万亿]*[个家位名支条项次天亩人件元所座套种批类户村镇年]")
_ORDINAL = re.compile(r"第[一二三四五六七八九十\d]+")
_ENUMERATION = re.compile(r"、|[和及与].{1,12}[和及与、]")
_ENTITY = re.compile(r"[“\"《「『].{1,30}?[”\"》」』]")
_DATE = re.compile(
    r"\d{1,4}\s*年|\d{1,2}\s*月|\d{1,2}\s*[日号]|[一二三四五六七八九十]{1,3}月|[上下]午|凌晨|傍晚|晚上|\d{1,2}[:：]\d{2}"
    r"|\d{1,2}\s*时|今年|去年|明年|前年|周[一二三四五六日]|星期[一二三四五六日天]|春节|元旦|国庆"
)
# "今年以来" / "去年来": since the start of a year, a period a figure is counted over, not the date of an event.
_SINCE_RELATIVE = re.compile(r"(?:今年|去年|前年|明年)\s*(?:以来|来)")
# "由谁牵头" / "谁任组长": who holds a post, which a document may answer with the office that holds it
# ("以区委书记任组长", "由县委书记担任组长") rather than a person's name.
_ASKS_POST_HOLDER = re.compile(r"由(?:谁|哪位|哪一位|哪个领导)|谁来|谁(?:任|当|担任|出任|兼任|牵头|挂帅|负责|领衔|主持)")
_OFFICE_HOLDS_POST = re.compile(r"[以由][\u4e00-\u9fff]{0,6}?(?:书记|县长|市长|区长|镇长|乡长|村长|省长|主任|部长|局长|"
                                r"厅长|主席|校长|院长|董事长|总经理|负责人)(?:任|担任|兼任|出任|牵头|挂帅|领衔)")
_ASKS_DAY = re.compile(r"哪一?天|哪日|几号|几月几[日号]|什么日子")
_DAY = re.compile(r"\d{1,2}\s*[日号]|[一二三四五六七八九十廿]{1,3}[日号]|今天|昨天|明天|当天|当日|周[一二三四五六日]|星期[一二三四五六日天]")
_MONEY = re.compile(
    r"\d+(?:[.,]\d+)*\s*(?:多|余)?\s*(?:万亿|亿|万|千)?\s*(?:多|余)?\s*(?:元|美元|欧元|英镑|日元|港元|港币|块)"
    r"|\d+(?:\.\d+)?\s*(?:万亿|亿)|[一二三四五六七八九十百千]+\s*(?:万|亿)\s*元"
)
_ASKS_ORG = re.compile(r"(?:哪|什么)(?:家|个|所|一家|一个)?(?:" + "|".join(ORG_KINDS) + ")")
_COUNTED_REACH = 8  # characters around a number where the counted thing may be named ("115个村级党组织")

# A question term this rare (IDF) is a name: found in a passage's title, it counts in all the passage's sentences.
TITLE_NAME_IDF = 10.0
_TYPE_BONUS = 0.3
_UNIT_BONUS = 0.15
# A count whose unit is followed by a thing the question names ("389名驻村第一书记") over one of the same unit
# that counts something else.
_COUNTED_BONUS = 0.1
_MAX_CLAUSES = 3

# A table row as rag.text.tables writes it: "地区：乳源县，2021年：16842元，2022年：18562元。"
_TABLE_ROW = re.compile(r"^[^：，。\n]{1,30}：[^，。\n]*(?:，[^：，。\n]{1,30}：[^，。\n]*)+。?$")


@dataclass(frozen=True)
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


# --- matching the question against passage text ------------------------------------------------


def term_hits(analysis: QuestionAnalysis, text: str) -> frozenset:
    """The question terms found in ``text`` (Chinese as substrings, English names via pinyin)."""
    norm = normalize(text)
    hits = set()
    pinyin = None
    question = None
    for term in analysis.terms:
        if term in norm or any(a in norm for a in analysis.alternatives.get(term, ())):
            hits.add(term)
        elif len(term) >= 2 and has_cjk(term):
            question = question if question is not None else normalize(analysis.question)
            if _straddles(term, question, norm):
                hits.add(term)
        elif not has_cjk(term) and term.isalpha():
            if pinyin is None:
                pinyin = pinyin_keys(norm)
            if term in pinyin:
                hits.add(term)
    return frozenset(hits)


def _straddles(term: str, question: str, text: str) -> bool:
    """Is ``term`` a word jieba cut across a name ("修栗" of "修栗山河大桥", "港镇开" of "大栗港镇开…"): all
    but its first (last) character belong to a longer run of the question that the text holds
    ("栗山河大桥", "大栗港镇"), so the term itself is no word the text could repeat."""
    at = question.find(term)
    if at < 0:
        return False
    end = at + len(term)
    tail = question[at + 1 : end + 2]  # without its first character, two more after it
    head = question[max(0, at - 2) : end - 1]  # without its last character, two more before it
    # "人才库" of "振兴人才库" is a word of its own: what is left of it ("人才") is a common word, not part of a name
    return ((len(tail) >= len(term) + 1 and tail in text and not _common_rest(term[1:]))
            or (len(head) >= len(term) + 1 and head in text and not _common_rest(term[:-1])))


def _common_rest(rest: str) -> bool:
    return len(rest) >= 2 and is_common_word(rest)


def coverage(analysis: QuestionAnalysis, hits: frozenset) -> float:
    return sum(analysis.terms[t] for t in hits) / analysis.total_weight


def has_unit(analysis: QuestionAnalysis, text: str) -> bool:
    """A number followed by the measure word the question asks for ("260亩" for "多少亩"), or
    beside the translation of what a cross-lingual question counts ("47家企业" for "how many
    companies")."""
    if analysis.unit:
        units = "|".join(sorted(same_units(analysis.unit), key=len, reverse=True))
        return bool(re.search(r"[\d一二三四五六七八九十两百千万]\s*(?:[余多]|万|亿)?\s*(?:" + units + ")", text))
    if analysis.counted:
        for m in NUMBER.finditer(text):
            if m.group().replace(",", "") in analysis.given:
                continue
            near = text[max(0, m.start() - _COUNTED_REACH) : m.end() + _COUNTED_REACH]
            if any(a in near for a in analysis.counted):
                return True
    return False


def names_post_holder(question: str, text: str) -> bool:
    """Does a "由谁牵头" question (normalised) meet the office that holds the post in ``text``?"""
    return bool(_ASKS_POST_HOLDER.search(question) and _OFFICE_HOLDS_POST.search(text))


def has_answer_type(analysis: QuestionAnalysis, text: str, topic: str = "") -> bool:
    """Does ``text`` hold the kind of answer the question asks for? ``topic``: what the text's figures are
    of when it does not say (a table row's caption: "农村居民人均可支配收入（元）")."""
    kind = analysis.answer_type
    if kind == "number":
        found = {m.group().replace(",", "") for m in NUMBER.finditer(text)}
        if analysis.ordinal and _ORDINAL.search(text):
            return True
        if not (found - analysis.given or _CN_NUMBER.search(text)):
            return False
        question = normalize(analysis.question)
        if not analysis.unit and asks("area", question) and not states("area", text):
            return False  # "多大面积" is not answered by "10万元"
        if asks("per_head", question) and not states("per_head", text + topic):
            return False  # "人均可支配收入" is not answered by "产值722亿元"
        # "多少居民" is not answered by "2平方公里", "几个工作站" not by "220人" (rag/answer/measures.py).
        return fits_count(question, analysis.unit, text) is not False
    if kind == "person":
        question = normalize(analysis.question)
        if names_post_holder(question, text):
            return True
        return any(is_person_name(w.word, w.flag) and w.word not in question for w in posseg().cut(text))
    if kind == "list":
        return bool(_ENUMERATION.search(text))
    if kind == "time":
        question = normalize(analysis.question)
        # "哪一天" / "几号" asks for a day: a year or a month alone does not say which day.
        dates = _DAY if _ASKS_DAY.search(question) else _DATE
        return any(m.group() not in question and not _SINCE_RELATIVE.match(text, m.start())
                   for m in dates.finditer(text))
    if kind == "money":
        question = normalize(analysis.question)
        return any(m.group() not in question for m in _MONEY.finditer(text))
    if kind == "place":
        return has_new_place(text, normalize(analysis.question))
    if kind == "entity":
        # A quoted or titled name the question does not already contain ("“睦邻制”").
        question = normalize(analysis.question)
        if any(m.group()[1:-1] not in question for m in _ENTITY.finditer(text)):
            return True
        # "哪家公司" / "哪所高校": an organisation's name ("万科集团", "华南农业大学").
        return bool(_ASKS_ORG.search(question)) and has_new_org(text, question)
    return True


# --- ranking -----------------------------------------------------------------------------------


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
        # A name the passage's title gives (a news lead: "桃江县大栗港镇党委…") is what each of its sentences is
        # about: the subject of "目前已收录824位各类人才" is carried from there, as the answerability check carries it.
        titled = frozenset(t for t in term_hits(analysis, passage.chunk.title or "")
                           if analysis.terms[t] >= TITLE_NAME_IDF)
        for j, (s0, s1) in enumerate(sentences):
            sentence_hits = term_hits(analysis, text[s0:s1])
            if caption is not None and is_table_row(text[s0:s1]):
                # A table row's topic is its table's caption, not the row above it (another region's figures).
                context_hits = term_hits(analysis, text[caption[0]:caption[1]]) | sentence_hits
            else:
                context_start = sentences[j - 1][0] if j else s0
                context_hits = term_hits(analysis, text[context_start:s1])
            context_hits |= titled
            row = caption is not None and is_table_row(text[s0:s1])
            clauses = _row_cells(text, s0, s1) if row else clause_spans(text, s0, s1)
            topic = text[caption[0]:caption[1]] if row else ""  # what a row's figures are of
            best = None
            for a in range(len(clauses)):
                # A table row's cells are answered one "列名：值" at a time: the row names its subject already.
                for b in range(a, a + 1 if row else min(a + _MAX_CLAUSES, len(clauses))):
                    w0, w1 = clauses[a][0], clauses[b][1]
                    window = text[w0:w1]
                    window_hits = term_hits(analysis, window)
                    typed = has_answer_type(analysis, window, topic) if analysis.answer_type != "any" else True
                    # The window must carry the answer; the sentence (and the one before) the topic.
                    score = (
                        0.6 * coverage(analysis, context_hits | sentence_hits)
                        + 0.4 * coverage(analysis, window_hits)
                        + (_TYPE_BONUS if typed else 0.0)
                        + (_UNIT_BONUS if typed and has_unit(analysis, window) else 0.0)
                        + (_COUNTED_BONUS if typed and analysis.answer_type == "number"
                           and names_the_counted(analysis.question, window) else 0.0)
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


# --- table rows --------------------------------------------------------------------------------


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
