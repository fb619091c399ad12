"""Chinese and English product search: jieba segmentation into a tsvector, pg_trgm as fallback.

Chinese has no spaces, so names are cut into words (rjieba, the Rust port of jieba) and the
words are stored space-separated; PostgreSQL's ``simple`` configuration then indexes each as
a lexeme. Queries are cut the same way and every word must match (the last as a prefix, so "iphon"
finds "iphone"). When nothing matches, trigram similarity on the names catches typos.
"""

from __future__ import annotations

import html
import re

import rjieba

_WORD = re.compile(r"[\w]+", re.UNICODE)
MAX_QUERY_WORDS = 8


def segment(text: str) -> list[str]:
    """Lower-cased search words of ``text``: Chinese cut by jieba (finer cuts included), Latin by word."""
    words: list[str] = []
    for piece in rjieba.cut_for_search((text or "").lower()):
        words.extend(_WORD.findall(piece))
    return words


def terms(*texts: str) -> str:
    """The space-separated words stored for the tsvector."""
    return " ".join(word for text in texts for word in segment(text))


def tsquery(query: str) -> str | None:
    """A raw tsquery requiring every word of ``query``, or None if it has no words.

    Only the last word is a prefix (it may still be being typed: "iphon"); the others are
    whole words as jieba cut them, and matching them exactly spares the index expanding a
    prefix such as 包 into every word that starts with it.
    """
    words = list(dict.fromkeys(segment(query)))[:MAX_QUERY_WORDS]
    if not words:
        return None
    # Words are \w+ only, so no tsquery syntax can get through; quotes are still doubled.
    quoted = ["'{}'".format(word.replace("'", "''")) for word in words]
    quoted[-1] += ":*"
    return " & ".join(quoted)


def highlight(text: str, query: str) -> str:
    """``text`` HTML-escaped with the query's words wrapped in <mark> (case-insensitive)."""
    words = sorted({w for w in segment(query) if w}, key=len, reverse=True)
    escaped = html.escape(text)
    if not words:
        return escaped
    pattern = re.compile("|".join(re.escape(html.escape(w)) for w in words), re.IGNORECASE)
    return pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", escaped)
