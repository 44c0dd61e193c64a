//! The browser's localStorage, touched only here.
//!
//! What the site keeps, under keys that start with `sre-challenge:`:
//! - `answer:<slot>`: the answer's text, written on every change (debounced by the editor). It is
//!   the only copy until the server has it, so it is written before anything else happens.
//! - `synced:<slot>`: `<version>:<hash>`, the server's version of the answer and a hash of the
//!   text that version holds. The answer waits to be sent while the hashes differ: this is the
//!   offline queue, and it survives reloads and crashes with the text itself.
//! - `invite`: the candidate's token from the invite link; `server`: the sre-intake origin when it
//!   is not the site's own. The token is never logged or shown.
//! - `reviewer`: a reviewer's token, entered once on the `/review` pages (see `crate::review`);
//!   never logged or shown either.
//!
//! localStorage is synchronous: once `setItem` returns, another tab, a reload or a crashed tab
//! reads the new value.

use web_sys::Storage;

const PREFIX: &str = "sre-challenge:";

fn local() -> Option<Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn get(key: &str) -> Option<String> {
    local()?.get_item(&format!("{PREFIX}{key}")).ok().flatten()
}

fn set(key: &str, value: &str) -> Result<(), String> {
    let storage = local().ok_or_else(|| {
        "this browser does not let the site store data (private mode?)".to_owned()
    })?;
    storage
        .set_item(&format!("{PREFIX}{key}"), value)
        .map_err(|_| "the browser refused to store it (storage full or disabled)".to_owned())
}

fn remove(key: &str) {
    if let Some(storage) = local() {
        let _ = storage.remove_item(&format!("{PREFIX}{key}"));
    }
}

/// The saved text of an answer slot, if the candidate wrote one in this browser.
pub fn answer(slot: &str) -> Option<String> {
    get(&format!("answer:{slot}"))
}

/// Saves an answer's text; the error says why the browser refused.
pub fn save_answer(slot: &str, text: &str) -> Result<(), String> {
    set(&format!("answer:{slot}"), text)
}

/// The server's version of an answer, as far as this browser knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Synced {
    /// The server's version number (its ETag).
    pub version: i64,
    /// [`text_hash`] of the text that version holds.
    pub hash: u64,
}

/// What this browser knows of the server's copy of an answer.
pub fn synced(slot: &str) -> Option<Synced> {
    let value = get(&format!("synced:{slot}"))?;
    let (version, hash) = value.split_once(':')?;
    Some(Synced {
        version: version.parse().ok()?,
        hash: u64::from_str_radix(hash, 16).ok()?,
    })
}

/// Records the server's copy of an answer (`None`: the server has none).
pub fn set_synced(slot: &str, synced: Option<Synced>) {
    let key = format!("synced:{slot}");
    match synced {
        // Losing this record only costs a re-send, which the server recognises as unchanged.
        Some(s) => {
            let _ = set(&key, &format!("{}:{:x}", s.version, s.hash));
        }
        None => remove(&key),
    }
}

/// An invite: the candidate's token and the sre-intake origin (`None`: the site's own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    /// The bearer token.
    pub token: String,
    /// e.g. `https://intake.example.com`, when the site is hosted elsewhere.
    pub server: Option<String>,
}

/// The invite this browser was opened with, if any.
pub fn invite() -> Option<Invite> {
    Some(Invite {
        token: get("invite").filter(|t| !t.is_empty())?,
        server: get("server").filter(|s| !s.is_empty()),
    })
}

/// Remembers an invite for the next visits.
pub fn set_invite(invite: &Invite) -> Result<(), String> {
    set("invite", &invite.token)?;
    match &invite.server {
        Some(server) => set("server", server),
        None => {
            remove("server");
            Ok(())
        }
    }
}

/// The reviewer token this browser keeps, if a reviewer logged in here.
pub fn reviewer_token() -> Option<String> {
    get("reviewer").filter(|t| !t.is_empty())
}

/// Keeps a reviewer's token for the next visits.
pub fn set_reviewer_token(token: &str) -> Result<(), String> {
    set("reviewer", token)
}

/// Forgets the reviewer's token (log out).
pub fn forget_reviewer_token() {
    remove("reviewer");
}

/// A 64-bit FNV-1a hash of a text: enough to tell whether the server holds this exact text.
pub fn text_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_hash_is_fnv1a() {
        assert_eq!(text_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(text_hash("a"), 0xaf63_dc4c_8601_ec8c);
        assert_ne!(text_hash("ab"), text_hash("ba"));
    }
}
