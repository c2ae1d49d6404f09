//! The 办事指南 text of a matter or bundle, as sections a citizen reads top to bottom.
//! Pure functions of the catalogue; the UI only lays them out.

use crate::core::catalog::Catalog;
use crate::core::domain::{
    Audience, Bundle, HandlingForm, Material, MaterialForm, Matter, Necessity,
};

/// One titled block of guide text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuideSection {
    pub title: String,
    pub body: String,
}

fn section(title: &str, body: String) -> GuideSection {
    GuideSection {
        title: title.to_owned(),
        body,
    }
}

/// The one-line summary under a matter's name in lists.
pub fn matter_line(m: &Matter) -> String {
    let mut parts = vec![
        m.department.clone(),
        format!("承诺时限 {}", m.promised_time_limit.display_zh()),
        format!("跑动 {} 次", m.visits),
    ];
    if m.cross_region.chuanyu {
        parts.push("川渝通办".into());
    }
    parts.join(" · ")
}

/// How one material reads in the guide.
pub fn material_line(m: &Material) -> String {
    let mut s = format!("• {}{}", m.name, material_terms(m));
    if let Some(l) = &m.exempted_by_licence {
        s.push_str(&format!(" 〔已有{l}电子证照的免提交〕"));
    }
    s
}

/// A material's form and counts, e.g. "（纸质，原件1份） 〔视情形提供〕".
fn material_terms(m: &Material) -> String {
    let form = match m.form {
        MaterialForm::Paper => "纸质",
        MaterialForm::Electronic => "电子",
        MaterialForm::Both => "纸质或电子",
    };
    let mut s = format!("（{form}");
    if m.originals > 0 {
        s.push_str(&format!("，原件{}份", m.originals));
    }
    if m.copies > 0 {
        s.push_str(&format!("，复印件{}份", m.copies));
    }
    s.push('）');
    if m.necessity == Necessity::Conditional {
        s.push_str(" 〔视情形提供〕");
    }
    s
}

