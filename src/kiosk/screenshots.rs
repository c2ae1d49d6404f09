//! `ykb-terminal screenshots --out DIR`: every screen of the citizen kiosk, in normal and
//! 大字 mode, in Chinese and English, rendered to PNG without a display. Slint's software
//! renderer draws into memory (a [`MinimalSoftwareWindow`] behind a one-window platform);
//! the kiosk is the real one on the demo profile — the in-process platform simulator, the
//! ID-card emulator and the printer emulator — driven through the same callbacks a touch
//! would call. The printed receipt is saved beside the screens.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, WindowAdapter};
use slint::{ComponentHandle, Model, PhysicalSize, Rgb8Pixel};

use super::{
    AppWindow, ApplyAdapter, EvaluateAdapter, FindAdapter, GuideAdapter, IdentifyAdapter, Kiosk,
    KioskAdapter, SessionAdapter, Theme,
};
use crate::core::config::{Language, Profile};
use crate::core::Core;

use crate::ui::screenshot_suffix as size_suffix;

/// A platform whose windows draw into memory.
struct ShotPlatform {
    windows: RefCell<Vec<Rc<MinimalSoftwareWindow>>>,
    start: Instant,
}

impl Platform for ShotPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        let w = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        self.windows.borrow_mut().push(w.clone());
        Ok(w)
    }

    fn duration_since_start(&self) -> Duration {
        self.start.elapsed()
    }
}

/// One variant of the set: language, text size and screen size.
#[derive(Debug, Clone, Copy)]
pub struct Variant {
    pub lang: Language,
    pub large: bool,
    pub size: (u32, u32),
}

impl Variant {
    /// `zh`, `en-large`; a size other than the default is named too (`zh-1080x1920`).
    pub fn suffix(self) -> String {
        format!(
            "{}{}{}",
            match self.lang {
                Language::ZhCn => "zh",
                Language::En => "en",
            },
            if self.large { "-large" } else { "" },
            size_suffix(self.size)
        )
    }
}

/// Renders every screen into `out` at `size` (logical pixels); returns the files written.
pub fn render_all(out: &Path, size: (u32, u32)) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let platform = Rc::new(ShotPlatform {
        windows: RefCell::new(Vec::new()),
        start: Instant::now(),
    });
    slint::platform::set_platform(Box::new(PlatformRef(platform.clone())))
        .map_err(|e| format!("无法使用离屏渲染：{e}"))?;
    let mut written = Vec::new();
    for variant in [
        Variant {
            lang: Language::ZhCn,
            large: false,
            size,
        },
        Variant {
            lang: Language::ZhCn,
            large: true,
            size,
        },
        Variant {
            lang: Language::En,
            large: false,
            size,
        },
        Variant {
            lang: Language::En,
            large: true,
            size,
        },
    ] {
        written.extend(render_variant(&platform, out, variant)?);
    }
    Ok(written)
}

/// `set_platform` takes ownership; the renderer needs the windows too.
struct PlatformRef(Rc<ShotPlatform>);

impl Platform for PlatformRef {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        self.0.create_window_adapter()
    }
    fn duration_since_start(&self) -> Duration {
        self.0.duration_since_start()
    }
}

/// What a walk through the screens calls: once the window is made, at each screen, and for
/// each printed paper. `screenshots` draws; the layout test (`tests/layout.rs`) checks.
pub trait Visit {
    /// The window exists and is about to be shown.
    fn attached(&mut self, _window: &AppWindow) -> Result<(), String> {
        Ok(())
    }
    /// The window shows screen `name`; `active` is the label of the field being typed into.
    fn screen(
        &mut self,
        window: &AppWindow,
        name: &str,
        active: Option<&str>,
    ) -> Result<(), String>;
    /// The printer emulator wrote `job` (a PNG) for paper `name`.
    fn printed(&mut self, _name: &str, _job: &Path) -> Result<(), String> {
        Ok(())
    }
}

struct Shooter<'a> {
    platform: &'a ShotPlatform,
    soft: Option<Rc<MinimalSoftwareWindow>>,
    out: &'a Path,
    suffix: String,
    size: (u32, u32),
    written: Vec<PathBuf>,
    receipts: Vec<PathBuf>,
}

