//! Compiles ui/*.slint into Rust. Debug builds carry element debug info so tests can find
//! controls by accessible label (i-slint-backend-testing); release builds do not.

fn main() {
    let debug = std::env::var("PROFILE").is_ok_and(|p| p == "debug");
    let config = slint_build::CompilerConfiguration::new().with_debug_info(debug);
    slint_build::compile_with_config("ui/app.slint", config).expect("ui/app.slint must compile");
}
