"""Factories for account tests."""

import factory

from apps.accounts.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("phone",)

    phone = factory.Sequence(lambda n: f"+86139{n:08d}")
    nickname = factory.Faker("name", locale="zh_CN")
