//! Compiles ui/*.slint into Rust. Debug builds carry element debug info so tests can find
//! controls by accessible label (i-slint-backend-testing); release builds do not. The English
//! strings (`ui/translations/en/LC_MESSAGES/ykb-terminal.po`) are bundled into the binary;
//! `@tr` strings have no context, so one msgid serves every page.

fn main() {
    let debug = std::env::var("PROFILE").is_ok_and(|p| p == "debug");
    let config = slint_build::CompilerConfiguration::new()
        .with_debug_info(debug)
        .with_bundled_translations("ui/translations")
        .with_default_translation_context(slint_build::DefaultTranslationContext::None);
    println!("cargo:rerun-if-changed=ui/translations");
    slint_build::compile_with_config("ui/app.slint", config).expect("ui/app.slint must compile");
}
