from __future__ import annotations

from celery import Task, shared_task
from wechatpy.exceptions import WeChatClientException

from apps.wechat import services


@shared_task(bind=True, acks_late=True, max_retries=4, default_retry_delay=30)
def template_send_task(
    self: Task, kind: str, openid: str, data: dict[str, str], url: str, key: str
) -> bool:
    """One template message; retried when WeChat cannot be reached (skipped once sent)."""
    try:
        return services.template_send(kind=kind, openid=openid, data=data, url=url, key=key)
    except (WeChatClientException, OSError) as exc:
        raise self.retry(exc=exc) from None
