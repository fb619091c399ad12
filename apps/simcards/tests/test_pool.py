"""Loading the pool: patterns and premiums, the operators' CSV import, the generated pool."""

import pytest

from apps.carrier.selectors import home_province
from apps.simcards.models import SimNumber
from apps.simcards.patterns import pattern_of
from apps.simcards.pool import numbers_generate, numbers_import


@pytest.mark.parametrize(
    ("digits", "pattern"),
    [
        ("13800008888", "AAAA"),
        ("13800005678", "ABCD"),
        ("13800008765", "ABCD"),
        ("13800001888", "AAA"),
        ("13800006688", "AABB"),
        ("13800005252", "ABAB"),
        ("13800005201", ""),
        ("13800001357", ""),
    ],
)
def test_the_pattern_of_a_number_is_read_from_its_ending(digits, pattern):
    assert pattern_of(digits) == pattern


@pytest.mark.django_db
def test_a_csv_loads_new_numbers_with_their_premiums_and_skips_known_ones():
    text = (
        "msisdn,premium_fen,province,city\n"
        "13800138888,,广东,广州\n"
        "+86 138-0013-8001,500,广东,广州\n"
        "13800138888,,广东,广州\n"
    )
    first = numbers_import(text=text)
    assert (first.created, first.existing, first.errors) == (2, 0, [])
    assert list(SimNumber.objects.values_list("msisdn", "pattern", "premium_fen", "city")) == [
        ("+8613800138001", "", 500, "广州"),
        ("+8613800138888", "AAAA", 99_900, "广州"),
    ]
    again = numbers_import(text=text)
    assert (again.created, again.existing) == (0, 2)


@pytest.mark.django_db
def test_a_number_without_a_province_gets_its_home_province_from_its_segment():
    numbers_import(text="msisdn\n13400001234\n")
    numbers_generate(count=20, seed=11)
    rows = list(SimNumber.objects.values_list("msisdn", "province"))
    assert ("+8613400001234", "北京") in rows
    assert all(province == home_province(msisdn=msisdn) != "" for msisdn, province in rows)


@pytest.mark.django_db
def test_a_csv_with_a_bad_row_loads_nothing_and_names_every_bad_row():
    text = "msisdn,premium_fen\n13800138000,\n13000138000,\n138001380,\n13800138001,-5\n"
    result = numbers_import(text=text)
    assert result.created == 0
    assert [line for line, _ in result.errors] == [3, 4, 5]
    assert "130 is not one of our number segments" in result.errors[0][1]
    assert not SimNumber.objects.exists()
    assert numbers_import(text="number\n13800138000\n").errors == [
        (1, "the header row must name a msisdn column")
    ]


@pytest.mark.django_db
def test_the_generated_pool_is_the_same_for_a_seed_and_has_pretty_numbers():
    assert numbers_generate(count=400, seed=7) == 400
    assert numbers_generate(count=400, seed=7) == 0
    assert SimNumber.objects.count() == 400
    assert SimNumber.objects.exclude(pattern="").count() >= 20
    pretty = SimNumber.objects.filter(pattern="AAAA").first()
    assert pretty is not None and pretty.premium_fen == 99_900
