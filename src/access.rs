//! Roles and the permission rules every resource shares. Pure functions over facts the
//! caller looked up; `member_role` is the one lookup, and it answers 404 (never 403) for a
//! workspace the caller does not belong to, so existence is not leaked.

use crate::db::{self, Conn};
use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Member,
    Admin,
    Owner,
}

impl Role {
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    /// "Admin" in the contract means owner or admin.
    pub fn is_admin(self) -> bool {
        self >= Role::Admin
    }
}

/// The caller's role in `workspace_id`; not a member → 404 naming `what`.
pub fn member_role(
    c: &Conn,
    workspace_id: &str,
    user_id: &str,
    what: &str,
) -> Result<Role, ApiError> {
    db::members::role_of(c, workspace_id, user_id)?
        .and_then(|r| Role::parse(&r))
        .ok_or_else(|| ApiError::not_found(what))
}

/// *can edit runtime*: workspace owner/admin, or the runtime's owner.
pub fn can_edit_runtime(role: Role, user_id: &str, runtime_owner: Option<&str>) -> bool {
    role.is_admin() || runtime_owner == Some(user_id)
}

/// *can use runtime for an agent*: owner/admin, a public runtime, or the caller's own.
pub fn can_use_runtime(
    role: Role,
    user_id: &str,
    runtime_owner: Option<&str>,
    visibility: &str,
) -> bool {
    role.is_admin() || visibility == "public" || runtime_owner == Some(user_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_needs_admin_or_ownership() {
        let cases = [
            (Role::Owner, Some("other"), true),
            (Role::Admin, None, true),
            (Role::Member, Some("me"), true),
            (Role::Member, Some("other"), false),
            (Role::Member, None, false),
        ];
        for (role, owner, expected) in cases {
            assert_eq!(
                can_edit_runtime(role, "me", owner),
                expected,
                "{role:?} {owner:?}"
            );
        }
    }

    #[test]
    fn use_needs_admin_public_or_ownership() {
        let cases = [
            (Role::Owner, Some("other"), "private", true),
            (Role::Admin, Some("other"), "private", true),
            (Role::Member, Some("other"), "public", true),
            (Role::Member, Some("me"), "private", true),
            (Role::Member, Some("other"), "private", false),
            (Role::Member, None, "private", false),
        ];
        for (role, owner, vis, expected) in cases {
            assert_eq!(
                can_use_runtime(role, "me", owner, vis),
                expected,
                "{role:?} {owner:?} {vis}"
            );
        }
    }

    #[test]
    fn roles_order_and_parse() {
        assert!(Role::Owner.is_admin() && Role::Admin.is_admin() && !Role::Member.is_admin());
        for r in [Role::Owner, Role::Admin, Role::Member] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
