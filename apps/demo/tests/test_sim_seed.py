"""The demo seed's number pool and ``manage.py sim_pool_generate``."""

import pytest
from django.core.management import CommandError, call_command

from apps.demo.sim_seed import DEMO_POOL_SIZE, seed_sim_pool
from apps.simcards.models import SimNumber

pytestmark = pytest.mark.django_db


def test_the_demo_pool_is_seeded_once_with_pretty_numbers():
    assert seed_sim_pool() == DEMO_POOL_SIZE
    assert seed_sim_pool() == 0
    assert SimNumber.objects.count() == DEMO_POOL_SIZE
    assert set(SimNumber.objects.values_list("city", flat=True)) == {"广州"}
    pretty = set(SimNumber.objects.exclude(pattern="").values_list("pattern", flat=True))
    assert pretty == {"AAAA", "ABCD", "AAA", "AABB", "ABAB"}


def test_sim_pool_generate_adds_numbers_and_refuses_bad_counts(capsys):
    call_command("sim_pool_generate", "--count", "50", "--seed", "9")
    assert "50 numbers added to the pool" in capsys.readouterr().out
    assert SimNumber.objects.count() == 50
    with pytest.raises(CommandError, match="--count must be"):
        call_command("sim_pool_generate", "--count", "0")
