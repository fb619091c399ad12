"""The workbench reviews CPs and products through the services (a rejection asks the reason)."""

from __future__ import annotations

import pytest
from django.contrib.admin import helpers

from apps.accounts.models import User
from apps.content import services
from apps.content.models import ContentProduct, ContentProvider
from apps.content.tests.support import approved_cp

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = User.objects.create_superuser("+8613900009999", password="x")
    client.force_login(user)
    return client


def test_an_operator_rejects_a_cp_with_a_reason_and_approves_a_product(staff):
    user = User.objects.create_user("+8613711113333")
    cp = services.cp_register(user_id=user.pk, name="测试CP", licence_number="W-1", bank_account="1",
                              contact_name="a", contact_phone="1")  # fmt: skip
    url = "/admin/content/contentprovider/"
    ask = staff.post(url, {"action": "reject", helpers.ACTION_CHECKBOX_NAME: [cp.pk]})
    assert ask.status_code == 200 and ContentProvider.objects.get(pk=cp.pk).status == "pending"
    staff.post(
        url,
        {
            "action": "reject",
            "apply": "1",
            "reason": "资质不全",
            helpers.ACTION_CHECKBOX_NAME: [cp.pk],
        },
    )
    assert ContentProvider.objects.values_list("status", "reject_reason").get(pk=cp.pk) == (
        "rejected",
        "资质不全",
    )
    ok = approved_cp()
    product = services.product_create(cp_id=ok.pk, actor_id=None, kind="game", title="消消乐", description="",
                                      price_fen=600, billing_mode="one_off", billing_code="G9")  # fmt: skip
    staff.post(
        "/admin/content/contentproduct/",
        {"action": "approve", helpers.ACTION_CHECKBOX_NAME: [product.pk]},
    )
    assert ContentProduct.objects.get(pk=product.pk).status == "approved"
    assert staff.get("/admin/content/charge/").status_code == 200
