"""The retention job's free-text masking: phone and ID numbers in the formats people type."""

import pytest

from gongzhi.core import retention


@pytest.mark.parametrize("text, gone", [
    ("请联系13812345678", "12345678"),
    ("电话 138-1234-5678 谢谢", "1234-5678"),
    ("电话 138 1234 5678", "1234 5678"),
    ("+8613812345678", "12345678"),
    ("１３８１２３４５６７８", "12345678"),
    ("座机0771-5551234", "5551234"),
    ("身份证450102199001011234", "199001011234"),
    ("身份证 450102 19900101 123X", "19900101"),
    ("旧证450102900101123", "900101123"),
])
def test_numbers_are_masked(text, gone):
    masked = retention.mask_text(text)
    assert gone not in masked.replace("*", "#") and "*" in masked


def test_other_numbers_stay():
    text = "诉求 SQ20261207000001 于 2026-12-07 办结，共 3 人"
    assert retention.mask_text(text) == text
    assert retention.mask_json({"a": ["13812345678", 5]}) == {"a": ["138****5678", 5]}
