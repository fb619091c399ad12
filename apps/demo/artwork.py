"""Artwork for the demo catalog: an SVG per product (by kind, brand and amount) and per banner.

SVG, not PNG: the pictures carry Chinese text, and the browser's fonts draw it crisply at
every size (the machine that seeds has no CJK font for Pillow). Products are square
(400×400, the size of the cards and the detail page's picture); banners are 1200×400.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

PRODUCT_SIZE = 400
BANNER_SIZE = (1200, 400)

# Background gradients by what a product is.
PALETTES = {
    "airtime": ("#0a84ff", "#0057b8"),
    "data_pack": ("#00b3a4", "#00796b"),
    "plan": ("#7e57c2", "#4527a0"),
    "addon": ("#ff8f00", "#e65100"),
    "points": ("#ffca28", "#ff8f00"),
    "e_card": ("#26a69a", "#00695c"),
    "game": ("#ff5252", "#b71c1c"),
    "video": ("#ab47bc", "#6a1b9a"),
    "reading": ("#8d6e63", "#4e342e"),
    "music": ("#ec407a", "#ad1457"),
    "animation": ("#ffa726", "#ef6c00"),
    "recharge_card": ("#1e88e5", "#0d47a1"),
    "phone": ("#eceff1", "#b0bec5"),
    "sim": ("#43a047", "#1b5e20"),
    "merchandise": ("#5c6bc0", "#283593"),
}
BRANDS = {
    "Apple": "#1d1d1f",
    "华为": "#c7000b",
    "小米": "#ff6900",
    "OPPO": "#1a8f4b",
    "vivo": "#415fff",
    "荣耀": "#0077ff",
    "一加": "#eb0028",
    "中国移动": "#0085d0",
}
# A symbol per kind, drawn in the upper half (white on the gradient).
_SYMBOLS = {
    "airtime": '<circle cx="200" cy="130" r="62" fill="none" stroke="#fff" stroke-width="10"/>'
    '<text x="200" y="152" font-size="64" text-anchor="middle" fill="#fff" font-weight="700">¥</text>',
    "data_pack": "".join(
        f'<rect x="{136 + i * 34}" y="{190 - (i + 1) * 26}" width="22" height="{(i + 1) * 26}" '
        f'rx="4" fill="#fff" opacity="{0.55 + i * 0.15:.2f}"/>'
        for i in range(4)
    ),
    "plan": '<rect x="140" y="70" width="120" height="120" rx="18" fill="none" stroke="#fff" '
    'stroke-width="10"/><path d="M170 130 l22 22 l40 -44" stroke="#fff" stroke-width="12" '
    'fill="none" stroke-linecap="round"/>',
    "addon": '<path d="M200 60 l20 50 h52 l-42 32 l16 52 l-46 -30 l-46 30 l16 -52 l-42 -32 h52z" '
    'fill="#fff"/>',
    "points": '<circle cx="200" cy="130" r="66" fill="#fff3c4" stroke="#fff" stroke-width="8"/>'
    '<text x="200" y="152" font-size="60" text-anchor="middle" fill="#ff8f00" '
    'font-weight="700">分</text>',
    "e_card": '<rect x="120" y="80" width="160" height="100" rx="14" fill="#fff" opacity=".9"/>'
    '<rect x="120" y="104" width="160" height="18" fill="#004d40" opacity=".6"/>',
    "game": '<rect x="110" y="90" width="180" height="90" rx="45" fill="#fff"/>'
    '<rect x="150" y="125" width="36" height="10" fill="#b71c1c"/>'
    '<rect x="163" y="112" width="10" height="36" fill="#b71c1c"/>'
    '<circle cx="240" cy="122" r="9" fill="#b71c1c"/><circle cx="258" cy="142" r="9" fill="#b71c1c"/>',
    "video": '<circle cx="200" cy="130" r="66" fill="#fff" opacity=".95"/>'
    '<path d="M182 98 l48 32 l-48 32z" fill="#6a1b9a"/>',
    "reading": '<path d="M200 90 q-40 -22 -86 -10 v110 q46 -12 86 10 q40 -22 86 -10 v-110 '
    'q-46 -12 -86 10z" fill="#fff"/><path d="M200 90 v110" stroke="#4e342e" stroke-width="4"/>',
    "music": '<path d="M180 70 v92 a26 22 0 1 1 -12 -18 v-58 l76 -16 v80 a26 22 0 1 1 -12 -18 '
    'v-50z" fill="#fff"/>',
    "animation": '<circle cx="200" cy="134" r="60" fill="#fff"/><circle cx="178" cy="124" r="9" '
    'fill="#ef6c00"/><circle cx="222" cy="124" r="9" fill="#ef6c00"/><path d="M176 152 q24 20 48 0" '
    'stroke="#ef6c00" stroke-width="7" fill="none"/><circle cx="150" cy="80" r="20" fill="#fff"/>'
    '<circle cx="250" cy="80" r="20" fill="#fff"/>',
    "recharge_card": '<rect x="100" y="74" width="200" height="124" rx="14" fill="#fff"/>'
    '<rect x="100" y="96" width="200" height="20" fill="#0d47a1" opacity=".75"/>'
    '<rect x="118" y="160" width="90" height="14" rx="3" fill="#bbdefb"/>',
    "sim": '<path d="M150 60 h78 l42 42 v118 a10 10 0 0 1 -10 10 h-110 a10 10 0 0 1 -10 -10 v-150 '
    'a10 10 0 0 1 10 -10z" fill="#fff"/><rect x="168" y="120" width="64" height="70" rx="8" '
    'fill="#fbc02d"/><path d="M168 143 h64 M168 167 h64 M200 120 v70" stroke="#f57f17" '
    'stroke-width="3"/>',
    "merchandise": '<path d="M130 100 h140 l-12 100 h-116z" fill="#fff"/><path d="M170 100 '
    'v-16 a30 30 0 0 1 60 0 v16" stroke="#fff" stroke-width="9" fill="none"/>',
}


@dataclass(frozen=True)
class ArtSpec:
    """What a product's picture shows: its kind (product type code), a headline and a line."""

    type_code: str
    headline: str  # "100元", "10GB", the brand, or the product's short name
    line: str  # a second line: the product name, a validity, a region
    brand: str = ""


