//! Seeding the simulator: the demo catalogue, or N generated matters that look like a real
//! city's implementation list (the same matter published by many districts, names built from
//! licence objects and actions, departments and life events to match), each built on a demo
//! matter so situations, materials and form fields stay consistent.

use crate::core::catalog::Catalog;
use crate::core::domain::{Code, ImplementingBody, LocalElements, Matter, RegionCode};

/// Districts the simulator publishes values for: (region code, name).
pub const DISTRICTS: &[(&str, &str)] = &[
    ("500101", "万州区"),
    ("500102", "涪陵区"),
    ("500103", "渝中区"),
    ("500104", "大渡口区"),
    ("500105", "江北区"),
    ("500106", "沙坪坝区"),
    ("500107", "九龙坡区"),
    ("500108", "南岸区"),
    ("500109", "北碚区"),
    ("500112", "渝北区"),
    ("500113", "巴南区"),
];

/// (object, department, life event, aliases) for generated names.
const OBJECTS: &[(&str, &str, &str, &[&str])] = &[
    (
        "食品经营许可证",
        "市场监管",
        "经营许可",
        &["食品许可证", "开饭店"],
    ),
    ("药品经营许可证", "市场监管", "经营许可", &["药店许可"]),
    ("营业执照", "市场监管", "企业开办", &["执照", "开公司"]),
    (
        "建筑工程施工许可证",
        "住房城乡建设",
        "工程建设",
        &["施工许可"],
    ),
    ("道路运输经营许可证", "交通运输", "交通出行", &["运输许可"]),
    ("排污许可证", "生态环境", "经营许可", &["排污证"]),
    (
        "公共场所卫生许可证",
        "卫生健康",
        "经营许可",
        &["卫生许可证"],
    ),
    (
        "烟草专卖零售许可证",
        "烟草专卖",
        "经营许可",
        &["烟草证", "卖烟"],
    ),
    (
        "人力资源服务许可证",
        "人力社保",
        "就业创业",
        &["人力资源许可"],
    ),
    ("出版物经营许可证", "文化旅游", "经营许可", &["书店许可"]),
    (
        "娱乐场所经营许可证",
        "文化旅游",
        "经营许可",
        &["KTV许可", "娱乐许可"],
    ),
    (
        "旅行社业务经营许可证",
        "文化旅游",
        "经营许可",
        &["旅行社许可"],
    ),
    (
        "医疗机构执业许可证",
        "卫生健康",
        "医疗健康",
        &["诊所许可", "开诊所"],
    ),
    (
        "危险化学品经营许可证",
        "应急管理",
        "经营许可",
        &["危化品许可"],
    ),
    ("燃气经营许可证", "城市管理", "经营许可", &["燃气许可"]),
    (
        "户外广告设施设置许可",
        "城市管理",
        "经营许可",
        &["广告牌审批"],
    ),
    ("取水许可证", "水利", "工程建设", &["取水证"]),
    (
        "林木采伐许可证",
        "林业",
        "农业生产",
        &["砍树许可", "采伐证"],
    ),
    ("种子生产经营许可证", "农业农村", "农业生产", &["种子许可"]),
    ("兽药经营许可证", "农业农村", "农业生产", &["兽药许可"]),
    ("民办学校办学许可证", "教育", "教育", &["办学许可"]),
    ("教师资格证书", "教育", "教育", &["教资", "教师证"]),
    ("残疾人证", "残联", "残疾人服务", &["残疾证"]),
    ("社会保障卡", "人力社保", "社会保障", &["社保卡"]),
    ("住房公积金缴存登记", "住房公积金", "住房", &["公积金开户"]),
    ("不动产权证书", "不动产登记", "住房", &["房产证"]),
    ("机动车行驶证", "公安交管", "交通出行", &["行驶证"]),
    ("居住证", "公安户政", "户籍证件", &["暂住证"]),
    ("医疗保险参保凭证", "医保", "医疗健康", &["医保凭证"]),
    (
        "养老保险待遇资格",
        "人力社保",
        "退休养老",
        &["养老认证", "生存认证"],
    ),
];

/// Actions combined with objects.
const ACTIONS: &[&str] = &[
    "核发",
    "变更",
    "延续",
    "注销",
    "补办",
    "换发",
    "备案",
    "信息查询",
    "证明开具",
    "首次申请",
    "遗失补领",
    "年度报告",
];

/// The city-wide values a district override replaces.
pub fn city_local() -> LocalElements {
    LocalElements {
        address: "各区县政务服务中心（以所在区县公布为准）".into(),
        hours: "法定工作日 9:00-12:00，13:30-17:00".into(),
        phone: "12345".into(),
    }
}

