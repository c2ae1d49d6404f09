//! 拼音输入 — Chinese text on the form's on-screen keyboard: letters typed into a text field
//! compose pinyin, and the citizen taps the character or word they meant (`inputx-pinyin`'s
//! frequency-ranked dictionary, core data only).
//!
//! The kiosk never calls the engine's `commit`: that records picks in the engine's learning
//! layer, which would carry one citizen's words (names, addresses) into the next citizen's
//! candidates. Candidates are only looked up, so every session starts from the same list.
//!
//! 手写输入 — the characters the handwriting pad's strokes may be (`terminal::handwriting`,
//! zinnia with the terminal's model), offered only when the recogniser is present. The model
//! is fixed: it learns nothing from what a citizen writes.

use std::sync::{Mutex, OnceLock};

use crate::terminal::handwriting::{self, Stroke};

use inputx_pinyin::{PinyinEngine, Session};

/// How many candidates the keyboard shows at once: two rows of five, one row in 大字模式.
pub const SHOWN: usize = 10;

/// The longest pinyin kept while composing (a long phrase is about this long).
pub const MAX_COMPOSING: usize = 24;

fn engine() -> &'static PinyinEngine {
    static ENGINE: OnceLock<PinyinEngine> = OnceLock::new();
    ENGINE.get_or_init(PinyinEngine::new)
}

/// What the citizen may tap for the pinyin `composing`: the dictionary's words, most frequent
/// first, then the letters themselves (for the rare field that wants Latin letters). Empty
/// when nothing is being composed.
pub fn candidates(composing: &str, shown: usize) -> Vec<String> {
    if composing.is_empty() || shown == 0 {
        return Vec::new();
    }
    let mut session = Session::new(engine());
    for c in composing.chars() {
        session.input_char(c);
    }
    let mut out: Vec<String> = session
        .candidates()
        .iter()
        .take(shown - 1)
        .cloned()
        .collect();
    out.push(composing.to_owned());
    out
}

/// The composing buffer after typing `key`: ASCII letters only, lower-cased, at most
/// [`MAX_COMPOSING`]. Anything else leaves it unchanged (`None`).
pub fn compose(composing: &str, key: &str) -> Option<String> {
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let mut next = composing.to_owned();
    next.extend(key.chars().map(|c| c.to_ascii_lowercase()));
    next.truncate(MAX_COMPOSING);
    Some(next)
}

/// Whether this terminal can recognise handwriting (zinnia and a model are installed).
pub fn handwriting_available() -> bool {
    handwriting::shared().is_ok()
}

/// The answer kept by [`written`]: the last strokes asked and what they may be.
type Written = Option<(Vec<Stroke>, usize, Vec<String>)>;
static LAST: Mutex<Written> = Mutex::new(None);

/// Forgets the last strokes recognised (the session was wiped).
pub fn forget_written() {
    *LAST.lock().unwrap_or_else(|e| e.into_inner()) = None;
}

/// The characters `strokes` may be, most likely first; none for no strokes or no recogniser.
/// The answer for the last strokes asked is kept: a page drawn again for the same strokes
/// does not recognise them again.
pub fn written(strokes: &[Stroke], shown: usize) -> Vec<String> {
    if strokes.is_empty() || shown == 0 {
        return Vec::new();
    }
    let Ok(recogniser) = handwriting::shared() else {
        return Vec::new();
    };
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((s, n, words)) = last.as_ref() {
        if s == strokes && *n == shown {
            return words.clone();
        }
    }
    // The pad caps what it keeps below the recogniser's limits; a refusal offers nothing.
    let words: Vec<String> = recogniser
        .recognise(strokes, shown)
        .map(|c| c.into_iter().map(|c| c.text).collect())
        .unwrap_or_default();
    *last = Some((strokes.to_vec(), shown, words.clone()));
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_characters_and_place_names_are_offered() {
        assert!(candidates("zhang", SHOWN).contains(&"张".to_owned()));
        assert!(candidates("li", SHOWN)
            .iter()
            .take(SHOWN)
            .any(|c| c == "李"));
        assert_eq!(candidates("jiefangbei", SHOWN)[0], "解放碑");
        // The letters themselves come last; nothing to compose, nothing offered.
        assert_eq!(
            candidates("li", SHOWN).last().map(String::as_str),
            Some("li")
        );
        assert!(candidates("", SHOWN).is_empty());
        assert!(candidates("zhang", SHOWN).len() <= SHOWN);
        let few = candidates("zhang", 5);
        assert_eq!(few.len(), 5);
        assert_eq!(few.last().map(String::as_str), Some("zhang"));
    }

    #[test]
    fn looking_up_learns_nothing_from_one_citizen_for_the_next() {
        let before = candidates("zhang", SHOWN);
        let rare = before[before.len() - 2].clone();
        for _ in 0..5 {
            // What a citizen picking the same rare character again and again would do.
            let _ = candidates("zhang", SHOWN);
        }
        assert_eq!(
            candidates("zhang", SHOWN),
            before,
            "{rare} was not promoted"
        );
    }

    #[test]
    fn only_letters_compose() {
        assert_eq!(compose("zh", "a").as_deref(), Some("zha"));
        assert_eq!(compose("", "L").as_deref(), Some("l"));
        assert_eq!(compose("zh", "1"), None);
        assert_eq!(compose("zh", "-"), None);
        assert_eq!(compose("zh", "好"), None);
        assert_eq!(compose(&"a".repeat(30), "b").unwrap().len(), MAX_COMPOSING);
    }
}
