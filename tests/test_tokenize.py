from rag.text.tokenize import normalize, tokenize


def test_numbers_stay_whole():
    toks = tokenize("韶关市有13757个村民小组，常住人口2.7万人，2021年增长3.5%")
    assert "13757" in toks
    assert "2.7万" in toks and "2.7" in toks
    assert "2021" in toks
    assert "3.5%" in toks


def test_question_words_and_punctuation_dropped():
    toks = tokenize("浈江区投入多少资金建设人才公寓？")
    assert "多少" not in toks and "？" not in toks and "?" not in toks
    assert "浈江" in toks or "浈江区" in toks
    assert "人才" in toks and "公寓" in toks


def test_search_mode_yields_subwords():
    toks = tokenize("中华人民共和国")
    assert "中华人民共和国" in toks and "中华" in toks


def test_traditional_folds_to_simplified():
    assert normalize("鄉村振興") == "乡村振兴"
    assert set(tokenize("鄉村振興")) == set(tokenize("乡村振兴"))


def test_fullwidth_and_case_folded():
    assert tokenize("ＡＢＣ　Ｑｗｅｎ") == tokenize("abc qwen")


def test_empty_text():
    assert tokenize("") == []
    assert tokenize("？！。") == []
