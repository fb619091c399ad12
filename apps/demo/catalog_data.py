"""The demo catalog's categories, product types and product lines (data only)."""

from __future__ import annotations

# (slug, name, name_en, kind, parent slug)
CATEGORIES = [
    ("digital", "数字内容", "Digital content", "digital", None),
    ("game", "游戏", "Games", "digital", "digital"),
    ("video", "视频", "Video", "digital", "digital"),
    ("reading", "阅读", "Reading", "digital", "digital"),
    ("music", "音乐", "Music", "digital", "digital"),
    ("animation", "动漫", "Animation", "digital", "digital"),
    ("electronic", "话费流量", "Airtime & data", "electronic", None),
    ("airtime", "话费充值", "Airtime recharge", "electronic", "electronic"),
    ("data", "流量包", "Data packs", "electronic", "electronic"),
    ("plans", "套餐", "Plans", "electronic", "electronic"),
    ("addons", "加油包与增值业务", "Add-ons", "electronic", "electronic"),
    ("points", "积分", "Points", "electronic", "electronic"),
    ("physical", "实物商品", "Physical goods", "physical", None),
    ("cards", "充值卡", "Recharge cards", "physical", "physical"),
    ("phones", "手机", "Phones", "physical", "physical"),
    ("sim", "SIM卡", "SIM cards", "physical", "physical"),
    ("merch", "周边", "Merchandise", "physical", "physical"),
]

BILLING = {
    "key": "billing",
    "label": "计费方式",
    "type": "choice",
    "choices": ["一次性", "按章节", "包月"],
    "required": True,
}
# The carrier's code for a plan or add-on, which fulfilment sends to the BOSS.
OFFER_CODE = {"key": "offer_code", "label": "资费代码", "type": "str", "required": False}
# (code, name, kind, needs recipient number, attribute schema)
PRODUCT_TYPES = [
    (
        "airtime",
        "话费",
        "electronic",
        True,
        [{"key": "face_value", "label": "面值", "type": "int", "unit": "元", "required": True}],
    ),
    (
        "data_pack",
        "流量包",
        "electronic",
        True,
        [
            {"key": "volume", "label": "流量", "type": "str", "required": True},
            {
                "key": "validity_days",
                "label": "有效期",
                "type": "int",
                "unit": "天",
                "required": True,
            },
            {
                "key": "scope",
                "label": "使用范围",
                "type": "choice",
                "choices": ["全国", "省内"],
                "required": True,
            },
        ],
    ),
    (
        "plan",
        "套餐",
        "electronic",
        True,
        [
            {"key": "monthly_fee", "label": "月费", "type": "int", "unit": "元", "required": True},
            {"key": "data", "label": "通用流量", "type": "str", "required": True},
            {"key": "minutes", "label": "通话", "type": "int", "unit": "分钟", "required": True},
            OFFER_CODE,
        ],
    ),
    (
        "addon",
        "增值业务",
        "electronic",
        True,
        [
            {
                "key": "validity_days",
                "label": "有效期",
                "type": "int",
                "unit": "天",
                "required": False,
            },
            OFFER_CODE,
        ],
    ),
    (
        "points",
        "积分",
        "electronic",
        False,  # credited to the buyer's own points account
        [{"key": "points", "label": "积分", "type": "int", "unit": "分", "required": True}],
    ),
    (
        "e_card",
        "电子卡密",
        "electronic",
        False,
        [
            {
                "key": "card_kind",
                "label": "卡种",
                "type": "choice",
                "choices": ["recharge", "data", "points"],
                # What buyers read; fulfilment keeps the codes.
                "choice_labels": {"recharge": "话费卡", "data": "流量卡", "points": "积分卡"},
                "required": True,
            },
            {"key": "face_value", "label": "面值", "type": "int", "unit": "元", "required": False},
            {"key": "volume", "label": "流量", "type": "str", "required": False},
            {
                "key": "validity_days",
                "label": "有效期",
                "type": "int",
                "unit": "天",
                "required": False,
            },
            {"key": "points", "label": "积分", "type": "int", "unit": "分", "required": False},
        ],
    ),
    ("game", "游戏", "digital", False, [BILLING]),
    ("video", "视频", "digital", False, [BILLING]),
    ("reading", "阅读", "digital", False, [BILLING]),
    ("music", "音乐", "digital", False, [BILLING]),
    ("animation", "动漫", "digital", False, [BILLING]),
    (
        "recharge_card",
        "充值卡",
        "physical",
        False,
        [{"key": "face_value", "label": "面值", "type": "int", "unit": "元", "required": True}],
    ),
    (
        "phone",
        "手机",
        "physical",
        False,
        [
            {"key": "brand", "label": "品牌", "type": "str", "required": True},
            {
                "key": "network",
                "label": "网络",
                "type": "choice",
                "choices": ["5G", "4G"],
                "required": True,
            },
        ],
    ),
    (
        "sim",
        "SIM卡",
        "physical",
        False,
        [{"key": "card_type", "label": "卡类型", "type": "str", "required": True}],
    ),
    ("merchandise", "周边商品", "physical", False, []),
]

