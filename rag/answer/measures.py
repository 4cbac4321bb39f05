"""What a count counts: the measure word a question asks for against the one the passage writes.

"几个工作站" is not answered by "220人的队伍", "多少居民" not by "2平方公里", "多少人次" not by
"3200余名党员", while "多少个博士工作站" is answered by "4家博士站" and "多少人" by "824位人才". A
number's unit is read where the passage writes it, not in the answer's own sentence: a model that
relabels "220人" as "220个" has not found a count of stations (rag/answer/answerability.fits_type).
"""

from __future__ import annotations

import functools
import re

from rag.text.synonyms import same_meaning
from rag.text.tokenize import normalize
from rag.text.words import posseg, term_weight

# Measure words by what they count or measure. A unit of one kind never answers a question asking
# for another kind.
_KINDS = {
    "people": "人 名 位 员",
    "visits": "人次",
    "households": "户",
    "things": "个 家 所 座 支 项 条 套 件 处 间 批 种 类 只 台 辆 部 本 场 次 届 期 村 镇 张 份 块 棵 株 头 匹 篇 首 门 栋 幢 "
              "层 艘 架 枚 颗 节 组 队 对 起 宗 例",
    "money": "元 美元 欧元 英镑 日元 港元 港币 块钱",
    "area": "亩 平方米 平方公里 平方千米 公顷 万亩",
    "length": "公里 千米 米 厘米 毫米",
    "weight": "吨 公斤 千克 斤 克",
    "percent": "% 个百分点 百分点 成 倍",
    "duration": "年 个月 月 天 日 小时 分钟 秒 周",
}
KIND_OF_UNIT = {unit: kind for kind, units in _KINDS.items() for unit in units.split()}
# Measure words a count question may put between 多少 and the counted noun ("多少家企业", "几支队伍").
_COUNT_WORDS = "|".join(_KINDS["people"].split()[1:] + _KINDS["things"].split() + ["户"])
_UNITS = sorted(KIND_OF_UNIT, key=len, reverse=True)
# A number as written ("220", "2.7", "三十"), then "余/多" and a magnitude ("2.7万人", "3200余名").
_NUMBER = r"(?<![\d.第])(\d+(?:[.,]\d+)*|[一二三四五六七八九十两百千]+)"
_STATED = re.compile(_NUMBER + r"\s*(?:[余多])?\s*(?:万亿|亿|万|千|百)?\s*(?:[余多])?\s*(" + "|".join(map(re.escape, _UNITS)) + ")")
# Nouns that count people ("多少居民", "几个党员"): a count of them comes in 人/名/位.
_PERSON_NOUN = re.compile(r"^(?:[\u4e00-\u9fff]{0,3}(?:人|员|民|者|众|才|口|师|客|士|工)|干部|代表|专家|病人|患者|观众|乘客|学生)$")
_QUOTED_NAME = "“”"  # what a number counts when a quoted name stands right before it
_QUOTED = re.compile(r"[“\"‘'「『][^”\"’'」』]{1,20}[”\"’'」』]")
# A count of a quoted name ("多少名“丹霞英才”"): the name says which of the unit's kind is counted.
_QUOTED_COUNTED = re.compile(r"(?:多少|几)\s*[个位名家人支所项条批]?\s*[“\"‘'「『]([^”\"’'」』]{1,20})[”\"’'」』]")
# Kinds that measure a thing (its area, length, weight) rather than count it.
_MEASURES = ("area", "length", "weight")
# Words a measure question uses for the measurement itself, between the measured thing and "多少".
_MEASURING = frozenset("面积 总面积 占地 占地面积 规模 长度 全长 总长 长 重量 产量 总产量 距离 有 达 达到 约 共 共计 一共 总共 大约 为 是 种植 流转".split())
_UNIT_AFTER = re.compile(r"\s*(?:万|千)?\s*(?:" + "|".join(map(re.escape, _UNITS)) + ")")
_CLAUSE = re.compile(r"[，,。；;：:！!？?、]")
# People counted by where they live: a population answers "多少居民".
_RESIDENTS = ("居民", "村民", "市民", "镇民", "人口", "住户", "群众", "百姓", "乡亲")
# Words between a noun and its figure ("常驻人口就达2.7万人", "党员共有3200人").
_LINKING = frozenset("达 达到 有 共有 为 是 共 约 已 已达 超 超过 近 总计 共计 一共 多达 高达 仅 仅有 只有 才 就 就达 约有 累计 总数".split())
# Verbs that name a kind of thing between nouns ("乡村振兴人才驿站", "志愿服务队伍", "创业孵化基地"), unlike a
# verb with its object ("村庄开展活动"): the noun phrase goes on past them.
_NAMING_VERBS = frozenset("振兴 服务 发展 创业 就业 培训 养老 帮扶 救助 管理 孵化 示范 研发 协作 合作 治理 保障 调解 监督".split())
_REACH = 10  # characters after a count's unit (before its number) where the counted thing is named
# An asked noun at least this rare (jieba IDF: "工作站", not "部分") names one kind of thing.
_SPECIFIC_NOUN_IDF = 8.0
# Units a question's measure word stands for besides itself ("多少个" ~ "4家", "多少位" ~ "10名").
_SAME = ({"名", "位", "人"}, {"家", "个"}, {"支", "个"}, {"所", "个"}, {"座", "个"}, {"项", "个"}, {"条", "个"}, {"棵", "株"})


