//! The typing and ticking on the way: the search text and its answer, the options ticked on
//! a multi-choice question before "确定", and the form's keyboard (the field typed into and
//! the pinyin composed for it, `kiosk::ime`), and the handwriting pad beside the letters (the
//! strokes written, capped; recognised by `kiosk::ime` when the page is drawn).

use crate::core::domain::{FieldKind, QuestionKind};
use crate::core::search::SearchHit;
use crate::kiosk::ime;

use super::{Effect, Key, Outcome, Pen, Screen, Session};

pub use crate::errand::ink::{Ink, PAD_MAX_POINTS, PAD_MAX_STROKES};

impl Session {
    /// The search's answer for the query typed: `None` while the search works on it (the
    /// list keeps the previous answer meanwhile); nothing to find for an empty query.
    pub fn search_hits(&self) -> Option<&[SearchHit]> {
        if self.query.is_empty() {
            return Some(&[]);
        }
        self.found
            .as_ref()
            .filter(|(q, _)| *q == self.query)
            .map(|(_, hits)| hits.as_slice())
    }

    /// The options ticked on the multi-choice question shown (not yet an answer).
    pub fn pending(&self) -> &[String] {
        &self.pending
    }

    /// The form field the keyboard types into (empty: none).
    pub fn editing(&self) -> &str {
        &self.editing
    }

    /// The pinyin being composed for the text field typed into.
    pub fn composing(&self) -> &str {
        &self.composing
    }

    /// Whether the field typed into takes free text (letters there compose pinyin).
    pub fn editing_text(&self) -> bool {
        self.matter.as_ref().is_some_and(|m| {
            m.form_fields
                .iter()
                .any(|f| f.id == self.editing && f.kind == FieldKind::Text)
        })
    }

    pub(super) fn on_search(&mut self, query: String) -> Outcome {
        let answered = self.found.as_ref().is_some_and(|(q, _)| *q == query);
        if !query.is_empty() && !answered {
            self.effects.push_back(Effect::Search {
                query: query.clone(),
            });
        }
        self.query = query;
        Outcome::Changed
    }

    pub(super) fn on_found(&mut self, query: String, hits: Vec<SearchHit>) -> Outcome {
        // An answer to an earlier query is not shown.
        if query != self.query {
            return Outcome::None;
        }
        self.found = Some((query, hits));
        Outcome::Changed
    }

    pub(super) fn on_toggle_option(&mut self, id: String) -> Outcome {
        let Screen::Guide { question } = *self.current() else {
            return Outcome::None;
        };
        let offered = self
            .question(question)
            .is_some_and(|q| q.kind == QuestionKind::Multi && q.options.iter().any(|o| o.id == id));
        if !offered {
            return Outcome::None;
        }
        if let Some(i) = self.pending.iter().position(|p| *p == id) {
            self.pending.remove(i);
        } else {
            self.pending.push(id);
        }
        Outcome::Changed
    }

    pub(super) fn on_confirm_options(&mut self) -> Outcome {
        let multi = match *self.current() {
            Screen::Guide { question } => self
                .question(question)
                .is_some_and(|q| q.kind == QuestionKind::Multi),
            _ => false,
        };
        if !multi {
            return Outcome::None;
        }
        let chosen = std::mem::take(&mut self.pending);
        self.on_answer(chosen)
    }

    pub(super) fn on_edit_field(&mut self, field: String) -> Outcome {
        let on_form = self.current() == &Screen::Form;
        let known = self
            .matter
            .as_ref()
            .is_some_and(|m| m.form_fields.iter().any(|f| f.id == field));
        if !on_form || !known {
            return Outcome::None;
        }
        self.editing = field;
        self.composing.clear();
        Outcome::Changed
    }

    /// A key on the form's keyboard: in a text field letters compose pinyin; digits and the
    /// rest (and every key in other fields) go straight into the field.
    pub(super) fn on_form_key(&mut self, key: Key) -> Outcome {
        if self.editing.is_empty() {
            return Outcome::None;
        }
        match key {
            Key::Text(text) => {
                let composed = if self.editing_text() {
                    ime::compose(&self.composing, &text)
                } else {
                    None
                };
                match composed {
                    Some(c) => {
                        self.composing = c;
                        Outcome::Changed
                    }
                    None => self.edit_value(|v| v.push_str(&text)),
                }
            }
            Key::Backspace => {
                if self.composing.pop().is_some() {
                    Outcome::Changed
                } else {
                    self.edit_value(|v| {
                        v.pop();
                    })
                }
            }
            Key::Clear => {
                self.composing.clear();
                self.edit_value(String::clear)
            }
        }
    }

    /// A pinyin candidate tapped: the word goes into the field, the pinyin is done.
    pub(super) fn on_choose_candidate(&mut self, word: String) -> Outcome {
        if self.editing.is_empty() {
            return Outcome::None;
        }
        self.composing.clear();
        self.edit_value(|v| v.push_str(&word))
    }

    /// Changes the value of the field typed into.
    fn edit_value(&mut self, change: impl FnOnce(&mut String)) -> Outcome {
        let mut value = self.fields.get(&self.editing).cloned().unwrap_or_default();
        change(&mut value);
        self.on_field_input(self.editing.clone(), value)
    }
}

impl Session {
    /// What is written on the handwriting pad (the strokes done, the one being drawn).
    pub fn ink(&self) -> &Ink {
        &self.ink
    }

    /// Whether what is typed here may be written by hand: a text field on the form, or the
    /// search.
    pub fn handwriting_here(&self) -> bool {
        match self.current() {
            Screen::Form => !self.editing.is_empty() && self.editing_text(),
            Screen::Find => true,
            _ => false,
        }
    }

    /// Whether the pad is shown instead of the letters (here, and chosen).
    pub fn writing(&self) -> bool {
        self.writing_on && self.handwriting_here()
    }

    pub(super) fn on_use_handwriting(&mut self, on: bool) -> Outcome {
        if !self.handwriting_here() || self.writing_on == on {
            return Outcome::None;
        }
        self.writing_on = on;
        self.ink.rewrite();
        self.composing.clear();
        Outcome::Changed
    }

    pub(super) fn on_pen(&mut self, pen: Pen) -> Outcome {
        if self.writing() && self.ink.apply(pen) {
            Outcome::Changed
        } else {
            Outcome::None
        }
    }

    pub(super) fn on_rewrite(&mut self) -> Outcome {
        if !self.writing() {
            return Outcome::None;
        }
        self.ink.rewrite();
        Outcome::Changed
    }

    /// A handwriting candidate tapped: into the field typed into, or onto the search.
    pub(super) fn on_choose_written(&mut self, word: String) -> Outcome {
        if !self.writing() || self.ink.strokes.is_empty() {
            return Outcome::None;
        }
        self.ink.rewrite();
        if self.current() == &Screen::Find {
            let query = format!("{}{word}", self.query);
            return self.on_search(query);
        }
        self.edit_value(|v| v.push_str(&word))
    }
}
