"""The address book: one default, divisions from the data file, the picker's lists."""

import pytest
from django.db import IntegrityError

from apps.accounts import divisions, selectors, services
from apps.accounts.errors import AddressNotFound, InvalidAddress
from apps.accounts.models import Address, User
from apps.accounts.services import AddressInput

pytestmark = pytest.mark.django_db
HOME = AddressInput("张三", "138 0013 8000", "广东省", "广州市", "天河区", "天河路1号")
WORK = AddressInput("张三", "13800138000", "北京市", "北京市", "海淀区", "中关村大街1号")


@pytest.fixture
def buyer():
    return User.objects.create_user("13800138000")


def test_divisions_come_from_the_data_file():
    assert len(divisions.provinces()) == 34
    assert "深圳市" in divisions.cities("广东省")
    assert "天河区" in divisions.districts("广东省", "广州市")
    assert "市辖区" not in divisions.districts("广东省", "广州市")
    assert divisions.districts("广东省", "东莞市") == []  # no districts: the field stays empty
    assert divisions.division_valid("广东省", "东莞市", "")
    assert not divisions.division_valid("广东省", "北京市", "海淀区")


def test_the_first_address_is_the_default_and_one_default_holds(buyer):
    home = services.address_create(user_id=buyer.pk, data=HOME)
    work = services.address_create(user_id=buyer.pk, data=WORK)
    assert (home.is_default, work.is_default, home.phone) == (True, False, "13800138000")
    services.address_set_default(user_id=buyer.pk, address_id=work.id)
    assert [a.id for a in selectors.addresses_for(user_id=buyer.pk) if a.is_default] == [work.id]
    services.address_delete(user_id=buyer.pk, address_id=work.id)
    assert [(a.id, a.is_default) for a in selectors.addresses_for(user_id=buyer.pk)] == [
        (home.id, True)
    ]
    with pytest.raises(IntegrityError):
        Address.objects.create(user=buyer, name="x", phone="1", province="p", city="c",
                               detail="d", is_default=True)  # fmt: skip


def test_made_up_divisions_and_other_users_addresses_are_refused(buyer):
    with pytest.raises(InvalidAddress):
        services.address_create(user_id=buyer.pk, data=AddressInput("张三", "13800138000", "广东省", "广州市", "海淀区", "x"))  # fmt: skip
    other = User.objects.create_user("13900139000")
    theirs = services.address_create(user_id=other.pk, data=HOME)
    with pytest.raises(AddressNotFound):
        services.address_delete(user_id=buyer.pk, address_id=theirs.id)
    assert not Address.objects.filter(user=buyer).exists()
    assert Address.objects.filter(pk=theirs.id).exists()


def test_the_address_pages_and_the_picker(client, buyer):
    client.force_login(buyer)
    page = client.get("/my/addresses/").content.decode()
    assert 'value="13800138000"' in page and "<option>广东省</option>" in page
    cities = client.get("/my/addresses/divisions/", {"level": "city", "province": "广东省"})
    assert "<option>深圳市</option>" in cities.content.decode()
    towns = client.get(
        "/my/addresses/divisions/", {"level": "district", "province": "广东省", "city": "广州市"}
    ).content.decode()
    assert "<option>天河区</option>" in towns and "<option selected>广州市</option>" in towns
    response = client.post("/my/addresses/", {"name": "张三", "phone": "13800138000",
                           "province": "广东省", "city": "广州市", "district": "天河区", "detail": "天河路1号"})  # fmt: skip
    assert response.status_code == 302
    assert "广东省广州市天河区天河路1号" in client.get("/my/addresses/").content.decode()
    bad = client.post("/my/addresses/", {"name": "张三", "phone": "13800138000",
                      "province": "广东省", "city": "深圳市", "district": "天河区", "detail": "x"})  # fmt: skip
    assert bad.status_code == 400
    assert Address.objects.count() == 1
