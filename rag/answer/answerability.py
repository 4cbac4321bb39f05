"""Answerability: does the supporting sentence state *the asked attribute* of *the asked subject*?

Citations prove that an answer's words are in a passage; an on-topic passage always passes
that. What users lose trust over is the next step: the 56 service teams are 乳源's, not
桃江's; the ticket sales are the May-Day holiday's, not the year's; "在导演心中" names no
director. So every answer sentence — a model's or the extractive answerer's — is judged
together with the passage window that supports it, on four signals:

- **subject**: each place, organisation, person, work (《…》), product name or year the
  question names must be in the supporting sentence, or carried from its paragraph or
  document title when the sentence names none — never replaced by a different subject of
  the same kind in the sentence (another 县, another year, another 《…》);
- **answer type**: the answer states the kind of thing asked (a date for 什么时候/时间,
  a place for 哪里, a person for 谁 — beside the asked role when there is one —, a sum of
  money for 营收/票房/投资 多少, a count with its measure word for 多少人/多少支);
- **statement**: the supporting clause is not itself a question ("…使用什么处理器");
- **attribute**: the IDF-weighted share of the question's remaining content words (营收,
  导演, 用途) found in the supporting sentence or the one before it.

The first three are gates; the score is the attribute share when the gates pass, else 0,
and an answer needs one sentence scoring at least ``MIN_SCORE`` (calibrated on the shared
dev sets, docs/answering.md has the sweep). When the best failing sentence is about another
subject of the same kind, the refusal says so and cites it as what it is.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass, field, replace

from rag.answer.contrasts import ACT_CONTRASTS, CONTRASTS
from rag.answer.measures import asks, asks_difference, fits_count, states, states_difference
from rag.answer.question import ASKING_WORD, QUESTION_WORDS, QuestionAnalysis
from rag.answer.ranking import has_answer_type, is_table_row, names_post_holder, table_caption, term_hits
from rag.schema import Passage
from rag.text.bigrams import bigrams
from rag.text.language import sentence_spans
from rag.text.synonyms import same_meaning
from rag.text.tokenize import _jieba, normalize
from rag.text.numerals import chinese_numeral, numeral_value
from rag.text.words import (OCCUPATION_ENDINGS, ORG_KINDS, ORG_SUFFIXES, PLACE_LEVELS, has_new_org, has_new_place,
                            is_common_word, is_name_like, is_person_name, posseg, term_weight)

# Share of the attribute's IDF weight the supporting sentence (and the one before it) must hold
# when the gates pass. Swept on seed_dev, seed_dev_followup, rgb-zh-dev and CMRC2018-dev
# (docs/answering.md): below 0.2 swapped attributes pass, above 0.4 paraphrases are refused.
MIN_SCORE = 0.2
# An attribute word at least this rare (jieba IDF) is a name of the topic ("武穴酥糖", "瑶乡"): it may be
# carried from the passage or document like a subject instead of being repeated in the sentence.
CARRIED_IDF = 10.0

# Meaning, for a sentence that words the asked attribute otherwise (rag/answer/similarity.py): the
# embedder's cosine of question and sentence above SIMILARITY_FLOOR adds SIMILARITY_WEIGHT per unit to
# the attribute share. e5 cosines of Chinese questions and on-topic sentences sit in a narrow band
# (≈ 0.82–0.95); both values were swept on the shared dev sets (docs/answering.md).
SIMILARITY_FLOOR = 0.90
SIMILARITY_WEIGHT = 3.0
# Sentences whose meaning is compared per question: the best-ranked ones that pass the gates.
SIMILARITY_CANDIDATES = 6
# Characters of a long sentence compared: those around the clause an answer would copy.
SIMILARITY_CHARS = 160
# Credit for an attribute word the sentence writes with another word of the same head ("鲜笋" for 竹笋).
HEAD_CREDIT = 0.5
# First characters that turn one act into its opposite under the same head character.
_OPPOSED_STARTS = frozenset(frozenset(p) for p in (
    "开竣 开完 开闭 开收 开停 动竣 动完 起终 始终 进出 入出 增减 升降 涨跌 买卖 借还 收支 上下 前后 生死 存取 "
    "赢输 胜负 来去 早晚 长短 多少 高低 大小").split())
# Head characters shared by too many unrelated words to say which thing a word names.
_GENERIC_HEADS = frozenset("性化者员人们家业度率量数费金期年月日时天区县市镇村省国会中上下内外等地方点面头子儿")

# Recurring events named by place: "北京冬奥会" and "索契冬奥会" are different ones.
EVENT_SUFFIXES = ("冬奥会", "奥运会", "冬残奥会", "残奥会", "亚运会", "世界杯", "世博会", "进博会", "博览会", "峰会",
                  "论坛", "电影节", "运动会", "锦标赛", "晚会", "春晚")
# Heads of named things a question may be about ("X项目", "X大桥"): the name before them is a subject.
# Kinds of incident ("踩踏事故", "交通事故"): the word before the head says which one, and another
# incident of the same head in the answer's clause is a different event.
INCIDENT_HEADS = frozenset("事故 事件 火灾 爆炸 地震 袭击 枪击 案件 惨案 空难 海难 矿难".split())
# Sub-periods a figure may be given for ("五一档电影票房", "一季度营收"): a question that names none
# asks about the whole period, so a clause whose figure is for one of them answers something else.
_SUB_PERIOD = re.compile(r"(?:五一|春节|国庆|暑期|暑假|贺岁|元旦|清明|端午|中秋|寒假|七夕|情人节)档"
                         r"|第?[一二三四1-4]季度|前三季度|[上下]半年")
THING_HEADS = frozenset("项目 工程 大桥 广场 基地 公园 园区 园 示范带 示范区 产业园 专项 计划 行动 活动 工程项目".split())
# Characters that cannot begin a place name ("在乳源县" is 乳源县, "全县" is no name, "哪位区领导" asks for one).
_NOT_NAME_START = set("在的和与及、是为到从对向把被由将全本该各每其我你他她它此两三四五六七八九十几多个这那省市县区镇乡村里哪谁什")
_YEAR = re.compile(r"(?<![\d.])((?:19|20)\d\d)(?![\d.])")
_WORK = re.compile(r"《([^》]{1,30})》")
# A news document's dateline ("2022-07-25 08:45", "2022年7月25日"): what its "今年" means.
_DATELINE = re.compile(r"(?<![\d.])((?:19|20)\d\d)\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}")
_RELATIVE_YEARS = {"今年": 0, "本年": 0, "去年": -1, "上年": -1, "明年": 1, "前年": -2}
_LATIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9.+\-]*")
# Organisations of one kind ("哪所大学", "哪家医院"): the answer's name ends as such a one does, not as a
# company's ("万科集团").
_UNIVERSITY = ("大学", "学院", "高校", "研究院", "科学院")
_INSTITUTION_ENDINGS = {"大学": _UNIVERSITY, "高校": _UNIVERSITY, "院校": _UNIVERSITY,
                        "学校": ("学校", "中学", "小学", "大学", "学院", "学"), "医院": ("医院", "卫生院", "中医院", "诊所"),
                        "银行": ("银行", "信用社")}
# "什么特点" / "什么原因" ask for a description, not a name: their answers are not checked for one.
_DESCRIPTIVE_KINDS = frozenset("特点 特色 类型 功能 作用 原因 理念 意思 含义 意义 问题 影响 方式 方法 措施 内容 情况 变化 优势 "
                               "目的 目标 精神 风格 关系 要求 条件 标准 用途 经验 成果 成效 困难 职业 身份 性质 结构 病因 起因 成因 死因 "
                               "本名 原名 名字 名称 别名 字 号 国籍 出生地 位置 地址 定义 概念 区别 不同".split())
_NAME_FLAGS = ("n", "nr", "ns", "nt", "nz", "m", "eng", "j", "b", "vn")
_PROPER_FLAGS = ("nr", "ns", "nt", "nz", "eng", "j")
_NUMERAL = r"[零一二三四五六七八九十百两\d]+"
# "第28届", "第二任": an ordinal names one edition of a recurring thing; another ordinal is another one.
_ORDINAL_SUBJECT = re.compile(r"第(" + _NUMERAL + r")(届|次|任|期|批|轮|代|号|季|集)")
# "神舟十三号": a serial name; "神舟十二号" is a different craft.
_SERIAL_SUBJECT = re.compile(r"([\u4e00-\u9fff]{2})(" + _NUMERAL + r")号")
# A number the question names with its unit ("1500米"): "500米" is another race.
_NUMBER_SUBJECT = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)(公里|千米|公斤|千克|英寸|[米克吨岁届号期次个人名家天元亿万%秒级层寸])")
# Numbered subjects: the pattern that finds them and the group holding what a rival shares (``level``).
_NUMBERED = {"ordinal": (_ORDINAL_SUBJECT, 2), "serial": (_SERIAL_SUBJECT, 1), "number": (_NUMBER_SUBJECT, 2)}
_ANY_QUESTION_WORD = re.compile(r"什么|多少|多大|多久|多长|多高|多远|多重|哪|谁|几|怎|如何|何时|吗|是否")
# Head words that only name the kind of answer (checked by the answer type instead).
_TYPE_HEADS = frozenset("时间 日期 地点 地方 名字 名称 人数 数量 情况 结果 成绩 类型 原因 方式".split())
_MIN_HEAD_CHARS = 0.6
# Words that make a clause a question, not a statement of fact.
_QUESTION_FORM = re.compile(r"[?？]|什么|哪些|哪个|哪里|哪儿|谁|怎么|怎样|为何|为什么|有何|吗$")
# Role words and the other ways news writes them beside a name.
_ROLE_ALIASES = {"导演": ("导演", "执导"), "主演": ("主演", "出演", "饰演", "领衔"), "作者": ("作者", "著"),
                 "创始人": ("创始人", "创办", "创立"), "冠军": ("冠军", "夺冠", "夺得", "获得"),
                 "航天员": ("航天员", "指令长"), "成员": ("成员", "航天员", "队员", "指令长")}
_ROLE = re.compile(r"(总?导演|主演|主角|市长|省长|县长|书记|主席|总统|总理|首相|部长|局长|校长|院长|董事长|总裁|"
                   r"CEO|经理|作者|创始人|主持人|冠军|主帅|教练|队长|发言人|负责人|代言人|制片人|编剧|航天员|成员)")
_ROLE_REACH = 4  # characters between a role word and the name it introduces, without a clause break
_CHANGE = re.compile(r"增长|增加|减少|下降|提高|提升|降低|上涨|下跌|增幅|降幅|多出|少了|比上|同比|环比")
_CHANGE_NUMBER = re.compile(r"(?:增长|增加|减少|下降|提高|提升|降低|上涨|下跌|多出|少了)了?(?:约|近|超过)?\d+(?:[.,]\d+)*\s*(?:多|余)?"
                            r"\s*(?:万亿|亿|万|千)?\s*[\u4e00-\u9fff%]?")
# "哪个村", "哪个县级市": the answer is a place of that level.
_ASKED_PLACE = re.compile(r"(?:哪个|哪一个|哪座|哪)(县级市|地级市|" + "|".join(PLACE_LEVELS) + ")")
# A place name that ends right before another ("翁源县官渡镇"): the latter lies in it.
_PLACED_IN = re.compile(r"[\u4e00-\u9fff][省市县区]$")
_TOWN_VILLAGE = re.compile(r"[镇乡](?=([\u4e00-\u9fff]{2,3}村))")
_ASKS_AUTHOR = re.compile(r"作者|撰文|署名|执笔|写的|撰写")
# "那条", "这个": a demonstrative with its measure word points at the name after it ("中联村那条乡村振兴示范带").
_DEMONSTRATIVE = re.compile(r"[那这该此][个条座家项所种位名批支处片]")
_CLAUSE_BREAK = re.compile(r"[，,。；;：:！!？?]")


@dataclass(frozen=True)
class Subject:
    """One thing the question is about: ``text`` as asked, ``kind``, and the forms that count as it."""

    text: str
    kind: str  # "place" | "org" | "event" | "incident" | "work" | "name" | "year" | "ordinal" | "serial" | "number"
    forms: tuple[str, ...]
    # A place's administrative level ("县"), an organisation's suffix ("证券"), an ordinal's or a
    # number's unit ("届", "米"), a serial name's prefix ("神舟"): what a rival shares.
    level: str = ""


@dataclass(frozen=True)
class AskedFor:
    """What a question asks for: its subjects, the attribute words, and the fine answer type."""

    analysis: QuestionAnalysis
    subjects: tuple[Subject, ...]
    attribute: dict[str, float]  # content term -> IDF weight, subjects excluded; longest forms only
    role: str = ""  # the role a person answer must stand beside ("导演")
    head: str = ""  # the attribute noun of a bare "A的B" question (B), which the supporting sentence must name
    parts: dict[str, dict[str, float]] = field(default_factory=dict)  # "常住人口" -> {"常住": w, "人口": w}

    @property
    def answer_type(self) -> str:
        return self.analysis.answer_type

    @property
    def attribute_weight(self) -> float:
        return sum(self.attribute.values())


@dataclass
class Judgement:
    """How one answer sentence, with the passage window supporting it, meets the question."""

    passage: int
    start: int  # the supporting window, offsets in the passage text
    end: int
    score: float
    subject_ok: bool
    type_ok: bool
    statement: bool
    attribute: float
    missing_subjects: list[str] = field(default_factory=list)
    other_subject: str = ""  # same-kind subject the sentence is about instead
    reason: str = ""  # "" | "subject" | "other_subject" | "answer_type" | "question_form" | "attribute"
    claim_span: tuple[int, int] | None = None  # the extractive clause judged, offsets in the passage text
    head_ok: bool = True  # the asked attribute noun of a bare "A的B" question is named
    similarity: float | None = None  # the embedder's cosine of question and supporting sentence, when asked
    model_yes: float | None = None  # the chat model's P(是) that the sentence answers (rag/answer/model_judge.py)

    @property
    def ok(self) -> bool:
        """Enough of the asked attribute in words or meaning, or the gates pass and the model vouched for it."""
        return self.score >= MIN_SCORE or (self.model_yes is not None and self.gates_ok)

    @property
    def gates_ok(self) -> bool:
        """Subject, answer type, statement and the asked noun pass: only the attribute share is left to weigh."""
        return self.subject_ok and self.type_ok and self.statement and self.head_ok

    @property
    def close_in_meaning(self) -> bool:
        """Was the supporting sentence weighed on meaning, and is it as close as the floor?"""
        return self.similarity is not None and self.similarity >= SIMILARITY_FLOOR

    def weigh_similarity(self, similarity: float) -> None:
        """Add the sentence's meaning to the score (only a sentence that passes the gates has one)."""
        self.similarity = similarity
        if self.gates_ok:
            self.score = combined_score(self.attribute, similarity)
            if self.ok and self.reason == "attribute":
                self.reason = ""

    def to_json(self) -> dict:
        out = {"passage": self.passage + 1, "score": round(self.score, 3), "subject_ok": self.subject_ok,
               "type_ok": self.type_ok, "statement": self.statement, "attribute": round(self.attribute, 3)}
        if self.reason:
            out["reason"] = self.reason
        if self.missing_subjects:
            out["missing_subjects"] = self.missing_subjects
        if self.other_subject:
            out["other_subject"] = self.other_subject
        if self.similarity is not None:
            out["similarity"] = round(self.similarity, 4)
        if self.model_yes is not None:
            out["model_yes"] = round(self.model_yes, 4)
        return out

    def vouched_by(self, vouched) -> None:
        """Take the model's word for a supporting window it vouched for (rag/answer/model_judge.Vouched)."""
        if not self.gates_ok:
            return
        for v in vouched:
            if v.covers(self.passage, self.start, self.end):
                self.model_yes = v.p_yes
                if self.reason == "attribute":
                    self.reason = ""
                return