# A share asked for ("覆盖率是多少", "占比多大", "几成"): its answer is a percentage, a fraction or a multiple, not a
# count ("1449个") or an area ("4.5万亩"). Not 效率/频率/功率/速率/汇率/分辨率, which come in their own units.
_ASKS_RATE = re.compile(r"(?:比例|比重|占比|百分比|(?<![效频功速汇辨])率)\s*(?:是|为|有|达|达到|能达到|大概|大约|约|大致)?\s*"
                        r"(?:多少|几|多大|多高)|百分之几|几成")
_STATES_RATE = re.compile(r"\d\s*(?:%|％|‰|个百分点|成(?![员立功为果本绩就熟交长年])|倍)|百分之|千分之|[一二三四五六七八九十\d]+分之|"
                          r"[一二三四五六七八九十半]成(?![员立功为果本绩就熟交长年])|[一二三四五六七八九十两]倍|全覆盖|全部|所有")
# A difference asked for ("比韶关高多少元", "高出多少", "相差多少", "哪个多、多多少"): a value alone does not answer it;
# the text must state the comparison.
_ASKS_DIFFERENCE = re.compile(r"比[^，,。？?]{1,20}?(?:高|多|少|低|大|小|快|慢|长|短|贵|便宜)[了出]?(?:多少|几)|"
                              r"(?:高出|多出|少了|低了|超出|相差|差了|差距)(?:了|有)?(?:多少|几|多大)|(?:哪个|谁)(?:更)?多.{0,3}多多少")
_STATES_DIFFERENCE = re.compile(r"(?:比|高出|多出|超出|超过|高于|低于|少于|多于|相差|差距|差额|增长|增加|减少|下降|提高|提升|降低|"
                                r"上涨|下跌)[^，,。；;！？!?]{0,15}?" + _NUMBER + r"\s*(?:[余多])?\s*(?:万亿|亿|万|千|百)?\s*(?:[余多])?\s*"
                                r"([^\d\s，,。；;！？!?]{0,2})")


# An area asked for ("多大面积", "面积有多大", "占地多少"): its answer is in an area unit, not a sum ("10万元").
_ASKS_AREA = re.compile(r"(?:多大|多少)(?:的)?(?:面积|地方|土地|田地|耕地|林地)|(?:面积|占地|土地|田地)(?:面积)?(?:是|为|有|达|一共|总共|共)?(?:多大|多少|几)")
_STATES_AREA = re.compile(r"\d\s*(?:[余多])?\s*(?:万|千|百)?\s*(?:[余多])?\s*(?:亩|公顷|平方米|平方公里|平方千米|㎡|平米|平方|km2|m2)|"
                          r"[一二三四五六七八九十百千万两]+\s*(?:亩|公顷|平方米|平方公里)")


