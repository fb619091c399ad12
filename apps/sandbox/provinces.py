"""The 31 provincial BOSS endpoints the sandbox plays: ``/carrier/v1/provinces/<code>/…``.

China Mobile's BOSS is provincial; the platform routes each number to its home province's
BOSS. The sandbox keeps one set of subscribers for all of them (it does not check that a
number belongs to the province it was sent to) but gives each province its own fault knobs.
"""

from __future__ import annotations

PROVINCES: dict[str, str] = {
    "bj": "北京", "tj": "天津", "he": "河北", "sx": "山西", "nm": "内蒙古", "ln": "辽宁",
    "jl": "吉林", "hl": "黑龙江", "sh": "上海", "js": "江苏", "zj": "浙江", "ah": "安徽",
    "fj": "福建", "jx": "江西", "sd": "山东", "ha": "河南", "hb": "湖北", "hn": "湖南",
    "gd": "广东", "gx": "广西", "hi": "海南", "cq": "重庆", "sc": "四川", "gz": "贵州",
    "yn": "云南", "xz": "西藏", "sn": "陕西", "gs": "甘肃", "qh": "青海", "nx": "宁夏",
    "xj": "新疆",
}  # fmt: skip
# The knobs a province may override; the others (SMS reports, payments) are not the BOSS's.
PROVINCE_KNOBS = ("latency_ms", "error_rate", "timeout_rate", "lost_response_rate", "hang_ms")