/// The name of a district, or the code itself for unknown ones.
pub fn district_name(region: &str) -> &str {
    DISTRICTS
        .iter()
        .find(|(c, _)| *c == region)
        .map_or(region, |(_, n)| n)
}

/// A district's own values for a matter of `department`.
pub fn district_local(region: &str, department: &str) -> LocalElements {
    let tail: u32 = region[region.len().saturating_sub(2)..]
        .parse()
        .unwrap_or(0);
    LocalElements {
        address: format!("{}政务服务中心 {department}窗口", district_name(region)),
        hours: "周一至周五 9:00-12:00，13:30-17:30；周六上午 9:00-12:00".into(),
        phone: format!("023-6{:03}{:04}", 100 + tail, 1000 + tail * 7),
    }
}

/// A tiny deterministic generator (xorshift64*), so generated catalogues are reproducible.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (0 is replaced by a fixed constant).
    pub fn new(seed: u64) -> Self {
        Self(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A fraction in [0, 1).
    pub fn fraction(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A generated catalogue: matters with popularity, bundles, and which district each
/// generated matter belongs to.
#[derive(Debug, Clone)]
pub struct Seed {
    /// The base catalogue (city-wide local values).
    pub catalog: Catalog,
    /// Popularity of each matter, in order.
    pub popularity: Vec<u64>,
}

/// The demo catalogue with city-wide local values (the demo's own 渝中区 values become that
/// district's override) and a popularity for each matter.
pub fn demo_seed() -> (Seed, Vec<(String, LocalElements)>) {
    let mut catalog = Catalog::demo().expect("the bundled demo catalogue is valid (tested)");
    let mut yuzhong = Vec::new();
    let mut popularity = Vec::new();
    let mut rng = Rng::new(7);
    for (i, m) in catalog.matters.iter_mut().enumerate() {
        yuzhong.push((
            m.task_code.to_string(),
            std::mem::replace(&mut m.local, city_local()),
        ));
        // Self-service matters and the first of each department are the popular ones.
        let base = if m.self_service { 5000 } else { 1000 };
        popularity.push(base + rng.next_u64() % 1000 + (72 - i.min(72)) as u64);
    }
    (
        Seed {
            catalog,
            popularity,
        },
        yuzhong,
    )
}

/// `n` matters: the demo's first, then generated ones built on them.
pub fn generated_seed(n: usize, seed: u64) -> Seed {
    let (demo, _) = demo_seed();
    let mut rng = Rng::new(seed);
    let templates = demo.catalog.matters.clone();
    let mut catalog = demo.catalog;
    let mut popularity = demo.popularity;
    if n < catalog.matters.len() {
        catalog.matters.truncate(n);
        popularity.truncate(n);
        catalog.bundles.clear();
    }
    let mut i = catalog.matters.len();
    while catalog.matters.len() < n {
        let (object, department, event, aliases) = OBJECTS[(i / ACTIONS.len()) % OBJECTS.len()];
        let action = ACTIONS[i % ACTIONS.len()];
        let (region, district) = DISTRICTS[(i / (OBJECTS.len() * ACTIONS.len())) % DISTRICTS.len()];
        let mut m: Matter = templates[i % templates.len()].clone();
        let code = format!("115{region}SIM{i:08}");
        m.task_code = Code::new(code.clone()).expect("generated codes are short");
        m.handle_item_code = Code::new(format!("{code}01")).expect("generated codes are short");
        m.catalog_code = Code::new(format!(
            "G{:05}{:03}",
            i % (OBJECTS.len() * ACTIONS.len()),
            0
        ))
        .expect("generated codes are short");
        m.local_codes.clear();
        m.name = format!("{object}{action}");
        m.aliases = aliases.iter().map(|a| format!("{a}{action}")).collect();
        m.aliases.extend(aliases.iter().map(|a| (*a).to_owned()));
        m.department = department.to_owned();
        m.life_events = vec![event.to_owned()];
        m.implementing_body = ImplementingBody {
            name: format!("重庆市{district}{department}"),
            code: None,
            region_code: RegionCode::new(region).expect("district codes are valid"),
        };
        m.local = city_local();
        catalog.matters.push(m);
        // Zipf-like: a few matters take most of the cases.
        popularity.push(1_000_000 / (1 + rng.next_u64() % 5000));
        i += 1;
    }
    Seed {
        catalog,
        popularity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_catalogue_passes_the_catalogue_checks() {
        let s = generated_seed(500, 1);
        assert_eq!(s.catalog.matters.len(), 500);
        assert_eq!(s.popularity.len(), 500);
        s.catalog.check().unwrap();
        let small = generated_seed(10, 1);
        small.catalog.check().unwrap();
    }
}
