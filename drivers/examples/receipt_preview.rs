//! Writes the test receipt's PNG preview and ESC/POS bytes: `cargo run -p ykb-drivers --example
//! receipt_preview -- FONT OUT_DIR`.

use std::path::PathBuf;

use ykb_drivers::escpos::{load_font, test_receipt, ReceiptRenderer, ReceiptStyle};

fn main() {
    let mut args = std::env::args().skip(1);
    let font = args.next().expect("usage: receipt_preview FONT OUT_DIR");
    let out = PathBuf::from(args.next().unwrap_or_else(|| ".".into()));
    let font = load_font(std::fs::read(&font).expect("read font")).expect("load font");
    let r = ReceiptRenderer::new(Some(font), ReceiptStyle::default());
    let receipt = test_receipt();
    std::fs::write(out.join("receipt.png"), r.to_png(&receipt).expect("render"))
        .expect("write png");
    let (bytes, stats) = r.to_escpos(&receipt).expect("render");
    std::fs::write(out.join("receipt.bin"), &bytes).expect("write bin");
    println!("{} bytes, {stats:?}", bytes.len());
}
