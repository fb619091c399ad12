"""Test helpers: an approved CP with a product on sale."""

from __future__ import annotations

import itertools

from apps.accounts.models import User
from apps.content import services
from apps.content.models import ContentProduct, ContentProvider

_numbers = itertools.count(1)


def operator() -> User:
    return User.objects.get_or_create(phone="+8613900000001")[0]


def approved_cp(*, share_bp: int | None = None) -> ContentProvider:
    n = next(_numbers)
    member = User.objects.create_user(f"+861370000{n:04d}")
    cp = services.cp_register(user_id=member.pk, name=f"CP {n}", licence_number=f"LIC-{n}-{member.pk}",
                              bank_account="6222000011112222", contact_name="李四", contact_phone="13700000000")  # fmt: skip
    services.cp_review(cp_id=cp.pk, decision="approve", actor_id=operator().pk)
    if share_bp is not None:
        ContentProvider.objects.filter(pk=cp.pk).update(revenue_share_bp=share_bp)
    cp.refresh_from_db()
    return cp


def product_on_sale(cp: ContentProvider, *, price_fen: int = 1000, mode: str = "one_off", kind: str = "reading",
                    notify_url: str = "", chapters: int = 0) -> ContentProduct:  # fmt: skip
    product = services.product_create(
        cp_id=cp.pk, actor_id=None, kind=kind, title=f"{kind} {next(_numbers)}", description="好看",
        price_fen=price_fen, billing_mode=mode, billing_code=f"B{next(_numbers)}", notify_url=notify_url,
        chapters=[(f"第{i}章", f"正文{i}") for i in range(1, chapters + 1)],
    )  # fmt: skip
    return services.product_review(
        product_id=product.pk, decision="approve", actor_id=operator().pk
    )
