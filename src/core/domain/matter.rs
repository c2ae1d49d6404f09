//! 事项 — matters of the implementation list (实施清单), after GB/T 39046-2020
//! (政务服务平台基础数据规范) and the national catalogue exchange tables.

use serde::{Deserialize, Serialize};

use super::{Code, RegionCode};

/// 事项类型 — the kind of power or service a matter is, with the national code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MatterType {
    /// 行政许可
    #[serde(rename = "01")]
    Licensing,
    /// 行政处罚
    #[serde(rename = "02")]
    Penalty,
    /// 行政强制
    #[serde(rename = "03")]
    Enforcement,
    /// 行政征收
    #[serde(rename = "04")]
    Levy,
    /// 行政给付
    #[serde(rename = "05")]
    Benefit,
    /// 行政检查
    #[serde(rename = "06")]
    Inspection,
    /// 行政确认
    #[serde(rename = "07")]
    Confirmation,
    /// 行政奖励
    #[serde(rename = "08")]
    Reward,
    /// 行政裁决
    #[serde(rename = "09")]
    Adjudication,
    /// 其他行政权力
    #[serde(rename = "10")]
    OtherPower,
    /// 公共服务
    #[serde(rename = "20")]
    PublicService,
}

impl MatterType {
    /// The national two-digit code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Licensing => "01",
            Self::Penalty => "02",
            Self::Enforcement => "03",
            Self::Levy => "04",
            Self::Benefit => "05",
            Self::Inspection => "06",
            Self::Confirmation => "07",
            Self::Reward => "08",
            Self::Adjudication => "09",
            Self::OtherPower => "10",
            Self::PublicService => "20",
        }
    }

    /// The Chinese name shown to people.
    pub fn name_zh(self) -> &'static str {
        match self {
            Self::Licensing => "行政许可",
            Self::Penalty => "行政处罚",
            Self::Enforcement => "行政强制",
            Self::Levy => "行政征收",
            Self::Benefit => "行政给付",
            Self::Inspection => "行政检查",
            Self::Confirmation => "行政确认",
            Self::Reward => "行政奖励",
            Self::Adjudication => "行政裁决",
            Self::OtherPower => "其他行政权力",
            Self::PublicService => "公共服务",
        }
    }
}

/// 服务对象 — who a matter serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// 自然人
    NaturalPerson,
    /// 法人
    LegalPerson,
}

/// 办理形式 — the channels through which a matter can be handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandlingForm {
    /// 窗口办理
    Window,
    /// 网上办理
    Online,
    /// 自助终端办理
    SelfService,
    /// 快递申请
    Post,
}

/// Unit of a time limit (办结时限单位).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    /// 工作日
    WorkingDay,
    /// 自然日
    NaturalDay,
    /// 小时
    Hour,
}

/// A time limit (法定/承诺办结时限). Zero means 即办 (done on the spot).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeLimit {
    pub value: u32,
    pub unit: TimeUnit,
}

impl TimeLimit {
    /// The limit as people read it: "即办", "20个工作日", "24小时".
    pub fn display_zh(&self) -> String {
        if self.value == 0 {
            return "即办".to_owned();
        }
        let unit = match self.unit {
            TimeUnit::WorkingDay => "个工作日",
            TimeUnit::NaturalDay => "天",
            TimeUnit::Hour => "小时",
        };
        format!("{}{}", self.value, unit)
    }
}

/// One fee item (收费项目). Amounts are in fen (分) so money is never a float.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeItem {
    pub name: String,
    pub amount_fen: u64,
    /// 收费依据
    #[serde(default)]
    pub basis: String,
}

/// 实施主体 — the body that implements the matter, and its region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImplementingBody {
    pub name: String,
    /// 实施主体编码 (统一社会信用代码), opaque.
    #[serde(default)]
    pub code: Option<Code>,
    pub region_code: RegionCode,
}

/// The non-unified elements a district sets itself (§9 of the measures):
/// where and when to go, and whom to call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalElements {
    /// 办理地点
    pub address: String,
    /// 办理时间
    pub hours: String,
    /// 咨询电话
    pub phone: String,
}

/// Contacts for consultation and complaints (咨询方式/监督投诉方式).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contacts {
    pub consultation: String,
    pub complaint: String,
}

/// Cross-region handling flags (跨域通办).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrossRegion {
    /// 川渝通办
    #[serde(default)]
    pub chuanyu: bool,
    /// 跨省通办
    #[serde(default)]
    pub trans_provincial: bool,
}

