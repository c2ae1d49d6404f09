//! 申请: the form (with the pinyin keyboard), photographing the materials, the review and
//! the done page with the receipt's state.

use slint::{ComponentHandle, ModelRc, SharedString};

use crate::kiosk::*;

/// Turns the page's callbacks into session events.
pub(in crate::kiosk) fn connect(kiosk: &Kiosk, window: &AppWindow) {
    let go = |e| super::go(kiosk, e);
    let apply = window.global::<ApplyAdapter>();
    let k = kiosk.clone_handle();
    apply.on_edit(move |id| k.event(Event::EditField(id.to_string())));
    // The keyboard types into the field being edited; in a text field letters compose
    // pinyin (the session decides, with `ime`).
    let k = kiosk.clone_handle();
    apply.on_key(move |key| k.event(Event::FormKey(Key::Text(key.to_string()))));
    let k = kiosk.clone_handle();
    apply.on_choose_candidate(move |word| k.event(Event::ChooseCandidate(word.to_string())));
    apply.on_backspace(go(|| Event::FormKey(Key::Backspace)));
    apply.on_clear(go(|| Event::FormKey(Key::Clear)));
    let k = kiosk.clone_handle();
    apply.on_pick(move |field, value| {
        k.event(Event::FieldInput {
            field: field.to_string(),
            value: value.to_string(),
        })
    });
    apply.on_form_next(go(|| Event::FormNext));
    let k = kiosk.clone_handle();
    apply.on_capture(move |material| k.event(Event::CaptureSelect(material.to_string())));
    apply.on_shoot(go(|| Event::Shoot));
    apply.on_retake(go(|| Event::Retake));
    apply.on_use_photo(go(|| Event::UsePhoto));
    apply.on_capture_done(go(|| Event::CaptureDone));
    apply.on_submit(go(|| Event::Submit));
    apply.on_evaluate(go(|| Event::OpenEvaluate));
    apply.on_finish(go(|| Event::Home));
    apply.on_reprint(go(|| Event::ReprintReceipt));
    apply.on_pay(go(|| Event::OpenPayment));
}

/// Shows the form, capture, review or done page.
pub(in crate::kiosk) fn render(window: &AppWindow, st: &State) -> Page {
    let session = &st.session;
    match session.current() {
        Screen::Form => {
            render_form(window, st);
            Page::Form
        }
        Screen::Capture => {
            render_capture(window, st);
            Page::Capture
        }
        Screen::Review => {
            render_review(window, st);
            Page::Review
        }
        _ => {
            render_done(window, st);
            Page::Done
        }
    }
}

/// 填写申请信息: fields with values, locks, hints and errors.
fn render_form(window: &AppWindow, st: &State) {
    let a = window.global::<ApplyAdapter>();
    let session = &st.session;
    let Some(m) = session.matter() else {
        return;
    };
    // The one-touch address: the applicant's card, or (applicant typed) the agent's.
    let person = session.known().person.or(session.agent_person());
    let views = form::view(
        m,
        &session.chosen(),
        session.known(),
        session.fields(),
        session.form_errors(),
    );
    let editing = session.editing();
    let digits = views.iter().find(|f| f.id == editing).is_some_and(|f| {
        matches!(
            f.kind,
            FieldKind::Phone | FieldKind::Number | FieldKind::Date | FieldKind::IdNumber
        )
    });
    a.set_matter_name(m.name.clone().into());
    a.set_editing(editing.into());
    a.set_editing_digits(digits);
    a.set_composing(session.composing().into());
    // 大字模式 has room for one row of candidates beside the keyboard.
    let shown = if window.global::<Theme>().get_large_text() {
        ime::SHOWN / 2
    } else {
        ime::SHOWN
    };
    let mut words: Vec<SharedString> = ime::candidates(session.composing(), shown)
        .into_iter()
        .map(SharedString::from)
        .collect();
    let more = words.split_off(words.len().min(ime::SHOWN / 2));
    a.set_candidates(model(words));
    a.set_candidates_more(model(more));
    let lang = st.lang;
    let mut note = lang.t(if views.iter().any(|f| f.locked) {
        "带“已从身份证读取”的内容不能修改；点其他框，用屏幕上的键盘输入"
    } else {
        "点输入框，用屏幕上的键盘输入"
    });
    if session.applicant_typed() {
        note = format!(
            "{}\n{note}",
            lang.t("被代办人未到场：请填写被代办人的姓名和身份证号码")
        );
    }
    if !session.agent_note().is_empty() {
        note = format!("{}\n{note}", lang.t(session.agent_note()));
    }
    a.set_form_note(note.into());
    a.set_fields(model(
        views
            .into_iter()
            .map(|f| FieldRow {
                quick_fill: match person {
                    Some(p)
                        if !f.locked && f.kind == FieldKind::Text && f.label.contains("地址") =>
                    {
                        p.address.clone().into()
                    }
                    _ => SharedString::new(),
                },
                id: f.id.into(),
                label: f.label.into(),
                value: f.shown.into(),
                locked: f.locked,
                error: lang.t(&f.error).into(),
                hint: lang.t(&f.hint).into(),
                kind: match f.kind {
                    FieldKind::Select => "select",
                    FieldKind::Phone
                    | FieldKind::Number
                    | FieldKind::Date
                    | FieldKind::IdNumber => "digits",
                    FieldKind::Text => "text",
                }
                .into(),
                options: string_model(f.options.into_iter()),
            })
            .collect::<Vec<_>>(),
    ));
}

