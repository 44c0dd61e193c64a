//! The invite link: `<site>/invite/<token>` (what sre-intake prints) or `?invite=<token>` on any
//! page (a static host has no `/invite/…` file), optionally with `&server=<origin>` when sre-intake
//! is not the site's own origin. The token is stored, then removed from the address bar, so that
//! it does not stay in the history, in bookmarks or in a screenshot.
//!
//! A link decides where the candidate's answers go, so the server it names must be one this site
//! trusts: its own origin, or one of the servers the site was built with
//! (`SRE_SITE_SERVERS` at build time, which every page names in its
//! [`browser_policy::SERVERS_META`]). A link naming any other server is refused: the
//! candidate is told, and the answers stay in this browser (a crafted link must not send a
//! candidate's drafts to a stranger's server).

use leptos::prelude::*;
use sre_model::{browser_policy, site};
use web_sys::{Url, UrlSearchParams};

use crate::storage::{self, Invite};

/// An invite whose server this site does not send answers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedServer {
    /// The server as the link (or an earlier visit) named it.
    pub server: String,
}

/// Takes an invite from the address, if it has one whose server is accepted. `base` is the path
/// of the site's base URL (`/`). Err: the address (or, without an invite in the address, the
/// invite this browser holds) names a server this site does not send answers to; the invite
/// this browser held before is kept as it was.
pub fn take_from_address(base: &str) -> Result<(), RefusedServer> {
    let location = window().location();
    let Some(invite) = location.href().ok().and_then(|href| from_url(&href, base)) else {
        return stored().map(|_| ());
    };
    // Refused: the address keeps the link, so a reload says the same again.
    let invite = accepted(invite)?;
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
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&clean));
        }
    }
    Ok(())
}

/// The invite this browser holds, if its server is accepted (one stored by an earlier version
/// of the site could name any server).
pub fn stored() -> Result<Option<Invite>, RefusedServer> {
    storage::invite().map(accepted).transpose()
}

/// The invite an address carries, its server as written.
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

/// The invite with its server checked: `None` (the site's own origin) when it names the site's
/// own origin, the server's origin when the site allows it.
fn accepted(invite: Invite) -> Result<Invite, RefusedServer> {
    let Some(server) = invite.server else {
        return Ok(invite);
    };
    let own = window().location().origin().unwrap_or_default();
    match decide(origin_of(&server).as_deref(), &own, &allowed_origins()) {
        Decision::Own => Ok(Invite {
            server: None,
            ..invite
        }),
        Decision::Allowed(origin) => Ok(Invite {
            server: Some(origin),
            ..invite
        }),
        Decision::Refused => Err(RefusedServer { server }),
    }
}

/// The origin of an address that is an origin and nothing more (`https://host[:port]`, at most
/// a trailing `/`): no path, query, fragment or credentials, which a server address never needs.
fn origin_of(server: &str) -> Option<String> {
    let url = Url::new(server).ok()?;
    let bare = matches!(url.protocol().as_str(), "http:" | "https:")
        && url.username().is_empty()
        && url.password().is_empty()
        && url.pathname() == "/"
        && url.search().is_empty()
        && url.hash().is_empty();
    bare.then(|| url.origin())
}

/// The servers the site was built to allow, as the page names them, as the browser writes their
/// origins.
fn allowed_origins() -> Vec<String> {
    let list = document()
        .query_selector(&format!("meta[name='{}']", browser_policy::SERVERS_META))
        .ok()
        .flatten()
        .and_then(|meta| meta.get_attribute("content"))
        .unwrap_or_default();
    list.split_whitespace().filter_map(origin_of).collect()
}

/// What to do with an invite's server.
#[derive(Debug, PartialEq, Eq)]
enum Decision {
    /// The site's own origin.
    Own,
    /// A server the site was built to allow: its origin.
    Allowed(String),
    /// Not an origin, or not one the site sends answers to.
    Refused,
}

/// Decides on a server's origin (`None`: the link's server is not an origin at all).
fn decide(origin: Option<&str>, own: &str, allowed: &[String]) -> Decision {
    match origin {
        Some(origin) if origin == own => Decision::Own,
        Some(origin) if allowed.iter().any(|a| a == origin) => Decision::Allowed(origin.to_owned()),
        _ => Decision::Refused,
    }
}

/// Tells the candidate, at the top of the page, that the invite's server was refused and that
/// the answers stay in this browser.
pub fn tell_refused(refused: &RefusedServer) {
    let document = document();
    let (Some(body), Ok(note)) = (document.body(), document.create_element("p")) else {
        return;
    };
    note.set_class_name("status error server-refused");
    let _ = note.set_attribute("role", "alert");
    let own = window().location().origin().unwrap_or_default();
    note.set_text_content(Some(&format!(
        "This invite link asks to send your answers to {}, a server this site does not send \
         answers to. Nothing was sent there: your answers are kept in this browser only. If you \
         expected them to be saved on a server, ask your contact for a new invite link for {own}.",
        refused.server
    )));
    let _ = body.insert_before(&note, body.first_child().as_ref());
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &str = "https://challenge.example.com";

    #[test]
    fn the_own_origin_and_allowed_servers_are_accepted() {
        let allowed = vec!["https://intake.example.com".to_owned()];
        assert_eq!(decide(Some(OWN), OWN, &allowed), Decision::Own);
        assert_eq!(
            decide(Some("https://intake.example.com"), OWN, &allowed),
            Decision::Allowed("https://intake.example.com".to_owned())
        );
    }

    #[test]
    fn any_other_server_is_refused() {
        let allowed = vec!["https://intake.example.com".to_owned()];
        for origin in [
            Some("https://evil.example"),
            Some("http://challenge.example.com"),
            Some("https://challenge.example.com:8443"),
            Some("https://intake.example.com.evil.example"),
            None,
        ] {
            assert_eq!(
                decide(origin, OWN, &allowed),
                Decision::Refused,
                "{origin:?}"
            );
        }
        assert_eq!(
            decide(Some("https://intake.example.com"), OWN, &[]),
            Decision::Refused
        );
    }
}
