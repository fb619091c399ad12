"""Searching the pool by prefix, ending, digits contained and pattern, one page at a time."""

import pytest

from apps.simcards.errors import SearchTooBroad
from apps.simcards.models import SimNumber
from apps.simcards.selectors import numbers_search
from apps.simcards.tests.support import numbers

pytestmark = pytest.mark.django_db


@pytest.fixture
def pool():
    return numbers(
        "13800138888", "13800135200", "13952012345", "13800136688", "15000000888",
        "18852015678", "13800131234", "13800135252",
    )  # fmt: skip


def _found(**query) -> list[str]:
    return [n.msisdn[3:] for n in numbers_search(**query).results]


def test_search_by_prefix_suffix_contains_and_pattern(pool):
    assert _found(prefix="1380013") == [
        "13800131234", "13800135200", "13800135252", "13800136688", "13800138888",
    ]  # fmt: skip
    # An ending alone is listed in the order of its index: by the reversed number.
    assert _found(suffix="888") == ["15000000888", "13800138888"]
    assert _found(contains="520") == ["13800135200", "13952012345", "18852015678"]
    assert _found(pattern="AABB") == ["13800136688"]
    assert _found(pattern="ABCD") == ["13800131234", "13952012345", "18852015678"]
    assert _found(prefix="138", suffix="52", contains="35") == ["13800135252"]
    assert _found(prefix="150", suffix="888") == ["15000000888"]
    assert _found(prefix="199") == []


def test_only_available_numbers_are_found(pool):
    SimNumber.objects.filter(msisdn="+8613800138888").update(status="retired")
    assert _found(suffix="888") == ["15000000888"]


def test_pages_say_whether_there_is_a_next_one(pool):
    first = numbers_search(prefix="138", page_size=3)
    second = numbers_search(prefix="138", page=2, page_size=3)
    assert [n.msisdn[-4:] for n in first.results] == ["1234", "5200", "5252"]
    assert first.has_next is True
    assert [n.msisdn[-4:] for n in second.results] == ["6688", "8888"]
    assert second.has_next is False


def test_a_result_carries_its_display_pattern_and_premium(pool):
    (found,) = numbers_search(suffix="8888").results
    assert (found.display, found.pattern, found.premium_fen) == ("138 0013 8888", "AAAA", 99_900)


@pytest.mark.parametrize(
    "query",
    [
        {"prefix": "13a"},
        {"suffix": "８８８"},
        {"contains": "1" * 12},
        {"pattern": "XYZ"},
        {"page": 0},
    ],
)
def test_bad_searches_are_refused(pool, query):
    with pytest.raises(SearchTooBroad):
        numbers_search(**query)
