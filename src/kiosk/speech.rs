//! 语音提示 — what the kiosk says aloud in 大字模式 on every screen change, spoken through the
//! terminal's [`crate::terminal::speech::Speaker`].

/// What a screen says when it opens (zh-CN; translated like every other text).
pub fn prompt(screen: &super::session::Screen, detail: &str) -> String {
    use super::session::Screen;
    let fixed = match screen {
        Screen::Home => "您好，请选择要办理的业务",
        Screen::Identify => "请将身份证放在读卡区",
        Screen::Agent => "请选择您与被代办人的关系，再放置被代办人的身份证",
        Screen::Find => "请用屏幕上的键盘输入拼音首字母",
        Screen::Departments => "请选择部门",
        Screen::Matters { .. } | Screen::Bundles => "请选择要办理的事项",
        Screen::MatterInfo { .. } | Screen::BundleInfo { .. } => "这是办事指南",
        Screen::Guide { .. } | Screen::Done | Screen::TicketIssued => return detail.to_owned(),
        Screen::Checklist => "请看需要准备的材料",
        Screen::Form => "请填写申请信息",
        Screen::Capture => "请把材料平放在高拍仪下",
        Screen::Review => "请核对后提交",
        Screen::Payment => "请用手机扫描屏幕上的二维码缴费",
        Screen::Evaluate => "请为本次服务评价",
        Screen::Tickets => "请选择要办理的业务，取号排队",
        Screen::Progress => "请输入回执上的编号",
        Screen::CallStaff => "已通知工作人员，请在原地稍候",
        Screen::Licences => "请选择要打印的电子证照",
        Screen::LicenceConfirm => "请核对后打印",
        Screen::LicencePrinted => "请取走打印件",
        Screen::TechLogin | Screen::Technician => return String::new(),
    };
    fixed.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kiosk::session::Screen;

    #[test]
    fn every_screen_has_something_to_say_and_questions_are_read_out() {
        assert_eq!(prompt(&Screen::Home, ""), "您好，请选择要办理的业务");
        assert_eq!(
            prompt(&Screen::Guide { question: 0 }, "您换领身份证的原因是？"),
            "您换领身份证的原因是？"
        );
        for s in [
            Screen::Form,
            Screen::Capture,
            Screen::Review,
            Screen::Evaluate,
        ] {
            assert!(!prompt(&s, "").is_empty(), "{s:?}");
        }
    }
}