# A figure per person asked for ("人均可支配收入", "平均每人"), and the ways a text states one: a total
# ("村集体经济组织年经营性收入达到10万元") does not answer it.
_ASKS_PER_HEAD = re.compile(r"人均|每人|平均每(?:个|位|名)?人")
_STATES_PER_HEAD = re.compile(r"人均|每人|平均每|每位|每名|每个人|每户|户均")


def same_units(unit: str, general: bool = False) -> set[str]:
    """The measure words that count what ``unit`` counts ("人" → 名, 位, 人); just ``unit`` when none.
    ``general``: the all-purpose "个" too ("多少个" ~ "4家"), which stands for too many units to rank by."""
    out = {unit}
    for group in _SAME:
        if unit in group and (general or "个" not in group):
            out |= group
    return out


# What a figure is asked as, and how a text states it: (question pattern, text pattern).
_FIGURE_KINDS = {"rate": (_ASKS_RATE, _STATES_RATE), "area": (_ASKS_AREA, _STATES_AREA),
                 "per_head": (_ASKS_PER_HEAD, _STATES_PER_HEAD)}


def asks(kind: str, question: str) -> bool:
    """Does the question ask for a figure of ``kind`` ("rate": a share, "area", "per_head": a figure per person)?"""
    return _FIGURE_KINDS[kind][0].search(question) is not None


def states(kind: str, text: str) -> bool:
    """Does ``text`` state a figure of ``kind`` (a percentage, an area unit, 人均/每人)?"""
    return _FIGURE_KINDS[kind][1].search(text) is not None


def asks_difference(question: str) -> bool:
    return _ASKS_DIFFERENCE.search(question) is not None


def states_difference(text: str, unit: str = "") -> bool:
    """Does ``text`` state a difference ("比韶关高出3000元", "多出12人"), in ``unit``'s kind when one is asked?"""
    for m in _STATES_DIFFERENCE.finditer(text):
        stated = m.group(2)
        if not unit or any(stated.startswith(u) and _answers(u, KIND_OF_UNIT.get(unit, ""), frozenset())
                           for u in _UNITS):
            return True
    return False


@functools.lru_cache(maxsize=1024)
def asked_kind(question: str, unit: str) -> tuple[str, frozenset[str]]:
    """What a count question asks for: its kind ("people", "things", …, "" when it does not say) and
    the measure words that answer it (empty: any of that kind)."""
    if "人次" in question:
        return "visits", frozenset({"人次"})
    counted = _counted_noun(question)
    people = bool(counted) and _PERSON_NOUN.match(counted) is not None
    if unit == "个":
        return ("people" if people else "things"), frozenset()
    kind = KIND_OF_UNIT.get(unit, "")
    if kind in ("people", "things"):
        return kind, frozenset(same_units(unit, general=True))
    if kind:  # a measure ("多少亩", "多少公里"): any unit of it
        return kind, frozenset()
    return ("people" if people else ""), frozenset()


