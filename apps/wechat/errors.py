from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError, InvalidArgument


class BadSignature(DomainError):
    code = "WECHAT_BAD_SIGNATURE"
    http_status = 403
    default_message = _("The WeChat signature does not match.")


class OAuthFailed(InvalidArgument):
    code = "WECHAT_OAUTH_FAILED"
    default_message = _("WeChat sign-in failed; please try again.")


class BadMessage(InvalidArgument):
    code = "WECHAT_BAD_MESSAGE"
    default_message = _("The WeChat message is not valid XML.")
