//! English for the texts Rust puts on screen (the `.slint` texts are translated by Slint's
//! bundled `.po`). zh-CN is the source: every text is written in Chinese where it is made, and
//! [`Lang::t`] turns it into English at render time when the citizen chose English. Templates
//! with `{}` match texts built with `format!`; what fills a `{}` (a matter's name, a number)
//! stays as it is — the catalogue itself is published in Chinese only.

use crate::core::config::Language;

/// (zh-CN, English). `{}` marks a part that is carried over unchanged.
const EN: &[(&str, &str)] = &[
    // Home and header.
    ("事项目录 第 {} 版 · 共 {} 项事项、{} 个“一件事”", "Catalogue v{} · {} services, {} one-stop bundles"),
    ("包含 {} 个事项", "{} services"),
    ("一件事一次办 · 包含 {} 个事项", "One-stop service · {} services"),
    ("网络中断，业务将暂存本机，恢复后自动提交", "Network down: applications are kept here and sent automatically when it returns"),
    ("打印机缺纸，暂不能取号，请到服务台", "The printer is out of paper: no tickets for now, please go to the service desk"),
    ("打印机卡纸，暂不能取号，请到服务台", "The printer is jammed: no tickets for now, please go to the service desk"),
    ("打印机故障，暂不能取号，请到服务台", "The printer is out of order: no tickets for now, please go to the service desk"),
    ("身份证阅读器故障，请用渝快码或到服务台", "The ID card reader is out of order: use a Yukuaiban code or go to the service desk"),
    ("设备故障，暂不能办理，请到服务台", "A device is out of order: please go to the service desk"),
    ("本机正在维护，暂停办理业务，请到服务台或其他终端办理", "This terminal is under maintenance and offers no services now; please go to the service desk or another terminal"),
    ("设备维护中", "Devices under maintenance"),
    ("本机设备正在由工作人员维护，暂停办理业务，请稍候或到柜台办理", "Staff are servicing this terminal's devices: no services for now, please wait or go to a counter"),
    // The local device service's consent (session::host).
    ("{} 服务请求读取您的身份证信息", "{} asks to read your ID card"),
    ("{} 请求使用其已核验的您的身份信息办理业务", "{} asks to use the identity it checked to start your application"),
    ("同意后请将身份证放在读卡区；您的姓名、身份号码和住址将提供给该服务，本机不保存", "If you agree, place your ID card on the reader: your name, ID number and address go to that service; this terminal keeps none of it"),
    ("同意后将以您的姓名和身份号码办理；拒绝也可刷身份证自行办理", "If you agree, your application starts with your name and ID number; if you refuse, you can still scan your ID card yourself"),
    ("{} 服务请求扫描您出示的二维码", "{} asks to read a QR code you show"),
    ("{} 服务请求拍摄您的材料", "{} asks to photograph your document"),
    ("同意后请将二维码对准扫码区；码的内容将提供给该服务，本机不保存", "If you agree, hold the QR code to the scanner: what it holds goes to that service; this terminal keeps none of it"),
    ("请先将材料平放在拍摄区再点同意；拍下的照片将提供给该服务，本机不保存", "Lay the document flat under the camera first, then tap Agree: the photo goes to that service; this terminal keeps none of it"),
    // Find.
    ("没有找到与“{}”相关的事项，可以换个说法或按部门浏览", "Nothing found for “{}”; try other letters or browse by department"),
    ("找到 {} 项，点事项开始办理", "{} found; tap one to start"),
    ("正在查找…", "Searching…"),
    // Guide.
    ("第 {} 个问题", "Question {}"),
    ("“免提交”的材料已由您的电子证照代替，无需携带", "Materials marked “Not needed” are covered by your e-licences"),
    ("刷身份证后，已有电子证照的材料可以免提交", "Scan your ID card: materials covered by your e-licences will not be needed"),
    ("免提交", "Not needed"),
    ("本机拍摄", "Photograph here"),
    ("请带到窗口", "Bring to a window"),
    ("已由您的{}电子证照代替", "Covered by your e-licence: {}"),
    ("持证可免", "Not needed with e-licence"),
    ("{}：有{}电子证照的刷身份证后免提交，没有的请带到窗口", "{}: not needed if you hold the {} e-licence (scan your ID card to check); otherwise bring it to a window"),
    ("{}：未查到您的{}电子证照", "{}: no {} e-licence was found for you"),
    // The frame around the errand (session::shell).
    ("问题", "Questions"),
    ("材料", "Materials"),
    ("填表", "Form"),
    ("拍照", "Photos"),
    ("核对", "Review"),
    ("提交", "Submit"),
    ("请取走您的身份证", "Please take your ID card"),
    ("请取走您的身份证和打印的凭条", "Please take your ID card and your printout"),
    ("请取走打印的凭条", "Please take your printout"),
    ("离开前请取走您的身份证和回执", "Take your ID card and the receipt before you leave"),
    // 已提交's 接下来 (errand::guide::after_submission).
    ("材料已齐，无需再到窗口交材料", "All materials are in: nothing to bring to a window"),
    ("请带{}到窗口", "Bring {} to a window"),
    ("办理地点：{}", "Where: {}"),
    ("承诺时限：{}，办结后邮寄到您填写的地址", "Promised within {}; the result is posted to the address you gave"),
    ("承诺时限：{}，办结后到窗口领取", "Promised within {}; collect the result at a window"),
    ("承诺时限：{}，可凭办件编号查询进度", "Promised within {}; follow it with your case number"),
    ("点击“确认提交”即表示：本人承诺所填信息真实有效", "By tapping “Submit” you promise that what you entered is true"),
    ("点击“确认提交”即表示：代办人承诺已获被代办人授权，所填信息真实有效", "By tapping “Submit” you, the agent, promise that the applicant authorised you and that what you entered is true"),
    ("基本信息", "About"),
    ("受理条件", "Conditions"),
    ("申请材料", "Materials"),
    ("办理流程", "Steps"),
    ("收费标准", "Fees"),
    ("办理地点与时间", "Where and when"),
    ("咨询与投诉", "Enquiries and complaints"),
    ("设定依据", "Legal basis"),
    ("简介", "Overview"),
    ("一次办好以下事项", "Done together"),
    // Form.
    ("带“已从身份证读取”的内容不能修改；点其他框，用屏幕上的键盘输入", "Fields read from your ID card cannot be changed; tap another field and type on the keyboard"),
    ("点输入框，用屏幕上的键盘输入", "Tap a field and type on the keyboard"),
    ("请填写{}", "Please fill in: {}"),
    ("请选择{}", "Please choose: {}"),
    ("{}最多 {} 个字，请删去一些", "{}: at most {} characters"),
    ("手机号应为11位数字，以1开头", "A mobile number has 11 digits and starts with 1"),
    ("身份号码不正确，请核对18位号码（最后一位可能是X）", "This ID number is not valid; check all 18 characters (the last may be X)"),
    ("日期格式应为 年-月-日，如 2024-05-01", "Write the date as year-month-day, e.g. 2024-05-01"),
    ("{}应为整数", "{}: a whole number"),
    ("{}应在 {}～{} 之间", "{}: between {} and {}"),
    ("请从列出的选项中选择{}", "Please choose one of the options: {}"),
    ("11位手机号，如 13800000000", "11-digit mobile number, e.g. 13800000000"),
    ("18位公民身份号码", "18-character ID number"),
    ("日期，如 2024-05-01", "Date, e.g. 2024-05-01"),
    ("{}～{} 之间的整数", "A whole number from {} to {}"),
    ("整数", "A whole number"),
    ("请点选一项", "Tap one"),
    ("不超过 {} 个字", "Up to {} characters"),
    // Capture.
    ("点下面的材料名称开始拍摄", "Tap a material below to photograph it"),
    ("正在拍摄，请保持材料不动…", "Taking the photo; keep the material still…"),
    ("已拍摄，请查看照片是否清楚；不清楚请点「重拍」", "Photographed: check it is clear; if not, tap “Retake”"),
    ("对准材料，看清画面后点「拍照」", "Line the material up; when the picture is clear, tap “Take photo”"),
    ("摄像头暂时不能使用（{}）。请点「下一步」继续办理，没拍的材料请带到窗口", "The camera cannot be used now ({}). Tap “Next” to carry on and bring the materials not photographed to a window"),
    ("拍摄失败：{}", "Photo failed: {}"),
    // Review.
    ("事项", "Service"),
    ("申请人", "Applicant"),
    ("身份证号", "ID number"),
    ("免提交（电子证照）", "Not needed (e-licence)"),
    ("已拍摄", "Photographed"),
    // Done.
    ("已提交", "Submitted"),
    ("已暂存", "Saved on this terminal"),
    ("未能保存", "Not saved"),
    ("您的申请已提交到渝快办，可凭办件编号查询进度", "Your application reached Yukuaiban; use the case number to follow it"),
    ("网络恢复后自动提交，无需再来；可凭本机编号查询进度", "It will be sent automatically when the network returns; no need to come back. Use the local number to follow it"),
    ("办件编号", "Case number"),
    ("本机编号", "Local number"),
    ("{}。请到窗口办理，或联系工作人员", "{}. Please go to a window or ask staff for help"),
    ("正在打印回执…", "Printing your receipt…"),
    ("回执已打印，请取走回执", "Receipt printed: please take it"),
    ("回执未能打印（{}），请记下上面的编号", "The receipt could not be printed ({}); please note the number above"),
    ("本机没有回执打印机，请记下上面的编号", "This terminal has no printer; please note the number above"),
    // 手写签名.
    ("本事项需要本人签名：请在下面的签名框内签名后再提交", "This service needs your signature: sign in the box below, then submit"),
    // 缴费.
    ("正在生成缴费订单…", "Creating the payment order…"),
    ("请用手机扫码缴费", "Scan the code with your phone to pay"),
    ("请用手机扫描屏幕上的二维码缴费", "Scan the code on the screen with your phone to pay"),
    ("请在 {} 内完成支付", "Please pay within {}"),
    ("正在确认缴费结果…", "Checking the payment…"),
    ("支付完成后本页自动显示结果，请勿重复支付", "Once you have paid, this page shows it by itself; please do not pay twice"),
    ("缴费成功", "Paid"),
    ("回执上有支付流水号和财政电子票据二维码", "The receipt carries the payment number and the QR code of the official e-receipt"),
    ("缴费订单已取消", "The payment order was cancelled"),
    ("缴费订单已过期", "The payment order has expired"),
    ("未扣款。可点「重新缴费」重新生成二维码，或稍后在渝快办App缴费；办件已提交", "Nothing was charged. Tap “Pay again” for a new code, or pay later in the Yukuaiban app; your application is submitted"),
    ("暂时无法确认缴费结果", "The payment cannot be confirmed now"),
    ("如已支付，无需再付：请稍后在“办件进度查询”中查看缴费状态", "If you paid, do not pay again: check the payment later under “Track an application”"),
    ("暂时不能缴费", "Payment is not possible now"),
    ("稍后缴费", "Pay later"),
    ("已缴费 {} 元", "CNY {} paid"),
    ("需缴费 {} 元，请点「缴费」扫码支付", "Fee CNY {}: tap “Pay” to pay by QR"),
    ("需缴费 {} 元：联网提交后可在渝快办App缴费", "Fee CNY {}: pay in the Yukuaiban app once sent"),
    ("暂时连不上政务服务平台，缴费需要联网；办件已提交，可稍后在渝快办App缴费", "The platform cannot be reached and paying needs the network; your application is submitted, pay later in the Yukuaiban app"),
    ("平台返回的缴费订单不属于本办件，已停止缴费，请到窗口咨询", "The platform's payment order is not for this application; payment stopped, please ask at a window"),
    ("平台返回的缴费金额（{} 元）与收费标准（{} 元）不符，已停止缴费，请到窗口咨询", "The platform asked for CNY {} but the fee is CNY {}; payment stopped, please ask at a window"),
    ("平台返回的支付二维码地址不可信，本机不予显示，请稍后在渝快办App缴费", "The platform's payment code does not point to the platform and is not shown; please pay later in the Yukuaiban app"),
    ("缴费：待缴费（可在渝快办App缴费）", "Fee: not paid yet (pay in the Yukuaiban app)"),
    ("缴费：已缴费", "Fee: paid"),
    ("寄递运单号：{}", "Posted, waybill {}"),
    ("缴费和寄递情况暂时查不到（需联网），请稍后再查", "The fee and delivery cannot be looked up now (network needed); please try later"),
    ("本事项收费 {} 元，提交后可在本机扫码缴费", "This service costs CNY {}; after submitting you can pay here by QR code"),
    ("本事项需联网缴费（收费 {} 元）：现在网络不通，可先提交，网络恢复后在渝快办App缴费", "Paying this service's fee (CNY {}) needs the network, which is down: you can submit now and pay in the Yukuaiban app later"),
    // 取号, progress, staff.
    ("{} 人等候", "{} waiting"),
    ("前面还有 {} 人", "{} ahead of you"),
    ("前面还有 {} 人（绿色通道）", "{} ahead of you (priority)"),
    ("前面还有 {} 人（预约签到）", "{} ahead of you (appointment)"),
    ("此号有效，请留意叫号屏{}", "This number is valid; watch the calling display{}"),
    ("取号凭条未能打印（{}），此号已作废，请重新取号或到咨询台", "The ticket could not be printed ({}); this number is void. Take another or ask at the help desk"),
    ("取号凭条未能打印（{}），请到咨询台", "The ticket could not be printed ({}); please ask at the help desk"),
    ("预约 {} 已签到（号码 {}），不能重复签到", "Appointment {} is already checked in (number {})"),
    ("预约号不能为空", "Please type the appointment code"),
    ("请先输入编号", "Please type the number first"),
    ("没有找到这个编号", "No application with this number"),
    ("本机只能查到在本机提交的办件；其他办件请在渝快办APP或到窗口查询", "This terminal knows only applications made here; for others use the Yukuaiban app or ask at a window"),
    ("暂时查不到", "Cannot look it up now"),
    ("办件编号 {}", "Case number {}"),
    ("本机编号 {}", "Local number {}"),
    ("状态：{}（更新于 {}）", "Status: {} (updated {})"),
    ("工作人员会尽快过来；也可以拨打 12345 政务服务便民热线", "Staff will come soon; you can also call the 12345 hotline"),
    // Voice prompts.
    ("您好，请选择要办理的业务", "Hello! What would you like to do?"),
    ("请将身份证放在读卡区", "Place your ID card on the reader"),
    ("请用屏幕上的键盘输入拼音首字母", "Type pinyin initials on the screen keyboard"),
    ("请选择部门", "Choose a department"),
    ("请选择要办理的事项", "Choose a service"),
    ("这是办事指南", "Here is the service guide"),
    ("请看需要准备的材料", "Here are the materials you need"),
    ("请填写申请信息", "Please fill in your application"),
    ("请把材料平放在高拍仪下", "Lay the material flat under the document camera"),
    ("请核对后提交", "Please check, then submit"),
    ("请为本次服务评价", "Please rate this service"),
    ("请选择要办理的业务，取号排队", "Choose a service to take a queue number"),
    ("请输入回执上的编号", "Type the number on your receipt"),
    ("已通知工作人员，请在原地稍候", "Staff have been called; please wait here"),
    ("您的号码是 {}", "Your number is {}"),
    // 人证核验.
    ("请看摄像头，正在核验本人…", "Please look at the camera; checking it is you…"),
    ("人脸与证件不一致，请本人办理或联系工作人员", "The face does not match the card; the holder must apply in person, or ask staff"),
    ("无法核验本人（{}），请联系工作人员", "Cannot check it is you ({}); please ask staff"),
    // 渝快码 and scanning.
    ("正在核验渝快码…", "Checking the code…"),
    ("本机暂时无法核验渝快码，请刷身份证", "This terminal cannot check the code now; please scan your ID card"),
    ("暂时无法核验渝快码，请稍后再试或刷身份证", "The code cannot be checked now; try again later or scan your ID card"),
    ("这个二维码不是渝快码或本机回执，请换一个码", "This is not a Yukuaima or receipt code; please try another"),
    ("无法识别这个码，请换一个码", "This code cannot be read; please try another"),
    ("这个码太长，无法识别", "This code is too long to read"),
    // 证照打印 (the copy's labels, the platform's answers, the printing).
    ("持证人", "Holder"),
    ("证照号码", "Licence number"),
    ("发证机关", "Issued by"),
    ("发证日期", "Issued on"),
    ("有效期至", "Valid until"),
    ("政务服务平台上没有找到您的这项电子证照", "The platform holds no such e-licence of yours"),
    ("政务服务平台拒绝了这次请求，请到窗口办理（{}）", "The platform refused this request; please go to a window ({})"),
    ("暂时连不上政务服务平台，电子证照打印需要网络，请稍后再试或到窗口办理", "The platform cannot be reached: printing an e-licence needs the network. Please try again later or go to a window"),
    ("正在打印，请稍候…", "Printing, please wait…"),
    ("已打印，请取走打印件", "Printed: please take your copy"),
    ("未能打印（{}），请联系工作人员", "Not printed ({}); please ask staff for help"),
    ("本机没有打印机，不能打印证照，请到窗口办理", "This terminal has no printer; please go to a window"),
    ("请选择要打印的电子证照", "Choose the e-licence to print"),
    ("请核对后打印", "Please check, then print"),
    ("请取走打印件", "Please take your copy"),
    // 证明开具 and the A4 printer.
    ("证明名称", "Certificate"),
    ("页数", "Pages"),
    ("电子签名", "E-signature"),
    ("{} 页（A4）", "{} pages (A4)"),
    ("已校验：政务服务平台签发", "Verified: issued by the government service platform"),
    ("正在用 A4 打印机打印，请稍候…", "Printing on the A4 printer, please wait…"),
    ("{}，正在等待打印机…", "{}; waiting for the printer…"),
    ("本机没有 A4 打印机，不能打印证明，请到窗口办理", "This terminal has no A4 printer; please go to a window"),
    ("打印件生成失败（{}），请到窗口办理", "The copy could not be made ({}); please go to a window"),
    ("暂时连不上政务服务平台，证明开具需要网络，请稍后再试或到窗口办理", "The platform cannot be reached: certificates need the network. Please try again later or go to a window"),
    ("证明文件的电子签名校验未通过，本机不予打印，请到窗口办理", "The certificate's e-signature did not verify, so it is not printed here; please go to a window"),
    ("证明文件格式不正确（不是 PDF），本机不予打印，请到窗口办理", "The certificate is not a PDF, so it is not printed here; please go to a window"),
    ("证明文件过大（{} 字节），本机不予打印，请到窗口办理", "The certificate is too large ({} bytes), so it is not printed here; please go to a window"),
    // Technician mode (sign-in messages from core::pin).
    ("工号或密码不对，还可以再试 {} 次", "Wrong id or PIN; {} tries left"),
    ("错误次数过多，请 {} 秒后再试", "Too many wrong tries; try again in {} seconds"),
    // Evaluate.
    ("请先点选一个评价", "Please choose a rating first"),
    ("请选择不满意的原因，以便我们改进", "Please choose what went wrong, so we can improve"),
    ("等候时间长", "Long wait"),
    ("操作步骤多", "Too many steps"),
    ("看不清、听不清", "Hard to see or hear"),
    ("设备故障", "Device fault"),
    ("材料要求不清楚", "Unclear requirements"),
    ("工作人员态度", "Staff attitude"),
    ("操作简单", "Easy to use"),
    ("不用跑腿", "No extra trips"),
    ("材料少", "Few materials"),
    ("速度快", "Fast"),
    ("指引清楚", "Clear guidance"),
    // 帮办代办 and 邮寄到家.
    ("子女", "Child"),
    ("配偶", "Spouse"),
    ("父母", "Parent"),
    ("监护人", "Guardian"),
    ("委托", "Authorised"),
    ("这是代办人本人的身份证，请放置被代办人的身份证", "This is the agent's own ID card; please place the applicant's card"),
    ("请先选择您与被代办人的关系", "Please choose how you are related to the applicant first"),
    ("请放置被代办人的身份证，或点“被代办人未到场”输入其姓名和身份证号码", "Place the applicant's ID card, or tap \"The applicant is not here\" to type their name and ID number"),
    ("这是代办人本人的号码，请填写被代办人的身份证号码", "This is the agent's own number; please type the applicant's ID number"),
    ("本事项的表单无法填写被代办人的身份信息，请被代办人携带身份证办理或到窗口办理", "This form cannot name an applicant who is not here; please bring the applicant's ID card or go to a window"),
    ("被代办人未到场：请填写被代办人的姓名和身份证号码", "The applicant is not here: please type the applicant's name and ID number"),
    ("帮他人办理：开始申请后先刷代办人本人的身份证，再刷被代办人的身份证（未到场的可输入其身份证号码）", "Applying for someone else: after Start, the agent places their own ID card, then the applicant's (or types the applicant's ID number if they are not here)"),
    ("本事项可由家人等代办", "Family members and others may apply for the applicant"),
    ("本事项需本人办理，不能由他人代办", "The applicant must apply in person; no one else can apply for them"),
    ("请选择您与被代办人的关系，再放置被代办人的身份证", "Choose how you are related to the applicant, then place the applicant's ID card"),
    ("代办人", "Agent"),
    ("代办人身份证号", "Agent's ID number"),
    // Last: any amount in 元 not said by a longer text above.
    ("{} 元", "CNY {}"),
];