def combined_score(attribute: float, similarity: float | None) -> float:
    """The attribute share, plus what the sentence's meaning adds above the floor."""
    if similarity is None:
        return attribute
    return attribute + SIMILARITY_WEIGHT * max(0.0, similarity - SIMILARITY_FLOOR)


# --- the question ----------------------------------------------------------------------------


def asked_for(analysis: QuestionAnalysis, texts: tuple[str, ...] | list[str] = ()) -> AskedFor:
    """Subjects, attribute words and fine answer type of an analysed question. ``texts``: the passages
    (and titles) it will be answered from, whose own place names count as places (``places_written_in``)."""
    q = normalize(analysis.question)
    # A year is written alike in every language: "in 2023" asks about 2023 as "2023年" does.
    subjects = _subjects_zh(q) if analysis.language == "zh" else [Subject(y, "year", (y,)) for y in _YEAR.findall(q)]
    if analysis.language == "zh" and texts and not any(s.kind == "place" for s in subjects):
        # Only when the question names no other place: "乳源鹰峰社区" is about the community, which the
        # sentence names without its county.
        named = {f for s in subjects for f in s.forms + (s.text,)}
        subjects += [Subject(w, "place", (w,)) for w in places_written_in(q, analysis.terms, texts)
                     if not any(w in f or f in w for f in named)]
    for name in analysis.names:  # translated names of an English question (pinyin → 乳源)
        subjects.append(Subject(name, "name", analysis.alternatives.get(name, (name,))))
    attribute = {
        t: w for t, w in analysis.terms.items()
        if not any(t in f or f in t for s in subjects for f in s.forms + (s.text,))
        and not _YEAR.fullmatch(t) and not ASKING_WORD.match(t)
    }
    # jieba's search mode yields "常住人口" and also "常住", "人口": the longest form is the term,
    # its parts give partial credit when a document words it otherwise ("常驻人口").
    longest = {t: w for t, w in attribute.items() if not any(t != o and t in o for o in attribute)}
    parts = {t: _parts(t, attribute) for t in longest}
    role = ""
    if analysis.answer_type in ("person", "list"):
        m = next((m for m in _ROLE.finditer(q) if _ends_a_word(q, m.end(1))), None)
        role = m.group(1) if m else _role_verb(q)
    head = _head(q, longest) if analysis.language == "zh" else ""
    return AskedFor(analysis, tuple(_dedupe(subjects)), longest, role, head, parts={t: p for t, p in parts.items() if p})


