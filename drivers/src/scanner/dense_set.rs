//! A generated set of dense QR codes in camera frames (issue 16, item 6): versions 10–25 with
//! long 渝快码, ticket and link payloads (Chinese and ASCII), drawn into 1280×720 grey frames the
//! way a kiosk camera sees a phone or a printed slip — rotated 0–45°, in perspective, under a
//! shading gradient, Gaussian-blurred and with sensor noise — plus code-free frames (paper,
//! printed text, stripes, a keyboard-like grid) for false positives.
//!
//! Deterministic from a seed: the same `(seed, index)` always gives the same frame, so one seed
//! can tune the decoder and another, held out, can report on it. Pure: no files, no clock.

use image::{GrayImage, Luma};
use qrcode::{EcLevel, QrCode, Version};

/// Frame size of the set: a 720p camera.
pub const WIDTH: u32 = 1280;
/// Frame height of the set.
pub const HEIGHT: u32 = 720;

/// What makes a frame hard. Every code frame is also rotated (0–45°), slightly in perspective
/// and shaded; the family says which condition is pushed to its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Gaussian blur σ 2.4–3.0 px, modules 4.5–6 px.
    Blur,
    /// Modules 2.4–3 px, blur σ 0.6–1.0 px.
    Small,
    /// A strong shading gradient (the dark side at 35–50 % of the light side), σ 1.2–1.8 px.
    Shade,
    /// Strong perspective (one edge up to 25 % shorter), rotation up to 45°, σ 1.0–1.6 px.
    Tilt,
    /// No code at all: paper, printed text lines, stripes or a grid, blurred and shaded.
    Empty,
}

impl Family {
    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Family::Blur => "blur",
            Family::Small => "small",
            Family::Shade => "shade",
            Family::Tilt => "tilt",
            Family::Empty => "empty",
        }
    }
}

/// One generated frame and what is in it.
#[derive(Debug, Clone)]
pub struct DenseFrame {
    /// The 1280×720 grey frame.
    pub image: GrayImage,
    /// The payload of the code in the frame; `None` for a code-free frame.
    pub payload: Option<String>,
    /// The code's version (0 for a code-free frame).
    pub version: u8,
    /// What makes it hard.
    pub family: Family,
    /// Blur σ in pixels.
    pub sigma: f32,
    /// Module size in pixels (before perspective; 0 for a code-free frame).
    pub module_px: f32,
    /// Rotation in degrees.
    pub rotation: f32,
}

impl DenseFrame {
    /// A label for reports: index, family, version, module size, blur.
    pub fn label(&self, index: usize) -> String {
        format!(
            "{index}:{}:v{}:{:.1}px:σ{:.1}:{:.0}°",
            self.family.name(),
            self.version,
            self.module_px,
            self.sigma,
            self.rotation
        )
    }
}

/// Every `EMPTY_EVERY`-th frame of a set is code-free.
pub const EMPTY_EVERY: usize = 6;

/// Frame `index` of the set generated from `seed`. Frames `i` with `i % EMPTY_EVERY == 5` are
/// code-free; the others cycle through the code families.
pub fn frame(seed: u64, index: usize) -> DenseFrame {
    let mut rng = Rng::new(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let family = match index % EMPTY_EVERY {
        0 => Family::Blur,
        1 => Family::Small,
        2 => Family::Shade,
        3 => Family::Tilt,
        4 => [Family::Blur, Family::Small][rng.below(2)],
        _ => Family::Empty,
    };
    if family == Family::Empty {
        return empty_frame(&mut rng);
    }
    code_frame(&mut rng, family)
}

/// Frames `0..n` of the set from `seed`.
pub fn set(seed: u64, n: usize) -> Vec<DenseFrame> {
    (0..n).map(|i| frame(seed, i)).collect()
}

/// splitmix64: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    /// Roughly normal (sum of four uniforms), mean 0, standard deviation 1.
    fn normal(&mut self) -> f32 {
        (self.unit() + self.unit() + self.unit() + self.unit() - 2.0) * 1.732
    }
}