def _fit(text: str, size: int, width: int) -> int:
    """A font size at which ``text`` fits ``width`` pixels (CJK counts as one em, Latin half)."""
    ems = sum(1.0 if ord(ch) > 0x2E80 else 0.58 for ch in text) or 1.0
    return max(14, min(size, int(width / ems)))


def _text(x: int, y: int, text: str, size: int, width: int, **attrs: str) -> str:
    extra = " ".join(f'{k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return (
        f'<text x="{x}" y="{y}" font-size="{_fit(text, size, width)}" text-anchor="middle" '
        f"{extra}>{escape(text)}</text>"
    )


def _phone(brand: str) -> str:
    colour = BRANDS.get(brand, "#37474f")
    return (
        f'<rect x="140" y="40" width="120" height="220" rx="22" fill="{colour}"/>'
        '<rect x="150" y="58" width="100" height="182" rx="12" fill="#e3f2fd"/>'
        f'<circle cx="200" cy="49" r="4" fill="#90a4ae"/>'
        f'<path d="M150 200 q50 -60 100 -20 v60 h-100z" fill="{colour}" opacity=".25"/>'
    )


def product_svg(spec: ArtSpec) -> str:
    """The 400×400 picture of a product."""
    top, bottom = PALETTES.get(spec.type_code, ("#607d8b", "#37474f"))
    dark_text = spec.type_code in ("phone", "points")
    ink = "#263238" if dark_text else "#fff"
    symbol = _phone(spec.brand) if spec.type_code == "phone" else _SYMBOLS.get(spec.type_code, "")
    head_y = 322 if spec.type_code == "phone" else 282
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{PRODUCT_SIZE}" height="{PRODUCT_SIZE}" '
        f'viewBox="0 0 400 400" role="img" aria-label="{escape(spec.line)}">'
        f'<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" '
        f'stop-color="{top}"/><stop offset="1" stop-color="{bottom}"/></linearGradient></defs>'
        '<rect width="400" height="400" fill="url(#g)"/>'
        '<circle cx="360" cy="40" r="90" fill="#fff" opacity=".08"/>'
        '<circle cx="30" cy="380" r="120" fill="#fff" opacity=".06"/>'
        f'<g font-family="PingFang SC, Microsoft YaHei, Noto Sans CJK SC, sans-serif" fill="{ink}">'
        f"{symbol}"
        + _text(200, head_y, spec.headline, 64, 340, font_weight="700")
        + _text(200, head_y + 50, spec.line, 26, 350, opacity=".9")
        + "</g></svg>"
    )


