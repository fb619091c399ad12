"""Licence numbers (GB 32100-2015), callback URLs and IP allow-lists as partners type them."""

import pytest

from apps.gateway.portal.errors import (
    InvalidCallbackUrl,
    InvalidContact,
    InvalidIpAllowList,
    InvalidLicenceNumber,
)
from apps.gateway.portal.validators import (
    USCC_WEIGHTS,
    normalize_callback_url,
    normalize_callback_urls,
    normalize_email,
    normalize_ip_allow_list,
    normalize_licence_number,
    split_lines,
    uscc_check_char,
)


def test_weights_are_the_standards_table():
    assert USCC_WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y43",  # the standard's worked example
        "9144030071526726XG",  # real companies' published codes
        "91330100799655058B",
        "91110108551385082Q",
        "12100000400000624D",  # a public institution (category 1)
    ],
)
def test_valid_codes_pass(code):
    assert normalize_licence_number(code) == code


def test_lower_case_and_spaces_are_normalized():
    assert normalize_licence_number(" 91350100m000100y43 ") == "91350100M000100Y43"
    assert normalize_licence_number("9135 0100 M000 100Y 43") == "91350100M000100Y43"


def test_check_char_of_a_sum_divisible_by_31_is_zero():
    # 31 - 0 would be 31, outside the alphabet; the standard maps it to "0".
    assert uscc_check_char("00000000000000000") == "0"
    assert uscc_check_char("49000000000000000") == "0"  # 4 x 1 + 9 x 3 = 31
    assert uscc_check_char("10000000000000000") == "Y"  # 31 - 1 = 30


@pytest.mark.parametrize(
    "code",
    [
        "",
        "91350100M000100Y4",  # 17 characters
        "91350100M000100Y433",  # 19
        "91350100M000100Y44",  # wrong check character
        "91350100M000100Y4I",  # I is not in the alphabet
        "91350100M000100O43",  # O neither
        "913501A0M000100Y43",  # region code must be digits
        "9135 0100 M000 100Y 4",
        "９１３５０１００M000100Y43",  # full-width digits
        "91３５０１００M000100Y43",  # full-width region code
    ],
)
def test_invalid_codes_are_refused(code):
    with pytest.raises(InvalidLicenceNumber) as info:
        normalize_licence_number(code)
    assert info.value.code == "INVALID_LICENCE_NUMBER"


@pytest.mark.parametrize(
    "url",
    [
        "https://partner.example.com/callbacks/sms",
        "https://partner.example.com:8443/cb?x=1",
        "http://127.0.0.1:9000/cb",
        "http://127.8.9.10/cb",
        "http://localhost:8000/cb",
        "http://[::1]:8000/cb",
    ],
)
def test_https_or_loopback_http_callbacks_pass(url, settings):
    settings.GATEWAY_CALLBACK_ALLOW_LOOPBACK = True  # the demo sandbox's receiver is local
    assert normalize_callback_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "",
        "http://partner.example.com/cb",
        "http://10.0.0.5/cb",
        "http://192.168.1.1/cb",
        "ftp://partner.example.com/cb",
        "https://",
        "https://user:pw@partner.example.com/cb",
        "https://partner.example.com/cb#frag",
        "https://partner.example.com:99999/cb",
        "https://partner.example.com/a b",
        "javascript:alert(1)",
        "https://partner.example.com/" + "a" * 500,
    ],
)
def test_other_callbacks_are_refused(url):
    with pytest.raises(InvalidCallbackUrl):
        normalize_callback_url(url)


def test_callback_list_is_deduplicated_and_capped():
    one, two = "https://a.example.com/cb", "https://b.example.com/cb"
    assert normalize_callback_urls([one, two, one]) == [one, two]
    with pytest.raises(InvalidCallbackUrl) as info:
        normalize_callback_urls([f"https://h{i}.example.com/" for i in range(6)])
    assert info.value.details == {"max": 5}


def test_allow_list_is_canonical_cidr():
    assert normalize_ip_allow_list(["203.0.113.0/24", "198.51.100.7", "2001:db8::/32"]) == [
        "203.0.113.0/24",
        "198.51.100.7/32",
        "2001:db8::/32",
    ]
    assert normalize_ip_allow_list(["10.0.0.0/8", " 10.0.0.0/8 "]) == ["10.0.0.0/8"]
    assert normalize_ip_allow_list([]) == []


@pytest.mark.parametrize("entry", ["10.0.0.5/24", "300.1.1.1", "10.0.0.0/33", "example.com", ""])
def test_bad_allow_list_entries_are_refused(entry):
    with pytest.raises(InvalidIpAllowList) as info:
        normalize_ip_allow_list(["10.0.0.0/8", entry])
    assert info.value.details == {"entry": entry}


def test_allow_list_is_capped():
    with pytest.raises(InvalidIpAllowList):
        normalize_ip_allow_list([f"10.0.{i}.0/24" for i in range(51)])


def test_split_lines_takes_newlines_and_commas():
    assert split_lines(" a \n\n b, c;d \r\n") == ["a", "b", "c", "d"]


def test_email():
    assert normalize_email(" Dev@Example.COM ") == "dev@example.com"
    with pytest.raises(InvalidContact):
        normalize_email("not-an-email")
