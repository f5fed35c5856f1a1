"""The one rule of public text: phone and ID numbers typed anywhere are masked, ordinary numbers kept."""

import pytest
from hypothesis import given, settings

from gongzhi.core import pii
from tests.pii_numbers import check_char, leaked, texts_with_a_number


@settings(max_examples=400, deadline=None)
@given(texts_with_a_number())
def test_no_phone_or_id_number_survives_in_any_format(case):
    text, secrets = case
    out = pii.mask_public_text(text)
    assert not leaked(out, secrets), (text, out)


@pytest.mark.parametrize(("typed", "masked"), [
    ("请联系13812345678 身份证450102199001011234", "请联系138****5678 身份证4501**********1234"),
    ("138-1234-5678", "138****5678"),
    ("138 1234 5678", "138****5678"),
    ("+8613812345678", "138****5678"),
    ("电话：１３８１２３４５６７８。", "电话：138****5678。"),
    ("0771-5551234", "077****1234"),
    ("（0771）5551234", "077****1234"),
    ("11010519491231002X", "1101**********002X"),
    ("110105 19491231 002x", "1101**********002X"),
    ("110105491231002", "1101*******1002"),
    ("Call 138 1234 5678 please", "Call 138****5678 please"),
])
def test_each_format_is_masked_keeping_a_few_digits(typed, masked):
    assert pii.mask_public_text(typed) == masked


def test_full_width_text_around_a_number_is_kept_as_typed():
    # Only the number is normalised: the full-width words around it stay as they were typed.
    assert pii.mask_public_text("ＡＢＣ：１３８－１２３４－５６７８，ｏｋ") == "ＡＢＣ：138****5678，ｏｋ"


@pytest.mark.parametrize("text", [
    "补贴金额200000元，另有1500元",
    "活动日期2026-12-07，截止2026年12月7日",
    "与诉求 SQ20261126000001 重复",
    "3栋1201室，5号楼2单元，邮编530012",
    "人口 1234567 人，面积 12345678 平方米",
    "订单号 202612070000000001",
    "时间 2026-12-07 08:30:00",
    "坐标 108.320000, 22.820000",
])
def test_ordinary_numbers_are_kept(text):
    assert pii.mask_public_text(text) == text


def test_the_check_character_is_gb_11643():
    first17 = "11010519491231002"
    assert check_char(first17) == "X" and pii.id_checksum_ok(first17 + "X")
    assert not pii.id_checksum_ok(first17 + "1")


def test_empty_and_numberless_text_come_back_unchanged():
    assert pii.mask_public_text("") == ""
    assert pii.mask_public_text(None) == ""
    assert pii.mask_public_text("楼道灯坏了") == "楼道灯坏了"
