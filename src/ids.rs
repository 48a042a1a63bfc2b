//! Ids are UUID v4, lowercase hyphenated on output; input accepts any standard hyphenated
//! spelling, case-insensitively.

use uuid::{Builder, Uuid};

pub fn new_id() -> String {
    Uuid::new_v4().hyphenated().to_string()
}

/// A task's id: a UUID v4 whose first 48 bits are its creation instant in Unix ms (a
/// "COMB"), the other 74 random. Tasks are the big table, inserted and — when a runtime
/// retires — deleted in creation order; with purely random ids every one of those steps
/// lands on a random page of the primary-key index (half the cost of deleting a runtime's
/// tasks). Nothing reads the instant back: `created_at` stays the task's time.
pub fn task_id(created_at: i64) -> String {
    let mut bytes = *Uuid::new_v4().as_bytes();
    // Before 1970 or past year 10889 the prefix saturates; the id stays a valid v4.
    let prefix = created_at.clamp(0, (1 << 48) - 1).to_be_bytes();
    bytes[..6].copy_from_slice(&prefix[2..]);
    Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
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

    #[test]
    fn task_ids_are_v4_and_sort_by_creation_instant() {
        let earlier = task_id(1_764_000_000_000);
        let later = task_id(1_764_000_000_001);
        for id in [&earlier, &later] {
            let uuid = Uuid::try_parse(id).unwrap();
            assert_eq!(uuid.get_version_num(), 4);
            assert_eq!(uuid.get_variant(), uuid::Variant::RFC4122);
            assert_eq!(parse(id).as_ref(), Some(id));
        }
        assert!(earlier < later);
        assert!(earlier.starts_with("019ab697-e800-4"), "{earlier}");
        // Same instant, still distinct.
        assert_ne!(task_id(5), task_id(5));
        assert!(task_id(-1).starts_with("00000000-0000-4"));
    }
}
