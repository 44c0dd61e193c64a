//! The invite link: `<site>/invite/<token>` (what sre-intake prints) or `?invite=<token>` on any
//! page (a static host has no `/invite/…` file), optionally with `&server=<origin>` when sre-intake
//! is not the site's own origin. The token is stored, then removed from the address bar, so that
//! it does not stay in the history, in bookmarks or in a screenshot.

use leptos::prelude::*;
use sre_model::site;
use web_sys::{Url, UrlSearchParams};

use crate::storage::{self, Invite};

/// Takes an invite from the address, if it has one, and returns the invite this browser holds.
/// `base` is the path of the site's base URL (`/`).
pub fn take_from_address(base: &str) -> Option<Invite> {
    let location = window().location();
    if let Some(invite) = location.href().ok().and_then(|href| from_url(&href, base)) {
        // Stored before the address is cleaned: if storing fails the link still works on reload.
        if storage::set_invite(&invite).is_ok() {
            let clean = format!(
                "{}{}",
                base,
                match location
                    .pathname()
                    .ok()
                    .and_then(|p| p.strip_prefix(base).map(str::to_owned))
                {
                    Some(rest) if !rest.starts_with(site::INVITE_PATH) => rest,
                    _ => String::new(),
                }
            );
            if let Ok(history) = window().history() {
                let _ =
                    history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&clean));
            }
        }
        return Some(invite);
    }
    storage::invite()
}

/// The invite an address carries.
fn from_url(href: &str, base: &str) -> Option<Invite> {
    let url = Url::new(href).ok()?;
    let params: UrlSearchParams = url.search_params();
    let server = params.get(site::SERVER_QUERY).filter(|s| !s.is_empty());
    let token = params.get(site::INVITE_QUERY).or_else(|| {
        url.pathname()
            .strip_prefix(base)?
            .strip_prefix(site::INVITE_PATH)
            .map(|t| t.trim_end_matches('/').to_owned())
    })?;
    (!token.is_empty()).then_some(Invite { token, server })
}