impl Visit for Shooter<'_> {
    fn attached(&mut self, _window: &AppWindow) -> Result<(), String> {
        let soft = self
            .platform
            .windows
            .borrow()
            .last()
            .cloned()
            .ok_or("离屏窗口未创建")?;
        soft.set_size(PhysicalSize::new(self.size.0, self.size.1));
        self.soft = Some(soft);
        Ok(())
    }

    /// Draws the window as it is now into `NN-name-<variant>.png`.
    fn screen(&mut self, _: &AppWindow, name: &str, _: Option<&str>) -> Result<(), String> {
        let soft = self.soft.as_ref().ok_or("离屏窗口未创建")?;
        let (w, h) = self.size;
        let mut buf = vec![Rgb8Pixel::default(); (w * h) as usize];
        // Conditional and repeated elements come into being as the first frame is laid out;
        // the second frame shows them.
        for _ in 0..2 {
            slint::platform::update_timers_and_animations();
            soft.request_redraw();
            soft.draw_if_needed(|r| {
                r.render(&mut buf, w as usize);
            });
        }
        let raw: Vec<u8> = buf.iter().flat_map(|p| [p.r, p.g, p.b]).collect();
        let img = image::RgbImage::from_raw(w, h, raw).ok_or("截图缓冲区大小不对")?;
        let path = self.out.join(format!(
            "{:02}-{name}-{}.png",
            self.written.len() + 1,
            self.suffix
        ));
        img.save(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        self.written.push(path);
        Ok(())
    }

    fn printed(&mut self, name: &str, job: &Path) -> Result<(), String> {
        let path = self.out.join(format!("{name}-{}.png", self.suffix));
        std::fs::copy(job, &path).map_err(|e| format!("{}: {e}", path.display()))?;
        self.receipts.push(path);
        Ok(())
    }
}

/// Runs what device threads posted until `done` holds (there is no event loop).
fn wait(kiosk: &Kiosk, what: &str, done: impl Fn() -> bool) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        if Instant::now() > deadline {
            return Err(format!("截图时等待超时：{what}"));
        }
        std::thread::sleep(Duration::from_millis(50));
        kiosk.process_device_events();
    }
    Ok(())
}

fn render_variant(
    platform: &ShotPlatform,
    out: &Path,
    variant: Variant,
) -> Result<Vec<PathBuf>, String> {
    // A fresh demo store per variant, removed afterwards.
    let data = out.join(format!(".data-{}", variant.suffix()));
    let _ = std::fs::remove_dir_all(&data);
    let mut shooter = Shooter {
        platform,
        soft: None,
        out,
        suffix: variant.suffix(),
        size: variant.size,
        written: Vec::new(),
        receipts: Vec::new(),
    };
    let result = walk(variant, &data, &mut shooter);
    let _ = std::fs::remove_dir_all(&data);
    result?;
    let mut written = shooter.written;
    written.extend(shooter.receipts);
    Ok(written)
}

