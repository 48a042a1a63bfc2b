//! Users, workspaces, memberships and tokens: the rules of API.md §1, shared by the HTTP
//! handlers and the CLI. Every function runs inside the caller's write transaction.

use crate::access::Role;
use crate::auth::{self, TokenKind};
use crate::db::{self, Tx};
use crate::error::ApiError;
use crate::ids;

/// A token as created: the row plus the secret, which is shown exactly once.
pub struct IssuedToken {
    pub token: db::tokens::Token,
    pub secret: String,
}

/// Longest accepted name of a workspace, user or token.
pub const MAX_NAME_CHARS: usize = 200;

/// A trimmed, non-empty name of at most `MAX_NAME_CHARS`, or `invalid_field`.
pub fn clean_name(field: &str, raw: &str) -> Result<String, ApiError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(ApiError::invalid_field(field, "must not be empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::invalid_field(
            field,
            &format!("must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(name.to_string())
}

/// A plausible e-mail address, trimmed, or `invalid_field`.
pub fn clean_email(raw: &str) -> Result<String, ApiError> {
    let email = raw.trim();
    let plausible = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty());
    if plausible {
        Ok(email.to_string())
    } else {
        Err(ApiError::invalid_field(
            "email",
            "must be an e-mail address",
        ))
    }
}

pub fn create_user(
    tx: &Tx,
    email: &str,
    name: &str,
    now: i64,
) -> Result<db::users::User, ApiError> {
    if db::users::by_email(tx, email)?.is_some() {
        return Err(ApiError::conflict(
            "email_taken",
            "a user with this e-mail already exists",
        ));
    }
    let user = db::users::User {
        id: ids::new_id(),
        email: email.to_string(),
        name: name.to_string(),
        timezone: None,
        created_at: now,
    };
    db::users::insert(tx, &user)?;
    Ok(user)
}

/// Creates a workspace whose first member, `owner`, has the role `owner`.
pub fn create_workspace(
    tx: &Tx,
    owner_id: &str,
    name: &str,
    now: i64,
) -> Result<db::workspaces::Workspace, ApiError> {
    let ws = db::workspaces::Workspace {
        id: ids::new_id(),
        name: name.to_string(),
        created_at: now,
    };
    db::workspaces::insert(tx, &ws)?;
    db::members::insert(tx, &ws.id, owner_id, Role::Owner.as_str(), now)?;
    Ok(ws)
}

pub fn issue_token(
    tx: &Tx,
    kind: TokenKind,
    user_id: &str,
    workspace_id: Option<&str>,
    name: &str,
    now: i64,
) -> Result<IssuedToken, ApiError> {
    let (secret, hash) = auth::mint(kind)?;
    let token = db::tokens::Token {
        id: ids::new_id(),
        name: name.to_string(),
        kind: kind.as_str().to_string(),
        user_id: user_id.to_string(),
        workspace_id: workspace_id.map(str::to_string),
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    db::tokens::insert(tx, &token, &hash)?;
    Ok(IssuedToken { token, secret })
}

/// Adds a member by e-mail. When this call creates the user, it also returns a first user
/// token for them; an existing user never gets one (an admin must not obtain a token for
/// someone else's account).
pub fn add_member(
    tx: &Tx,
    workspace_id: &str,
    caller_role: Role,
    email: &str,
    name: Option<&str>,
    role: Role,
    now: i64,
) -> Result<(db::members::Member, Option<String>), ApiError> {
    if !caller_role.is_admin() {
        return Err(ApiError::forbidden("only admins can add members"));
    }
    if role == Role::Owner && caller_role != Role::Owner {
        return Err(ApiError::forbidden(
            "only an owner can grant the owner role",
        ));
    }
    let (user, secret) = match db::users::by_email(tx, email)? {
        Some(user) => (user, None),
        None => {
            let default_name = email.split('@').next().unwrap_or(email);
            let user = create_user(tx, email, name.unwrap_or(default_name), now)?;
            let issued = issue_token(tx, TokenKind::User, &user.id, None, "first token", now)?;
            (user, Some(issued.secret))
        }
    };
    if db::members::role_of(tx, workspace_id, &user.id)?.is_some() {
        return Err(ApiError::conflict(
            "already_member",
            "this user is already a member",
        ));
    }
    db::members::insert(tx, workspace_id, &user.id, role.as_str(), now)?;
    let member = db::members::get(tx, workspace_id, &user.id)?
        .ok_or_else(|| ApiError::not_found("member"))?;
    Ok((member, secret))
}

/// Changes a member's role. Only an owner may grant or take away `owner`; the last owner
/// cannot be demoted.
pub fn change_role(
    tx: &Tx,
    workspace_id: &str,
    caller_role: Role,
    target_user_id: &str,
    role: Role,
) -> Result<db::members::Member, ApiError> {
    let target = db::members::get(tx, workspace_id, target_user_id)?
        .ok_or_else(|| ApiError::not_found("member"))?;
    let current = Role::parse(&target.role).unwrap_or(Role::Member);
    if !caller_role.is_admin() {
        return Err(ApiError::forbidden("only admins can change roles"));
    }
    if (role == Role::Owner || current == Role::Owner) && caller_role != Role::Owner {
        return Err(ApiError::forbidden(
            "only an owner can grant or remove the owner role",
        ));
    }
    if current == Role::Owner
        && role != Role::Owner
        && db::members::count_owners(tx, workspace_id)? <= 1
    {
        return Err(ApiError::conflict(
            "last_owner",
            "a workspace needs at least one owner",
        ));
    }
    if role != current {
        db::members::set_role(tx, workspace_id, target_user_id, role.as_str())?;
    }
    db::members::get(tx, workspace_id, target_user_id)?.ok_or_else(|| ApiError::not_found("member"))
}

/// Removes a member (an admin, or anyone removing themselves) and revokes their daemon
/// tokens in the workspace; their runtimes stay, owned by them.
pub fn remove_member(
    tx: &Tx,
    workspace_id: &str,
    caller_id: &str,
    caller_role: Role,
    target_user_id: &str,
    now: i64,
) -> Result<(), ApiError> {
    let target = db::members::get(tx, workspace_id, target_user_id)?
        .ok_or_else(|| ApiError::not_found("member"))?;
    let target_role = Role::parse(&target.role).unwrap_or(Role::Member);
    let is_self = caller_id == target_user_id;
    if !caller_role.is_admin() && !is_self {
        return Err(ApiError::forbidden("only admins can remove other members"));
    }
    if target_role == Role::Owner && caller_role != Role::Owner {
        return Err(ApiError::forbidden("only an owner can remove an owner"));
    }
    if target_role == Role::Owner && db::members::count_owners(tx, workspace_id)? <= 1 {
        return Err(ApiError::conflict(
            "last_owner",
            "a workspace needs at least one owner",
        ));
    }
    db::members::remove(tx, workspace_id, target_user_id)?;
    db::tokens::revoke_daemon_tokens_of(tx, workspace_id, target_user_id, now)?;
    Ok(())
}

/// Finds a workspace by id or by (unique) name, for the CLI's `--workspace`.
pub fn find_workspace(c: &db::Conn, id_or_name: &str) -> Result<db::workspaces::Workspace, String> {
    if let Some(id) = ids::parse(id_or_name) {
        if let Some(ws) = db::workspaces::get(c, &id).map_err(|e| e.to_string())? {
            return Ok(ws);
        }
    }
    let mut found = db::workspaces::by_name(c, id_or_name).map_err(|e| e.to_string())?;
    match found.len() {
        0 => Err(format!("no workspace with id or name {id_or_name:?}")),
        1 => Ok(found.remove(0)),
        n => Err(format!(
            "{n} workspaces are named {id_or_name:?}; pass an id"
        )),
    }
}