# What may follow a place's name in a document, as jieba's next word: its level ("乳源县委" → 县委), or an
# autonomous county's ("乳源瑶族自治县" → 瑶族自治县). Not a word that only starts like one (市场, 区域).
_LEVEL_WORD = re.compile(r"(?:[\u4e00-\u9fff]{1,2}族)?自治[县州区旗]|(?:" + "|".join(PLACE_LEVELS) + r")(?:委|政府)?")


_PARTICLES = frozenset("的 在 有 是 和 与 及 等 对 把 被 将 也 都 还 已 就 又".split())


def places_written_in(question: str, terms, texts) -> list[str]:
    """The question's rare words, standing alone as what it is about (not the start of a longer name:
    "固始站"), that the documents write as a place with its level ("乳源" → "乳源瑶族自治县", "乳源县委"):
    jieba does not know every county by its bare name, but the collection names its own."""
    words = [w for w in terms if len(w) >= 2 and re.fullmatch(r"[\u4e00-\u9fff]+", w) and _name_like(w)
             and not is_common_word(w) and term_weight(w) >= CARRIED_IDF]
    if not words:
        return []
    tokens = [(w.word, w.flag) for w in posseg().cut(question)]
    # Followed by the end, a mark, a particle or a word of two characters or more that is no noun
    # ("乳源翻新…", "乳源的…"); not by a one-character head ("固始站", "乳源港") or a noun ("乳源人才").
    alone = {w for i, (w, _f) in enumerate(tokens)
             if i + 1 == len(tokens) or tokens[i + 1][1] == "x" or tokens[i + 1][0] in _PARTICLES
             or (len(tokens[i + 1][0]) >= 2 and not tokens[i + 1][1].startswith("n"))
             or _LEVEL_WORD.fullmatch(tokens[i + 1][0])}  # "乳源县委…": the county's own committee
    out = []
    for word in (w for w in words if w in alone):
        for text in texts:
            cut = list(_words(text)) if word in text else []
            if any(a.startswith(word) and _LEVEL_WORD.fullmatch(a[len(word):] or b)
                   for a, b in zip(cut, cut[1:] + [""])):
                out.append(word)
                break
    return out


def _ends_a_word(text: str, end: int) -> bool:
    """Does jieba end a word at ``end`` ("党委书记" ends with 书记; "负责人才事务" holds no 负责人)?"""
    at = 0
    for word in _words(text):
        at += len(word)
        if at >= end:
            return at == end
    return False


def _role_verb(question: str) -> str:
    """The act a "谁V的" question asks about ("《三体》动画是谁制作的" → 制作): the person must stand beside
    it, as beside a role word."""
    m = re.search(r"谁([\u4e00-\u9fff]{2})", question)
    if m is None:
        return ""
    words = list(posseg().cut(question[m.start(1):]))
    return m.group(1) if words and words[0].word == m.group(1) and words[0].flag.startswith("v") else ""


def _parts(term: str, terms: dict[str, float]) -> dict[str, float]:
    """The sub-words of ``term`` with their weights: the question's own ("常住", "人口" of "常住人口"),
    else jieba's ("合作", "开发" of "合作开发")."""
    own = {o: w for o, w in terms.items() if o != term and o in term}
    if own or not re.fullmatch(r"[\u4e00-\u9fff]{3,}", term):
        return own
    words = [w for w in _jieba().lcut_for_search(term) if w != term and len(w) >= 2]
    return {w: term_weight(w) for w in words}


def _head(question: str, terms) -> str:
    """The attribute noun the supporting sentence must name: B of "A的B是什么" when B names a thing
    (主题, 处理器; not a description such as 职业), or the last content word of a question with no
    question word at all ("中国误入美国飞艇的用途" → 用途); words that only name the answer's kind
    (时间, 人数) are skipped."""
    q = question.rstrip("?？。.!！ ")
    m = (re.search(r"的([\u4e00-\u9fffA-Za-z0-9]{2,6}?)(?:是|叫)?什么$", q)
         or re.search(r"的([\u4e00-\u9fff]{0,3}[a-z][a-z0-9.+\-]{1,11})(?:是|叫)?什么$", q))
    noun = re.sub(r"^[那这该此](?:位|个|家|名)?", "", m.group(1)) if m else ""  # "那位党员": the noun, not the pointer
    if len(noun) >= 2 and not _describes(noun) and noun not in _TYPE_HEADS:
        # "2022中关村论坛的主题是什么": the answer names the 主题; a sentence that never says
        # 主题 does not state it. Descriptions ("职业", "特点") are often stated without their word.
        return noun
    if _ANY_QUESTION_WORD.search(q):
        # "A的B是什么": an encyclopaedia sentence often states B without naming it ("巴西足球运动员"
        # for 国籍, 职业), so B is weighed with the other attribute words, not required.
        return ""
    ordered = sorted((q.rfind(t), t) for t in terms if t in q and t not in _TYPE_HEADS and not t.isdigit())
    return ordered[-1][1] if ordered else ""


