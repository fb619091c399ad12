"""Why an account operation was refused; each code is shown on the page and in the API."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core.errors import Conflict, DomainError, InvalidArgument, NotFound, TooManyRequests
from apps.core.phone import InvalidPhoneNumber

__all__ = ["InvalidPhoneNumber"]


class InvalidIdNumber(InvalidArgument):
    code = "INVALID_ID_NUMBER"
    default_message = _("Enter a valid 18-digit resident identity number.")


class InvalidRealName(InvalidArgument):
    code = "INVALID_REAL_NAME"
    default_message = _("Enter the name as it appears on the identity card.")


class OtpCooldown(TooManyRequests):
    code = "OTP_RESEND_COOLDOWN"
    default_message = _("A code was just sent. Wait before asking for another.")


class OtpNumberLimit(TooManyRequests):
    code = "OTP_NUMBER_LIMIT"
    default_message = _("Too many codes were sent to this number. Try again later.")


class OtpIpLimit(TooManyRequests):
    code = "OTP_IP_LIMIT"
    default_message = _("Too many codes were requested from your network. Try again later.")


class OtpNotRequested(InvalidArgument):
    code = "OTP_NOT_REQUESTED"
    default_message = _("No code was sent to this number. Ask for a code first.")


class OtpExpired(InvalidArgument):
    code = "OTP_EXPIRED"
    default_message = _("The code has expired. Ask for a new one.")


class OtpInvalid(InvalidArgument):
    code = "OTP_INVALID"
    default_message = _("The code is wrong.")


class OtpAttemptsExceeded(DomainError):
    code = "OTP_ATTEMPTS_EXCEEDED"
    http_status = 429
    default_message = _("Too many wrong codes. Ask for a new one.")


class AccountDisabled(DomainError):
    code = "ACCOUNT_DISABLED"
    http_status = 403
    default_message = _("This account is disabled.")


class RealNameAlreadyVerified(Conflict):
    code = "REAL_NAME_ALREADY_VERIFIED"
    default_message = _("Your real-name identity is already verified.")


class IdNumberInUse(Conflict):
    code = "ID_NUMBER_IN_USE"
    default_message = _("This identity number is registered to another account.")


class InvalidAddress(InvalidArgument):
    code = "INVALID_ADDRESS"
    default_message = _("Choose the province, city and district from the lists.")


class AddressNotFound(NotFound):
    code = "ADDRESS_NOT_FOUND"
    default_message = _("This address is not in your address book.")


class AddressBookFull(InvalidArgument):
    code = "ADDRESS_BOOK_FULL"
    default_message = _("An address book holds at most 20 addresses.")


class OtpAlreadyUsed(InvalidArgument):
    code = "OTP_ALREADY_USED"
    default_message = _("This code was already used. Ask for a new one.")


class WechatBoundElsewhere(Conflict):
    code = "WECHAT_BOUND_ELSEWHERE"
    default_message = _("This WeChat account is bound to another number; unbind it there first.")


class WechatAlreadyBound(Conflict):
    code = "WECHAT_ALREADY_BOUND"
    default_message = _("This number is already bound to another WeChat account.")
