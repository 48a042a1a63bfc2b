//! Tokens and callers. A token is a prefix plus 32 random bytes in hex (256 bits); only its
//! SHA-256 is stored. `authenticate` turns a bearer token into a `Caller`.

use sha2::{Digest, Sha256};

use crate::db::{self, Db, DbError};
use crate::error::ApiError;

pub const USER_PREFIX: &str = "hgr_u_";
pub const DAEMON_PREFIX: &str = "hgr_d_";

/// `last_used_at` is written at most once per this many milliseconds.
const LAST_USED_GAP_MS: i64 = 60_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    User,
    Daemon,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::User => "user",
            TokenKind::Daemon => "daemon",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            TokenKind::User => USER_PREFIX,
            TokenKind::Daemon => DAEMON_PREFIX,
        }
    }
}

/// Who is calling: nobody, a user, or a daemon acting for a user in one workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    User {
        user_id: String,
        token_id: String,
    },
    Daemon {
        user_id: String,
        workspace_id: String,
        token_id: String,
    },
}

/// A fresh token secret: (plaintext shown once, hash to store).
pub fn mint(kind: TokenKind) -> Result<(String, String), ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(format!("getrandom: {e}")))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let token = format!("{}{hex}", kind.prefix());
    let hash = hash(&token);
    Ok((token, hash))
}

pub fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Resolves an `Authorization` header value into a caller of the expected kind.
/// Anything missing, malformed, unknown, revoked or of the other kind is 401.
pub fn authenticate(
    db: &Db,
    header: Option<&str>,
    expected: TokenKind,
    now: i64,
) -> Result<Caller, ApiError> {
    let token = header
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| t.starts_with(expected.prefix()))
        .ok_or_else(ApiError::unauthorized)?;
    let found = db.read(|c| db::tokens::by_hash(c, &hash(token)))?;
    let token = match found {
        Some(t) if t.revoked_at.is_none() && t.kind == expected.as_str() => t,
        _ => return Err(ApiError::unauthorized()),
    };
    // A read-only replica records nothing: its file belongs to the replicator.
    if !db.is_read_only()
        && token
            .last_used_at
            .is_none_or(|at| at <= now - LAST_USED_GAP_MS)
    {
        db.write_tx(|tx| db::tokens::touch(tx, &token.id, now, LAST_USED_GAP_MS))
            .or_else(|e| match e {
                // Recording use is best effort: a busy database must not fail the request.
                DbError::Busy => Ok(()),
                other => Err(other),
            })?;
    }
    Ok(match (expected, token.workspace_id) {
        (TokenKind::Daemon, Some(workspace_id)) => Caller::Daemon {
            user_id: token.user_id,
            workspace_id,
            token_id: token.id,
        },
        (TokenKind::User, None) => Caller::User {
            user_id: token.user_id,
            token_id: token.id,
        },
        _ => return Err(ApiError::unauthorized()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_are_prefixed_random_and_hashed() {
        let (a, ha) = mint(TokenKind::User).unwrap();
        let (b, _) = mint(TokenKind::Daemon).unwrap();
        assert!(a.starts_with("hgr_u_") && a.len() == 6 + 64);
        assert!(b.starts_with("hgr_d_"));
        assert_ne!(a[6..], b[6..]);
        assert_eq!(ha, hash(&a));
        assert_eq!(ha.len(), 64);
        assert_ne!(ha, a);
    }
}
