import pytest

from apps.demo.wechat_seed import seed_wechat_menu
from apps.wechat.services import menu_definition

pytestmark = pytest.mark.django_db


def test_the_demo_menu_seeds_once_and_is_a_valid_menu():
    assert seed_wechat_menu() == 5
    assert seed_wechat_menu() == 0
    menu = menu_definition()
    assert [b["name"] for b in menu["button"]] == ["商城", "我的", "活动"]
    assert menu["button"][1]["sub_button"][0] == {
        "type": "click",
        "name": "查话费",
        "key": "BALANCE",
    }