def _subjects_zh(q: str) -> list[Subject]:
    """The subjects a (normalised) Chinese question names."""
    out: list[Subject] = []
    for m in _WORK.finditer(q):
        out.append(Subject(f"《{m.group(1)}》", "work", (m.group(1),)))
    masked = _WORK.sub(lambda m: "　" * len(m.group()), q)
    for m in _YEAR.finditer(masked):
        out.append(Subject(m.group(1), "year", (m.group(1),)))
    for m in _ORDINAL_SUBJECT.finditer(masked):
        out.append(Subject(m.group(), "ordinal", _numeral_forms("第", m.group(1), m.group(2)), m.group(2)))
    for m in _SERIAL_SUBJECT.finditer(masked):
        if not m.group(1).startswith("第"):
            out.append(Subject(m.group(), "serial", _numeral_forms(m.group(1), m.group(2), "号"), m.group(1)))
    for m in _NUMBER_SUBJECT.finditer(masked):
        if not _YEAR.fullmatch(m.group(1)) and m.group(2) not in "年":
            out.append(Subject(m.group(), "number", (m.group(),), m.group(2)))
    words = [(w.word, w.flag) for w in posseg().cut(masked)]
    out.extend(_named_things(words))
    for m in _LATIN_NAME.finditer(masked):
        word = m.group()
        if len(word) >= 2 and not word.isdigit():
            out.append(Subject(word, "name", (_squash_latin(word),)))
    for i, (word, _flag) in enumerate(words):
        modifier = words[i - 1][0] if i else ""
        if word in INCIDENT_HEADS and re.fullmatch(r"[\u4e00-\u9fff]{2,}", modifier) and modifier not in QUESTION_WORDS:
            # The modifier alone counts as it ("唐山烧烤店打人案" for 打人案件, "土耳其…强烈地震").
            out.append(Subject(modifier + word, "incident", (modifier + word, modifier), word))
    for i, (word, flag) in enumerate(words):
        following = words[i + 1][0] if i + 1 < len(words) else ""
        if flag == "x" or len(word) < 2 or not re.fullmatch(r"[\u4e00-\u9fff]+", word):
            continue
        level = next((lv for lv in PLACE_LEVELS if word.endswith(lv) and len(word) > len(lv) + 1), "")
        if not level and following in PLACE_LEVELS and (flag in ("ns", "nr", "nz") or _name_like(word)):
            word, level = word + following, following
        if level and _name_like(word[: -len(level)]):
            out.append(Subject(word, "place", _place_forms(word, level), level))
            continue
        if following in EVENT_SUFFIXES and (flag == "ns" or (flag in ("nr", "nz", "nt", "j") and _name_like(word))):
            out.append(Subject(word + following, "event", (word + following,), following))
            continue
        suffix = next((s for s in ORG_SUFFIXES if word.endswith(s)), "")
        if not suffix and following in ORG_SUFFIXES and flag in ("ns", "nr", "nz", "nt"):
            word, suffix = word + following, following
        stem_named = flag in ("ns", "nr", "nz", "nt") or _name_like(word[: -len(suffix)])
        if (flag == "nt" or (suffix and stem_named)) and not is_common_word(word):
            out.append(Subject(word, "org", (word,), suffix))
            continue
        if flag == "ns" and _name_like(word) and term_weight(word) >= CARRIED_IDF:
            # A rare place named without its level ("肇庆", "乳源") is what the question is about: the
            # sentence, its passage or its document names it. A common one ("中国", "北京") or a word
            # jieba tags as a person is often left implicit or mis-tagged ("滑冰"/nr): it weighs as an
            # attribute word, not as a gate.
            out.append(Subject(word, "place", (word,)))
    return out


def _numeral_forms(prefix: str, numeral: str, suffix: str) -> tuple[str, ...]:
    """"第28届" is also written "第二十八届" (and the other way round)."""
    value = numeral_value(numeral)
    forms = [prefix + numeral + suffix]
    if value is not None:
        forms += [prefix + str(value) + suffix, prefix + chinese_numeral(value) + suffix]
    return tuple(dict.fromkeys(forms))


def _named_things(words: list[tuple[str, str]]) -> list[Subject]:
    """Projects, bridges, bases… named in the question ("毛羊坪渡改桥项目", "重大科技专项“揭榜制”项目"): the
    words before such a head back to a particle, a place or a question word, kept only when one of
    them is rare enough to be a name. Any ending of the phrase that still holds that word counts as
    it ("毛羊坪渡改桥项目" for "启动毛羊坪渡改桥项目"), and so does the rarest word alone. ``words``:
    the question's (word, posseg flag) pairs."""
    out = []
    for i, (word, _flag) in enumerate(words):
        if word not in THING_HEADS or (i and words[i - 1][0] in THING_HEADS):
            continue  # "项目计划": the name ends at its first head
        j, names = _thing_name(words, i, _ends_asked_name)
        if not names:
            continue
        # …and its rarest word alone: a document may name the thing otherwise ("威克水槽州立公园").
        rarest = max((words[k][0] for k in names), key=term_weight)
        forms = tuple("".join(w for w, _f in words[k : i + 1]) for k in range(j, names[0] + 1)) + (rarest,)
        # A verb glued to the name by jieba ("修栗山河大桥" for "修栗山河大桥"→"栗山河大桥"): endings of three
        # characters or more before the head count too.
        modifier = "".join(w for w, _f in words[names[0] : i])
        forms += tuple(modifier[n:] + word for n in range(1, len(modifier) - 2))
        out.append(Subject(forms[0], "name", forms, word))
    return out


def _thing_name(words: list[tuple[str, str]], head: int, ends) -> tuple[int, list[int]]:
    """The name of the thing whose head word is ``words[head]`` ("项目", "大桥"), for the question
    (_named_things) and for the window it is checked against (_other_thing) alike: the words before
    the head back to the first word ``ends(word, flag)`` accepts, and the positions among them of
    the words rare enough to be a name (none: the phrase names no particular thing)."""
    j = head
    while j > 0 and not ends(*words[j - 1]):
        j -= 1
    return j, [k for k in range(j, head) if _rare_name(words[k][0])]


def _rare_name(word: str) -> bool:
    return bool(re.fullmatch(r"[\u4e00-\u9fff]{2,}", word)) and is_name_like(word) and term_weight(word) >= CARRIED_IDF


def _ends_asked_name(word: str, flag: str) -> bool:
    """Where a name in the question begins: after a particle, a place, a year or a question word; quotes
    belong to it ("“揭榜制”项目"). A place or a year before it is a subject of its own."""
    return (flag.startswith(("u", "p", "c", "r", "d")) or word in QUESTION_WORDS or _is_place(word)
            or (flag == "x" and word not in "“”\"《》") or bool(_YEAR.fullmatch(word))
            or _DEMONSTRATIVE.fullmatch(word) is not None)


def _ends_stated_name(_word: str, flag: str) -> bool:
    """Where a name in a passage begins: after a particle, punctuation or a number; places belong to it
    ("韶关翁源华润希望乡村项目")."""
    return flag.startswith(("u", "p", "c", "r", "d", "x", "m"))


def _is_place(word: str) -> bool:
    """A level ("县") or a named place with its level ("乳源县", "东田村"); not a common word that ends like
    one ("乡村", "农村")."""
    level = next((lv for lv in PLACE_LEVELS if word.endswith(lv)), "")
    return bool(level) and (word == level or _name_like(word[: -len(level)]))


def _place_forms(word: str, level: str) -> tuple[str, ...]:
    """"乳源县" is also written "乳源", "乳源瑶族自治县" also "乳源": the stem counts."""
    stem = word[: -len(level)]
    stem = re.sub(r"(?:土家|[\u4e00-\u9fff])族$", "", stem) if level.startswith("自治") else stem
    return tuple(dict.fromkeys([word, stem] if len(stem) >= 2 else [word]))


def _name_like(stem: str) -> bool:
    return bool(stem) and stem[0] not in _NOT_NAME_START and is_name_like(stem)


