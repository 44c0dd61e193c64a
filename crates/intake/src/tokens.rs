//! Bearer tokens and ids.
//!
//! A token is 32 bytes from the operating system's CSPRNG, written as 43 characters of unpadded
//! base64url (safe in a URL path: invite links end with the token). Only its SHA-256 is stored.
//! A plain hash is enough here, unlike for passwords: with 256 bits of entropy there is nothing to
//! guess, so a slow, salted hash would only cost CPU on every request.
//!
//! Lookup is by hash through the database's unique index, and the hash of the row found is then
//! compared again in constant time ([`hashes_match`]). The index lookup itself is not constant
//! time, but what it could leak is how many leading characters of the *hash* matched, and the
//! attacker cannot choose a token with a given hash prefix without breaking SHA-256; the second
//! comparison guards against a database that matches loosely (collations, trailing spaces).

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Bytes of randomness in a token.
pub const TOKEN_BYTES: usize = 32;

/// Characters of a token as written (unpadded base64url of [`TOKEN_BYTES`]).
pub const TOKEN_CHARS: usize = 43;

/// A new token and the hash to store for it.
pub fn generate() -> anyhow::Result<(String, String)> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("reading random bytes from the operating system")?;
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash(&token);
    Ok((token, hash))
}

/// The stored form of a token: lowercase hex SHA-256 of its text.
pub fn hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Whether `text` has the shape of a token; anything else is refused before a database lookup.
pub fn is_well_formed(text: &str) -> bool {
    text.len() == TOKEN_CHARS
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Compares two stored hashes in constant time.
pub fn hashes_match(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A new random id with a prefix saying what it names (`c-` candidate, `r-` reviewer): 16 hex
/// digits, so ids in URLs reveal neither order nor count.
pub fn new_id(prefix: &str) -> anyhow::Result<String> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("reading random bytes from the operating system")?;
    Ok(format!("{prefix}-{}", hex(&bytes)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_well_formed_and_hashed() {
        let (a, hash_a) = generate().unwrap();
        let (b, _) = generate().unwrap();
        assert_ne!(a, b);
        assert!(is_well_formed(&a), "{a}");
        assert_eq!(hash_a, hash(&a));
        assert_eq!(hash_a.len(), 64);
        assert!(hashes_match(&hash_a, &hash(&a)));
        assert!(!hashes_match(&hash_a, &hash(&b)));
        assert!(!hashes_match(&hash_a, "short"));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        for bad in [
            "",
            "abc",
            &"a".repeat(44),
            &format!("{}/", "a".repeat(42)),
            &"é".repeat(21),
        ] {
            assert!(!is_well_formed(bad), "{bad}");
        }
    }

    #[test]
    fn ids_carry_their_kind() {
        let id = new_id("c").unwrap();
        assert!(id.starts_with("c-") && id.len() == 18, "{id}");
    }
}
