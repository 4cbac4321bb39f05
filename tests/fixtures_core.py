"""Fixtures for index/retrieval/CLI tests: a small Chinese collection on disk."""

import pytest

from rag import cache

DOCS = {
    "a.txt": "浈江区人才工作\n\n浈江区共投资200多万元建设完善人才公寓，已推荐47家企业申报高新技术企业。\n\n"
             "浈江区联合仲恺农业工程学院、韶关学院举办农技人员培训班。",
    "b.txt": "乳源瑶族自治县基层治理\n\n乳源县115个村级党组织参与“双向承诺”。\n\n鹰峰社区常驻人口达2.7万人。",
    "sub/c.md": "# 肇庆乡村振兴\n\n肇庆投入3.3亿元建成2629套乡镇干部周转房。\n\n贺江碧道画廊2021年接待游客76.1万人次。",
}


@pytest.fixture(autouse=True)
def _keep_cache_root():
    """Loading settings sets the process's cache root (rag.cache): each test starts from the run's own."""
    saved = cache.cache_dir()
    yield
    cache.set_cache_dir(saved)


@pytest.fixture
def cache_root(tmp_path):
    """An empty cache root for this test."""
    cache.set_cache_dir(tmp_path / "cache")
    return tmp_path / "cache"


@pytest.fixture
def corpus_dir(tmp_path):
    root = tmp_path / "corpus"
    for name, text in DOCS.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return root
