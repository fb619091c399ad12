"""``{{ amount_fen|fen }}`` renders ¥12.34 through the one money formatter."""

from django import template

from apps.core.money import format_fen

register = template.Library()


@register.filter
def fen(amount_fen: int | None) -> str:
    return "" if amount_fen is None else format_fen(int(amount_fen))
