//! GB 11643 citizen identity number check digit (ISO 7064 MOD 11-2).

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The check digit for the first 17 digits, or `None` if they are not 17 ASCII digits.
pub fn check_digit(first17: &str) -> Option<char> {
    if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    Some(CHECK[(sum % 11) as usize])
}

/// Whether an 18-character identity number has a correct check digit (`x` accepted as `X`).
pub fn is_valid(id: &str) -> bool {
    if id.len() != 18 || !id.is_ascii() {
        return false;
    }
    let (head, last) = id.split_at(17);
    check_digit(head).is_some_and(|c| last.eq_ignore_ascii_case(&c.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_check_digits() {
        // Worked example from GB 11643-1999 appendix.
        assert_eq!(check_digit("11010519491231002"), Some('X'));
        assert!(is_valid("11010519491231002X"));
        assert!(is_valid("11010519491231002x"));
        assert!(!is_valid("110105194912310021"));
        assert!(!is_valid("1101051949123100"));
        assert!(!is_valid("１１０１０５１９４９１２３１００２X"));
    }

    proptest! {
        #[test]
        fn any_single_digit_change_is_caught(digits in "[0-9]{17}", pos in 0usize..17, delta in 1u8..10) {
            let id = format!("{digits}{}", check_digit(&digits).unwrap());
            prop_assert!(is_valid(&id));
            let mut bytes = id.into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            prop_assert!(!is_valid(std::str::from_utf8(&bytes).unwrap()));
        }
    }
}
