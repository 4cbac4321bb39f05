"""Chat history + follow-up → a standalone query that retrieval can use on its own.

"那乳源呢？" or "它的收入是多少" retrieve nothing useful by themselves. Only questions that
look like follow-ups are rewritten (so a new, complete question is never changed and costs
no model call):
- by the LLM when a generator is given (prompt ``prompts/followup_*.txt``);
- otherwise by a heuristic:
  1. "那X呢？" / "X呢？" / "What about X?" — X replaces the topic of the previous question
     ("乳源县有多少个村级党组织…" + "那浈江区呢？" → "浈江区有多少个村级党组织…");
  2. a pronoun ("它", "该县", "其", "it", "its", "there") — replaced by the previous topic
     ("它的收入是多少" → "乳源县的收入是多少");
  3. a short question with no topic of its own ("收入是多少？") — the previous topic is put in front.
The topic of a question is its leading noun group ("大栗港镇", "鹰峰社区", "肇庆市"), found with
jieba.posseg; for English, its leading capitalised name.
"""

from __future__ import annotations

import re

import prompts
from rag.text.language import detect_language
from rag.text.tokenize import tokenize
from rag.text.words import posseg

_WHAT_ABOUT_ZH = re.compile(r"^(?:那么?|那个|还有|另外|再问一下)?\s*(?P<x>[^，,。？?！!\s]{1,15}?)\s*(?:呢|的呢|怎么样|如何)\s*[？?。!！]*$")
_WHAT_ABOUT_EN = re.compile(r"^\s*(?:and|what about|how about|and what about)\s+(?P<x>.+?)\s*[?.!]*\s*$", re.I)
# A pronoun only counts at the start ("它的收入…"): "其中"/"其他" inside a question are not references.
_PRONOUN_ZH = re.compile(r"^(?:那么?)?(?:它们|它|他们|他|她|该[县市区镇村乡省地园项企业公司校]?|其(?![中他余次实])|这里|那里|当地|此地)")
_PRONOUN_EN = re.compile(r"\b(?:its|it|they|their|them|there|this place|that place)\b", re.I)
_NOUN_FLAGS = ("n", "ns", "nr", "nt", "nz", "j", "nrt", "nrfg")
# "这个项目" / "这支队伍" / "那个社区": a demonstrative and the head noun of something named before.
_DEMONSTRATIVE_ZH = re.compile(r"(?:(?:这|那)(?:个|支|家|所|位|座|项|条|些|一)|该|此)(?P<head>[\u4e00-\u9fff]{2})")
# Word classes a noun phrase may be built of, walking back from its head ("2022年韶关市重大科技专项“揭榜制”项目").
_PHRASE_FLAGS = ("n", "ns", "nr", "nz", "nt", "j", "nrt", "nrfg", "a", "m", "q", "eng", "b", "an")
_PLACE_SUFFIX = tuple("省市县区镇乡村")
_SHORT_ZH = 8  # a follow-up with no topic of its own is short


# The words that say what a question asks (a number, a person, a time…).
_ASKING_CUE = re.compile(r"多少|几|谁|哪|什么|何时|怎么|如何|\b(?:how many|how much|who|when|where|which|what)\b",
                         re.IGNORECASE)


def looks_like_followup(question: str) -> bool:
    """Does ``question`` lean on the conversation (pronoun, "那X呢", or no topic of its own)?"""
    q = question.strip()
    if detect_language(q) == "zh":
        if _WHAT_ABOUT_ZH.match(q) or _PRONOUN_ZH.search(q) or _DEMONSTRATIVE_ZH.match(q):
            return True
        return len(re.sub(r"[^\u4e00-\u9fff]", "", q)) <= _SHORT_ZH and not topic_of(q)
    return bool(_WHAT_ABOUT_EN.match(q) or _PRONOUN_EN.search(q))


def rewrite_followup(question: str, history: list[dict] | None, generator=None) -> str:
    """The standalone form of ``question`` given ``history`` ([{"role", "content"}, …]).

    Returns ``question`` unchanged when there is no earlier user question or it does not
    look like a follow-up.
    """
    previous = _previous_question(history)
    if not previous or not looks_like_followup(question):
        return question
    if generator is not None:
        rewritten = _rewrite_with_model(question, history, generator)
        if rewritten and _keeps_question(question, rewritten):
            return rewritten
    return rewrite_heuristic(question, previous)


def rewrite_heuristic(question: str, previous: str) -> str:
    q = question.strip()
    if detect_language(q) == "zh":
        topic = topic_of(previous)
        m = _WHAT_ABOUT_ZH.match(q)
        if m and topic:
            return previous.replace(topic, m.group("x"), 1)
        if m:
            return m.group("x") + previous
        demonstrative = _DEMONSTRATIVE_ZH.match(q)
        if demonstrative:
            phrase = _noun_phrase_ending(previous, demonstrative.group("head"))
            if phrase:
                return phrase + q[demonstrative.end() :]
        if not topic:
            return q
        if _PRONOUN_ZH.search(q):
            m2 = _PRONOUN_ZH.match(q)
            return topic + q[m2.end() :]
        return topic + q
    topic = _english_topic(previous)
    m = _WHAT_ABOUT_EN.match(q)
    if m and topic:
        return previous.replace(topic, m.group("x"), 1)
    if m:
        return f"{previous.rstrip('?')} — {m.group('x')}?"
    if topic and _PRONOUN_EN.search(q):
        return _PRONOUN_EN.sub(lambda p: f"{topic}'s" if p.group().lower() in ("its", "their") else topic, q, count=1)
    return q