def fits_count(question: str, unit: str, claim: str, window: str = "") -> bool | None:
    """Does a number of the claim count what was asked? None when the question asks for no particular
    kind (the caller decides on other grounds).

    When the window names the counted thing ("打造农村科技特派员工作站") but its numbers count
    something else ("220人的队伍", "100多个农业龙头企业"), the count of that thing is not stated."""
    kind, units = asked_kind(question, unit)
    if not kind:
        return None
    stated = [(u, m) for u, m in _stated(claim, window) if _answers(u, kind, units)]
    # "建设一支220人的…队伍" introduces a thing rather than counting it: "一" counts only the noun right after it
    stated = [(u, m) for u, m in stated if m.group(1) != "一" or _noun_after(m)[0]]
    if not stated:
        return False
    quoted = _QUOTED_COUNTED.search(question)
    if quoted:
        # "多少名“丹霞英才”" is not answered by "柔性引进100余名专业人才": the number's clause must name it
        # ("引进“丹霞英才”173人", "选派13名党政储备类“丹霞英才”").
        return any(quoted.group(1) in _clause(m, claim, window) for _u, m in stated)
    if kind in _MEASURES:
        # "皇帝柑果园占地多少亩" is not answered by "约100亩撂荒地" or "百亩蔬菜田": a number whose unit is
        # followed by the thing it measures must measure the asked thing (its head character, or a synonym).
        measured = _measured_noun(question)
        after = [_noun_after(m)[0] for _u, m in stated]
        if measured and all(len(c) >= 2 and c not in question and not _same_kind(measured, c) for c in after):
            return False
        return True
    if kind == "things":
        loose = _counted_noun(question, past_measure=True)
        others = [_named_count(m)[0] for _u, m in stated]
        if len(loose) >= 2 and loose not in (window or claim) and all(
                c and not set(c) & set(question) and not same_meaning(loose, c) for c in others):
            # every number counts another thing, one with no character of the question: "4家博士站" for
            # 多少家企业 (not "两个部份" for 几个部分)
            return False
    noun = _counted_noun(question)
    if kind == "people" and len(noun) >= 2 and noun not in (window or claim):
        # "多少名党员" is not answered by "常驻人口就达2.7万人": every number counts other people, named by
        # a noun sharing no character with the asked one ("居民" does answer "多少村民").
        others = [_named_count(m, past_link=True)[0] for _u, m in stated]
        if all(c and c not in question and not _same_people(noun, c) for c in others):
            return False
    if len(noun) < 2 or kind != "things":
        return True
    text = window or claim
    if noun in text:
        return any(_counts(noun, text, m) for _u, m in stated)
    named = _carried_counts(stated)
    if named and all(c and c[-1] == noun[-1] and not _same_modifier(question, noun, mod) for c, mod in named):
        return False  # another kind of the same thing: "人才驿站88个" for 科技特派员工作站
    counted = [c for c, _mod in named]
    if term_weight(noun) >= _SPECIFIC_NOUN_IDF:
        # A specific thing was asked ("工作站", not "部分" or "公司"), and this number counts another thing
        # it names ("培育共同体项目105个"); a synonym is the same thing.
        return any(_same_kind(noun, c) for c in counted)
    return True


def _same_people(asked: str, counted: str) -> bool:
    """Do the people ``counted`` include those ``asked`` for: a shared character ("居民"/"村民"), a synonym, or
    both the people who live somewhere ("常驻人口" counts 居民)?"""
    return (bool(set(counted) & set(asked)) or same_meaning(asked, counted)
            or (asked.endswith(_RESIDENTS) and counted.endswith(_RESIDENTS)))


def _carried_counts(stated) -> list[tuple[str, str]]:
    """``_named_count`` of each (unit, match), where a number that names nothing counts what the last
    number of the same unit did ("承诺事项1013项,截至目前已完成370余项": 370 事项 too)."""
    out, last = [], {}
    for unit, m in stated:
        named = _named_count(m, past_link=True)
        if named[0]:
            last[unit] = named
        out.append(named if named[0] else last.get(unit, named))
    return out


def names_the_counted(question: str, window: str) -> bool:
    """Does a number of ``window`` count a thing the question names? The noun right after its unit is a
    word of the question ("389名驻村第一书记" for "…担任第一书记的干部有多少人"), where another count of the
    same unit ("精选600多人组成讲师队伍") names nothing the question asks about."""
    question = normalize(question)
    for m in _STATED.finditer(_unquoted(window)):
        noun, _modifier = _noun_after(m)
        if len(noun) >= 2 and noun in question:
            return True
    return False


def _answers(unit: str, kind: str, units: frozenset[str]) -> bool:
    if units:
        return unit in units
    # Visitors are counted in 人次 too ("接待游客76.1万人次").
    return KIND_OF_UNIT[unit] == kind or (kind == "people" and KIND_OF_UNIT[unit] == "visits")


def _stated(claim: str, window: str):
    """(unit, match in ``window`` — else in ``claim``) for each number of the claim."""
    claim, window = _unquoted(claim), _unquoted(window)
    for m in _STATED.finditer(claim):
        beside = [w for w in _STATED.finditer(window) if w.group(1) == m.group(1)] if window else []
        for w in beside or [m]:
            yield w.group(2), w


