"""Hypothesis strategies for personal numbers as people type them, and the check that none leaked.

Each strategy draws (typed, secrets): `typed` is the number in one of the formats people use
(mobiles plain, dashed, spaced, with +86, in full-width digits; landlines with their area code;
ID numbers of 18 characters with a correct check character, X included, and old 15-digit ones,
as one run or in groups), `secrets` the digit runs that must not appear in any public output.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from hypothesis import strategies as st

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
AREAS = ("450102", "450103", "110105", "440305", "310115", "510104")
AREA_CODES = ("010", "020", "021", "028", "0755", "0771", "0772", "0898")


def full_width(s: str) -> str:
    """Digits, '+', '-', '(' and ')' as a Chinese input method types them."""
    table = {c: chr(ord(c) + 0xFEE0) for c in "0123456789+-()"}
    return "".join(table.get(c, c) for c in s).replace(" ", "\u3000")


def check_char(first17: str) -> str:
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def _digits(n: int):
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


@st.composite
def mobiles(draw):
    number = "1" + draw(st.sampled_from("3456789")) + draw(_digits(9))
    a, b, c = number[:3], number[3:7], number[7:]
    typed = draw(st.sampled_from([
        number, f"{a}-{b}-{c}", f"{a} {b} {c}", f"+86{number}", f"+86 {a} {b} {c}", f"+86-{number}",
        full_width(number), full_width(f"{a}-{b}-{c}"), full_width(f"+86 {a} {b} {c}")]))
    return typed, (number,)


@st.composite
def landlines(draw):
    area = draw(st.sampled_from(AREA_CODES))
    local = draw(st.sampled_from("2345678")) + draw(_digits(draw(st.sampled_from([6, 7]))))
    typed = draw(st.sampled_from([
        f"{area}-{local}", f"{area} {local}", f"({area}){local}", f"{area}{local}",
        full_width(f"{area}-{local}"), f"（{area}）{local}"]))
    return typed, (area[1:] + local, local)


@st.composite
def id_numbers(draw):
    area = draw(st.sampled_from(AREAS))
    born = draw(st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date(2020, 12, 31)))
    seq = draw(_digits(3))
    first17 = area + born.strftime("%Y%m%d") + seq
    number = first17 + check_char(first17)
    typed = draw(st.sampled_from([
        number, number.lower(), f"{area} {born:%Y%m%d} {seq}{number[-1]}", f"{area}-{born:%Y%m%d}-{seq}{number[-1]}",
        " ".join(number[i:i + 4] for i in range(0, 18, 4)), full_width(number)]))
    return typed, (number[:17],)


@st.composite
def old_id_numbers(draw):
    area = draw(st.sampled_from(AREAS))
    born = draw(st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date(1999, 12, 31)))
    number = area + born.strftime("%y%m%d") + draw(_digits(3))
    typed = draw(st.sampled_from([number, f"{area} {number[6:12]} {number[12:]}",
                                  f"{area}-{number[6:12]}-{number[12:]}", full_width(number)]))
    return typed, (number,)


personal_numbers = st.one_of(mobiles(), landlines(), id_numbers(), old_id_numbers())

# Text around the number: Chinese and English words, punctuation and spaces, never a digit.
_WORDS = st.sampled_from(["请联系", "电话", "身份证", "我家老人", "小区门口", "谢谢", "call me", "ID", "phone:",
                          "tel", "，", "。", "：", " ", "、", "（", "）", "please", "王奶奶", "the"])
filler = st.lists(_WORDS, max_size=4).map("".join)


@st.composite
def texts_with_a_number(draw, max_len=100):
    """(text, secrets): a number in one of the formats, with words before and after it."""
    typed, secrets = draw(personal_numbers)
    text = draw(filler) + typed + draw(filler)
    return text[:max_len] if len(text) > max_len else text, secrets


def leaked(output: str, secrets) -> list[str]:
    """The secrets that can be read in `output`, whatever the width of its digits or their separators."""
    flat = re.sub(r"[\s\-+()]", "", unicodedata.normalize("NFKC", output))
    return [s for s in secrets if s in flat or s.upper() in flat]
