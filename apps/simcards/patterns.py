"""Which numbers are "pretty" (靓号) and what each kind costs on top of the card's price."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Pattern(models.TextChoices):
    """The shape of a number's last digits, from the most to the least sought after."""

    AAAA = "AAAA", _("Four of a kind (e.g. 8888)")
    ABCD = "ABCD", _("Straight (e.g. 5678)")
    AAA = "AAA", _("Three of a kind (e.g. 888)")
    AABB = "AABB", _("Two pairs (e.g. 6688)")
    ABAB = "ABAB", _("Repeating pair (e.g. 5252)")
    NONE = "", _("Standard")


# Default premiums in fen; an operator's CSV may set any number's premium explicitly.
PREMIUM_FEN: dict[str, int] = {
    Pattern.AAAA: 99_900,
    Pattern.ABCD: 29_900,
    Pattern.AAA: 19_900,
    Pattern.AABB: 9_900,
    Pattern.ABAB: 5_900,
    Pattern.NONE: 0,
}


def pattern_of(digits: str) -> str:
    """The pattern of an 11-digit number's ending (the first that applies, most valuable first)."""
    a, b, c, d = (digits[i] for i in range(-4, 0))
    if a == b == c == d:
        return Pattern.AAAA
    steps = {int(y) - int(x) for x, y in zip(digits[-4:], digits[-3:], strict=False)}
    if steps == {1} or steps == {-1}:
        return Pattern.ABCD
    if b == c == d:
        return Pattern.AAA
    if a == b and c == d:
        return Pattern.AABB
    if a == c and b == d:
        return Pattern.ABAB
    return Pattern.NONE
