//! The reviewer view's wasm entry point (Trunk builds it as `review.js` + `review_bg.wasm`; the
//! site's loader runs it on a `/review` address).

fn main() {
    sre_site::review::start();
}
