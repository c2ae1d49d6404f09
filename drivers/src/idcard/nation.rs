//! Nation (民族) codes printed on resident ID cards (GB 3304), as names without the 族 suffix.

const NATIONS: [&str; 56] = [
    "汉",
    "蒙古",
    "回",
    "藏",
    "维吾尔",
    "苗",
    "彝",
    "壮",
    "布依",
    "朝鲜",
    "满",
    "侗",
    "瑶",
    "白",
    "土家",
    "哈尼",
    "哈萨克",
    "傣",
    "黎",
    "傈僳",
    "佤",
    "畲",
    "高山",
    "拉祜",
    "水",
    "东乡",
    "纳西",
    "景颇",
    "柯尔克孜",
    "土",
    "达斡尔",
    "仫佬",
    "羌",
    "布朗",
    "撒拉",
    "毛南",
    "仡佬",
    "锡伯",
    "阿昌",
    "普米",
    "塔吉克",
    "怒",
    "乌孜别克",
    "俄罗斯",
    "鄂温克",
    "德昂",
    "保安",
    "裕固",
    "京",
    "塔塔尔",
    "独龙",
    "鄂伦春",
    "赫哲",
    "门巴",
    "珞巴",
    "基诺",
];

/// The name for a two-digit nation code (01–56, 97 其他, 98 外国血统中国籍人士).
pub fn nation_name(code: &str) -> Option<&'static str> {
    let n: usize = code.trim().parse().ok()?;
    match n {
        1..=56 => Some(NATIONS[n - 1]),
        97 => Some("其他"),
        98 => Some("外国血统中国籍人士"),
        _ => None,
    }
}

/// The two-digit code for a nation name (with or without 族), for emulator card files.
pub fn nation_code(name: &str) -> Option<String> {
    let name = name.trim();
    let bare = name.strip_suffix('族').unwrap_or(name);
    if let Some(i) = NATIONS.iter().position(|n| *n == bare) {
        return Some(format!("{:02}", i + 1));
    }
    match name {
        "其他" => Some("97".into()),
        "外国血统中国籍人士" => Some("98".into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nation_table_covers_all_codes_both_ways() {
        assert_eq!(nation_name("01"), Some("汉"));
        assert_eq!(nation_name("15"), Some("土家"));
        assert_eq!(nation_name("56"), Some("基诺"));
        assert_eq!(nation_name("97"), Some("其他"));
        assert_eq!(nation_name("98"), Some("外国血统中国籍人士"));
        assert_eq!(nation_name("00"), None);
        assert_eq!(nation_name("57"), None);
        assert_eq!(nation_name("xx"), None);
        for n in (1..=56).chain([97, 98]) {
            let code = format!("{n:02}");
            assert_eq!(nation_code(nation_name(&code).unwrap()).unwrap(), code);
        }
        assert_eq!(nation_code("土家族").as_deref(), Some("15"));
    }
}