const PLACES: &[&str] = &[
    "重庆市",
    "渝中区",
    "解放碑街道",
    "民族路188号",
    "江北区观音桥",
    "沙坪坝区",
    "九龙坡区杨家坪",
    "南岸区南坪",
    "渝北区两路",
    "北碚区",
];
const ERRANDS: &[&str] = &[
    "一件事一次办",
    "社会保障卡申领",
    "居住证签注",
    "营业执照变更登记",
    "不动产登记",
    "住房公积金提取",
    "城乡居民医保参保",
    "新生儿出生一件事",
    "退休一件事",
    "个体工商户开业",
];
const WORDS: &[&str] = &[
    "申请人",
    "办理事项",
    "预约时间",
    "受理窗口",
    "材料清单",
    "身份证明",
    "已核验",
    "有效期至",
    "联系电话",
    "备注",
];
const BASE32: &[u8] = b"ABCDEFGHJKMNPQRSTVWXYZ0123456789";

fn token(rng: &mut Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(BASE32[rng.below(BASE32.len())]))
        .collect()
}

fn digits(rng: &mut Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.below(10) as u8))
        .collect()
}

/// A long payload of one of three kinds, longer than any version-25 code holds; the caller
/// cuts it to fit.
fn long_payload(rng: &mut Rng) -> String {
    let mut s = String::new();
    match rng.below(3) {
        0 => {
            // 渝快码: Chinese fields with masked numbers.
            s.push_str("渝快码|v2|");
            while s.len() < 1600 {
                s.push_str(rng.pick(WORDS));
                s.push(':');
                match rng.below(3) {
                    0 => s.push_str(rng.pick(PLACES)),
                    1 => s.push_str(rng.pick(ERRANDS)),
                    _ => {
                        s.push_str("500");
                        s.push_str("***********");
                        s.push_str(&digits(rng, 4));
                    }
                }
                s.push('|');
            }
        }
        1 => {
            // Hall ticket: ASCII fields and a signature.
            s.push_str("YKB1;HALL=500103");
            s.push_str(&digits(rng, 3));
            while s.len() < 1600 {
                s.push_str(";T=");
                s.push(char::from(b'A' + rng.below(6) as u8));
                s.push_str(&digits(rng, 4));
                s.push_str(";SVC=");
                s.push_str(&token(rng, 6));
                s.push_str(";TS=2026112");
                s.push_str(&digits(rng, 1));
                s.push('T');
                s.push_str(&digits(rng, 4));
                s.push_str(";SIG=");
                s.push_str(&token(rng, 24).to_lowercase());
            }
        }
        _ => {
            // A case link with a long signed query.
            s.push_str("https://ykb.example.invalid/h5/case/");
            s.push_str(&token(rng, 26));
            s.push_str("?matter=");
            s.push_str(&digits(rng, 12));
            while s.len() < 1600 {
                s.push_str("&f");
                s.push_str(&digits(rng, 2));
                s.push('=');
                s.push_str(&token(rng, 16).to_lowercase());
            }
        }
    }
    s
}