REGIONS = [
    ("全国", "National", "nation"),
    ("广东", "Guangdong", "gd"),
    ("北京", "Beijing", "bj"),
    ("上海", "Shanghai", "sh"),
]
AIRTIME_VALUES = [10, 20, 30, 50, 100, 200, 300, 500]
DATA_VOLUMES = ["1GB", "2GB", "5GB", "10GB", "20GB", "30GB", "50GB", "100GB"]
DATA_PRICES = {
    "1GB": 500,
    "2GB": 900,
    "5GB": 2000,
    "10GB": 3000,
    "20GB": 5000,
    "30GB": 7000,
    "50GB": 10000,
    "100GB": 15000,
}

# (name, name_en, monthly fee yuan, data, minutes, the carrier's offer code)
PLANS = [
    ("5G智享套餐 58元档", "5G Smart plan 58", 58, "30GB", 200, "5G-58"),
    ("5G智享套餐 88元档", "5G Smart plan 88", 88, "50GB", 300, "5G-88"),
    ("5G智享套餐 128元档", "5G Smart plan 128", 128, "80GB", 500, "5G-128"),
    ("5G智享套餐 198元档", "5G Smart plan 198", 198, "120GB", 1000, "5G-198"),
    ("花卡宝藏版 29元", "Treasure card plan 29", 29, "15GB", 100, "HUA-29"),
    ("全家享套餐 169元", "Family share plan 169", 169, "100GB", 1500, "FAMILY-169"),
    ("老年关爱套餐 18元", "Senior care plan 18", 18, "3GB", 300, "SENIOR-18"),
    ("校园青春卡 39元", "Campus youth plan 39", 39, "40GB", 100, "CAMPUS-39"),
]
# (name, name_en, price fen, validity days, the carrier's offer code)
ADDONS = [
    ("5G流量加油包 10GB 月包", "5G data booster 10GB monthly", 1500, 30, "ADD-5G-10GB"),
    ("视频彩铃包月", "Video ringback tone monthly", 500, 30, "VRBT"),
    ("来电显示", "Caller ID", 500, 30, "CALLER-ID"),
    ("语音加油包 100分钟", "Voice booster 100 minutes", 1000, 30, "VOICE-100"),
    ("国际漫游日包", "International roaming day pass", 2500, 1, "ROAM-DAY"),
    ("云盘会员 200GB", "Cloud drive 200GB", 1000, 30, "CLOUD-200"),
]
POINTS = [1000, 2000, 5000, 10000, 20000, 50000]