/// Walks every kiosk screen of `variant` on the demo profile (store in `data`), calling
/// `visit` at each: home, guides, 取号, 办件进度, a whole errand with its receipt, 好差评,
/// the idle countdown and 证照打印 (online and offline).
pub fn walk(variant: Variant, data: &Path, visit: &mut dyn Visit) -> Result<(), String> {
    let mut profile = Profile::demo();
    profile.terminal.language = variant.lang;
    profile.terminal.large_text = variant.large;
    // The panel's scale (15 mm targets) follows the size drawn.
    profile.terminal.screen = format!("{}x{}", variant.size.0, variant.size.1);
    // Another department's service asks for the ID card through the local device service.
    profile.local_device_service = Some(crate::core::config::LocalDeviceServiceSection {
        port: 0,
        clients: vec![crate::core::config::devservice::ClientApp {
            id: SHOT_CLIENT.into(),
            name: "社保卡服务".into(),
            token_file: SHOT_TOKEN.into(),
            services: vec!["YkbIdCard".into()],
        }],
    });
    let mut core = Core::start(profile, data).map_err(|e| e.to_string())?;
    let demo = crate::terminal::link::PlatformLink::start_demo(&mut core).map(Arc::new);
    let catalog = core.catalog.clone();
    let window = AppWindow::new().map_err(|e| e.to_string())?;
    visit.attached(&window)?;
    window.show().map_err(|e| e.to_string())?;
    let kiosk = Kiosk::attach(&window, core);
    if let Some(d) = &demo {
        kiosk.use_platform(d.clone());
    }
    kiosk.start_demo_card_reader();
    kiosk.start_scanner();
    kiosk.start_printer();
    kiosk.start_local_device_service();
    window.global::<Theme>().set_large_text(variant.large);
    let mut s = Walker {
        window: &window,
        kiosk: &kiosk,
        visit,
    };
    let ka = window.global::<KioskAdapter>();
    s.shot("home")?;
    ka.invoke_open_departments();
    s.shot("departments")?;
    let renewal = catalog
        .matters
        .iter()
        .find(|m| m.name == "居民身份证换领")
        .ok_or("演示目录中没有“居民身份证换领”")?;
    ka.invoke_open_department(renewal.department.clone().into());
    s.shot("matters")?;
    ka.invoke_open_matter(renewal.task_code.to_string().into());
    s.shot("matter-guide")?;
    ka.invoke_go_home();
    ka.invoke_open_bundles();
    s.shot("bundles")?;
    if let Some(b) = catalog.bundles.iter().find(|b| b.self_service) {
        ka.invoke_open_bundle(b.code.to_string().into());
        s.shot("bundle-guide")?;
    }
    ka.invoke_go_home();
    // 取号 (the lease arrives from the platform in the background).
    ka.invoke_open_tickets();
    s.shot("tickets")?;
    let services = window.global::<super::ServicesAdapter>();
    s.wait("取号", || {
        services.invoke_take("A".into());
        services.get_ticket_number() != ""
    })?;
    s.wait("凭条", || {
        !services.get_print_status().contains("正在")
            && !services.get_print_status().contains("Printing")
    })?;
    s.shot("ticket")?;
    ka.invoke_go_home();
    ka.invoke_open_progress();
    for k in ["1", "2"] {
        services.invoke_progress_key(k.into());
    }
    services.invoke_progress_search();
    s.shot("progress")?;
    ka.invoke_go_home();
    // A citizen's errand: card, search, guide, form, photo, review, submit, receipt, rating.
    ka.invoke_open_identify();
    s.shot("identify")?;
    window.global::<IdentifyAdapter>().invoke_place_demo_card();
    let session = window.global::<SessionAdapter>();
    s.wait("身份证", || session.get_person_name() != "")?;
    s.shot("identify-read")?;
    // The citizen took the card: the reminder's time is up before the errand goes on.
    kiosk.tick(Instant::now() + super::session::REMINDER_SHOWN);
    ka.invoke_open_find();
    let find = window.global::<FindAdapter>();
    for k in ["s", "f", "z"] {
        find.invoke_key(k.into());
    }
    s.wait("查找", || find.get_results().row_count() > 0)?;
    s.shot("find")?;
    find.invoke_choose(renewal.task_code.to_string().into());
    s.shot("question")?;
    let guide = window.global::<GuideAdapter>();
    for a in ["o_expiry", "o_minor_no", "o_pick_post"] {
        guide.invoke_choose(a.into());
    }
    // The e-licence answer arrives from the platform in a moment.
    let settle = Instant::now() + Duration::from_millis(1500);
    s.wait("电子证照", || Instant::now() > settle)?;
    s.shot("checklist")?;
    guide.invoke_start_apply();
    let apply = window.global::<ApplyAdapter>();
    apply.invoke_form_next();
    apply.invoke_edit("f_phone".into());
    for d in "1380000".chars() {
        apply.invoke_key(d.to_string().into());
    }
    s.shot_typing("form", &field_label(&apply, "f_phone"))?;
    for d in "0000".chars() {
        apply.invoke_key(d.to_string().into());
    }
    // Chinese by pinyin: letters compose, the candidates wait above the keyboard.
    apply.invoke_edit("f_post_address".into());
    for k in "jiefangbei".chars() {
        apply.invoke_key(k.to_string().into());
    }
    s.shot_typing("form-pinyin", &field_label(&apply, "f_post_address"))?;
    apply.invoke_clear();
    let address = session_address(&apply);
    apply.invoke_pick("f_post_address".into(), address.into());
    apply.invoke_form_next();
    // The camera's live picture (the drivers' moving test pattern), then the still to check.
    s.wait("实时画面", || apply.get_preview_frame() >= 3)?;
    s.shot("capture-live")?;
    apply.invoke_shoot();
    s.wait("拍摄", || apply.get_capture_stage() == "check")?;
    s.shot("capture")?;
    apply.invoke_use_photo();
    apply.invoke_capture_done();
    // 手写签名: a few strokes on the pad, as a finger writes them.
    let pad = window.global::<super::SignatureAdapter>();
    for stroke in [
        &[
            [90.0, 640.0],
            [200.0, 260.0],
            [330.0, 700.0],
            [420.0, 380.0],
        ][..],
        &[
            [480.0, 560.0],
            [640.0, 420.0],
            [760.0, 600.0],
            [930.0, 380.0],
        ][..],
    ] {
        pad.invoke_pen_down(stroke[0][0], stroke[0][1]);
        for p in &stroke[1..] {
            pad.invoke_pen_move(p[0], p[1]);
        }
        pad.invoke_pen_up();
    }
    s.shot("review")?;
    apply.invoke_submit();
    // The demo platform answers at once; otherwise the grace period ends it.
    let submitted = s.wait("提交", || apply.get_done_number() != "");
    if submitted.is_err() {
        kiosk.tick(Instant::now() + Duration::from_secs(5));
    }
    s.wait("回执", || {
        !apply.get_print_status().is_empty()
            && !apply.get_print_status().contains("正在")
            && !apply.get_print_status().contains("Printing")
    })?;
    s.shot("done")?;
    // The ticket was the first job; the case receipt is the second.
    s.wait("回执文件", || kiosk.printed_jobs().len() >= 2)?;
    if let Some(job) = kiosk.printed_jobs().last() {
        s.visit.printed("receipt", job)?;
    }
    // 缴费: the fee order's QR, then paid (the simulator's admin call plays the phone).
    if let Some(sim) = demo.as_ref().and_then(|d| d.sim()) {
        if apply.get_can_pay() {
            apply.invoke_pay();
            let pay = window.global::<super::PaymentAdapter>();
            s.wait("缴费订单", || pay.get_stage() == "pending")?;
            s.shot("payment")?;
            let order = sim
                .payment_orders()
                .into_iter()
                .map(|r| r.order)
                .find(|o| o.state == crate::core::platform::wire::PaymentState::Pending)
                .ok_or("缴费订单未生成")?;
            sim.pay_order(&order.order_id)?;
            s.wait("已缴费", || pay.get_stage() == "paid")?;
            s.shot("payment-paid")?;
            s.wait("缴费回执", || kiosk.printed_jobs().len() >= 3)?;
            if let Some(job) = kiosk.printed_jobs().last() {
                s.visit.printed("receipt-paid", job)?;
            }
            pay.invoke_back();
        }
    }
    apply.invoke_evaluate();
    let eval = window.global::<EvaluateAdapter>();
    eval.invoke_choose(4);
    eval.invoke_toggle("速度快".into());
    s.shot("evaluate")?;
    eval.invoke_skip();
    // Walking away: the countdown overlay.
    ka.invoke_open_find();
    find.invoke_key("s".into());
    let later = Instant::now() + Duration::from_secs(3600);
    kiosk.tick(later);
    s.shot("countdown")?;
    // The countdown runs out: the session is wiped.
    kiosk.tick(later + Duration::from_secs(30));
    // 证照打印: identify, choose, check, print; then the same with the network down.
    if let Some(d) = &demo {
        let licences = window.global::<super::LicenceAdapter>();
        licences.invoke_open();
        window.global::<IdentifyAdapter>().invoke_place_demo_card();
        s.wait("电子证照", || licences.get_list_state() == 1)?;
        s.shot("licences")?;
        let held: Vec<String> = licences.get_licences().iter().map(Into::into).collect();
        // The household register has the most lines when it is held.
        let pick = held
            .iter()
            .find(|l| *l == "居民户口簿")
            .or(held.first())
            .cloned()
            .ok_or("演示身份没有电子证照")?;
        licences.invoke_choose(pick.into());
        s.wait("证照", || licences.get_copy_state() == 1)?;
        s.shot("licence-confirm")?;
        let jobs = kiosk.printed_jobs().len();
        licences.invoke_print();
        s.wait("打印件", || {
            !licences.get_print_status().is_empty()
                && !licences.get_print_status().contains("正在")
                && !licences.get_print_status().contains("Printing")
        })?;
        s.shot("licence-printed")?;
        s.wait("打印件文件", || kiosk.printed_jobs().len() > jobs)?;
        if let Some(job) = kiosk.printed_jobs().last() {
            s.visit.printed("licence-receipt", job)?;
        }
        licences.invoke_finish();
        if let Some(sim) = d.sim() {
            sim.set_faults(crate::sim::platform::Faults {
                outage: true,
                ..Default::default()
            });
            licences.invoke_open();
            window.global::<IdentifyAdapter>().invoke_place_demo_card();
            s.wait("网络不通", || licences.get_list_state() == 3)?;
            s.shot("licence-offline")?;
            sim.set_faults(Default::default());
            licences.invoke_finish();
        }
    }
    // 手写输入, where the recogniser is installed: one stroke (一) on the search's pad.
    let hw = window.global::<crate::ui::HandwritingAdapter>();
    if hw.get_available() {
        ka.invoke_open_find();
        hw.invoke_use_handwriting(true);
        hw.invoke_pen_down(200.0, 512.0);
        for x in (240..=820).step_by(40) {
            hw.invoke_pen_move(x as f32, 512.0);
        }
        hw.invoke_pen_up();
        // The candidates come from the recogniser's thread; a pad without them is drawn too.
        let _ = s.wait("手写候选", || hw.get_candidates().row_count() > 0);
        s.shot("find-handwriting")?;
        hw.invoke_use_handwriting(false);
        ka.invoke_go_home();
    }
    // 帮办代办: a child applies for a parent — the agent's own card first, then the
    // relationship and who is applied for.
    let elderly = catalog
        .matters
        .iter()
        .find(|m| m.name == "老年人优待证申领")
        .ok_or("演示目录中没有“老年人优待证申领”")?;
    ka.invoke_open_find();
    for k in ["l", "n", "r"] {
        find.invoke_key(k.into());
    }
    s.wait("查找", || find.get_results().row_count() > 0)?;
    find.invoke_choose(elderly.task_code.to_string().into());
    for a in ["o_cq", "o_agent", "o_pick_post"] {
        guide.invoke_choose(a.into());
    }
    guide.invoke_start_apply();
    s.shot("identify-agent")?;
    window.global::<IdentifyAdapter>().invoke_place_demo_card();
    s.wait("代办人", || ka.get_page() == super::Page::Agent)?;
    let agent = window.global::<super::AgentAdapter>();
    agent.invoke_choose_relationship("child".into());
    s.shot("agent")?;
    agent.invoke_type_applicant();
    s.shot("form-agent")?;
    // 首页 on the half-done errand asks first.
    ka.invoke_go_home();
    s.shot("leave")?;
    session.invoke_leave_answer(true);
    consent(&mut s, data)
}

