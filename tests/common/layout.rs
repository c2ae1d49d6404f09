//! A layout check that can fail: walks what a window shows on Slint's testing backend (real
//! font metrics, real layouts) and names every element that a citizen could not read or
//! touch on the real panel.
//!
//! Rules, at one panel's geometry (`Geometry`: pixels and pixels per mm):
//! - **outside**: an element (a text or a control) lies partly or wholly outside the window,
//!   unless it sits in a scroll area (those are checked against the scroll area instead:
//!   partly visible rows at its edge are scrolled, not lost);
//! - **overflow**: a text is not inside the control it labels (drawn half outside a button,
//!   as "N 人等候" on 取号 in 大字), or a control is not inside the page;
//! - **small**: a control (accessible role button, checkbox, …) is narrower or lower than the
//!   15 mm touch target at that panel's scale;
//! - **hidden input**: the field being typed into is not wholly visible (outside the window
//!   or scrolled out of its scroll area).
//!
//! How clipping is measured: the testing backend lays texts out with the real embedded font
//! (it only swaps metrics for Slint's own fixed test font), so a text element's geometry is
//! what the layout gave it. A text the layout gave less than its own size shows as a text
//! element sticking out of the control or the window it belongs to, which the rules above
//! catch. A text squeezed *inside* a fixed-width element that still fits the element's rect
//! (glyphs drawn past a key whose Text fills the key) is not measured here: the testing API
//! gives no font size to measure the string with. That is the check's known blind spot.

use std::ops::ControlFlow;

use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementQuery, ElementRoot};
use ykb_terminal::core::config::screen::{Geometry, MIN_TOUCH_MM};

/// Half a pixel of rounding either way.
const SLACK: f32 = 0.5;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Rect {
    x: f32,
    y: f32,
    w: f32,
    h: f32,
}

impl Rect {
    fn of(e: &ElementHandle) -> Self {
        let p = e.absolute_position();
        let s = e.size();
        Self {
            x: p.x,
            y: p.y,
            w: s.width,
            h: s.height,
        }
    }
    fn inside(&self, o: &Rect) -> bool {
        self.x >= o.x - SLACK
            && self.y >= o.y - SLACK
            && self.x + self.w <= o.x + o.w + SLACK
            && self.y + self.h <= o.y + o.h + SLACK
    }
    fn meets(&self, o: &Rect) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }
    /// The part of `self` inside `o` (empty when they do not meet).
    fn clip(&self, o: &Rect) -> Rect {
        let (x, y) = (self.x.max(o.x), self.y.max(o.y));
        Rect {
            x,
            y,
            w: ((self.x + self.w).min(o.x + o.w) - x).max(0.0),
            h: ((self.y + self.h).min(o.y + o.h) - y).max(0.0),
        }
    }
    fn empty(&self) -> bool {
        self.w <= SLACK || self.h <= SLACK
    }
}

impl std::fmt::Display for Rect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.0},{:.0} {:.0}×{:.0}", self.x, self.y, self.w, self.h)
    }
}

fn touchable(e: &ElementHandle) -> bool {
    matches!(
        e.accessible_role(),
        Some(
            AccessibleRole::Button
                | AccessibleRole::Checkbox
                | AccessibleRole::Switch
                | AccessibleRole::Combobox
                | AccessibleRole::Tab
                | AccessibleRole::Slider
                | AccessibleRole::Spinbox
                | AccessibleRole::RadioButton
        )
    )
}

fn is_text(e: &ElementHandle) -> bool {
    e.type_name().is_some_and(|t| t == "Text")
}

fn is_scroll_area(e: &ElementHandle) -> bool {
    e.type_name().is_some_and(|t| t == "Flickable")
}

fn name(e: &ElementHandle) -> String {
    let label = e.accessible_label().unwrap_or_default();
    let t = e.type_name().unwrap_or_default();
    if label.is_empty() {
        format!("<{t}>")
    } else {
        format!("{label:?}")
    }
}

/// An element as the check tells it apart: its type, its label and its rectangle.
type ElementKey = (String, String, [u32; 4]);

/// A stable key for an element between two queries (the API has no identity).
fn key(e: &ElementHandle) -> ElementKey {
    let r = Rect::of(e);
    (
        e.type_name().unwrap_or_default().to_string(),
        e.accessible_label().unwrap_or_default().to_string(),
        [r.x.to_bits(), r.y.to_bits(), r.w.to_bits(), r.h.to_bits()],
    )
}

