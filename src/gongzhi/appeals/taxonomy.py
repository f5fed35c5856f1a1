"""The seeded category taxonomy: (code, name, description). Deadlines start at the model defaults
(urgent: respond 2 h / resolve 24 h; normal: respond 24 h / resolve 7 days) and are the district's
to edit. Codes are stable: Open311 clients will know them as service codes.
"""

CATEGORIES = [
    ("city_appearance", "市容环境", "占道经营、乱堆乱放、垃圾清运、小广告、油烟污染"),
    ("traffic_parking", "道路交通与停车", "乱停乱放、道路破损、交通标志标线、停车位、非机动车管理"),
    ("property_management", "物业管理", "物业服务、电梯运行、公共维修资金、小区公共部位管理"),
    ("facility_repair", "设施维修", "路灯、下水道、井盖、健身器材等公共设施损坏"),
    ("dispute", "矛盾纠纷", "邻里、家庭、物业、劳资等矛盾纠纷的调解"),
    ("public_security", "治安隐患", "可疑人员、盗窃诈骗、治安防范薄弱处"),
    ("fire_safety", "消防安全", "消防通道堵塞、电动车违规充电、消防设施损坏"),
    ("noise", "噪声扰民", "施工、商铺、娱乐、广场舞及夜间噪声"),
    ("elderly_disability", "养老助残", "高龄独居老人关爱、残疾人帮扶、助餐助浴"),
    ("employment_social_security", "就业社保", "就业援助、社保医保办理、最低生活保障、临时救助"),
    ("health", "卫生健康", "病媒消杀、医疗服务、健康管理、食品卫生"),
    ("greening", "园林绿化", "树木修剪、绿地毁损、枯枝倒伏"),
    ("water_power_gas", "水电燃气", "停水停电、燃气安全、管道漏水"),
    ("illegal_construction", "违法建设", "违章搭建、私搭乱建、破坏房屋承重结构"),
    ("pets", "宠物管理", "犬只扰民、不文明养犬、流浪动物"),
    ("other", "其他", "以上分类都不合适时选择"),
]

# English names (Category.name_en) for readers whose language is English; the seed and the migration
# fill them where blank, and the district may edit them in the admin.
NAMES_EN = {
    "city_appearance": "City appearance and environment",
    "traffic_parking": "Roads, traffic and parking",
    "property_management": "Property management",
    "facility_repair": "Public facility repair",
    "dispute": "Disputes and mediation",
    "public_security": "Public security hazards",
    "fire_safety": "Fire safety",
    "noise": "Noise nuisance",
    "elderly_disability": "Elderly and disability care",
    "employment_social_security": "Employment and social security",
    "health": "Health and hygiene",
    "greening": "Trees and green spaces",
    "water_power_gas": "Water, power and gas",
    "illegal_construction": "Illegal construction",
    "pets": "Pets and animals",
    "other": "Other",
}
