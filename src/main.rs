//! The candidate site (placeholder until the site skeleton lands).

fn main() {}