/// 拍摄材料: what to photograph, and the last photo.
fn render_capture(window: &AppWindow, st: &State) {
    let a = window.global::<ApplyAdapter>();
    let images = st.session.images();
    let stage = st.session.capture_stage();
    let shown = stage.map(session::CaptureStage::material);
    let items = st.session.to_capture();
    a.set_captures(model(
        items
            .iter()
            .map(|c| CaptureRow {
                done: images.contains_key(&c.id),
                current: shown == Some(c.id.as_str()),
                id: c.id.clone().into(),
                name: c.name.clone().into(),
                detail: st.lang.t(&c.detail).into(),
            })
            .collect::<Vec<_>>(),
    ));
    a.set_captures_left(items.iter().filter(|c| !images.contains_key(&c.id)).count() as i32);
    a.set_capture_stage(
        match stage {
            None => "",
            Some(session::CaptureStage::Live { .. }) => "live",
            Some(session::CaptureStage::Taking { .. }) => "taking",
            Some(session::CaptureStage::Check { .. }) => "check",
        }
        .into(),
    );
    a.set_capture_material(
        items
            .iter()
            .find(|c| Some(c.id.as_str()) == shown)
            .map(|c| c.name.clone())
            .unwrap_or_default()
            .into(),
    );
    a.set_camera_error(st.lang.t(&st.camera_error).into());
    let status = match stage {
        _ if !st.capture_status.is_empty() => st.capture_status.as_str(),
        None => "点下面的材料名称开始拍摄",
        Some(_) => "对准材料，看清画面后点「拍照」",
    };
    a.set_capture_status(st.lang.t(status).into());
    match &st.preview {
        Some(img) => {
            a.set_preview(img.clone());
            a.set_has_preview(true);
        }
        None => {
            a.set_preview(slint::Image::default());
            a.set_has_preview(false);
        }
    }
    a.set_preview_frame(i32::try_from(st.preview_frame).unwrap_or(i32::MAX));
}

/// The upload bar: how far the outbox has delivered the citizen's case.
fn render_upload(a: &ApplyAdapter<'_>, st: &State) {
    match st.session.upload_progress() {
        Some(p) => {
            a.set_has_upload_progress(true);
            a.set_upload_progress(p.fraction());
        }
        None => {
            a.set_has_upload_progress(false);
            a.set_upload_progress(0.0);
        }
    }
}

/// 请核对后提交: the matter, the applicant (masked), the form and the materials.
fn render_review(window: &AppWindow, st: &State) {
    let a = window.global::<ApplyAdapter>();
    let session = &st.session;
    let (Some(m), Some(p)) = (session.matter(), session.person()) else {
        return;
    };
    let lang = st.lang;
    let row = |label: &str, value: String| ReviewRow {
        label: lang.t(label).into(),
        value: lang.t(&value).into(),
    };
    let mut rows = vec![
        row("事项", m.name.clone()),
        row("申请人", p.name.clone()),
        row("身份证号", p.id_number.masked()),
    ];
    let agent = session.agent();
    if let Some(a) = &agent {
        rows.push(row(
            "代办人",
            format!(
                "{}（{}）",
                crate::core::privacy::mask_name(&a.person.name),
                lang.t(a.relationship.name_zh())
            ),
        ));
        rows.push(row("代办人身份证号", a.person.id_number.masked()));
    }
    let chosen = session.chosen();
    let agent_fields: Vec<&String> = m
        .agent_choice(&chosen)
        .filter(|_| agent.is_some())
        .map(|c| c.fields.iter().collect())
        .unwrap_or_default();
    let values = form::values(m, &chosen, session.known(), session.fields());
    for f in m.fields_for(&chosen) {
        // The agent's name and number are said above, from their card.
        if agent_fields.contains(&&f.id) {
            continue;
        }
        if matches!(
            f.prefill,
            Some(
                crate::core::domain::PrefillSource::IdCardName
                    | crate::core::domain::PrefillSource::IdCardNumber
            )
        ) {
            continue;
        }
        if let Some(v) = values.get(&f.id) {
            rows.push(row(&f.label, form::shown_on_review(f.kind, v)));
        }
    }
    let images = session.images();
    let materials = session
        .checklist()
        .into_iter()
        .map(|c| {
            let how = match c.status {
                guide::MaterialStatus::Exempt => "免提交（电子证照）",
                guide::MaterialStatus::CaptureHere if images.contains_key(&c.id) => "已拍摄",
                _ => "请带到窗口",
            };
            row(&c.name, how.to_owned())
        })
        .collect::<Vec<_>>();
    a.set_matter_name(m.name.clone().into());
    a.set_review(model(rows));
    a.set_review_materials(model(materials));
    // 承诺: the signature pad says it where the matter is signed.
    let promise = if session.agent().is_some() {
        "点击“确认提交”即表示：代办人承诺已获被代办人授权，所填信息真实有效"
    } else {
        "点击“确认提交”即表示：本人承诺所填信息真实有效"
    };
    a.set_promise(st.lang.t(promise).into());
    a.set_submitting(session.submitting());
    render_upload(&a, st);
    super::signature::render(window, st);
}

