//! HTTP conditional requests (RFC 9110 §13) on answers: the version of an answer is its entity
//! tag, `"<version>"`. Writes must say what they expect: `If-None-Match: *` to create the first
//! version, `If-Match: "<version>"` (or `*`) to replace it. This is what stops two browser tabs,
//! or an offline queue replaying late, from silently overwriting newer text.

use axum::http::{HeaderMap, HeaderValue, header};

use crate::error::ApiError;
use crate::store::answers::Precondition;

/// The entity tag of a version.
pub fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// The precondition of a write, from `If-Match` / `If-None-Match`.
pub fn precondition(headers: &HeaderMap) -> Result<Precondition, ApiError> {
    let if_match = joined(headers, header::IF_MATCH)?;
    let if_none_match = joined(headers, header::IF_NONE_MATCH)?;
    match (if_match, if_none_match) {
        (None, None) => Err(ApiError::new(
            axum::http::StatusCode::PRECONDITION_REQUIRED,
            "precondition_required",
            "send `If-None-Match: *` to create the first version, or `If-Match: \"<version>\"` \
             with the version you last read, so that newer text is never overwritten",
        )),
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            "conflicting_preconditions",
            "send either If-Match or If-None-Match, not both",
        )),
        (None, Some(value)) if value.trim() == "*" => Ok(Precondition::NoneExists),
        (None, Some(value)) => Err(ApiError::bad_request(
            "unsupported_precondition",
            format!(
                "If-None-Match on a write must be `*` (found `{value}`); use If-Match to name a version"
            ),
        )),
        (Some(value), None) if value.trim() == "*" => Ok(Precondition::AnyExists),
        (Some(value), None) => Ok(Precondition::LatestIs(strong_versions(&value)?)),
    }
}

/// Whether a read's `If-None-Match` already has `version` (the client's copy is current: 304).
/// Comparison is weak, as RFC 9110 §13.1.2 asks for this header.
pub fn not_modified(headers: &HeaderMap, version: i64) -> Result<bool, ApiError> {
    let Some(value) = joined(headers, header::IF_NONE_MATCH)? else {
        return Ok(false);
    };
    if value.trim() == "*" {
        return Ok(true);
    }
    let versions = tags(&value)?;
    Ok(versions.iter().any(|(_, v)| *v == version))
}

/// Every value of a header joined with commas (a list may be split over several lines).
fn joined(headers: &HeaderMap, name: header::HeaderName) -> Result<Option<String>, ApiError> {
    let mut parts = Vec::new();
    for value in headers.get_all(&name) {
        let text = value.to_str().map_err(|_| {
            ApiError::bad_request("malformed_precondition", format!("{name} is not ASCII"))
        })?;
        parts.push(text.to_owned());
    }
    Ok((!parts.is_empty()).then(|| parts.join(",")))
}

/// The versions named by strong tags; weak tags (`W/"3"`) never match a write (strong
/// comparison, RFC 9110 §13.1.1).
fn strong_versions(value: &str) -> Result<Vec<i64>, ApiError> {
    Ok(tags(value)?
        .into_iter()
        .filter(|(weak, _)| !weak)
        .map(|(_, v)| v)
        .collect())
}

/// Parses a list of entity tags of the form `"<version>"` or `W/"<version>"`.
fn tags(value: &str) -> Result<Vec<(bool, i64)>, ApiError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|tag| {
            let (weak, quoted) = match tag.strip_prefix("W/") {
                Some(rest) => (true, rest),
                None => (false, tag),
            };
            quoted
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                // Exactly as the API writes versions: digits without sign or leading zero
                // (`"+1"` and `"01"` are not the tag `"1"`).
                .filter(|t| t.bytes().all(|b| b.is_ascii_digit()) && !t.starts_with('0'))
                .and_then(|t| t.parse::<i64>().ok())
                .filter(|v| *v > 0)
                .map(|v| (weak, v))
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "malformed_precondition",
                        format!(
                            "`{tag}` is not an entity tag of this API: versions are written \"3\""
                        ),
                    )
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn writes_need_a_precondition() {
        let err = precondition(&headers(&[])).unwrap_err();
        assert_eq!(err.status().as_u16(), 428);
        assert_eq!(
            precondition(&headers(&[("if-none-match", "*")])).unwrap(),
            Precondition::NoneExists
        );
        assert_eq!(
            precondition(&headers(&[("if-match", "*")])).unwrap(),
            Precondition::AnyExists
        );
        assert_eq!(
            precondition(&headers(&[
                ("if-match", "\"3\", W/\"4\""),
                ("if-match", "\"7\"")
            ]))
            .unwrap(),
            Precondition::LatestIs(vec![3, 7])
        );
    }

    #[test]
    fn malformed_preconditions_are_bad_requests() {
        for pairs in [
            vec![("if-match", "3")],
            vec![("if-match", "\"abc\"")],
            vec![("if-match", "\"-1\"")],
            vec![("if-match", "\"+1\"")],
            vec![("if-match", "\"01\"")],
            vec![("if-match", "\" 1\"")],
            vec![("if-match", "\"1 \"")],
            vec![("if-none-match", "\"3\"")],
            vec![("if-match", "\"1\""), ("if-none-match", "*")],
        ] {
            let err = precondition(&headers(&pairs)).unwrap_err();
            assert_eq!(err.status().as_u16(), 400, "{pairs:?}");
        }
    }

    #[test]
    fn reads_compare_weakly() {
        assert!(not_modified(&headers(&[("if-none-match", "W/\"2\"")]), 2).unwrap());
        assert!(not_modified(&headers(&[("if-none-match", "\"1\", \"2\"")]), 2).unwrap());
        assert!(!not_modified(&headers(&[("if-none-match", "\"1\"")]), 2).unwrap());
        assert!(!not_modified(&headers(&[]), 2).unwrap());
    }
}