def _named_count(m: re.Match, past_link: bool = False) -> tuple[str, str]:
    """The noun a number counts when its clause names one, and the words before that noun: the noun
    phrase after its unit ("100多个农业龙头企业" → 企业, 农业龙头), else a quoted name or the noun just before
    the number ("“四小园”5万余个" → 四小园, "共同体项目105个" → 项目, 共同体); ("", "") when neither.
    ``past_link``: the noun before may stand before a linking verb ("常驻人口就达2.7万人" → 常驻人口)."""
    after = _noun_after(m)
    if after[0]:
        return after
    before, _after = _around(m)
    if re.search(r" {4,}$", before):  # a quoted name, blanked by _unquoted: "“四小园”5万余个" counts 四小园
        return _QUOTED_NAME, before.rstrip()
    words = list(posseg().cut(before))
    while past_link and words and (words[-1].word in _LINKING or words[-1].flag == "d"):
        words.pop()  # ``past_link``: past the verb that links a noun to its figure ("常驻人口就达2.7万人")
    if words and (_is_noun(words[-1]) or (past_link and words[-1].flag == "l")) and len(words[-1].word) >= 2:
        return words[-1].word, before[: len(before) - len(words[-1].word)]
    return "", ""


def _noun_after(m: re.Match) -> tuple[str, str]:
    """The noun phrase right after a number's unit, as (head noun, the words before it): "100多个农业龙头企业"
    → (企业, 农业龙头), "百亩蔬菜田" → (蔬菜田, ""); ("", "") when the unit is not followed by a noun."""
    return _noun_phrase(_around(m)[1])


@functools.lru_cache(maxsize=4096)
def _noun_phrase(after: str) -> tuple[str, str]:
    """``_noun_after`` of the text after a unit, cached: ranking asks it of the same number in every
    overlapping clause window."""
    phrase: list[str] = []
    words = list(posseg().cut(after))
    for i, w in enumerate(words):
        # a noun phrase: nouns and their modifiers, and a one-character head jieba leaves apart ("博士/站")
        if w.word in "的和与及等" or not (w.flag.startswith(("n", "a", "b", "z")) or (len(w.word) == 1 and phrase)
                                         or _modifies(words, i, bool(phrase))):
            break
        phrase.append(w.word)
    if not phrase:
        return "", ""
    if len(phrase[-1]) >= 2:
        return phrase[-1], "".join(phrase[:-1])
    return "".join(phrase[-2:]), "".join(phrase[:-2])


@functools.lru_cache(maxsize=1024)
def _measured_noun(question: str) -> str:
    """The thing a measure question measures: the noun after its unit ("多少亩闲置土地" → 土地), else the
    last noun before "多少", past the words that name the measurement ("皇帝柑果园占地有多少亩" → 果园)."""
    m = re.search(r"多少|几", question)
    if m is None:
        return ""
    unit = _UNIT_AFTER.match(question, m.end())
    nouns = []
    for w in posseg().cut(question[unit.end() if unit else m.end() :]):
        if w.word == "的" and not nouns:
            continue
        if not w.flag.startswith(("n", "a", "z", "v")) or (nouns and not w.flag.startswith("n")):
            break
        if w.flag.startswith("n"):
            nouns.append(w.word)
    if nouns:
        return nouns[-1] if len(nouns[-1]) >= 2 else "".join(nouns[-2:])
    for w in reversed(list(posseg().cut(question[: m.start()]))):
        if w.word in _MEASURING or (len(w.word) == 1 and not w.flag.startswith("n")):
            continue
        return w.word if w.flag.startswith("n") and len(w.word) >= 2 and w.word not in _MEASURING else ""
    return ""


def _same_modifier(question: str, noun: str, stated: str) -> bool:
    """Do the words before the asked noun in the question ("农村科技特派员" of 工作站) and those before the
    counted one in the text (``stated``: "镇级乡村振兴人才" of 驿站) name the same kind — share a
    character pair —, or does either name none?"""
    asked = question[: question.find(noun)] if noun in question else ""
    asked = re.split(r"多少|几", asked)[-1].lstrip("个位名家")
    if not asked or not stated:
        return True
    pairs = {asked[i : i + 2] for i in range(len(asked) - 1)}
    return any(stated[i : i + 2] in pairs for i in range(len(stated) - 1))