/// The screenshot walk's local device service client (its token file is in the data dir).
const SHOT_CLIENT: &str = "shebao-h5";
const SHOT_TOKEN: &str = "local-device-service/shebao-h5.token";

/// 「社保卡服务 服务请求读取您的身份证信息」: a real client over loopback asks for the card,
/// the consent overlay is drawn, and 拒绝 answers it.
fn consent(s: &mut Walker<'_>, data: &Path) -> Result<(), String> {
    use ykb_drivers::xfs4iot::{ClientConfig, Command, CommandUpdate, ServiceClient};
    let addr = s
        .kiosk
        .local_device_service_addr()
        .ok_or("本机设备服务未启动")?;
    let token = std::fs::read_to_string(data.join(SHOT_TOKEN)).map_err(|e| e.to_string())?;
    let uri = format!(
        "ws://{addr}/xfs4iot/v1.0/YkbIdCard?client={SHOT_CLIENT}&token={}",
        token.trim()
    );
    let client =
        ServiceClient::connect(&uri, ClientConfig::default()).map_err(|e| e.to_string())?;
    let mut read = client.send(Command::new("YkbIdCard.ReadCard").timeout(Duration::from_secs(60)));
    let c = s.window.global::<super::ConsentAdapter>();
    s.wait("读卡请求", || c.get_title() != "")?;
    s.shot("consent")?;
    c.invoke_refuse();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        s.kiosk.process_device_events();
        if let Some(CommandUpdate::Done(_)) = read.next(Duration::from_millis(30)) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err("截图时等待超时：读卡请求的答复".into());
        }
    }
}