# (name, name_en, subtitle, billing, price fen)
CONTENT = {
    "game": [
        ("王者征途 钻石礼包", "Kings Journey diamond pack", "新手必备，648钻石", "一次性", 6480),
        ("星海战纪 月卡", "Star Sea Chronicle monthly card", "每日领取300金币", "包月", 3000),
        ("消除大作战 体力包", "Match Blast energy pack", "体力补满10次", "一次性", 600),
        ("三国群英传 元宝礼包", "Three Kingdoms ingot pack", "元宝×980", "一次性", 9800),
        ("极速飞车 赛季通行证", "Speed Racer season pass", "解锁全部赛季奖励", "一次性", 6800),
        ("仙剑情缘 首充礼包", "Sword Fairy first top-up", "限购一次", "一次性", 100),
        ("开心斗地主 VIP月卡", "Happy Landlord VIP monthly", "每日免费道具", "包月", 1500),
        ("天天象棋 会员", "Daily Chess membership", "残局无限挑战", "包月", 1000),
        ("塔防传说 英雄包", "Tower Legends hero pack", "传说英雄×1", "一次性", 3000),
        ("咪咕快游 云游戏时长卡", "Migu cloud gaming hours", "云端畅玩100小时", "一次性", 2000),
        ("冒险岛物语 金币", "Adventure Isle gold", "金币×5000", "一次性", 1200),
        ("足球经理 球星卡包", "Football Manager star pack", "随机五星球星", "一次性", 1800),
        ("欢乐麻将 钻石", "Happy Mahjong diamonds", "钻石×300", "一次性", 3000),
        ("末日求生 季卡", "Doomsday Survival season card", "90天特权", "一次性", 8800),
        ("星际矿工 加速包", "Star Miner booster", "产出翻倍7天", "一次性", 600),
        ("宠物小镇 会员", "Pet Town membership", "专属宠物装扮", "包月", 1200),
        ("围棋大师 课程", "Go Master lessons", "职业棋手讲解", "按章节", 200),
        ("跑酷英雄 皮肤", "Parkour Hero skin", "限定皮肤", "一次性", 2800),
        ("纸牌接龙 去广告", "Solitaire ad-free", "永久去除广告", "一次性", 600),
        ("音游节奏大师 曲包", "Rhythm Master song pack", "新增20首曲目", "一次性", 1800),
    ],
    "video": [
        (
            "咪咕视频 VIP会员 月卡",
            "Migu Video VIP membership monthly",
            "热门剧集抢先看",
            "包月",
            1500,
        ),
        (
            "咪咕视频 VIP会员 年卡",
            "Migu Video VIP membership yearly",
            "12个月超值",
            "一次性",
            14800,
        ),
        ("视频会员 钻石月卡", "Video VIP diamond monthly", "4K蓝光 无广告", "包月", 2500),
        ("体育赛事通 月包", "Sports pass monthly", "中超英超直播", "包月", 3000),
        ("世界杯全场次观赛包", "World Cup full match pass", "全部64场高清直播", "一次性", 9800),
        ("电影单片点播 流浪星球", "Movie on demand: Wandering Planet", "院线新片", "一次性", 600),
        ("纪录片频道 包月", "Documentary channel monthly", "自然人文精选", "包月", 800),
        ("少儿动画频道 包月", "Kids channel monthly", "无广告 护眼模式", "包月", 1200),
        ("综艺会员 季卡", "Variety shows season card", "独家综艺花絮", "一次性", 4500),
        ("NBA常规赛 月包", "NBA regular season monthly", "中文解说", "包月", 3800),
        ("短剧畅看卡 周卡", "Short drama weekly pass", "热门短剧全集", "一次性", 900),
        ("演唱会直播 单场", "Concert live stream ticket", "超清多机位", "一次性", 3000),
        ("健身课程 月卡", "Fitness classes monthly", "每日跟练", "包月", 1900),
        ("英语学习视频课", "English video course", "零基础到流利", "按章节", 500),
        ("电竞赛事 通行证", "Esports pass", "全年赛事直播", "一次性", 6800),
    ],
    "reading": [
        ("咪咕阅读 畅读卡 月卡", "Migu Reading unlimited monthly", "百万好书畅读", "包月", 1200),
        ("三体 全集电子书", "The Three-Body Problem e-book", "刘慈欣科幻巨著", "一次性", 3500),
        ("明朝那些事儿", "Those Things of the Ming Dynasty", "当年明月 全七册", "一次性", 4800),
        ("斗破苍穹 按章付费", "Battle Through the Heavens per chapter", "经典玄幻", "按章节", 10),
        (
            "凡人修仙传 按章付费",
            "A Record of a Mortal's Journey per chapter",
            "仙侠巨作",
            "按章节",
            10,
        ),
        ("有声书会员 月卡", "Audiobook membership monthly", "名家演播", "包月", 1500),
        ("活着 电子书", "To Live e-book", "余华代表作", "一次性", 1800),
        ("平凡的世界 电子书", "Ordinary World e-book", "路遥 茅盾文学奖", "一次性", 2500),
        ("杂志畅读 年卡", "Magazines yearly pass", "300种期刊", "一次性", 9800),
        ("儿童绘本馆 月卡", "Picture books monthly", "3-8岁精选", "包月", 1500),
        ("经济学原理 电子书", "Principles of Economics e-book", "曼昆 第8版", "一次性", 4200),
        ("人类简史 电子书", "Sapiens e-book", "赫拉利", "一次性", 3000),
        ("网文小说 阅读币 1000", "Reading coins 1000", "按章节阅读通用", "一次性", 1000),
        ("漫画书城 月卡", "Comic store monthly", "国漫日漫畅看", "包月", 1200),
        ("听书 历史故事合集", "History stories audiobook", "百集连播", "按章节", 50),
        ("红楼梦 精装电子版", "Dream of the Red Chamber e-book", "脂评本", "一次性", 2000),
        ("考研英语 电子题库", "Postgraduate English question bank", "真题解析", "一次性", 3900),
        ("唐诗三百首 有声版", "300 Tang Poems audio", "名家朗诵", "一次性", 900),
        ("围城 电子书", "Fortress Besieged e-book", "钱钟书", "一次性", 1600),
        ("科幻世界 年刊合集", "Science Fiction World yearly", "经典短篇", "一次性", 2800),
        ("鬼吹灯 按章付费", "Ghost Blows Out the Light per chapter", "探险悬疑", "按章节", 10),
        ("时间简史 电子书", "A Brief History of Time e-book", "霍金", "一次性", 2200),
        ("小王子 中英双语", "The Little Prince bilingual", "中英对照", "一次性", 1200),
        ("育儿百科 电子书", "Parenting encyclopedia e-book", "0-6岁", "一次性", 2600),
        ("Python编程 从入门到实践", "Python Crash Course e-book", "编程入门", "一次性", 4900),
    ],
    "music": [
        (
            "咪咕音乐 白金会员 月卡",
            "Migu Music platinum monthly",
            "无损音质 免费下载",
            "包月",
            1500,
        ),
        ("咪咕音乐 白金会员 年卡", "Migu Music platinum yearly", "12个月", "一次性", 14800),
        ("彩铃 定制包月", "Custom ringback tone monthly", "百万彩铃任选", "包月", 500),
        (
            "数字专辑 周杰伦 精选",
            "Digital album: Jay Chou best of",
            "高品质数字专辑",
            "一次性",
            3000,
        ),
        (
            "数字专辑 古典名曲100首",
            "Digital album: 100 classical pieces",
            "无损FLAC",
            "一次性",
            2000,
        ),
        ("K歌会员 月卡", "Karaoke membership monthly", "海量伴奏", "包月", 1200),
        ("演唱会音频 典藏版", "Concert audio collectors edition", "现场录音", "一次性", 1800),
        ("儿歌合集 包月", "Children's songs monthly", "早教启蒙", "包月", 600),
        ("车载音乐 季卡", "In-car music season card", "驾驶模式", "一次性", 3000),
        ("睡眠白噪音 会员", "Sleep white noise membership", "助眠音效", "包月", 800),
        ("数字专辑 民谣合辑", "Digital album: folk collection", "独立音乐人", "一次性", 1500),
        ("音乐课 吉他入门", "Guitar beginner course", "视频+曲谱", "按章节", 300),
    ],
    "animation": [
        ("国漫会员 月卡", "Chinese anime membership monthly", "热门国漫抢先看", "包月", 1500),
        ("斗罗大陆 动画 全集", "Soul Land anime full series", "高清全集", "一次性", 4800),
        ("哪吒 动画电影 点播", "Ne Zha animated film", "院线大片", "一次性", 600),
        ("熊出没 合集", "Boonie Bears collection", "少儿动画", "一次性", 1200),
        ("漫画 一人之下 按话付费", "The Outcast comic per episode", "国漫经典", "按章节", 20),
        ("动漫周边 数字壁纸包", "Anime wallpaper pack", "4K壁纸50张", "一次性", 300),
        ("日漫专区 季卡", "Japanese anime season card", "新番同步", "一次性", 3900),
        ("萌宠动画 包月", "Cute pets anime monthly", "治愈系", "包月", 600),
        ("动漫表情包 合集", "Anime sticker pack", "聊天表情", "一次性", 100),
        (
            "3D动画 大圣归来 点播",
            "Monkey King Hero is Back on demand",
            "经典国漫电影",
            "一次性",
            500,
        ),
        ("漫画 狐妖小红娘 按话付费", "Fox Spirit Matchmaker per episode", "古风恋爱", "按章节", 20),
        ("动画制作 入门课程", "Animation basics course", "零基础学动画", "按章节", 500),
    ],
}