def topic_of(question: str) -> str:
    """The leading noun group of a Chinese question ("" when it starts otherwise)."""
    words = list(posseg().cut(question.strip()))
    group = ""
    for w in words[:4]:
        if w.flag in _NOUN_FLAGS or (group and w.word in _PLACE_SUFFIX):
            group += w.word
        else:
            break
    if group and _PRONOUN_ZH.fullmatch(group):
        return ""
    if group:
        return group
    for w in words:  # else the first place name anywhere ("在乳源县…")
        if w.flag == "ns" or (len(w.word) >= 2 and w.word.endswith(_PLACE_SUFFIX) and w.flag.startswith("n")):
            return w.word
    return ""


def _noun_phrase_ending(text: str, head: str) -> str:
    """The noun phrase of ``text`` that ends with ``head`` ("…获批了2022年韶关市重大科技专项“揭榜制”项目" →
    "2022年韶关市重大科技专项“揭榜制”项目"), walking back over nouns, numbers and quoted names."""
    end = text.rfind(head)
    if end < 0:
        return ""
    words = [(w.word, w.flag) for w in posseg().cut(text[: end + len(head)])]
    kept: list[str] = []
    quoted = False
    for word, flag in reversed(words):
        if word in "”」》\"" and not quoted:
            quoted = True
        elif word in "“「《" and quoted:
            quoted = False
        elif not quoted and not (flag.startswith(_PHRASE_FLAGS) or word == head):
            break
        kept.append(word)
    phrase = "".join(reversed(kept))
    return phrase if len(phrase) > len(head) else ""


def _english_topic(question: str) -> str:
    """The first run of capitalised words after the first word ("Ruyuan County")."""
    words = question.split()
    for i in range(1, len(words)):
        if words[i][:1].isupper():
            j = i
            while j + 1 < len(words) and words[j + 1][:1].isupper():
                j += 1
            return re.sub(r"['’]s$|[?,.]$", "", " ".join(words[i : j + 1]))
    return ""


def _previous_question(history: list[dict] | None) -> str:
    for turn in reversed(history or []):
        if turn.get("role") == "user" and str(turn.get("content", "")).strip():
            return str(turn["content"]).strip()
    return ""


def followup_messages(question: str, history: list[dict]) -> list[dict]:
    """The exact messages sent to the LLM to rewrite a follow-up (last three turns)."""
    zh = detect_language(question) == "zh"
    labels = {"user": "用户" if zh else "User", "assistant": "助手" if zh else "Assistant"}
    lines = []
    for turn in (history or [])[-6:]:
        role = turn.get("role")
        if role not in labels:
            continue
        content = re.sub(r"\[\d+\]", "", str(turn.get("content", ""))).strip().replace("\n", " ")
        lines.append(f"{labels[role]}：{content[:120]}" if zh else f"{labels[role]}: {content[:240]}")
    text = prompts.render("followup_zh" if zh else "followup_en", history="\n".join(lines), question=question.strip())
    return [{"role": "user", "content": text}]


def _keeps_question(question: str, rewritten: str) -> bool:
    """Does the model's rewrite still ask the follow-up? Small models sometimes return the previous
    question instead ("他们为此流转了多少亩闲置土地？" → "东田村种植的烧仙草有什么功效？"): then at least
    half of the follow-up's own words are missing, and the heuristic rewrite is used."""
    # What is asked must survive: "这支队伍有多少人？" rewritten as the previous "…依托哪所高校…" keeps 队伍
    # but no longer asks 多少.
    asked = re.sub(r"\b(?:what|how) about\b", "", question, flags=re.IGNORECASE)  # "What about X?" asks what was asked
    if any(cue.lower() not in rewritten.lower() for cue in _ASKING_CUE.findall(asked)):
        return False
    words = {w for w in tokenize(question) if len(w) >= 2 and not _PRONOUN_ZH.fullmatch(w)}
    if not words:
        return True
    return sum(w in rewritten for w in words) * 2 >= len(words)


def _rewrite_with_model(question: str, history: list[dict], generator) -> str:
    text = "".join(generator.stream(followup_messages(question, history), max_tokens=64, temperature=0.0, stop=["\n"]))
    text = re.sub(r"^\s*(?:改写|Rewritten)\s*[:：]\s*", "", text.strip().splitlines()[0] if text.strip() else "")
    text = text.strip().strip("“”\"'")
    if not text or len(text) > 3 * len(question) + 60:
        return ""
    return text
