"""``manage.py totp_code <phone>``: the current authenticator code of a staff member.

For the demo and the sandbox, where the demo staff share a published secret: it reads the
secret from the database, so anyone who can run it could sign in as that staff member. Production
staff enrol their own phones; this command is not a way around that and is refused unless
DEBUG or TOTP_CODE_COMMAND is set.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import StaffTotpDevice
from apps.accounts.staff_auth import totp_code_now
from apps.core.phone import InvalidPhoneNumber, normalize_phone


class Command(BaseCommand):
    help = "Print the current authenticator code of a (demo) staff member."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("phone")

    def handle(self, *args: Any, phone: str, **options: Any) -> None:
        if not (settings.DEBUG or settings.TOTP_CODE_COMMAND):
            raise CommandError("totp_code is for the demo: set TOTP_CODE_COMMAND=1.")
        try:
            phone = normalize_phone(phone)
        except InvalidPhoneNumber as exc:
            raise CommandError(str(exc.message)) from exc
        device = StaffTotpDevice.objects.filter(
            user__phone=phone, confirmed_at__isnull=False
        ).first()
        if device is None:
            raise CommandError(f"{phone} has no authenticator")
        self.stdout.write(totp_code_now(user_id=device.user_id))