/// The guide of one matter.
pub fn matter_guide(m: &Matter) -> Vec<GuideSection> {
    let audiences = m
        .audiences
        .iter()
        .map(|a| match a {
            Audience::NaturalPerson => "个人",
            Audience::LegalPerson => "法人",
        })
        .collect::<Vec<_>>()
        .join("、");
    let forms = m
        .handling_forms
        .iter()
        .map(|f| match f {
            HandlingForm::Window => "窗口办理",
            HandlingForm::Online => "网上办理",
            HandlingForm::SelfService => "自助终端",
            HandlingForm::Post => "快递申请",
        })
        .collect::<Vec<_>>()
        .join("、");
    let fees = if m.fees.is_empty() {
        "不收费".to_owned()
    } else {
        m.fees
            .iter()
            .map(|f| format!("{} {} 元", f.name, crate::core::payment::yuan(f.amount_fen)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut cross = Vec::new();
    if m.cross_region.chuanyu {
        cross.push("川渝通办");
    }
    if m.cross_region.trans_provincial {
        cross.push("跨省通办");
    }
    let mut basic = format!(
        "事项类型：{}\n实施主体：{}\n服务对象：{}\n办理形式：{}\n法定时限：{}　承诺时限：{}\n到现场次数：{} 次",
        m.matter_type.name_zh(),
        m.implementing_body.name,
        audiences,
        forms,
        m.legal_time_limit.display_zh(),
        m.promised_time_limit.display_zh(),
        m.visits,
    );
    if !cross.is_empty() {
        basic.push_str(&format!("\n通办范围：{}", cross.join("、")));
    }
    let mut out = vec![
        section("基本信息", basic),
        section("受理条件", numbered(&m.acceptance_conditions)),
        section(
            "申请材料",
            m.materials
                .iter()
                .map(material_line)
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        section(
            "办理流程",
            m.process
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    if p.description.is_empty() {
                        format!("{}. {}", i + 1, p.name)
                    } else {
                        format!("{}. {}：{}", i + 1, p.name, p.description)
                    }
                })
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        section("收费标准", fees),
        section(
            "办理地点与时间",
            format!(
                "地点：{}\n时间：{}\n电话：{}",
                m.local.address, m.local.hours, m.local.phone
            ),
        ),
        section(
            "咨询与投诉",
            format!(
                "咨询：{}\n投诉：{}",
                m.contacts.consultation, m.contacts.complaint
            ),
        ),
    ];
    if !m.legal_basis.is_empty() {
        out.push(section("设定依据", m.legal_basis.join("\n")));
    }
    out
}

/// The guide of one bundle: what it covers and the matters it includes.
pub fn bundle_guide(b: &Bundle, catalog: &Catalog) -> Vec<GuideSection> {
    let name_of = |code: &crate::core::domain::Code| {
        catalog.matter(code.as_str()).map_or_else(
            || code.to_string(),
            |m| format!("{}（{}）", m.name, m.department),
        )
    };
    let mut out = vec![
        section("简介", b.description.clone()),
        section(
            "一次办好以下事项",
            b.matters
                .iter()
                .map(|c| format!("• {}", name_of(c)))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
    ];
    for q in &b.questions {
        let body = q
            .options
            .iter()
            .map(|o| {
                if o.matters.is_empty() {
                    format!("• {}", o.label)
                } else {
                    let names = o.matters.iter().map(name_of).collect::<Vec<_>>().join("、");
                    format!("• {}：加办 {}", o.label, names)
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        out.push(section(&q.text, body));
    }
    out
}

/// What the citizen does about one material on the checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaterialStatus {
    /// 免提交: an e-licence the citizen holds replaces it.
    Exempt,
    /// 本机拍摄: photographed at this terminal.
    CaptureHere,
    /// 请带到窗口: must be brought to a service window.
    BringToWindow,
    /// 持证可免: an e-licence would replace it, and whether the citizen holds one is not
    /// known yet (not identified, or the look-up has not answered).
    LicenceMayReplace,
}

impl MaterialStatus {
    /// The badge shown beside the material.
    pub fn label(self) -> &'static str {
        match self {
            MaterialStatus::Exempt => "免提交",
            MaterialStatus::CaptureHere => "本机拍摄",
            MaterialStatus::BringToWindow => "请带到窗口",
            MaterialStatus::LicenceMayReplace => "持证可免",
        }
    }
}

/// One line of the 智能导办 checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistItem {
    /// The material's id in the catalogue.
    pub id: String,
    pub name: String,
    pub detail: String,
    pub status: MaterialStatus,
}

/// The materials the chosen situation options call for, each marked by what the citizen
/// does about it; `licences` are the names of the e-licences (电子证照) the citizen holds,
/// `None` while that is not known. A line never contradicts its badge: the guide's
/// "〔已有…电子证照的免提交〕" becomes what it means for this citizen.
pub fn checklist(m: &Matter, chosen: &[String], licences: Option<&[String]>) -> Vec<ChecklistItem> {
    m.materials_for(chosen)
        .into_iter()
        .map(|mat| {
            let status = match (&mat.exempted_by_licence, licences) {
                (Some(l), Some(held)) if held.iter().any(|h| h == l) => MaterialStatus::Exempt,
                (Some(_), None) => MaterialStatus::LicenceMayReplace,
                _ if mat.capturable => MaterialStatus::CaptureHere,
                _ => MaterialStatus::BringToWindow,
            };
            let mut detail = material_terms(mat);
            let licence = mat.exempted_by_licence.as_deref().unwrap_or_default();
            match status {
                MaterialStatus::Exempt => detail = format!("已由您的{licence}电子证照代替"),
                MaterialStatus::LicenceMayReplace => {
                    detail =
                        format!("{detail}：有{licence}电子证照的刷身份证后免提交，没有的请带到窗口")
                }
                _ if !licence.is_empty() => {
                    detail = format!("{detail}：未查到您的{licence}电子证照")
                }
                _ => {}
            }
            ChecklistItem {
                id: mat.id.clone(),
                name: mat.name.clone(),
                detail,
                status,
            }
        })
        .collect()
}

/// What comes after 已提交, for the done page: what to bring to the window and where, and
/// when and how the result comes. `to_bring` are the materials not yet handed in.
pub fn after_submission(
    m: &Matter,
    to_bring: &[String],
    delivery: Option<&crate::core::domain::Delivery>,
) -> Vec<String> {
    use crate::core::domain::Delivery;
    let mut out = Vec::new();
    if to_bring.is_empty() {
        out.push("材料已齐，无需再到窗口交材料".to_owned());
    } else {
        out.push(format!("请带{}到窗口", to_bring.join("、")));
        if !m.local.address.is_empty() {
            let hours = if m.local.hours.is_empty() {
                String::new()
            } else {
                format!("（{}）", m.local.hours)
            };
            out.push(format!("办理地点：{}{hours}", m.local.address));
        }
    }
    let limit = m.promised_time_limit.display_zh();
    out.push(match delivery {
        Some(Delivery::Post { .. }) => format!("承诺时限：{limit}，办结后邮寄到您填写的地址"),
        Some(Delivery::Window) => format!("承诺时限：{limit}，办结后到窗口领取"),
        None => format!("承诺时限：{limit}，可凭办件编号查询进度"),
    });
    out
}

fn numbered(items: &[String]) -> String {
    items
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{}. {}", i + 1, s))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Matter {
        serde_json::from_str(include_str!("../../tests/data/example-matter.json")).unwrap()
    }

    #[test]
    fn guide_marks_exempt_and_conditional_materials() {
        let g = matter_guide(&example());
        let materials = &g.iter().find(|s| s.title == "申请材料").unwrap().body;
        assert!(
            materials.contains("居民户口簿（纸质，原件1份） 〔已有居民户口簿电子证照的免提交〕")
        );
        assert!(materials.contains("原居民身份证（纸质，原件1份） 〔视情形提供〕"));
    }

    #[test]
    fn fees_are_shown_in_yuan_from_fen() {
        let g = matter_guide(&example());
        let fees = &g.iter().find(|s| s.title == "收费标准").unwrap().body;
        assert_eq!(fees, "居民身份证工本费（换领） 20.00 元");
    }

    #[test]
    fn checklist_exempts_only_licences_the_citizen_holds() {
        let m = example();
        let hukou = m
            .materials
            .iter()
            .find(|x| x.exempted_by_licence.as_deref() == Some("居民户口簿"))
            .unwrap()
            .name
            .clone();
        let status = |licences: &[String]| {
            checklist(&m, &[], Some(licences))
                .into_iter()
                .find(|i| i.name == hukou)
                .unwrap()
                .status
        };
        assert_eq!(status(&[]), MaterialStatus::BringToWindow);
        assert_eq!(status(&["居民户口簿".to_owned()]), MaterialStatus::Exempt);
        assert!(checklist(&m, &[], Some(&[]))
            .iter()
            .any(|i| i.status == MaterialStatus::CaptureHere));
    }

    #[test]
    fn after_submission_says_what_to_bring_where_and_when_the_result_comes() {
        use crate::core::domain::Delivery;
        let m = example();
        let lines = after_submission(&m, &["居民户口簿".into()], Some(&Delivery::Window));
        assert_eq!(lines[0], "请带居民户口簿到窗口");
        assert!(lines[1].starts_with("办理地点：") && lines[1].contains(&m.local.address));
        let limit = m.promised_time_limit.display_zh();
        assert_eq!(lines[2], format!("承诺时限：{limit}，办结后到窗口领取"));
        let posted = after_submission(
            &m,
            &[],
            Some(&Delivery::Post {
                address: "重庆市渝中区1号".into(),
                phone: "13800000000".into(),
            }),
        );
        assert_eq!(posted[0], "材料已齐，无需再到窗口交材料");
        assert_eq!(posted.len(), 2, "no address to go to: {posted:?}");
        assert!(posted[1].ends_with("办结后邮寄到您填写的地址"));
    }

    #[test]
    fn a_checklist_line_never_contradicts_its_badge() {
        let m = example();
        let line = |licences: Option<&[String]>| {
            checklist(&m, &[], licences)
                .into_iter()
                .find(|i| i.name == "居民户口簿")
                .unwrap()
        };
        let unknown = line(None);
        assert_eq!(unknown.status, MaterialStatus::LicenceMayReplace);
        assert!(
            unknown.detail.contains("刷身份证后免提交"),
            "{}",
            unknown.detail
        );
        let lacking = line(Some(&[]));
        assert_eq!(lacking.status, MaterialStatus::BringToWindow);
        assert!(!lacking.detail.contains("免提交"), "{}", lacking.detail);
        assert!(lacking.detail.contains("未查到您的居民户口簿电子证照"));
        let held = line(Some(&["居民户口簿".to_owned()]));
        assert_eq!(held.status, MaterialStatus::Exempt);
        // Every material's line: a 请带到窗口 badge is never beside "免提交".
        for licences in [None, Some(&[][..])] {
            for item in checklist(&m, &[], licences) {
                if item.status == MaterialStatus::BringToWindow {
                    assert!(
                        !item.detail.contains("免提交"),
                        "{}: {}",
                        item.name,
                        item.detail
                    );
                }
            }
        }
    }
}
