"""Document fixtures: the seed articles (raw and cleaned), the dev eval set beside them, and random texts for chunking."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from rag.ingest.documents import extract_text, load_documents

REPO = Path(__file__).resolve().parents[1]
SEED_DIR = REPO / "data" / "demo"
SEED_EVAL = REPO.parent / "shared" / "eval" / "seed_dev.jsonl"

HAN = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研质"
SENTENCE_ENDS = "。！？；…!?;"


def random_document_text(rng: random.Random) -> str:
    """Messy cleaned-looking text: headings, short and very long paragraphs, quotes, English, odd whitespace."""
    paragraphs = []
    for _ in range(rng.randint(0, 14)):
        kind = rng.random()
        if kind < 0.2:  # heading
            paragraphs.append("".join(rng.choice(HAN) for _ in range(rng.randint(2, 16))))
            continue
        sentences = []
        for _ in range(rng.randint(1, 40 if kind > 0.8 else 6)):
            body = "".join(rng.choice(HAN + "，、 ") for _ in range(rng.randint(1, 120)))
            if rng.random() < 0.1:
                body += " Hello world. It costs 3.5 dollars"
            end = rng.choice(SENTENCE_ENDS) + rng.choice(["", "", "”", "）"])
            sentences.append(body + (end if rng.random() < 0.9 else ""))
        if rng.random() < 0.05:
            sentences.append("无标点" * rng.randint(100, 400))  # a run-on sentence over max_chars
        paragraph = "".join(sentences)
        if rng.random() < 0.1:
            paragraph = paragraph.replace("，", "\n", 2)  # a multi-line paragraph
        paragraphs.append(paragraph)
    separators = ["\n\n", "\n\n\n", "\n \n", "\n\n"]
    text = ""
    for paragraph in paragraphs:
        text += paragraph + rng.choice(separators)
    return rng.choice(["", " ", "\n"]) + text


@pytest.fixture(scope="session")
def seed_dir() -> Path:
    if not SEED_DIR.is_dir():
        pytest.skip("seed corpus data/demo is absent")
    return SEED_DIR


@pytest.fixture(scope="session")
def seed_raw_texts(seed_dir) -> dict[str, str]:
    """Seed articles as read (decoded and normalised), before cleaning, by file name."""
    return {path.name: extract_text(path).text for path in sorted(seed_dir.glob("*.txt"))}


@pytest.fixture(scope="session")
def seed_documents(seed_dir):
    loaded = load_documents([seed_dir])
    assert not loaded.skipped
    return loaded.documents


@pytest.fixture(scope="session")
def seed_eval_questions() -> list[dict]:
    if not SEED_EVAL.is_file():
        pytest.skip("../shared/eval/seed_dev.jsonl is absent")
    return [json.loads(line) for line in SEED_EVAL.read_text(encoding="utf-8").splitlines() if line.strip()]
