"""Embedding fixtures: a tiny random sentence-transformers folder, and a torch-free fake embedder.

`tiny_st_model_dir` exercises the real loading path in a second or two. `FakeEmbedder` / `fake_embedder` stand in
for a model in index and retrieval tests: deterministic, and texts that share characters score higher.
"""

from __future__ import annotations

import string
from pathlib import Path

import pytest

from embeddings.hashing import HashingEmbedder

TINY_HIDDEN = 32
# A few hundred common characters are enough for Chinese test sentences; the rest map to [UNK].
TINY_CJK = (
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天"
    "而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些"
    "与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相"
    "次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立"
    "马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共"
    "风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快"
    "条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李"
    "息写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早房音火际则首单据导影失拿网香似斯"
    "长城古代抵御北方游牧族修建军事防御工程光合作用二氧化碳葡萄糖释放氧气上海位于入海口经济城市问答检索文档"
)


def tiny_vocab() -> list[str]:
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    ascii_chars = [c for c in string.printable if not c.isspace()]
    words = ["query", "passage", "the", "wall", "great", "china", "protein", "python", "file"]
    chars = list(dict.fromkeys(TINY_CJK))
    return specials + ascii_chars + ["##" + c for c in ascii_chars] + words + chars


def build_tiny_st_model(folder: Path, *, seed: int = 0) -> Path:
    """A random 2-layer BERT (hidden 32) saved as a sentence-transformers folder: mean pooling + Normalize."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import BertConfig, BertModel, BertTokenizer

    vocab = tiny_vocab()
    transformer_dir = folder.parent / f"{folder.name}-transformer"
    transformer_dir.mkdir(parents=True)
    (transformer_dir / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizer(vocab={token: i for i, token in enumerate(vocab)}, model_max_length=128).save_pretrained(
        transformer_dir
    )
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=TINY_HIDDEN,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(transformer_dir)

    transformer = Transformer(str(transformer_dir), max_seq_length=128)
    model = SentenceTransformer(
        modules=[transformer, Pooling(TINY_HIDDEN, pooling_mode="mean"), Normalize()], device="cpu"
    )
    model.save(str(folder))
    return folder


@pytest.fixture(scope="session")
def tiny_st_model_dir(tmp_path_factory) -> Path:
    """Path of a tiny random sentence-transformers model folder (built once per test session)."""
    return build_tiny_st_model(tmp_path_factory.mktemp("embedding-models") / "tiny-bert")


class FakeEmbedder(HashingEmbedder):
    """The hashing embedder under the name the tests use."""


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()