/// 已提交 / 已暂存 / 未能保存, and the receipt's state.
fn render_done(window: &AppWindow, st: &State) {
    let a = window.global::<ApplyAdapter>();
    let (title, detail, label, number, ok) = match st.session.submit_result() {
        Some(SubmitResult::Submitted { unified_code, .. }) => (
            "已提交",
            "您的申请已提交到渝快办，可凭办件编号查询进度",
            "办件编号",
            unified_code.clone(),
            true,
        ),
        Some(SubmitResult::Queued { local_number, .. }) => (
            "已暂存",
            "网络恢复后自动提交，无需再来；可凭本机编号查询进度",
            "本机编号",
            local_number.clone(),
            true,
        ),
        Some(SubmitResult::Failed { .. }) | None => ("未能保存", "", "", String::new(), false),
    };
    let detail = match st.session.submit_result() {
        Some(SubmitResult::Failed { reason }) => format!("{reason}。请到窗口办理，或联系工作人员"),
        _ => detail.to_owned(),
    };
    let lang = st.lang;
    a.set_done_title(lang.t(title).into());
    a.set_done_detail(lang.t(&detail).into());
    a.set_done_number_label(lang.t(label).into());
    a.set_done_number(number.into());
    a.set_done_ok(ok);
    a.set_next_steps(crate::ui::string_model(
        st.session.next_steps().iter().map(|l| lang.t(l)),
    ));
    a.set_print_status(lang.t(&st.print_status).into());
    render_upload(&a, st);
    a.set_has_print_progress(st.print_progress.is_some());
    a.set_print_progress(st.print_progress.map_or(0.0, |p| p.fraction()));
    a.set_fee_note(lang.t(&super::payment::fee_note(st)).into());
    a.set_can_pay(st.session.can_pay());
}

/// Empties `ApplyAdapter` (the session was wiped).
pub(in crate::kiosk) fn clear(window: &AppWindow) {
    let apply = window.global::<ApplyAdapter>();
    apply.set_matter_name(SharedString::new());
    apply.set_fields(ModelRc::default());
    apply.set_editing(SharedString::new());
    apply.set_composing(SharedString::new());
    apply.set_candidates(ModelRc::default());
    apply.set_candidates_more(ModelRc::default());
    apply.set_captures(ModelRc::default());
    apply.set_preview(slint::Image::default());
    apply.set_has_preview(false);
    apply.set_preview_frame(0);
    apply.set_capture_stage(SharedString::new());
    apply.set_capture_material(SharedString::new());
    apply.set_camera_error(SharedString::new());
    apply.set_capture_status(SharedString::new());
    apply.set_has_upload_progress(false);
    apply.set_upload_progress(0.0);
    apply.set_has_print_progress(false);
    apply.set_print_progress(0.0);
    apply.set_review(ModelRc::default());
    apply.set_review_materials(ModelRc::default());
    apply.set_done_title(SharedString::new());
    apply.set_done_detail(SharedString::new());
    apply.set_done_number(SharedString::new());
    apply.set_next_steps(ModelRc::default());
    apply.set_promise(SharedString::new());
    apply.set_captures_left(0);
    apply.set_print_status(SharedString::new());
    apply.set_fee_note(SharedString::new());
    apply.set_can_pay(false);
}
