//! The site's wasm entry point.

fn main() {
    sre_site::start();
}
