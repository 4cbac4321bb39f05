from rag.answer.followup import looks_like_followup, rewrite_followup, topic_of
from tests.fixtures_answering import ScriptedGenerator

HISTORY = [
    {"role": "user", "content": "乳源县有多少个村级党组织参与了双向承诺？"},
    {"role": "assistant", "content": "115个[1]。"},
]


def test_topic_is_the_leading_noun_group():
    assert topic_of("大栗港镇的笋竹林示范基地有多大？") == "大栗港镇"
    assert topic_of("鹰峰社区的常住人口有多少？") == "鹰峰社区"


def test_heuristic_rewrites():
    assert rewrite_followup("那浈江区呢？", HISTORY) == "浈江区有多少个村级党组织参与了双向承诺？"
    assert rewrite_followup("它的收入是多少", HISTORY) == "乳源县的收入是多少"
    assert rewrite_followup("收入是多少？", HISTORY) == "乳源县收入是多少？"


def test_complete_questions_and_first_turns_are_left_alone():
    q = "浈江区投入多少资金建设人才公寓？"
    assert not looks_like_followup(q)
    assert rewrite_followup(q, HISTORY) == q
    assert rewrite_followup("那浈江区呢？", None) == "那浈江区呢？"
    assert rewrite_followup("其中有多少个党员？", HISTORY) != "乳源县中有多少个党员？"


def test_english_heuristic():
    history = [{"role": "user", "content": "How many villager groups in Shaoguan have party coverage?"}]
    assert rewrite_followup("What about Ruyuan?", history) == "How many villager groups in Ruyuan have party coverage?"
    assert rewrite_followup("What is its population?", history) == "What is Shaoguan's population?"


def test_llm_rewrite_used_when_a_generator_is_given():
    gen = ScriptedGenerator("改写：浈江区有多少个村级党组织参与了双向承诺？\n多余的话")
    assert rewrite_followup("那浈江区呢？", HISTORY, gen) == "浈江区有多少个村级党组织参与了双向承诺？"
    prompt = gen.calls[0][0]["content"]
    assert "用户：乳源县有多少个村级党组织参与了双向承诺？" in prompt and prompt.endswith("追问：那浈江区呢？\n改写：")


def test_llm_rewrite_falls_back_to_heuristic_when_empty():
    assert rewrite_followup("那浈江区呢？", HISTORY, ScriptedGenerator("")) == "浈江区有多少个村级党组织参与了双向承诺？"


def test_a_model_rewrite_that_drops_the_follow_up_is_not_used():
    history = [{"role": "user", "content": "乳源东坪镇东田村种植的烧仙草有什么功效？"}, {"role": "assistant", "content": "清热解暑[1]。"}]
    gen = ScriptedGenerator("改写：乳源东坪镇东田村种植的烧仙草有什么功效？")
    assert rewrite_followup("他们为此流转了多少亩闲置土地？", history, gen) == "乳源东坪镇东田村为此流转了多少亩闲置土地？"


def test_a_model_rewrite_that_no_longer_asks_what_was_asked_is_not_used():
    # The rewrite keeps 队伍 but asks the previous question's 哪所高校 instead of 多少人.
    history = [{"role": "user", "content": "青山县依托哪所高校建设科技特派员队伍？"}, {"role": "assistant", "content": "华南农业大学[1]。"}]
    gen = ScriptedGenerator("改写：青山县依托哪所高校建设科技特派员队伍？")
    rewritten = rewrite_followup("这支队伍有多少人？", history, gen)
    assert "多少" in rewritten and "哪所" not in rewritten
    # "What about X?" asks what the earlier question asked: its "what" need not survive.
    english = [{"role": "user", "content": "How many villager groups in Shaoguan have party coverage?"}]
    gen = ScriptedGenerator("How many villager groups in Ruyuan have party coverage?")
    assert rewrite_followup("What about Ruyuan?", english, gen) == "How many villager groups in Ruyuan have party coverage?"
