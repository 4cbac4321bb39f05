"""Chinese numerals read as numbers (rag/text/numerals.py)."""

import pytest

from rag.text.numerals import chinese_numeral, numeral_value, spelled_quantities


@pytest.mark.parametrize("numeral, value", [
    ("28", 28), ("二十八", 28), ("两", 2), ("十", 10), ("十二", 12), ("一百二十", 120), ("两千", 2000),
    ("三万五千", 35000), ("二〇二三", 2023), ("零", 0), ("第二", None), ("", None),
])
def test_numeral_values(numeral, value):
    assert numeral_value(numeral) == value


def test_spelled_quantities_need_a_measure_word():
    assert spelled_quantities("面积才两平方公里，三个镇，十二名干部") == ["2", "3", "12"]
    assert spelled_quantities("一些人十分高兴，三农问题，第二届") == []


def test_chinese_numeral_round_trips_small_numbers():
    assert [numeral_value(chinese_numeral(n)) for n in (3, 10, 28, 99)] == [3, 10, 28, 99]
    assert chinese_numeral(120) == "120"
