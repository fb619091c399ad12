"""Mobile numbers and resident identity numbers."""

import pytest

from apps.accounts.errors import InvalidIdNumber, InvalidPhoneNumber, InvalidRealName
from apps.accounts.validators import (
    display_phone,
    id_check_char,
    mask_id_number,
    mask_phone,
    normalize_id_number,
    normalize_phone,
    normalize_real_name,
)


@pytest.mark.parametrize(
    "raw",
    ["13800138000", "+8613800138000", "+86 138 0013 8000", "008613800138000", "138-0013-8000"],
)
def test_chinese_mobile_numbers_normalize_to_e164(raw):
    assert normalize_phone(raw) == "+8613800138000"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "12345",
        "1380013800",
        "138001380001",
        "02012345678",
        "abc",
        "+1 202 555 0100x" * 3,
    ],
)
def test_invalid_or_non_mobile_numbers_are_refused(raw):
    with pytest.raises(InvalidPhoneNumber) as info:
        normalize_phone(raw)
    assert info.value.code == "INVALID_PHONE_NUMBER"


def test_display_and_mask():
    assert display_phone("+8613800138000") == "138 0013 8000"
    assert mask_phone("+8613800138000") == "138****8000"


def _valid_id(first17: str) -> str:
    return first17 + id_check_char(first17)


def test_id_number_checksum_known_value():
    # The GB 11643-1999 example: 11010519491231002X.
    assert id_check_char("11010519491231002") == "X"
    assert normalize_id_number("11010519491231002x") == "11010519491231002X"


@pytest.mark.parametrize(
    "raw",
    [
        "110105194912310021",  # wrong check digit
        "11010519491231002",  # 17 characters
        "99010519491231002X",  # no such province
        _valid_id("11010519491331002"),  # month 13
        _valid_id("11010521991231002"),  # born in the future
        "ABCDEFGHIJKLMNOPQR",
    ],
)
def test_bad_id_numbers_are_refused(raw):
    with pytest.raises(InvalidIdNumber):
        normalize_id_number(raw)


def test_id_number_mask():
    assert mask_id_number("11010519491231002X") == "1101**********002X"


def test_real_name_rules():
    assert normalize_real_name("  张  三 ") == "张 三"
    for bad in ["张", "张3", ""]:
        with pytest.raises(InvalidRealName):
            normalize_real_name(bad)
