//! 拼音输入 — Chinese text on the form's on-screen keyboard: letters typed into a text field
//! compose pinyin, and the citizen taps the character or word they meant (`inputx-pinyin`'s
//! frequency-ranked dictionary, core data only).
//!
//! The kiosk never calls the engine's `commit`: that records picks in the engine's learning
//! layer, which would carry one citizen's words (names, addresses) into the next citizen's
//! candidates. Candidates are only looked up, so every session starts from the same list.

use std::sync::OnceLock;

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
