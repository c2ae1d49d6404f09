//! 手写签名 on the review page: the finger on the signature pad, 重签, and the rule that a
//! matter requiring a signature (`Matter::requires_signature`) is not submitted unsigned —
//! an empty pad is not a signature. The strokes are personal data: held here, handed to the
//! case (`errand::signature`), gone with [`Session::wipe`](super::Session).

use crate::errand::signature::is_signature;

use super::{Outcome, Pen, Screen, Session};

/// Why 确认提交 is refused on an unsigned application that needs a signature.
pub const UNSIGNED: &str = "本事项需要本人签名：请在下面的签名框内签名后再提交";

impl Session {
    /// The strokes on the signature pad (finished ones, then the one being drawn).
    pub fn signature(&self) -> impl Iterator<Item = &Vec<[i32; 2]>> {
        self.signature
            .strokes
            .iter()
            .chain(self.signature.pen.iter())
    }

    /// The finished strokes, as the case carries them.
    pub fn signature_strokes(&self) -> &[Vec<[i32; 2]>] {
        &self.signature.strokes
    }

    /// Whether the matter asks for a signature on the review page.
    pub fn wants_signature(&self) -> bool {
        self.matter.as_ref().is_some_and(|m| m.requires_signature)
    }

    /// Why the last 确认提交 was refused (empty when it was not).
    pub fn submit_refusal(&self) -> &str {
        &self.submit_refusal
    }

    /// Whether the pad takes ink now: the review page, before the case is stored.
    fn signing(&self) -> bool {
        self.current() == &Screen::Review && !self.submitting && self.submit.is_none()
    }

    pub(super) fn on_sign_pen(&mut self, pen: Pen) -> Outcome {
        if !self.signing() || !self.signature.apply(pen) {
            return Outcome::None;
        }
        if is_signature(&self.signature.strokes) {
            self.submit_refusal.clear();
        }
        Outcome::Changed
    }

    /// 重签: the pad is wiped.
    pub(super) fn on_clear_signature(&mut self) -> Outcome {
        if !self.signing() {
            return Outcome::None;
        }
        self.signature.rewrite();
        Outcome::Changed
    }

    /// Whether 确认提交 may store the case; when not, the review page says why.
    pub(super) fn signed_enough(&mut self) -> bool {
        if self.wants_signature() && !is_signature(&self.signature.strokes) {
            self.submit_refusal = UNSIGNED.to_owned();
            return false;
        }
        self.submit_refusal.clear();
        true
    }
}

#[cfg(test)]
impl Session {
    /// Signs the pad with one stroke, as a test's citizen does before 确认提交.
    pub(crate) fn sign_for_test(&mut self, t: std::time::Instant) {
        for pen in [Pen::Down(100, 500), Pen::Move(600, 520), Pen::Up] {
            self.handle(super::Event::SignPen(pen), t);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::core::domain::{IdNumber, Person};
    use crate::kiosk::session::{Effect, Event};

    fn at_review(t: Instant) -> Session {
        let mut s = Session::new(Duration::from_secs(60), t);
        s.handle(
            Event::CardRead(Person {
                name: "李哲".into(),
                id_number: IdNumber::complete("50010319800101123").unwrap(),
                address: "重庆市渝中区解放碑街道1号".into(),
            }),
            t,
        );
        let m = crate::core::catalog::demo_matter("居民身份证换领");
        assert!(m.requires_signature, "the demo catalogue asks for it");
        s.handle(Event::ChooseMatter(Box::new(m)), t);
        for a in ["o_damaged", "o_minor_no", "o_pick_window"] {
            s.handle(Event::Answer(vec![a.into()]), t);
        }
        s.handle(Event::StartApply, t);
        s.handle(Event::FormNext, t);
        s.handle(Event::CaptureDone, t);
        assert_eq!(s.current(), &Screen::Review);
        effects(&mut s);
        s
    }

    fn effects(s: &mut Session) -> Vec<Effect> {
        std::iter::from_fn(|| s.poll_effect()).collect()
    }

    #[test]
    fn an_unsigned_application_is_refused_with_the_reason_and_a_dot_is_no_signature() {
        let t = Instant::now();
        let mut s = at_review(t);
        assert!(s.wants_signature());
        assert_eq!(s.handle(Event::Submit, t), Outcome::Changed);
        assert!(!s.submitting());
        assert!(effects(&mut s).is_empty(), "nothing stored");
        assert_eq!(s.submit_refusal(), UNSIGNED);
        // A tap leaves a dot: still no signature.
        s.handle(Event::SignPen(Pen::Down(100, 100)), t);
        s.handle(Event::SignPen(Pen::Up), t);
        s.handle(Event::Submit, t);
        assert!(effects(&mut s).is_empty());
        // A stroke is; 重签 wipes it again.
        s.handle(Event::SignPen(Pen::Down(100, 500)), t);
        s.handle(Event::SignPen(Pen::Move(600, 520)), t);
        s.handle(Event::SignPen(Pen::Up), t);
        assert_eq!(s.submit_refusal(), "");
        s.handle(Event::ClearSignature, t);
        assert!(s.signature_strokes().is_empty());
        s.handle(Event::SignPen(Pen::Down(100, 500)), t);
        s.handle(Event::SignPen(Pen::Move(600, 520)), t);
        s.handle(Event::SignPen(Pen::Up), t);
        s.handle(Event::Submit, t);
        assert_eq!(effects(&mut s), [Effect::StoreCase]);
        // Once submitted the pad takes no more ink; home wipes the strokes.
        assert_eq!(s.handle(Event::SignPen(Pen::Down(1, 1)), t), Outcome::None);
        s.handle(Event::Home, t);
        assert_eq!(s.signature().count(), 0);
    }
}