RECHARGE_CARDS = [30, 50, 100, 200, 300, 500]
# (name, name_en, brand, network, colours, storages with price fen)
PHONES = [
    (
        "iPhone 16",
        "iPhone 16",
        "Apple",
        "5G",
        ["黑色", "白色", "群青色"],
        [("128GB", 599900), ("256GB", 699900)],
    ),
    (
        "iPhone 16 Pro",
        "iPhone 16 Pro",
        "Apple",
        "5G",
        ["原色钛金属", "黑色钛金属"],
        [("256GB", 899900), ("512GB", 1099900)],
    ),
    (
        "华为 Mate 70 Pro",
        "Huawei Mate 70 Pro",
        "华为",
        "5G",
        ["曜石黑", "雪域白"],
        [("256GB", 699900), ("512GB", 799900)],
    ),
    ("华为 nova 13", "Huawei nova 13", "华为", "5G", ["羽砂黑", "洛登绿"], [("256GB", 269900)]),
    (
        "小米 15",
        "Xiaomi 15",
        "小米",
        "5G",
        ["黑色", "白色", "丁香紫"],
        [("256GB", 449900), ("512GB", 499900)],
    ),
    ("Redmi K80", "Redmi K80", "小米", "5G", ["玄夜黑", "雪岩白"], [("256GB", 249900)]),
    ("OPPO Find X8", "OPPO Find X8", "OPPO", "5G", ["星野黑", "浮光白"], [("256GB", 429900)]),
    (
        "vivo X200",
        "vivo X200",
        "vivo",
        "5G",
        ["辰夜黑", "白月光"],
        [("256GB", 429900), ("512GB", 489900)],
    ),
    ("荣耀 Magic7", "Honor Magic7", "荣耀", "5G", ["绒黑色", "月影灰"], [("256GB", 449900)]),
    ("一加 13", "OnePlus 13", "一加", "5G", ["黑曜秘境", "白露晨曦"], [("256GB", 449900)]),
    (
        "中国移动 云电脑手机 N1",
        "China Mobile N1 phone",
        "中国移动",
        "5G",
        ["星空黑"],
        [("128GB", 99900)],
    ),
    (
        "老人机 功能机 S2",
        "Senior feature phone S2",
        "中国移动",
        "4G",
        ["红色", "黑色"],
        [("32MB", 19900)],
    ),
]
SIMS = [
    ("5G畅享号卡 38元套餐", "5G SIM with 38 plan", "5G标准卡", 0),
    ("大流量卡 29元 100GB", "Big data SIM 29 with 100GB", "5G标准卡", 0),
    ("物联网卡 车载专用", "IoT SIM for cars", "物联网卡", 3000),
    ("eSIM 手表副卡", "eSIM watch companion", "eSIM", 1000),
    ("吉祥靓号卡 尾号888", "Lucky number SIM ending 888", "5G标准卡", 88800),
]
MERCH = [
    ("移动定制 保温杯", "China Mobile thermos", 5900),
    ("5G 帆布袋", "5G canvas bag", 2900),
    ("品牌充电宝 10000mAh", "Power bank 10000mAh", 9900),
    ("无线蓝牙耳机", "Wireless earbuds", 19900),
    ("手机壳 透明防摔", "Clear phone case", 3900),
    ("快充数据线 Type-C", "Fast charging Type-C cable", 2900),
    ("车载手机支架", "Car phone mount", 4900),
    ("咪咕 熊猫公仔", "Migu panda plush", 6900),
    ("智能手环", "Smart band", 19900),
    ("家庭WiFi路由器 AX3000", "Home WiFi router AX3000", 29900),
    ("随身WiFi 5G", "5G pocket WiFi", 49900),
    ("和家亲 智能摄像头", "Smart home camera", 15900),
]

