//! The masking rules for personal data, in one place (PIPL, GB/T 35273: shown and printed
//! only masked): ID numbers, names, phone numbers and any long run of digits. Screens,
//! receipts, licence copies and the audit log all use these.

/// An ID number as shown on screens and paper: the first 3 and last 4 characters kept
/// (`500***********0017`); the drivers' rule, so the card summary and the app agree.
pub fn mask_id(id: &str) -> String {
    ykb_drivers::idcard::card::mask_id_number(id, false)
}

/// A name as printed on receipts: the surname kept, the rest starred (`张*`, `欧阳**`
/// keeps only the first character for names of two or more characters).
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let rest = chars.count();
            let mut s = String::from(first);
            s.push_str(&"*".repeat(rest.max(1)));
            s
        }
    }
}

/// Phone numbers on the review page and receipts: 138****0000.
/// An address as paper shows it: the first 6 characters (the city and district), the rest
/// hidden — "重庆市渝中区****".
pub fn mask_address(address: &str) -> String {
    let shown: String = address.chars().take(6).collect();
    if address.chars().count() <= 6 {
        shown
    } else {
        format!("{shown}****")
    }
}

pub fn mask_phone(v: &str) -> String {
    let chars: Vec<char> = v.chars().collect();
    if chars.len() < 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// Masks every run of 11 or more digits (X counts at the end of an ID number) to its first
/// three and last four characters.
pub fn mask_long_numbers(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let digit = |c: char| c.is_ascii_digit() || c == 'X' || c == 'x';
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len() && digit(chars[i]) {
                i += 1;
            }
            let run = &chars[start..i];
            if run.len() >= 11 {
                out.extend(&run[..3]);
                out.push_str(&"*".repeat(run.len() - 7));
                out.extend(&run[run.len() - 4..]);
            } else {
                out.extend(run);
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Whether `s` holds a run of 11 or more digits (a phone or ID number, perhaps).
pub fn has_long_digit_run(s: &str) -> bool {
    let mut run = 0;
    for c in s.chars() {
        if c.is_ascii_digit() {
            run += 1;
            if run >= 11 {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_number_keeps_its_first_three_and_last_four() {
        assert_eq!(mask_id("500103199003070017"), "500***********0017");
    }

    #[test]
    fn an_address_shows_its_district_only() {
        assert_eq!(
            mask_address("重庆市渝中区解放碑街道1号"),
            "重庆市渝中区****"
        );
        assert_eq!(mask_address("渝中区"), "渝中区");
    }
}
