//! 语音提示 — what the kiosk says aloud in 大字模式 on every screen change. A [`Speaker`]
//! trait; [`Espeak`] speaks through espeak-ng's Mandarin (or English) voice when it is
//! installed, and the kiosk stays silent when it is not. Tests use their own speaker.

use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

use crate::core::config::Language;

/// Something that can say a sentence. A new sentence cuts the previous one short.
pub trait Speaker {
    fn say(&self, text: &str, lang: Language);
}

/// espeak-ng as a child process (`-v cmn` for Mandarin, `-v en` for English).
pub struct Espeak {
    program: std::path::PathBuf,
    current: Mutex<Option<Child>>,
}

/// `espeak-ng` from `PATH`, if installed (an executable file). The hall display's
/// announcements use it too.
pub fn find_espeak() -> Option<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("espeak-ng"))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// espeak-ng saying `text` in `voice` at a calm speed, output discarded; `--` so a text
/// starting with "-" is never read as an option.
pub fn espeak_command(program: &std::path::Path, voice: &str, text: &str) -> Command {
    let mut c = Command::new(program);
    c.args(["-v", voice, "-s", "150", "--", text])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

impl Espeak {
    /// `espeak-ng` from `PATH`, if installed.
    pub fn find() -> Option<Self> {
        find_espeak().map(Self::at)
    }
}

impl Espeak {
    /// A given espeak-ng program.
    pub fn at(program: std::path::PathBuf) -> Self {
        Self {
            program,
            current: Mutex::new(None),
        }
    }
}

impl Speaker for Espeak {
    fn say(&self, text: &str, lang: Language) {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(mut old) = current.take() {
            let _ = old.kill();
            let _ = old.wait();
        }
        let voice = match lang {
            Language::ZhCn => "cmn",
            Language::En => "en",
        };
        match espeak_command(&self.program, voice, text).spawn() {
            Ok(child) => *current = Some(child),
            Err(e) => tracing::warn!(error = %e, "espeak-ng could not start"),
        }
    }
}

impl Drop for Espeak {
    fn drop(&mut self) {
        if let Some(mut c) = self
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// What a screen says when it opens (zh-CN; translated like every other text).
pub fn prompt(screen: &super::session::Screen, detail: &str) -> String {
    use super::session::Screen;
    let fixed = match screen {
        Screen::Home => "您好，请选择要办理的业务",
        Screen::Identify => "请将身份证放在读卡区",
        Screen::Find => "请用屏幕上的键盘输入拼音首字母",
        Screen::Departments => "请选择部门",
        Screen::Matters { .. } | Screen::Bundles => "请选择要办理的事项",
        Screen::MatterInfo { .. } | Screen::BundleInfo { .. } => "这是办事指南",
        Screen::Guide { .. } | Screen::Done | Screen::TicketIssued => return detail.to_owned(),
        Screen::Checklist => "请看需要准备的材料",
        Screen::Form => "请填写申请信息",
        Screen::Capture => "请把材料平放在高拍仪下",
        Screen::Review => "请核对后提交",
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

    #[test]
    fn espeak_gets_the_voice_and_the_text_as_one_argument_after_a_double_dash() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("args");
        let script = dir.path().join("espeak-ng");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$@\" > {}.tmp && mv {0}.tmp {0}\n",
                out.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let speaker = Espeak::at(script);
        speaker.say("-请A001号到3号窗口办理", Language::ZhCn);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !out.exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "espeak-ng was not run"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let args: Vec<String> = std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        assert_eq!(
            args,
            ["-v", "cmn", "-s", "150", "--", "-请A001号到3号窗口办理"]
        );
    }
}
