"""Chinese numerals as numbers: "两平方公里" is the question's own 2, "第二十八届" is the 28th.

Documents and questions write small quantities in characters ("两名", "三个镇") as often as in
digits; the answer checks compare numbers, so both spellings have to meet as one value."""

from __future__ import annotations

import re

_CN_DIGITS = "零一二三四五六七八九"
_DIGITS = {c: i for i, c in enumerate(_CN_DIGITS)} | {"〇": 0, "两": 2}
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_LARGE_UNITS = {"万": 10_000, "亿": 100_000_000}
# A Chinese numeral before what it measures ("两平方公里", "三个", "十二名"); the measure word keeps
# words such as "一些", "十分", "三农" out.
_MEASURES = ("平方公里|平方米|公里|千米|公顷|亩|个|家|位|名|支|条|项|次|天|年|人|件|元|所|座|套|种|批|类|户|村|镇|"
             "万|亿|届|期|座|栋|间|只|头|吨|米|岁|倍|成|场|台|辆|艘|部|篇|本|张|份|处|片|列|趟|轮")
_SPELLED_QUANTITY = re.compile(r"(?<![零〇一二三四五六七八九十百千两第])([零〇一二三四五六七八九十百千两]+)(?=(?:多|余)?(?:" + _MEASURES + "))")


def numeral_value(numeral: str) -> int | None:
    """The value of a numeral written in digits or Chinese characters ("28", "二十八", "两", "二〇二三");
    None when it is not one."""
    if numeral.isdigit():
        return int(numeral)
    if len(numeral) > 1 and all(c in _DIGITS and c != "两" for c in numeral):
        return int("".join(str(_DIGITS[c]) for c in numeral))  # "二〇二三" is read digit by digit
    total, section, current = 0, 0, None
    for c in numeral:
        if c in _DIGITS:
            current = _DIGITS[c]
        elif c in _SMALL_UNITS:
            section += (1 if current is None else current) * _SMALL_UNITS[c]
            current = None
        elif c in _LARGE_UNITS:
            total += (section + (current or 0)) * _LARGE_UNITS[c]
            section, current = 0, None
        else:
            return None
    value = total + section + (current or 0)
    return value if numeral else None


def chinese_numeral(value: int) -> str:
    """The usual character spelling of a small number (28 → "二十八"); larger ones stay in digits."""
    if value < 10:
        return _CN_DIGITS[value]
    if value < 100:
        tens, ones = divmod(value, 10)
        return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")
    return str(value)


def spelled_quantities(text: str) -> list[str]:
    """The values, in digits, of the quantities ``text`` writes in Chinese characters ("两平方公里" → "2")."""
    out = []
    for m in _SPELLED_QUANTITY.finditer(text):
        value = numeral_value(m.group(1))
        if value is not None:
            out.append(str(value))
    return out


__all__ = ["numeral_value", "chinese_numeral", "spelled_quantities"]