def _same_kind(asked: str, counted: str) -> bool:
    """Does ``counted`` name what was asked: no noun named, the same head character ("博士站" for 工作站),
    or a synonym ("企业" for 公司)?"""
    return not counted or asked[-1] == counted[-1] or same_meaning(asked, counted)


def _unquoted(text: str) -> str:
    """``text`` with quoted names blanked out: "“三支一扶”" is a programme, not three teams."""
    return _QUOTED.sub(lambda m: " " * len(m.group()), text)


def _counts(noun: str, text: str, m: re.Match) -> bool:
    """Does the number at ``m`` count ``noun``: named right after its unit ("4家博士站" for 工作站: the
    same head character), or right before the number ("建成工作站5个"), in the same clause?"""
    before, after = _around(m)
    return noun[-1] in after or noun in before


def _clause(m: re.Match, claim: str, window: str) -> str:
    """The clause holding the number at ``m``, from the text ``m`` was found in (its quote-blanked copy:
    the same positions), normalised as questions are."""
    source = next((t for t in (window, claim) if t and _unquoted(t) == m.string), m.string)
    start = max((c.end() for c in _CLAUSE.finditer(m.string, 0, m.start())), default=0)
    end = _CLAUSE.search(m.string, m.end())
    return normalize(source[start : end.start() if end else len(source)])


def _around(m: re.Match) -> tuple[str, str]:
    """The text of the number's clause within ``_REACH`` characters before it and after its unit."""
    before = _CLAUSE.split(m.string[max(0, m.start() - _REACH) : m.start()])[-1]
    return before, _CLAUSE.split(m.string[m.end() : m.end() + _REACH])[0]


@functools.lru_cache(maxsize=1024)
def _counted_noun(question: str, past_measure: bool = False) -> str:
    """The noun a count question counts ("多少居民" → 居民, "几个党员" → 党员); cached, as every ranked
    window of a question asks it. ``past_measure``: past any measure word too ("多少家企业" → 企业), unless
    that leaves one character ("几条线" keeps 条线) — looser, since the phrase after a measure word may be
    a longer one whose first noun is not what is counted ("多少件群众急难愁盼问题")."""
    measures = (_COUNT_WORDS, "个|位|名") if past_measure else ("个|位|名",)
    noun = ""
    for measure in measures:
        m = re.search(r"(?:多少|几(?![十百千万]))(?:" + measure + r")?([\u4e00-\u9fff]{1,12})", question)
        noun = _last_noun(m.group(1)) if m else ""
        if len(noun) >= 2:
            return noun
    return noun


def _is_noun(w) -> bool:
    """A noun, or an abbreviation jieba tags j ("党支部"), not an adverb it tags so ("一共")."""
    return w.flag.startswith("n") or (w.flag == "j" and w.word not in _LINKING)


def _modifies(words: list, i: int, after_noun: bool) -> bool:
    """Is ``words[i]`` a verb that is part of a name between nouns ("乡村/振兴/人才驿站", "志愿/服务/队伍")?"""
    return (after_noun and words[i].word in _NAMING_VERBS and i + 1 < len(words)
            and words[i + 1].flag.startswith("n"))


def _last_noun(phrase: str) -> str:
    nouns = []
    words = list(posseg().cut(phrase))
    for i, w in enumerate(words):  # the noun phrase's last noun is what it counts ("村民小组" → 小组)
        if _modifies(words, i, bool(nouns)):
            continue
        if not _is_noun(w) or (nouns and w.flag == "nz"):  # jieba tags some verbs nz ("企业申报")
            if nouns or not w.flag.startswith("a"):
                break
            continue  # an adjective before the nouns: "多少年轻党员志愿者" counts 志愿者
        nouns.append(w.word)
    return nouns[-1] if nouns else ""