fn prefix(s: &str, chars: usize) -> &str {
    match s.char_indices().nth(chars) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// `s` as a version-`v` code at level M. ASCII payloads get the encoder's optimal segments
/// (numeric, alphanumeric, byte); Chinese ones are one UTF-8 byte segment, as the apps that
/// show 渝快码 write them (an optimiser would put some UTF-8 byte pairs in Kanji mode, which
/// readers turn into Shift JIS).
fn encode(s: &str, v: i16) -> qrcode::types::QrResult<QrCode> {
    if s.is_ascii() {
        return QrCode::with_version(s, Version::Normal(v), EcLevel::M);
    }
    let mut bits = qrcode::bits::Bits::new(Version::Normal(v));
    bits.push_byte_data(s.as_bytes())?;
    bits.push_terminator(EcLevel::M)?;
    QrCode::with_bits(bits, EcLevel::M)
}

/// The longest prefix (in characters) of `s` that fits version `v` at level M.
fn fit(s: &str, v: i16) -> usize {
    let (mut lo, mut hi) = (0usize, s.chars().count());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if encode(prefix(s, mid), v).is_ok() {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

/// The homography taking the unit square to `q` (Heckbert's square-to-quad).
fn square_to_quad(q: [(f64, f64); 4]) -> [[f64; 3]; 3] {
    let [(x0, y0), (x1, y1), (x2, y2), (x3, y3)] = q;
    let (sx, sy) = (x0 - x1 + x2 - x3, y0 - y1 + y2 - y3);
    let (dx1, dx2, dy1, dy2) = (x1 - x2, x3 - x2, y1 - y2, y3 - y2);
    let den = dx1 * dy2 - dx2 * dy1;
    let g = (sx * dy2 - dx2 * sy) / den;
    let h = (dx1 * sy - sx * dy1) / den;
    [
        [x1 - x0 + g * x1, x3 - x0 + h * x3, x0],
        [y1 - y0 + g * y1, y3 - y0 + h * y3, y0],
        [g, h, 1.0],
    ]
}

/// The inverse of a 3×3 matrix up to scale (its adjugate), enough for a homography.
fn invert(m: [[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let c =
        |r0: usize, c0: usize, r1: usize, c1: usize| m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
    [
        [c(1, 1, 2, 2), -c(0, 1, 2, 2), c(0, 1, 1, 2)],
        [-c(1, 0, 2, 2), c(0, 0, 2, 2), -c(0, 0, 1, 2)],
        [c(1, 0, 2, 1), -c(0, 0, 2, 1), c(0, 0, 1, 1)],
    ]
}

/// Quiet zone plus the white margin of the slip or screen around it, in modules.
const MARGIN: f64 = 5.0;

fn code_frame(rng: &mut Rng, family: Family) -> DenseFrame {
    let version = 10 + rng.below(16) as i16;
    let text = long_payload(rng);
    let (lo, hi) = (fit(&text, version - 1), fit(&text, version));
    let payload = prefix(&text, lo + 1 + rng.below(hi - lo)).to_string();
    let code = encode(&payload, version).expect("the prefix fits");
    let n = code.width();
    let dark_modules: Vec<bool> = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();

    let (module_px, sigma, keystone, shade) = match family {
        Family::Blur => (
            rng.range(4.5, 6.0),
            rng.range(2.4, 3.0),
            rng.range(0.0, 0.08),
            rng.range(0.7, 1.0),
        ),
        Family::Small => (
            rng.range(2.4, 3.0),
            rng.range(0.6, 1.0),
            rng.range(0.0, 0.08),
            rng.range(0.7, 1.0),
        ),
        Family::Shade => (
            rng.range(3.5, 5.0),
            rng.range(1.2, 1.8),
            rng.range(0.0, 0.08),
            rng.range(0.35, 0.5),
        ),
        _ => (
            rng.range(3.5, 5.0),
            rng.range(1.0, 1.6),
            rng.range(0.15, 0.25),
            rng.range(0.7, 1.0),
        ),
    };
    let rotation = rng.range(0.0, 45.0);
    let (c, s) = (
        f64::from(rotation).to_radians().cos(),
        f64::from(rotation).to_radians().sin(),
    );

    // The code's square (with margin) in frame pixels: side, centre, rotation. A code that
    // would not fit the frame turned is drawn smaller: a citizen holds it back until it fits.
    let total = n as f64 + 2.0 * MARGIN;
    let fits = 0.92 * f64::from(HEIGHT) / (total * (c + s));
    let module_px = module_px.min(fits as f32);
    let side = total * f64::from(module_px);
    let half = side / 2.0;
    let (w, h) = (f64::from(WIDTH), f64::from(HEIGHT));
    let reach = half * (c + s) * 1.05;
    let cx = if w > 2.0 * reach {
        f64::from(rng.range(reach as f32, (w - reach) as f32))
    } else {
        w / 2.0
    };
    let cy = if h > 2.0 * reach {
        f64::from(rng.range(reach as f32, (h - reach) as f32))
    } else {
        h / 2.0
    };
    let corner = |u: f64, v: f64| {
        let (dx, dy) = (u * half, v * half);
        (cx + c * dx - s * dy, cy + s * dx + c * dy)
    };
    // Keystone: the edge that is farther from the camera is shorter, on a random side.
    let k = f64::from(keystone);
    let mut q = [
        corner(-1.0, -1.0),
        corner(1.0, -1.0),
        corner(1.0, 1.0),
        corner(-1.0, 1.0),
    ];
    let edge = rng.below(4);
    let (a, b) = (edge, (edge + 1) % 4);
    let mid = ((q[a].0 + q[b].0) / 2.0, (q[a].1 + q[b].1) / 2.0);
    for i in [a, b] {
        q[i] = (q[i].0 + (mid.0 - q[i].0) * k, q[i].1 + (mid.1 - q[i].1) * k);
    }
    // A little jitter of every corner: a hand never holds a phone square.
    for p in &mut q {
        p.0 += f64::from(rng.normal()) * side * 0.01;
        p.1 += f64::from(rng.normal()) * side * 0.01;
    }
    let inv = invert(square_to_quad(q));

    let paper = rng.range(200.0, 240.0);
    let ink = rng.range(15.0, 55.0);
    let background = rng.range(70.0, 150.0);
    let n_i = n as i64;
    // 2×2 samples per pixel: the sensor integrates over the pixel's area.
    let mut plane = vec![0f32; (WIDTH * HEIGHT) as usize];
    for y in 0..HEIGHT {
        for x in 0..WIDTH {
            let mut acc = 0.0;
            for sy in 0..2 {
                for sx in 0..2 {
                    let px = f64::from(x) + (f64::from(sx) + 0.5) / 2.0;
                    let py = f64::from(y) + (f64::from(sy) + 0.5) / 2.0;
                    let z = inv[2][0] * px + inv[2][1] * py + inv[2][2];
                    let u = (inv[0][0] * px + inv[0][1] * py + inv[0][2]) / z;
                    let v = (inv[1][0] * px + inv[1][1] * py + inv[1][2]) / z;
                    acc += if !(0.0..1.0).contains(&u) || !(0.0..1.0).contains(&v) {
                        background
                    } else {
                        let mx = (u * total - MARGIN).floor() as i64;
                        let my = (v * total - MARGIN).floor() as i64;
                        let inside = (0..n_i).contains(&mx) && (0..n_i).contains(&my);
                        if inside && dark_modules[(my * n_i + mx) as usize] {
                            ink
                        } else {
                            paper
                        }
                    };
                }
            }
            plane[(y * WIDTH + x) as usize] = acc / 4.0;
        }
    }
    shade_plane(&mut plane, rng, shade);
    let plane = gaussian_blur(&plane, WIDTH as usize, HEIGHT as usize, sigma);
    DenseFrame {
        image: quantize(&plane, rng),
        payload: Some(payload),
        version: version as u8,
        family,
        sigma,
        module_px,
        rotation,
    }
}

fn empty_frame(rng: &mut Rng) -> DenseFrame {
    let paper = rng.range(180.0, 235.0);
    let ink = rng.range(20.0, 70.0);
    let kind = rng.below(4);
    let (w, h) = (WIDTH as usize, HEIGHT as usize);
    let mut plane = vec![paper; w * h];
    let mut fill = |x0: usize, y0: usize, x1: usize, y1: usize, v: f32| {
        for y in y0.min(h)..y1.min(h) {
            for x in x0.min(w)..x1.min(w) {
                plane[y * w + x] = v;
            }
        }
    };
    match kind {
        0 => {} // plain paper
        1 => {
            // Printed text: rows of glyph-sized blocks with word gaps.
            let glyph = 8 + rng.below(10);
            let mut y = 40;
            while y + glyph < h - 40 {
                let mut x = 60;
                while x + glyph < w - 60 {
                    if rng.below(6) != 0 {
                        // A glyph: a few strokes.
                        for _ in 0..3 {
                            let (sx, sy) = (rng.below(glyph), rng.below(glyph));
                            if rng.below(2) == 0 {
                                fill(x, y + sy, x + glyph, y + sy + 2, ink);
                            } else {
                                fill(x + sx, y, x + sx + 2, y + glyph, ink);
                            }
                        }
                    }
                    x += glyph + 3;
                }
                y += glyph * 2;
            }
        }
        2 => {
            // Stripes: a linear barcode or a striped shirt.
            let mut x = 100 + rng.below(200);
            while x < w - 100 {
                let bar = 2 + rng.below(8);
                fill(x, 150, x + bar, h - 150, ink);
                x += bar + 2 + rng.below(8);
            }
        }
        _ => {
            // A grid of squares: a keypad, tiles, a calendar.
            let cell = 20 + rng.below(40);
            let gap = 4 + rng.below(8);
            let mut y = 30;
            while y + cell < h {
                let mut x = 30;
                while x + cell < w {
                    if rng.below(3) != 0 {
                        fill(x, y, x + cell, y + cell, ink);
                    }
                    x += cell + gap;
                }
                y += cell + gap;
            }
        }
    }
    let shade = rng.range(0.4, 1.0);
    shade_plane(&mut plane, rng, shade);
    let sigma = rng.range(0.6, 3.0);
    let plane = gaussian_blur(&plane, w, h, sigma);
    DenseFrame {
        image: quantize(&plane, rng),
        payload: None,
        version: 0,
        family: Family::Empty,
        sigma,
        module_px: 0.0,
        rotation: 0.0,
    }
}

/// A linear shading gradient in a random direction, from 1 down to `low`, plus a soft shadow
/// band (a hand or the kiosk's bezel).
fn shade_plane(plane: &mut [f32], rng: &mut Rng, low: f32) {
    let angle = rng.range(0.0, std::f32::consts::TAU);
    let (dx, dy) = (angle.cos(), angle.sin());
    let (w, h) = (WIDTH as f32, HEIGHT as f32);
    let span = w * dx.abs() + h * dy.abs();
    let offset = -(0f32.min(w * dx) + 0f32.min(h * dy));
    let band_at = rng.range(0.2, 0.8);
    let band_depth = rng.range(0.0, 0.25);
    for (i, p) in plane.iter_mut().enumerate() {
        let (x, y) = ((i % WIDTH as usize) as f32, (i / WIDTH as usize) as f32);
        let t = (x * dx + y * dy + offset) / span;
        let band = (-((t - band_at) * 6.0).powi(2)).exp() * band_depth;
        *p *= (1.0 - (1.0 - low) * t) * (1.0 - band);
    }
}

/// Separable Gaussian blur of a float plane (kernel radius 3σ, edges clamped).
fn gaussian_blur(plane: &[f32], w: usize, h: usize, sigma: f32) -> Vec<f32> {
    let r = (3.0 * sigma).ceil() as isize;
    let kernel: Vec<f32> = (-r..=r)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum: f32 = kernel.iter().sum();
    let kernel: Vec<f32> = kernel.iter().map(|k| k / sum).collect();
    let mut tmp = vec![0f32; w * h];
    for y in 0..h {
        let row = &plane[y * w..(y + 1) * w];
        for x in 0..w {
            let mut acc = 0.0;
            for (k, kv) in kernel.iter().enumerate() {
                let sx = (x as isize + k as isize - r).clamp(0, w as isize - 1) as usize;
                acc += row[sx] * kv;
            }
            tmp[y * w + x] = acc;
        }
    }
    let mut out = vec![0f32; w * h];
    for y in 0..h {
        for (k, kv) in kernel.iter().enumerate() {
            let sy = (y as isize + k as isize - r).clamp(0, h as isize - 1) as usize;
            let (src, dst) = (&tmp[sy * w..(sy + 1) * w], &mut out[y * w..(y + 1) * w]);
            for (d, s) in dst.iter_mut().zip(src) {
                *d += s * kv;
            }
        }
    }
    out
}

/// Sensor noise (σ 2–5 grey levels) and rounding to 8 bits.
fn quantize(plane: &[f32], rng: &mut Rng) -> GrayImage {
    let amount = rng.range(2.0, 5.0);
    let mut img = GrayImage::new(WIDTH, HEIGHT);
    for (p, v) in img.pixels_mut().zip(plane) {
        *p = Luma([(v + rng.normal() * amount).round().clamp(0.0, 255.0) as u8]);
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_set_is_deterministic_and_covers_what_the_issue_asks() {
        let a = frame(7, 0);
        let b = frame(7, 0);
        assert_eq!(a.image.as_raw(), b.image.as_raw());
        assert_eq!(a.payload, b.payload);
        assert_ne!(frame(8, 0).payload, a.payload);
        assert_eq!(a.image.dimensions(), (WIDTH, HEIGHT));
        assert_eq!(a.family, Family::Blur);
        assert!(a.sigma >= 2.4);
        assert!((10..=25).contains(&a.version));
        let small = frame(7, 1);
        assert_eq!(small.family, Family::Small);
        assert!(small.module_px <= 3.0);
        let empty = frame(7, 5);
        assert_eq!(empty.family, Family::Empty);
        assert!(empty.payload.is_none());
    }

    #[test]
    fn payloads_fill_their_version_and_are_chinese_or_ascii() {
        let mut rng = Rng::new(3);
        let mut chinese = false;
        let mut ascii = false;
        for _ in 0..12 {
            let text = long_payload(&mut rng);
            chinese |= text.starts_with("渝快码");
            ascii |= text.is_ascii();
            for v in [10, 25] {
                let n = fit(&text, v);
                assert!(encode(prefix(&text, n), v).is_ok());
                assert!(encode(prefix(&text, n + 1), v).is_err());
                assert_eq!(
                    encode(prefix(&text, n), v).unwrap().version(),
                    Version::Normal(v)
                );
            }
        }
        assert!(chinese && ascii);
    }
}
