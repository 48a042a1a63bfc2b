//! Ids are UUID v4, lowercase hyphenated on output; input accepts any standard hyphenated
//! spelling, case-insensitively.

use uuid::Uuid;

pub fn new_id() -> String {
    Uuid::new_v4().hyphenated().to_string()
}

/// The canonical spelling of a hyphenated UUID, or `None` for anything else.
pub fn parse(text: &str) -> Option<String> {
    if text.len() != 36 {
        return None;
    }
    Uuid::try_parse(text)
        .ok()
        .map(|u| u.hyphenated().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_hyphenated_any_case_only() {
        let id = new_id();
        assert_eq!(parse(&id.to_uppercase()), Some(id.clone()));
        assert_eq!(parse(&id), Some(id.clone()));
        assert_eq!(parse(&id.replace('-', "")), None);
        assert_eq!(parse("not-a-uuid"), None);
        assert_eq!(parse(""), None);
        assert_eq!(parse(&format!("{{{id}}}")), None);
    }
}