/// Lays the window out as a frame would (the testing backend draws none): conditional and
/// repeated elements come into being when the layout asks for their sizes.
pub fn lay_out(root: &impl ElementRoot) {
    let mut count = 0;
    for _ in 0..8 {
        // `changed` handlers (a field scrolled into view) run here, as before a frame.
        slint::platform::update_timers_and_animations();
        let all = ElementQuery::from_root(root).find_all();
        for e in &all {
            let _ = e.size();
        }
        if all.len() == count {
            break;
        }
        count = all.len();
    }
}

/// Every problem of what `root` shows now, at `geometry` (controls at least 15 mm);
/// `active` is the accessible label of the field being typed into, if any. Empty when the
/// screen holds.
pub fn check(root: &impl ElementRoot, geometry: &Geometry, active: Option<&str>) -> Vec<String> {
    check_with(
        root,
        (geometry.width, geometry.height),
        geometry.px(MIN_TOUCH_MM),
        active,
    )
}

/// [`check`] for a window of `size` whose controls must be at least `min_control` px either
/// way (a clerk's desk worked with a mouse has no 15 mm rule).
pub fn check_with(
    root: &impl ElementRoot,
    size: (u32, u32),
    min_control: f32,
    active: Option<&str>,
) -> Vec<String> {
    lay_out(root);
    let window = Rect {
        x: 0.0,
        y: 0.0,
        w: size.0 as f32,
        h: size.1 as f32,
    };
    let all = ElementQuery::from_root(root).find_all();
    // Scroll areas and what they hold: (viewport, keys of its elements).
    let mut scrolled: Vec<(Rect, std::collections::HashSet<ElementKey>)> = Vec::new();
    for e in all.iter().filter(|e| is_scroll_area(e)) {
        let mut held = std::collections::HashSet::new();
        e.visit_descendants(|d| {
            held.insert(key(&d));
            ControlFlow::<()>::Continue(())
        });
        scrolled.push((Rect::of(e), held));
    }
    let viewport = |e: &ElementHandle| -> Option<Rect> {
        let k = key(e);
        // The innermost scroll area holding it (the smallest viewport).
        scrolled
            .iter()
            .filter(|(_, held)| held.contains(&k))
            .map(|(r, _)| *r)
            .min_by(|a, b| (a.w * a.h).total_cmp(&(b.w * b.h)))
    };
    let min_touch = min_control;
    let mut problems = Vec::new();
    for e in &all {
        let r = Rect::of(e);
        let (text, control) = (is_text(e), touchable(e));
        if r.empty() || !(text || control) || e.computed_opacity() <= 0.0 {
            continue;
        }
        let text_label = e.accessible_label().unwrap_or_default();
        if text && text_label.trim().is_empty() {
            continue;
        }
        // What the citizen can see of it: the window, or its scroll area's viewport.
        let view = viewport(e);
        let visible = match view {
            Some(v) => {
                if !r.meets(&v) {
                    continue; // scrolled away: not on screen now
                }
                v
            }
            None => window,
        };
        // A scroll area clips what it holds: what shows of an element is its part inside
        // the viewport, and that part must lie inside the window.
        let shown = view.map_or(r, |v| r.clip(&v));
        if !shown.inside(&window) {
            problems.push(format!(
                "outside: {} at {r}{} lies outside the window",
                name(e),
                if view.is_some() {
                    " (in a scroll area)"
                } else {
                    ""
                }
            ));
        }
        if control {
            if (r.w.min(r.h)) + SLACK < min_touch && r.meets(&visible) {
                problems.push(format!(
                    "small: {} at {r} is under the {min_touch:.0} px target",
                    name(e)
                ));
            }
            // Its own texts must lie inside it.
            e.visit_descendants(|d| {
                if is_text(&d)
                    && !d.accessible_label().unwrap_or_default().trim().is_empty()
                    && d.computed_opacity() > 0.0
                {
                    let t = Rect::of(&d);
                    if !t.empty() && !t.inside(&r) {
                        problems.push(format!(
                            "overflow: text {} at {t} overflows its control {} at {r}",
                            name(&d),
                            name(e)
                        ));
                    }
                }
                ControlFlow::<()>::Continue(())
            });
        }
    }
    if let Some(label) = active {
        let found: Vec<_> = ElementHandle::find_by_accessible_label(root, label)
            .filter(|e| !Rect::of(e).empty())
            .collect();
        let seen = found.iter().any(|e| {
            let r = Rect::of(e);
            r.inside(&window) && viewport(e).is_none_or(|v| r.inside(&v))
        });
        if !seen {
            let at: Vec<String> = found.iter().map(|e| Rect::of(e).to_string()).collect();
            problems.push(format!(
                "hidden input: the field being typed into, {label:?}, is not wholly visible (at {at:?})"
            ));
        }
    }
    problems.sort();
    problems.dedup();
    problems
}