/// The language the session shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lang(pub Language);

impl Lang {
    /// `zh` as the citizen reads it: unchanged in Chinese; in English the table's text, or
    /// `zh` itself when the table has none (catalogue content, device messages).
    pub fn t(self, zh: &str) -> String {
        match self.0 {
            Language::ZhCn => zh.to_owned(),
            Language::En => english(zh).unwrap_or_else(|| zh.to_owned()),
        }
    }
}

/// The English of `zh`, exact or by template.
pub fn english(zh: &str) -> Option<String> {
    EN.iter().find_map(|(z, e)| {
        if !z.contains("{}") {
            return (*z == zh).then(|| (*e).to_owned());
        }
        let args = match_template(z, zh)?;
        let mut out = String::new();
        let mut args = args.into_iter();
        let mut parts = e.split("{}");
        out.push_str(parts.next().unwrap_or_default());
        for p in parts {
            out.push_str(args.next().unwrap_or_default());
            out.push_str(p);
        }
        Some(out)
    })
}

/// The parts of `s` that fill the template's `{}`s, if `s` has the template's shape.
fn match_template<'a>(template: &str, s: &'a str) -> Option<Vec<&'a str>> {
    let parts: Vec<&str> = template.split("{}").collect();
    let mut rest = s.strip_prefix(parts[0])?;
    let mut args = Vec::new();
    for (i, p) in parts[1..].iter().enumerate() {
        let last = i == parts.len() - 2;
        let at = if last {
            if !rest.ends_with(p) {
                return None;
            }
            rest.len() - p.len()
        } else if p.is_empty() {
            return None;
        } else {
            rest.find(p)?
        };
        args.push(&rest[..at]);
        rest = &rest[at + p.len()..];
    }
    rest.is_empty().then_some(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_texts_and_templates_translate() {
        let en = Lang(Language::En);
        assert_eq!(en.t("已提交"), "Submitted");
        assert_eq!(
            en.t("找到 12 项，点事项开始办理"),
            "12 found; tap one to start"
        );
        assert_eq!(
            en.t("事项目录 第 3 版 · 共 72 项事项、5 个“一件事”"),
            "Catalogue v3 · 72 services, 5 one-stop bundles"
        );
        assert_eq!(en.t("请填写联系电话"), "Please fill in: 联系电话");
        assert_eq!(
            en.t("邮寄地址最多 100 个字，请删去一些"),
            "邮寄地址: at most 100 characters"
        );
        // Catalogue content has no English and stays as published.
        assert_eq!(en.t("居民身份证换领"), "居民身份证换领");
        assert_eq!(Lang(Language::ZhCn).t("已提交"), "已提交");
    }

    #[test]
    fn the_table_has_one_entry_per_text_and_the_same_placeholders() {
        for (i, (z, e)) in EN.iter().enumerate() {
            assert!(
                !EN[..i].iter().any(|(z2, _)| z2 == z),
                "{z} is in the table twice"
            );
            assert_eq!(z.matches("{}").count(), e.matches("{}").count(), "{z}");
        }
    }

    #[test]
    fn texts_the_kiosk_builds_are_in_the_table() {
        use crate::core::domain::EvaluationLevel;
        for l in EvaluationLevel::ALL {
            for r in crate::errand::case::reasons_for(l) {
                assert!(english(r).is_some(), "{r}");
            }
        }
        use crate::core::platform::{LicenceDocumentError, PlatformError};
        for e in [
            LicenceDocumentError::NotHeld,
            LicenceDocumentError::Refused("bad_id_number".into()),
            LicenceDocumentError::Unavailable(PlatformError::Timeout),
        ] {
            assert!(english(&e.to_string()).is_some(), "{e}");
        }
        for s in [
            crate::errand::guide::MaterialStatus::Exempt,
            crate::errand::guide::MaterialStatus::CaptureHere,
            crate::errand::guide::MaterialStatus::BringToWindow,
            crate::errand::guide::MaterialStatus::LicenceMayReplace,
        ] {
            assert!(english(s.label()).is_some(), "{}", s.label());
        }
        use crate::kiosk::session::{Reminder, Step};
        for s in [
            Step::Questions,
            Step::Materials,
            Step::Form,
            Step::Photos,
            Step::Review,
            Step::Submitted,
        ] {
            assert!(english(s.label()).is_some(), "{}", s.label());
        }
        for r in [
            Reminder::TakeCard,
            Reminder::TakeCardAndPaper,
            Reminder::TakePaper,
        ] {
            assert!(english(r.text()).is_some(), "{}", r.text());
        }
    }
}