def _squash_latin(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def _dedupe(subjects: list[Subject]) -> list[Subject]:
    """Drop subjects contained in a longer one ("乳源" inside "乳源县")."""
    out: list[Subject] = []
    for s in sorted(subjects, key=lambda s: -len(s.text)):
        if not any(s.text in o.text for o in out):
            out.append(s)
    return out


# --- one sentence ----------------------------------------------------------------------------


def judge(asked: AskedFor, claim: str, passage: Passage, start: int, end: int, index: int = 0,
          lead: str = "") -> Judgement:
    """Does ``claim``, supported by ``passage.text[start:end]``, answer what was asked?

    ``lead``: the opening of the passage's document, which states what a news article is
    about when its title does not ("欢迎访问…" pages): a subject the sentence omits may be
    carried from there, as from the passage and the title."""
    text = passage.text
    window = normalize(text[start:end])
    claim_n = normalize(claim)
    focus = _focus(claim_n, window)
    before = _previous_sentence(text, start)
    context = normalize(passage.chunk.title + "\n" + lead + "\n" + text)
    missing, other = [], ""
    dated = _dated_year(focus, normalize(passage.chunk.title + "\n" + lead))
    for s in asked.subjects:
        if s.kind == "year" and s.text == dated:
            continue  # "今年获评…" in a document dated 2022, asked about 2022
        # The clause holding the answer names another subject of the same kind ("2023年春节档期
        # 总票房达67.57亿元，超越2022年春节档…" for 2022): it is about that one.
        rival = "" if _present(s, focus) else _rival(s, focus)
        if not rival and _present(s, window):
            continue
        rival = rival or _rival(s, window)
        if rival:
            other = other or rival
        elif _present(s, context):
            continue
        missing.append(s.text)
    # The clause holding the figure, or the whole window when that clause names no side ("2024年5月,…已启动").
    contrast, stated = _contrasted(asked, focus) if _names_a_side(focus) else _contrasted(asked, window)
    if contrast and not other:
        other = stated
        missing.append(contrast)
    for asked_part, stated_part in (_other_bound(asked, focus, _MONTH), _other_bound(asked, focus, _SCOPE)):
        if asked_part and not other:
            other = stated_part
            missing.append(asked_part)
    period = _other_period(asked, claim_n, window)
    if period and not other:
        other = period
        year = next((s.text for s in asked.subjects if s.kind == "year"), "")
        missing.append(f"{year}年全年" if year else "全年")
    # a table row's figures are of what its caption says ("农村居民人均可支配收入（元）")
    topic = normalize(before) if is_table_row(text[start:end]) else ""
    type_ok = (fits_type(asked, claim_n, window, topic) and not _relabelled_act(asked, claim_n, window)
               and not _person_from_elsewhere(asked, claim_n, window))
    # Neither the answer nor the sentence it rests on may be a question: "百度此前一直梦寐以求的“框计算”会
    # 实现吗？" states nothing, however faithfully a model copies "框计算" out of it.
    statement = (not _QUESTION_FORM.search(_WORK.sub("", claim_n).rstrip("。.!！"))
                 and not _rests_on_question(claim_n, window) and not _dangling(asked.head, claim_n))
    attribute = _attribute_share(asked, normalize(before) + window, context)
    # The clause the extractive answerer copied must itself name the asked noun (a model's own
    # sentence is judged on its window); a table row's head noun is in its caption.
    head_ok = _names_head(asked.head, focus) or (
        is_table_row(text[start:end]) and _names_head(asked.head, normalize(before)))
    subject_ok = not missing
    reason = ("other_subject" if other else "subject") if not subject_ok else (
        "answer_type" if not type_ok else "question_form" if not statement else
        "attribute" if attribute < MIN_SCORE or not head_ok else "")
    score = attribute if subject_ok and type_ok and statement and head_ok else 0.0
    return Judgement(index, start, end, score, subject_ok, type_ok, statement, attribute, missing, other, reason,
                     head_ok=head_ok)


def _dated_year(focus: str, heading: str) -> str:
    """The year a relative date of ``focus`` ("今年", "去年") stands for, read off the document's dateline
    in its title or opening; "" when there is none."""
    relative = re.search("|".join(_RELATIVE_YEARS), focus)
    date = _DATELINE.search(heading)
    if relative is None or date is None:
        return ""
    return str(int(date.group(1)) + _RELATIVE_YEARS[relative.group()])


def _contrasted(asked: AskedFor, focus: str) -> tuple[str, str]:
    """(asked, stated) when the question asks with one side of a contrast ("城镇居民", "完工") and the
    clause stating the answer names only the other ("农村居民", "启动"): it is about another population or
    another act, however many of the other words match; ("", "") otherwise."""
    question = normalize(asked.analysis.question)
    for side, other in CONTRASTS + (ACT_CONTRASTS if asked.answer_type == "time" else ()):
        for a, b in ((side, other), (other, side)):
            # the first written of each side, so the refusal names the same words on every run (sets have no order)
            asked_word = min((w for w in a if w in question), key=question.find, default="")
            if asked_word and not any(w in focus for w in a) and not any(w in question for w in b):
                stated = min((w for w in b if w in focus), key=focus.find, default="")
                if stated:
                    return asked_word, stated
    return "", ""


def _names_a_side(text: str) -> bool:
    return any(w in text for pair in CONTRASTS + ACT_CONTRASTS for side in pair for w in side)


def _other_period(asked: AskedFor, claim: str, window: str) -> str:
    """A sub-period ("五一档", "一季度") the clause holding a figure is about, when a question asking for
    an amount names none: the figure is for a part of what was asked."""
    if asked.answer_type not in ("number", "money") or _SUB_PERIOD.search(normalize(asked.analysis.question)):
        return ""
    numbers = set(re.findall(r"\d+(?:\.\d+)?(?![\d.]*\s*[年月日时号])", claim))
    for clause in re.split(r"[，,；;。！？!?]", window):
        m = _SUB_PERIOD.search(clause)
        if m and numbers & set(re.findall(r"\d+(?:\.\d+)?", clause)):
            return m.group()
    return ""


# What dates or bounds a figure: the month it stands at ("截至今年9月"), the whole area it counts over ("全县"; not
# a title: "全省优秀医生").
_MONTH = re.compile(r"(?<![\d.])(?:1[0-2]|0?[1-9])\s*月(?!份?[\d一二三四五六七八九十]+[日号])")
_SCOPE = re.compile(r"全(?:国|省|市|县|区|镇|乡|村)(?![\u4e00-\u9fff]{0,2}(?:优秀|先进|十佳|百强|好|最美|模范|劳模|文明|标兵|之最))")


def _other_bound(asked: AskedFor, focus: str, bound: re.Pattern) -> tuple[str, str]:
    """(asked, stated) when the question bounds its figure one way and the clause holding the figure another:
    "截至今年6月…多少件" against "截至今年9月,…798件", "韶关全市…多少个行政村" against "全县103个行政村" — a figure at
    another point of the year, over another area. Only for a figure asked: an event's month in a question is
    often loosely given ("2009年5月…与哪家公司"), and a time question's month is the answer."""
    if asked.answer_type not in ("number", "money"):
        return "", ""
    asked_bounds = [re.sub(r"\s|^0", "", b) for b in bound.findall(normalize(asked.analysis.question))]
    stated = [re.sub(r"\s|^0", "", b) for b in bound.findall(focus)]
    if not asked_bounds or not stated or set(asked_bounds) & set(stated):
        return "", ""
    return asked_bounds[0], stated[0]


# Words between an act and its figure ("培育了100多个", "达到3.3亿元").
_ACT_FILLERS = frozenset("了 达 达到 能 能到 能达到 可达 预计 约 共 共计 有 为 是 近 超 超过 多达 累计 一共 总共 已 已经 将 还 再 又 就"
                         .split())


def _relabelled_act(asked: AskedFor, claim: str, window: str) -> str:
    """The act a model wrote before a figure that the passage does not state for it: "肇庆培育了100多个农业龙头企业"
    from "全面对接100多个农业龙头企业" (the question's 培育 put on the passage's figure). "" when none, when the
    claim is copied from the window, or when a figure is not what was asked."""
    if asked.answer_type not in ("number", "money") or not claim or claim in window:
        return ""
    words = list(posseg().cut(claim))
    written = None
    for i, w in enumerate(words):
        if not re.match(r"\d", w.word) or (i + 1 < len(words) and words[i + 1].word.startswith("年")):
            continue
        j = i - 1
        while j >= 0 and words[j].word in _ACT_FILLERS:
            j -= 1
        act = words[j] if j >= 0 else None
        if act is None or not act.flag.startswith("v") or len(act.word) < 2 or act.word in window:
            continue
        # the act of the passage's clause holding the same figure may be written otherwise: "投入" for 投资,
        # "产出" for 产值 share a character; "培育" and "对接" share none
        clauses = [c for c in _CLAUSE_BREAK.split(window) if w.word in c]
        if any(ch in c for c in clauses for ch in act.word):
            continue
        written = written if written is not None else _words(window)
        if not any(same_meaning(act.word, x) for x in written):
            return act.word
    return ""


def _person_from_elsewhere(asked: AskedFor, claim: str, window: str) -> bool:
    """A model's "谁" answer naming a person its supporting window does not: "黄鹤明牵头成立了人才工作领导小组" puts
    the author in the title beside the passage's "以区委书记任组长的人才工作领导小组". The author of the
    document itself is asked for in the title's words, so 作者/撰文/署名 questions are not checked."""
    if asked.answer_type != "person" or not claim or claim in window:
        return False
    question = normalize(asked.analysis.question)
    if _ASKS_AUTHOR.search(question):
        return False
    names = [w.word for w in posseg().cut(claim) if is_person_name(w.word, w.flag) and w.word not in question]
    if not names:
        return False
    # the sentence naming the person must also state something asked (a caption "部长黄鹤明传达…" does not)
    asked_words = set(asked.attribute) | set(_role_words(asked.role) if asked.role else ())
    for sentence in (line for a, b in sentence_spans(window) for line in window[a:b].split("\n")):
        # as written, or two of them in other words ("开工仪式" for 动工典礼): one synonym reaches too far
        # ("机构" ~ 组织 meets "组织部部长")
        if any(name in sentence for name in names) and (
                not asked_words or any(w in sentence for w in asked_words)
                or len(term_hits(asked.analysis, sentence) & asked_words) >= 2):
            return False
    return True


def _dangling(head: str, claim: str) -> bool:
    """"可惜处理器是 摘要：…": the asked noun's predicate has no object — a line broken off, not a statement."""
    return bool(head) and re.search(re.escape(head) + r"(?:是|为)(?:\s|[，,。；;：:！!？?]|$)", claim) is not None


def _names_head(head: str, window: str) -> bool:
    """Is the asked attribute noun in the window — as written, or most of its characters ("常住人口"
    ~ "常驻人口"); a Latin part ("ChatGPT") must be there as written."""
    if not head or head in window:
        return True
    latin = re.findall(r"[a-z0-9]{2,}", head)
    if any(part not in window for part in latin):
        return False
    chars = [c for c in head if not c.isascii()]
    return bool(chars) and sum(c in window for c in chars) / len(chars) >= _MIN_HEAD_CHARS


def _rests_on_question(claim: str, window: str) -> bool:
    """Is the window's sentence the claim rests on a question?"""
    spans = sentence_spans(window)
    quoted = [q for q in re.findall(r"“([^”]{1,30})”", claim) if q in window]
    grams = bigrams("".join(re.findall(r"[\u4e00-\u9fff]", claim)))
    if not spans or not (quoted or grams):
        return False
    # The sentence holding what the claim quotes, else the one sharing most of its Chinese.
    a, b = max(spans, key=lambda s: (sum(q in window[s[0] : s[1]] for q in quoted),
                                     len(grams & bigrams(window[s[0] : s[1]]))))
    return bool(re.search(r"[?？]$|吗$", window[a:b].rstrip("”」』）)\"' ")))


def _focus(claim: str, window: str) -> str:
    """The part of the window that states the claim's figure: its sentence up to the end of the
    clause holding the claim's (non-year) numbers — the topic of a Chinese sentence comes before
    its figures ("2021年，乳源县村集体经济收入达到1200万元，2022年起…"). Without numbers, the claim
    itself when it was copied from the window, else the whole window."""
    numbers = set(re.findall(r"\d+(?:\.\d+)?", claim)) - set(_YEAR.findall(claim))
    if not numbers:
        return claim if claim and claim in window else window
    for a, b in sentence_spans(window):
        pos = a
        for clause in re.split(r"(?<=[，,；;。！？!?])", window[a:b]):
            pos += len(clause)
            if numbers & set(re.findall(r"\d+(?:\.\d+)?", clause)):
                return window[a:pos]
    return window


def fits_type(asked: AskedFor, claim: str, window: str = "", topic: str = "") -> bool:
    """Does the claim state the kind of answer asked for: a number (a count with its measure word),
    a sum, a date, a place, a person (beside the asked role, when there is one)? ``topic``: a table row's
    caption, which says what the row's figures are."""
    kind, analysis = asked.answer_type, asked.analysis
    question = normalize(analysis.question)
    difference = kind in ("number", "money") and asks_difference(question)
    if difference and not states_difference(claim, "元" if kind == "money" else analysis.unit):
        return False  # "比韶关高多少元" is not answered by one side's figure ("人均可支配收入22689元")
    if kind in ("number", "money") and not _CHANGE.search(question) and not difference:
        # "比上一年增长了115万人" states a change, not the number asked for (unless a difference was asked).
        claim = _CHANGE_NUMBER.sub(" ", claim)
    if kind == "number" and asks("rate", question) and not analysis.unit:
        return states("rate", claim)  # "覆盖率是多少" is not answered by a count ("建立党组织1449个")
    if kind in ("number", "money") and asks("per_head", question) and not states(
            "per_head", claim + (_focus(claim, window) if window else "") + topic):
        return False  # "人均可支配收入" is not answered by a total ("村集体经济组织年经营性收入达到10万元")
    if kind == "number" and asks("area", question) and not analysis.unit and not states("area", claim):
        return False  # "多大面积" is not answered by a sum ("集体经济首次突破10万元")
    if kind == "number":
        counted = fits_count(question, analysis.unit, claim, window)
        if counted is not None:
            return counted or (analysis.ordinal and "第" in claim)
    if kind == "person" and names_post_holder(question, claim):
        return True  # "由谁牵头" answered by the office: "以区委书记任组长"
    if kind == "person" or (kind == "list" and asked.role):
        if asked.role and not _ROLE.fullmatch(asked.role) and _org_beside(asked.role, claim, question):
            return True  # "是谁援建的" is often answered by an organisation ("万科集团援建")
        if not has_answer_type(_as_person(analysis), claim) and not (kind == "list" and has_new_place(claim, question)):
            return False
        return not asked.role or _beside_role(asked.role, window or claim, claim, question)
    if kind in ("entity", "place") and _ASKED_PLACE.search(question):
        return _names_kind(claim, question)
    if kind == "entity":
        return _names_kind(claim, question)
    # "哪些" without a role: an enumeration may be written many ways, so it is not checked (the
    # extractive ranking still prefers one).
    return has_answer_type(analysis, claim) if kind in ("number", "money", "time", "place") else True


def _names_institution(claim: str, question: str, endings: tuple[str, ...]) -> bool:
    """Does the claim name, beyond the question, an institution with one of ``endings``: one word
    ("华南农业大学", "中医院") or proper nouns and the ending's word ("华南/师范大学", "东莞市/人民/医院"), not
    the kind alone ("17家高校", "全省高校")?"""
    words = list(posseg().cut(claim))
    for i, w in enumerate(words):
        end = next((e for e in endings if w.word.endswith(e)), None)
        if end is None:
            continue
        if len(w.word) > len(end) and (w.flag == "nt" or not is_common_word(w.word)):
            name = w.word
        else:
            # the nouns before it, one of them proper: "东莞市/人民/医院", "华南/师范大学" (not "全省/高校")
            lead = list(itertools.takewhile(lambda v: v.flag.startswith("n") or v.flag == "j", reversed(words[max(0, i - 3):i])))
            if not any(v.flag in _PROPER_FLAGS or not is_common_word(v.word) for v in lead):
                continue
            name = "".join(v.word for v in reversed(lead)) + w.word
        if name not in question:
            return True
    return False


def _describes(kind: str) -> bool:
    return any(kind.startswith(d) or kind.endswith(d) for d in _DESCRIPTIVE_KINDS)


def _names_kind(claim: str, question: str) -> bool:
    """"什么广场" / "哪个村" asks for a name of that kind: the claim must hold one the question does not
    ("瑶客共生广场"), or a quoted, titled or Latin name. "X是什么" (职业, 特点) is not checked: its
    answer is often a plain description ("足球运动员")."""
    place = _ASKED_PLACE.search(question)
    if place:
        # "哪个村" / "哪个县级市": a place of that level the question does not name, not any quoted phrase.
        level = next(lv for lv in PLACE_LEVELS if place.group(1).endswith(lv))
        names = [name for name in _level_names(claim, level) if name not in question]
        if any(within[:2] not in claim for within in _org_places(question)):
            # "在东莞哪个镇" is not answered by a town the claim places in another county ("翁源县官渡镇")
            names = [name for name in names if not _PLACED_IN.search(claim[: claim.find(name)])]
        return bool(names)
    m = re.search(r"(?:(?<!为)什么|哪个|哪家|哪所|哪座|哪部|哪款)([\u4e00-\u9fff]{1,4}?)(?=[是呢吗的了？?，,]|$)", question)
    if m is None:
        # "哪家企业出资帮着建": the kind is the noun before the verb
        m = re.search(r"(?:哪个|哪家|哪所|哪座|哪部|哪款)([\u4e00-\u9fff]{2,6})", question)
        if m is None:
            return True
        return _names_kind_of(claim, question, m.group(1), verb_after=True)
    if m.group(1)[0] in "是呢吗的了":
        return True
    return _names_kind_of(claim, question, m.group(1), verb_after=question[m.end():m.end() + 1] == "了")


def _names_kind_of(claim: str, question: str, kind: str, verb_after: bool) -> bool:
    """Does the claim name a ``kind`` ("企业", "广场") the question does not? ``verb_after``: the kind may run
    into the verb after it ("单位拿了", "企业出资"), which is cut off."""
    if verb_after:
        # "哪家单位拿了下来": the kind is the noun, not the verb after it
        words = list(posseg().cut(kind))
        lead = list(itertools.takewhile(lambda w: w.flag.startswith("n"), words))
        if not lead:
            return True
        if len(lead) < len(words):
            kind = "".join(w.word for w in lead)
    # "企业出力援建": an organisation's kind word starts it
    kind = next((k for k in ORG_KINDS if kind.startswith(k)), kind)
    if kind in ORG_KINDS and any(place[:2] not in claim for place in _org_places(question)):
        return False  # "在东莞哪家医院" is not answered by a claim that never names 东莞 ("乳源中医院")
    quoted = [q.group()[1:-1] for q in re.finditer(r"[“\"《「『].{1,30}?[”\"》」』]", claim)]
    # "哪家企业" is not answered by a quoted campaign ("“百千万工程”"): a quoted name answers it as an organisation's
    if any(q not in question and (not kind.endswith(ORG_KINDS) or q.endswith(ORG_SUFFIXES)) for q in quoted):
        return True
    if any(w.lower() not in question.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9\-]+\d*|\d+[A-Za-z]+", claim)):
        return True
    if kind in _INSTITUTION_ENDINGS:
        # "哪所大学" is not answered by "万科集团": the name must end as that kind of institution does
        return _names_institution(claim, question, _INSTITUTION_ENDINGS[kind])
    if kind.endswith(ORG_KINDS) and has_new_org(claim, question):
        return True  # "哪家公司" is answered by "万科集团"
    if kind in ORG_KINDS and any(w.flag in ("nt", "nz") and len(w.word) >= 2 and w.word not in question
                                 and not w.word.endswith(OCCUPATION_ENDINGS) and not is_common_word(w.word)
                                 for w in posseg().cut(claim)):
        return True  # …and by a brand ("搜狐")
    first = next(iter(posseg().cut(kind)), None)
    if _describes(kind) or (first is not None and first.flag.startswith("v")):  # "由什么改编的" asks for a source
        return True
    words = [(w.word, w.flag) for w in posseg().cut(claim)]
    # "发动企业" and "龙头企业" name no firm: before an organisation's kind word, only a proper name makes one
    flags = _PROPER_FLAGS if kind in ORG_KINDS else _NAME_FLAGS
    for end in dict.fromkeys((kind, kind[-2:], kind[-1:])):
        for i, (word, flag) in enumerate(words):
            if not word.endswith(end):
                continue
            # "瑶客共生广场" (one word, or a noun before "广场"), not "可惜处理器" (an adverb before it)
            name = word if len(word) > len(end) else (words[i - 1][0] + word if i else "")
            named = len(word) > len(end) or (i and words[i - 1][1].startswith(flags))
            if named and name and name not in question:
                return True
    return False


@functools.lru_cache(maxsize=256)
def _org_places(question: str) -> tuple[str, ...]:
    """The places right before "哪家/哪个/哪所" ("在东莞哪家医院" → 东莞, "在东莞哪个镇"): where the asked
    organisation or place is."""
    words = list(posseg().cut(question))
    return tuple(w.word for w, after in zip(words, words[1:])
                 if w.flag == "ns" and after.word in ("哪家", "哪个", "哪所", "哪一家"))


def _as_person(analysis: QuestionAnalysis) -> QuestionAnalysis:
    return analysis if analysis.answer_type == "person" else replace(analysis, answer_type="person")


def _org_beside(act: str, claim: str, question: str) -> bool:
    """An organisation named before the act in its clause ("由万科集团援建", "由中国空间技术研究院基于…制造")."""
    for clause in _CLAUSE_BREAK.split(claim):
        if act not in clause:
            continue
        before = clause[: clause.index(act)]
        if any((w.flag in ("nt", "nz") or w.word.endswith(ORG_SUFFIXES)) and len(w.word) >= 2 and w.word not in question
               for w in posseg().cut(before)):
            return True
    return False


def _role_words(role: str) -> tuple[str, ...]:
    """The ways news writes a role beside a name ("导演" → 导演, 执导)."""
    return _ROLE_ALIASES.get(role.lstrip("总"), (role,))


def _beside_role(role: str, window: str, claim: str, question: str) -> bool:
    """A person named within reach of the role word, with no clause break between ("导演徐昂", "由徐昂执导")."""
    words = _role_words(role)
    names = [w.word for w in posseg().cut(claim) if is_person_name(w.word, w.flag) and w.word not in question]
    for text in (window, claim):
        for name in names:
            for m in re.finditer(re.escape(name), text):
                for word in words:
                    for r in re.finditer(re.escape(word), text):
                        a, b = (m.end(), r.start()) if m.end() <= r.start() else (r.end(), m.start())
                        if 0 <= b - a <= _ROLE_REACH and not _CLAUSE_BREAK.search(text[a:b]):
                            return True
    return False


def _present(subject: Subject, text: str) -> bool:
    if subject.kind == "name":
        squashed = _squash_latin(text)
        return any(_squash_latin(f) in squashed for f in subject.forms)
    if subject.kind == "year":
        return any(m.group(1) == subject.text for m in _YEAR.finditer(text))
    if subject.kind == "number":
        return any(m.group() in subject.forms for m in _NUMBER_SUBJECT.finditer(text))
    return any(f in text for f in subject.forms)


def _rival(subject: Subject, window: str) -> str:
    """A different subject of the same kind that the window names (another 县, year or 《…》)."""
    if subject.kind == "year":
        years = [m.group(1) for m in _YEAR.finditer(window) if m.group(1) != subject.text]
        return years[0] + "年" if years else ""
    if subject.kind == "work":
        works = [m.group() for m in _WORK.finditer(window) if m.group(1) not in subject.forms]
        return works[0] if works else ""
    if subject.kind in _NUMBERED:
        pattern, group = _NUMBERED[subject.kind]
        others = [m.group() for m in pattern.finditer(window)
                  if m.group(group) == subject.level and m.group() not in subject.forms]
        return others[0] if others else ""
    if subject.kind == "name" and subject.level in THING_HEADS:
        return _other_thing(subject, window)
    if subject.kind == "incident":
        # Another kind of the same head ("交通事故" for 踩踏事故): a noun or verb before it, not an
        # adjective ("强烈地震" is still the asked earthquake).
        words = [(w.word, w.flag) for w in posseg().cut(window)]
        for i, (w, flag) in enumerate(words):
            if w.endswith(subject.level) and len(w) > len(subject.level) and flag.startswith(("n", "v")):
                name = w
            elif (w == subject.level and i and re.fullmatch(r"[\u4e00-\u9fff]{2,}", words[i - 1][0])
                  and words[i - 1][1].startswith(("n", "v"))):
                name = words[i - 1][0] + w
            else:
                continue
            if not any(f in name for f in subject.forms):
                return name
        return ""
    if subject.kind in ("place", "org", "event") and subject.level:
        for name in _level_names(window, subject.level):
            if not any(f in name or name in f for f in subject.forms):
                return name
    return ""


def _other_thing(subject: Subject, window: str) -> str:
    """Another named thing of the same kind ("韶关翁源华润希望乡村项目" for the asked "反向飞地"项目): of the same
    head, or a head naming what the asked project is ("栗山河大桥" for the asked 毛羊坪渡改桥项目)."""
    words = [(w.word, w.flag) for w in posseg().cut(window)]
    stem = subject.text[: -len(subject.level)] if subject.text.endswith(subject.level) else ""
    for i, (word, _flag) in enumerate(words):
        if word != subject.level and not (word in THING_HEADS and stem and stem[-1] == word[-1]):
            continue
        j, names = _thing_name(words, i, _ends_stated_name)
        phrase = "".join(w for w, _f in words[j:i])
        # A name of common words that jieba tags as one ("栗/nr 山河/ns" of 栗山河大桥) names a thing too.
        named = names or (len(phrase) >= 2 and all(f in ("nr", "ns", "nz", "nt") for _w, f in words[j:i]))
        if named and not any(f in phrase + word or phrase + word in f for f in subject.forms):
            return phrase + word
    return ""


def _level_names(text: str, level: str) -> list[str]:
    """Names of ``level`` in ``text`` ("乳源县", "大栗港镇"), read off jieba's words so that "辖区"
    or "全县" are not taken for names and a name split in two ("大栗/港镇") is joined again."""
    words = _words(text)
    out = []
    for i, w in enumerate(words):
        if not w.endswith(level):
            continue
        stem = w[: -len(level)]
        if len(stem) >= 2 and _name_like(stem):
            out.append(w)
        elif (i and len(stem) <= 1 and not is_common_word(w) and len(words[i - 1]) >= 2
              and _name_like(words[i - 1] + stem)):
            out.append(words[i - 1] + w)
    if level == "村":
        # jieba cuts a village written after its town apart ("官渡镇镇仔村" → 官渡/镇镇/仔村): the town names it
        for m in _TOWN_VILLAGE.finditer(text):
            town = (text[max(0, m.start() - n) : m.start()] for n in (2, 3))
            if any(_name_like(stem) for stem in town) and m.group(1) not in out:
                out.append(m.group(1))
    return out


def _attribute_share(asked: AskedFor, text: str, context: str = "") -> float:
    """IDF-weighted share of the attribute words in ``text``. A word rare enough to be a name
    (IDF ≥ CARRIED_IDF: "武穴酥糖") counts when the passage or its document names it, like a
    subject ("该品种…被评为…奖"). A word written otherwise gets partial credit: from its parts
    ("常住人口" ~ "常驻人口"), else, unless it is rare enough to be a name ("国考" is not "高考"), from a
    word of ``text`` with the same head ("竹笋" ~ "鲜笋")."""
    if not asked.attribute:
        return 1.0
    hits = term_hits(asked.analysis, text)
    carried = term_hits(asked.analysis, context) if context else frozenset()
    got = 0.0
    for term, weight in asked.attribute.items():
        if term in hits or (weight >= CARRIED_IDF and term in carried):
            got += weight
        elif asked.parts.get(term) and any(p in hits or p in text for p in asked.parts[term]):
            parts = asked.parts[term]
            got += weight * sum(w for p, w in parts.items() if p in hits or p in text) / sum(parts.values())
        elif weight < CARRIED_IDF and _same_head(term, text):
            got += weight * HEAD_CREDIT
    return got / asked.attribute_weight


def _same_head(term: str, text: str) -> bool:
    """Does a word of ``text`` end in the head character of ``term`` (a Chinese compound's last one
    names its kind: "鲜笋" and "竹笋" are both 笋, "信息库" and "数据库" both 库), without naming the opposite
    act (竣工 is not 开工)? Heads that end too many words to say what a word names ("性", "员", "年") do not count."""
    if len(term) < 2 or not re.fullmatch(r"[\u4e00-\u9fff]+", term) or term[-1] in _GENERIC_HEADS:
        return False
    return any(len(w) >= 2 and w != term and w[-1] == term[-1] and not _opposed(term, w) for w in _words(text))


def _opposed(a: str, b: str) -> bool:
    """Do two words of one head name opposite events by their first characters (竣工/开工, 闭幕/开幕,
    出口/进口, 减少/增加 are not the same act)?"""
    return frozenset((a[0], b[0])) in _OPPOSED_STARTS


@functools.lru_cache(maxsize=4096)
def _words(text: str) -> tuple[str, ...]:
    return tuple(_jieba().cut(text))


def _previous_sentence(text: str, start: int) -> str:
    """The sentence before the one at ``start``; for a table row, its table's caption (the row above is another
    row: another region's figures, not this row's topic)."""
    sentences = sentence_spans(text)
    caption = table_caption(text, sentences)
    if caption is not None and start >= caption[1] and is_table_row(text[start:].split("\n", 1)[0]):
        return text[caption[0] : caption[1]]
    spans = [s for s in sentences if s[1] <= start]
    return text[spans[-1][0] : spans[-1][1]] if spans else ""


# --- an answer -------------------------------------------------------------------------------


def judge_answer(asked: AskedFor, sentences: list[dict], passages: list[Passage], lead=lambda p: "",
                 similarity=None, vouched=()) -> list[Judgement]:
    """A Judgement per (kept answer sentence, cited passage) of a citation report
    (rag/answer/citations.py: ``{"text", "passages", "spans"}``), best first; ``lead(passage)`` gives the
    opening of the passage's document; ``similarity(texts)``, when given, the meaning of the supporting
    windows that pass the gates but not on their words; ``vouched``, the sentences the chat model said
    answer the question before it answered (rag/answer/model_judge.py)."""
    out = []
    for entry in sentences:
        if entry.get("status") == "dropped":
            continue
        for n in entry.get("passages", []):
            span = (entry.get("spans") or {}).get(n)
            if span is None:
                continue
            p = passages[n - 1]
            out.append(judge(asked, entry["text"], p, span[0], span[1], n - 1, lead=lead(p)))
            out[-1].vouched_by(vouched)
    weak = [j for j in out if j.gates_ok and not j.ok]
    if similarity is not None and weak and not any(j.ok for j in out):
        for j, s in zip(weak, similarity([passages[j.passage].text[j.start : j.end][:SIMILARITY_CHARS] for j in weak])):
            j.weigh_similarity(s)
    out.sort(key=lambda j: j.score, reverse=True)
    return out


_LEADING_FUNCTION_CHARS = "如在据从对向将把和与及由于据"


def place_names(text: str) -> list[str]:
    """The places ``text`` names, in order ("韶关市", "鹰峰社区"); a place jieba knows without its level
    ("肇庆") when none has one. For a subject to name (ui/examples.py)."""
    names = []
    for s in _subjects_zh(text):
        if s.kind != "place":
            continue
        name = s.text
        while name[0] in _LEADING_FUNCTION_CHARS and len(name) - len(s.level) > 2:
            name = name[1:]  # "如鹰峰社区" → "鹰峰社区"
        names.append(name)
    if not names:
        names = [w.word for w in posseg().cut(text) if w.flag == "ns" and len(w.word) >= 2
                 and not is_common_word(w.word)]
    return names