# Cards sold online as number + PIN (product type e_card): (category, SKU code, name, name_en,
# price in fen, attributes). Their stock is the unsold cards of their online batches.
E_CARDS = [
    ("airtime", "ECARD-RC-50", "话费充值卡密 50元", "Airtime card code 50 yuan", 4980, {"card_kind": "recharge", "face_value": 50}),
    ("airtime", "ECARD-RC-100", "话费充值卡密 100元", "Airtime card code 100 yuan", 9950, {"card_kind": "recharge", "face_value": 100}),
    ("data", "ECARD-DATA-5GB", "流量卡密 5GB 30天", "Data card code 5GB 30 days", 3000, {"card_kind": "data", "volume": "5GB", "validity_days": 30}),
    ("points", "ECARD-PTS-1000", "积分卡密 1000分", "Point card code 1000 points", 1000, {"card_kind": "points", "points": 1000}),
]  # fmt: skip

# English subtitles for English mode, by the Chinese subtitle they translate (the seed fills
# ``subtitle_en`` from this; a subtitle not listed stays Chinese in English mode).
SUBTITLES_EN = {
    "快充，一般10分钟内到账": "Fast top-up, usually credited within 10 minutes",
    "全国通用可用，即时生效": "Works nationwide, effective at once",
    "省内可用，即时生效": "Works in your home province, effective at once",
    "积分可兑换话费和礼品": "Redeem points for airtime and gifts",
    "实体卡，快递配送": "Physical card, sent by courier",
    "需实名登记，激活后生效": "Real-name registration required; works once activated",
    "中国移动官方周边": "Official China Mobile merchandise",
    "新手必备，648钻石": "A must for beginners: 648 diamonds",
    "热门剧集抢先看": "Watch popular series first",
    "12个月超值": "12 months, best value",
    "百万好书畅读": "A million books, read without limit",
    "无损音质 免费下载": "Lossless sound, free downloads",
    "热门国漫抢先看": "Watch popular Chinese anime first",
}
PLAN_SUBTITLE = "含{data}通用流量、{minutes}分钟通话，次月生效"
PLAN_SUBTITLE_EN = "{data} of data and {minutes} minutes of calls; starts next month"
PHONE_SUBTITLE_EN = "{brand} {network}, all networks; better with a contract"
