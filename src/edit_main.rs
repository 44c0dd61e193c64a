//! The editing app's wasm entry point (see `sre_site::editing`).

fn main() {
    sre_site::editing::start();
}