/// The walk's hands: the window, the kiosk and the visitor.
struct Walker<'a> {
    window: &'a AppWindow,
    kiosk: &'a Kiosk,
    visit: &'a mut dyn Visit,
}

impl Walker<'_> {
    fn shot(&mut self, name: &str) -> Result<(), String> {
        self.visit.screen(self.window, name, None)
    }

    /// A screen where the citizen types into the field labelled `active`.
    fn shot_typing(&mut self, name: &str, active: &str) -> Result<(), String> {
        self.visit.screen(self.window, name, Some(active))
    }

    fn wait(&self, what: &str, done: impl Fn() -> bool) -> Result<(), String> {
        wait(self.kiosk, what, done)
    }
}

/// The address field's one-touch fill (the ID card's address) as the form offers it.
fn session_address(apply: &ApplyAdapter<'_>) -> String {
    apply
        .get_fields()
        .iter()
        .find(|f| f.id == "f_post_address")
        .map(|f| f.quick_fill.to_string())
        .unwrap_or_default()
}

/// A form field's label as the page shows it (its accessible label).
fn field_label(apply: &ApplyAdapter<'_>, id: &str) -> String {
    apply
        .get_fields()
        .iter()
        .find(|f| f.id == id)
        .map(|f| f.label.to_string())
        .unwrap_or_default()
}