def banner_svg(*, title: str, subtitle: str, colour: str) -> str:
    """The 1200×400 picture of a home-page banner, in the banner's colour."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{BANNER_SIZE[0]}" height="{BANNER_SIZE[1]}" '
        f'viewBox="0 0 1200 400" role="img" aria-label="{escape(title)}">'
        f'<defs><linearGradient id="b" x1="0" y1="0" x2="1" y2="1"><stop offset="0" '
        f'stop-color="{colour}"/><stop offset="1" stop-color="#001f3f"/></linearGradient></defs>'
        '<rect width="1200" height="400" fill="url(#b)"/>'
        '<circle cx="1020" cy="200" r="220" fill="#fff" opacity=".08"/>'
        '<circle cx="1080" cy="120" r="110" fill="#fff" opacity=".1"/>'
        '<path d="M760 400 q160 -200 440 -160 v160z" fill="#fff" opacity=".07"/>'
        '<g fill="#fff" font-family="PingFang SC, Microsoft YaHei, Noto Sans CJK SC, sans-serif">'
        f'<text x="80" y="190" font-size="{_fit(title, 84, 760)}" font-weight="700">'
        f"{escape(title)}</text>"
        f'<text x="84" y="262" font-size="{_fit(subtitle, 40, 700)}" opacity=".9">'
        f"{escape(subtitle)}</text>"
        '<rect x="84" y="300" width="180" height="54" rx="27" fill="#fff" opacity=".95"/>'
        f'<text x="174" y="336" font-size="26" text-anchor="middle" fill="{colour}" '
        'font-weight="700">立即查看 ›</text></g></svg>'
    )


def spec_for(*, type_code: str, name: str, attributes: dict[str, object], category: str) -> ArtSpec:
    """What to draw for a product, from its type, name and attributes."""
    short = name.split(" ")[0]
    if type_code == "airtime":
        region = name[:2] if not name.startswith("全国") else "全国"
        return ArtSpec(type_code, f"{attributes.get('face_value', '')}元", f"{region}话费充值")
    if type_code == "data_pack":
        days = attributes.get("validity_days", "")
        return ArtSpec(type_code, str(attributes.get("volume", "")), f"{short} · {days}天")
    if type_code == "plan":
        return ArtSpec(type_code, f"{attributes.get('monthly_fee', '')}元/月", short)
    if type_code == "points":
        return ArtSpec(type_code, f"{attributes.get('points', '')}", "移动积分")
    if type_code == "recharge_card":
        return ArtSpec(type_code, f"{attributes.get('face_value', '')}元", "移动充值卡")
    if type_code == "phone":
        brand = str(attributes.get("brand", ""))
        return ArtSpec(type_code, name.replace(brand, "").strip() or name, brand, brand=brand)
    if type_code == "e_card":
        if attributes.get("face_value"):
            headline = f"{attributes['face_value']}元"
        else:
            headline = str(attributes.get("volume") or f"{attributes.get('points', '')}分")
        return ArtSpec(type_code, headline, short)
    rest = name[len(short) :].strip()
    return ArtSpec(type_code or category, short, rest or category)