/// One step of the process (办理流程).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessStep {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// 事项 — one entry of the implementation list: what a citizen or business applies for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Matter {
    /// 基本编码 (catalogue code), opaque.
    pub catalog_code: Code,
    /// 实施编码 (task code), opaque; the key of a matter in this terminal.
    pub task_code: Code,
    /// 业务办理项编码 (handle-item code), opaque.
    pub handle_item_code: Code,
    /// Local codes some departments add, opaque.
    #[serde(default)]
    pub local_codes: Vec<Code>,
    /// 事项名称
    pub name: String,
    /// Other names people search by (e.g. 身份证 for 居民身份证换领).
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(rename = "type")]
    pub matter_type: MatterType,
    /// The department people know it by, for browsing (e.g. 公安户政).
    pub department: String,
    pub implementing_body: ImplementingBody,
    pub audiences: Vec<Audience>,
    /// Life events or business stages it belongs to, for browsing (e.g. 生育收养).
    #[serde(default)]
    pub life_events: Vec<String>,
    pub handling_forms: Vec<HandlingForm>,
    /// 法定办结时限
    pub legal_time_limit: TimeLimit,
    /// 承诺办结时限
    pub promised_time_limit: TimeLimit,
    /// 受理条件
    pub acceptance_conditions: Vec<String>,
    /// 办理流程
    pub process: Vec<ProcessStep>,
    /// 收费 — empty means free of charge.
    #[serde(default)]
    pub fees: Vec<FeeItem>,
    pub contacts: Contacts,
    /// 办理地点/办理时间/电话 for the terminal's district.
    pub local: LocalElements,
    /// 是否支持自助终端办理
    pub self_service: bool,
    /// 手写签名: the application must carry the applicant's signature (承诺) to be submitted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub requires_signature: bool,
    /// 到现场次数
    pub visits: u8,
    #[serde(default)]
    pub cross_region: CrossRegion,
    /// 设定依据 (legal basis), short citations.
    #[serde(default)]
    pub legal_basis: Vec<String>,
    /// 情形 — the questions that decide materials and fields.
    #[serde(default)]
    pub questions: Vec<Question>,
    /// 申请材料
    pub materials: Vec<Material>,
    /// 表单字段
    #[serde(default)]
    pub form_fields: Vec<FormField>,
}

/// Whether a question takes one answer or several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    Single,
    Multi,
}

/// 情形问题 — one question of the situation tree. A question is asked when it has no
/// `asked_when`, or when any option listed there was chosen; that turns a flat list into a tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    pub text: String,
    pub kind: QuestionKind,
    pub options: Vec<Choice>,
    /// Option ids (of earlier questions) any one of which makes this question apply.
    #[serde(default)]
    pub asked_when: Vec<String>,
}

/// 情形选项 — one answer to a question, and what it brings in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub id: String,
    pub label: String,
    /// Conditional materials this answer requires.
    #[serde(default)]
    pub materials: Vec<String>,
    /// Conditional form fields this answer requires.
    #[serde(default)]
    pub fields: Vec<String>,
    /// In a bundle: the matters (task codes) this answer includes.
    #[serde(default)]
    pub matters: Vec<Code>,
    /// 邮寄到家: choosing this answer has the result posted to the address typed into the
    /// first text field it requires (the case's `delivery`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub post: bool,
    /// 帮办代办: this answer has an agent apply for the applicant (子女, 配偶, 父母, 监护人 or
    /// someone authorised); the first text and ID-number fields it requires are the agent's
    /// name and number. A matter with no such answer is 本人办理 only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub agent: bool,
    /// Fees this answer adds to the matter's (e.g. the 邮寄费 of posting), paid with them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fees: Vec<FeeItem>,
}

/// 材料形式
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaterialForm {
    Paper,
    Electronic,
    Both,
}

/// 材料来源渠道
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaterialSource {
    /// 申请人自备
    Applicant,
    /// 政府部门核发
    Government,
    /// 中介机构或其他单位出具
    ThirdParty,
}

/// 必要性 — always needed, or only when a situation answer calls for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Necessity {
    Required,
    Conditional,
}

/// 申请材料 — one material of a matter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Material {
    pub id: String,
    pub name: String,
    pub form: MaterialForm,
    /// 原件份数
    #[serde(default)]
    pub originals: u8,
    /// 复印件份数
    #[serde(default)]
    pub copies: u8,
    pub necessity: Necessity,
    pub source: MaterialSource,
    /// The e-licence type (电子证照类型) that exempts it (免提交), if any.
    #[serde(default)]
    pub exempted_by_licence: Option<String>,
    /// Whether the kiosk's document camera may capture it.
    #[serde(default)]
    pub capturable: bool,
    /// 填报须知 / remarks.
    #[serde(default)]
    pub notes: String,
}

/// What kind of value a form field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// Free text, at most `max_len` characters.
    Text,
    /// An integer between `min` and `max`.
    Number,
    Date,
    Phone,
    IdNumber,
    /// One of `options`.
    Select,
}

/// Where a field's value may come from without typing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrefillSource {
    IdCardName,
    IdCardNumber,
    IdCardAddress,
    IdCardBirthDate,
    IdCardSex,
}

/// 表单字段 — one field of the application form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormField {
    pub id: String,
    pub label: String,
    pub kind: FieldKind,
    /// Text: the longest value allowed, in characters.
    #[serde(default)]
    pub max_len: Option<u32>,
    /// Number: the smallest value allowed.
    #[serde(default)]
    pub min: Option<i64>,
    /// Number: the largest value allowed.
    #[serde(default)]
    pub max: Option<i64>,
    /// Select: the choices.
    #[serde(default)]
    pub options: Vec<String>,
    pub necessity: Necessity,
    #[serde(default)]
    pub prefill: Option<PrefillSource>,
}

/// 一件事一次办 — a bundle of matters with shared situation questions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    pub code: Code,
    pub name: String,
    pub description: String,
    /// Matters (task codes) always part of the bundle.
    pub matters: Vec<Code>,
    /// Questions whose options add further matters.
    #[serde(default)]
    pub questions: Vec<Question>,
    /// Whether citizens may apply for the whole bundle at a self-service terminal, as one
    /// application (the platform routes the parts); otherwise it is guided only.
    #[serde(default)]
    pub self_service: bool,
}

impl Matter {
    /// Whether the matter serves natural persons.
    pub fn serves_people(&self) -> bool {
        self.audiences.contains(&Audience::NaturalPerson)
    }

    /// The questions that apply once `chosen` option ids have been picked, in order.
    pub fn applicable_questions<'a>(
        &'a self,
        chosen: &'a [String],
    ) -> impl Iterator<Item = &'a Question> + 'a {
        self.questions.iter().filter(move |q| {
            q.asked_when.is_empty() || q.asked_when.iter().any(|o| chosen.contains(o))
        })
    }

    /// The materials needed for the chosen option ids: the required ones plus those the
    /// applicable answers bring in, in catalogue order.
    pub fn materials_for(&self, chosen: &[String]) -> Vec<&Material> {
        let wanted = self
            .chosen_choices(chosen)
            .flat_map(|c| c.materials.iter())
            .collect::<Vec<_>>();
        self.materials
            .iter()
            .filter(|m| m.necessity == Necessity::Required || wanted.contains(&&m.id))
            .collect()
    }

    /// Whether the result can be posted (some answer is 邮寄到家).
    pub fn can_post(&self) -> bool {
        self.options().any(|o| o.post)
    }

    /// The 邮寄到家 answer among `chosen`, if the citizen chose one.
    pub fn post_choice(&self, chosen: &[String]) -> Option<&Choice> {
        self.chosen_where(chosen, |c| c.post)
    }

    /// Whether someone else may apply for the applicant (some answer is 代办).
    pub fn allows_agent(&self) -> bool {
        self.options().any(|o| o.agent)
    }

    /// The 代办 answer among `chosen`, if the citizen chose one.
    pub fn agent_choice(&self, chosen: &[String]) -> Option<&Choice> {
        self.chosen_where(chosen, |c| c.agent)
    }

    /// Every answer of every question.
    fn options(&self) -> impl Iterator<Item = &Choice> {
        self.questions.iter().flat_map(|q| q.options.iter())
    }

    /// The first chosen answer that `is` holds for.
    fn chosen_where(&self, chosen: &[String], is: fn(&Choice) -> bool) -> Option<&Choice> {
        let id = self.chosen_choices(chosen).find(|c| is(c))?.id.clone();
        self.options().find(|o| o.id == id)
    }

    /// The fees due for the chosen situation: the matter's own and those its answers add.
    pub fn fees_for<'a>(&'a self, chosen: &'a [String]) -> impl Iterator<Item = &'a FeeItem> + 'a {
        self.fees
            .iter()
            .chain(self.chosen_choices(chosen).flat_map(|c| c.fees.iter()))
    }

    /// The form fields needed for the chosen option ids.
    pub fn fields_for(&self, chosen: &[String]) -> Vec<&FormField> {
        let wanted = self
            .chosen_choices(chosen)
            .flat_map(|c| c.fields.iter())
            .collect::<Vec<_>>();
        self.form_fields
            .iter()
            .filter(|f| f.necessity == Necessity::Required || wanted.contains(&&f.id))
            .collect()
    }

    fn chosen_choices<'a>(&'a self, chosen: &'a [String]) -> impl Iterator<Item = &'a Choice> + 'a {
        self.applicable_questions(chosen)
            .flat_map(|q| q.options.iter())
            .filter(move |o| chosen.contains(&o.id))
    }
}
