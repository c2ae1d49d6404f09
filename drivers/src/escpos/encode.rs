//! ESC/POS command encoder (sans-IO): builds the bytes of a print job.

use super::gb::to_gb18030;
use super::raster::Bitmap;

/// Horizontal alignment (`ESC a n`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Align {
    /// n = 0.
    #[default]
    Left,
    /// n = 1.
    Center,
    /// n = 2.
    Right,
}

impl Align {
    /// The `n` of `ESC a n`.
    pub fn code(self) -> u8 {
        match self {
            Self::Left => 0,
            Self::Center => 1,
            Self::Right => 2,
        }
    }
    /// The alignment for `n` (0/48 left, 1/49 centre, 2/50 right).
    pub fn from_code(n: u8) -> Self {
        match n {
            1 | 49 => Self::Center,
            2 | 50 => Self::Right,
            _ => Self::Left,
        }
    }
}

/// QR error-correction level (`GS ( k` function 169).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum QrEcLevel {
    /// ~7 %.
    L,
    /// ~15 %.
    #[default]
    M,
    /// ~25 %.
    Q,
    /// ~30 %.
    H,
}

impl QrEcLevel {
    /// The parameter byte (48–51).
    pub fn code(self) -> u8 {
        match self {
            Self::L => 48,
            Self::M => 49,
            Self::Q => 50,
            Self::H => 51,
        }
    }
    /// The level for a parameter byte.
    pub fn from_code(n: u8) -> Option<Self> {
        match n {
            48 => Some(Self::L),
            49 => Some(Self::M),
            50 => Some(Self::Q),
            51 => Some(Self::H),
            _ => None,
        }
    }
}

/// Most bytes a QR symbol can store (version 40, numeric data is more, bytes are this).
pub const QR_MAX_DATA: usize = 2953;

/// Default largest `GS v 0` block, so the printer's receive buffer never overflows.
pub const DEFAULT_RASTER_CHUNK: usize = 2048;

/// ESC/POS job builder.
#[derive(Debug, Clone, Default)]
pub struct EscPos {
    buf: Vec<u8>,
    raster_chunk: usize,
}

/// A QR payload longer than a symbol can hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("QR data is {0} bytes, more than {QR_MAX_DATA}")]
pub struct QrTooLong(pub usize);

impl EscPos {
    /// An empty job; raster images are sent in blocks of at most `DEFAULT_RASTER_CHUNK` bytes.
    pub fn new() -> Self {
        Self {
            buf: Vec::new(),
            raster_chunk: DEFAULT_RASTER_CHUNK,
        }
    }

    /// Sets the largest raster block in bytes (at least one row is always sent).
    pub fn raster_chunk(mut self, bytes: usize) -> Self {
        self.raster_chunk = bytes.max(1);
        self
    }

    /// The bytes so far.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Takes the bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Appends raw bytes.
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(bytes);
        self
    }

    /// `ESC @` then `FS &` (initialise; Chinese double-byte mode on).
    pub fn init(&mut self) -> &mut Self {
        self.raw(&[0x1B, 0x40, 0x1C, 0x26])
    }

    /// `ESC a n`.
    pub fn align(&mut self, a: Align) -> &mut Self {
        self.raw(&[0x1B, 0x61, a.code()])
    }

    /// `ESC E n`.
    pub fn bold(&mut self, on: bool) -> &mut Self {
        self.raw(&[0x1B, 0x45, u8::from(on)])
    }

    /// `GS ! n`: character width and height multipliers, 1–8 each.
    pub fn size(&mut self, width: u8, height: u8) -> &mut Self {
        let w = width.clamp(1, 8) - 1;
        let h = height.clamp(1, 8) - 1;
        self.raw(&[0x1D, 0x21, (w << 4) | h])
    }

    /// Text in GB18030 (control characters other than LF are dropped).
    pub fn text(&mut self, s: &str) -> &mut Self {
        let clean: String = s
            .chars()
            .filter(|c| *c == '\n' || !c.is_control())
            .collect();
        let bytes = to_gb18030(&clean);
        self.raw(&bytes)
    }

    /// Text then LF.
    pub fn line(&mut self, s: &str) -> &mut Self {
        self.text(s).raw(b"\n")
    }

    /// `ESC d n`: feeds `n` lines.
    pub fn feed(&mut self, lines: u8) -> &mut Self {
        self.raw(&[0x1B, 0x64, lines])
    }

    /// `GS V 66 0`: feeds to the cutter and cuts (partial cut).
    pub fn cut(&mut self) -> &mut Self {
        self.raw(&[0x1D, 0x56, 0x42, 0x00])
    }

    fn gs_k(&mut self, params: &[u8]) -> &mut Self {
        let n = params.len() as u16;
        self.raw(&[0x1D, 0x28, 0x6B]);
        self.raw(&n.to_le_bytes());
        self.raw(params)
    }

    /// A QR code through `GS ( k`: model 2 (fn 165), module size (167), error correction (169),
    /// store (180), print (181).
    pub fn qr(&mut self, data: &[u8], module: u8, ec: QrEcLevel) -> Result<&mut Self, QrTooLong> {
        if data.len() > QR_MAX_DATA {
            return Err(QrTooLong(data.len()));
        }
        self.gs_k(&[0x31, 0x41, 0x32, 0x00]);
        self.gs_k(&[0x31, 0x43, module.clamp(1, 16)]);
        self.gs_k(&[0x31, 0x45, ec.code()]);
        let mut store = vec![0x31, 0x50, 0x30];
        store.extend_from_slice(data);
        self.gs_k(&store);
        self.gs_k(&[0x31, 0x51, 0x30]);
        Ok(self)
    }

    /// A 1-bit image through `GS v 0`, split into blocks of whole rows.
    pub fn raster(&mut self, image: &Bitmap) -> &mut Self {
        let row = image.width_bytes();
        if row == 0 || image.height() == 0 {
            return self;
        }
        let rows_per_chunk = (self.raster_chunk / row).clamp(1, 0xFFFF);
        for rows in image.data().chunks(row * rows_per_chunk) {
            let h = (rows.len() / row) as u16;
            self.raw(&[0x1D, 0x76, 0x30, 0x00]);
            self.raw(&(row as u16).to_le_bytes());
            self.raw(&h.to_le_bytes());
            self.raw(rows);
        }
        self
    }

    /// `DLE EOT n`: real-time status request (1 printer, 2 offline cause, 4 paper sensor).
    pub fn status_request(n: u8) -> [u8; 3] {
        [0x10, 0x04, n]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_uses_the_five_gs_k_functions() {
        let mut p = EscPos::new();
        p.qr(b"hi", 6, QrEcLevel::M).unwrap();
        let b = p.into_bytes();
        assert_eq!(&b[..8], &[0x1D, 0x28, 0x6B, 4, 0, 0x31, 0x41, 0x32]);
        let store = [0x1D, 0x28, 0x6B, 5, 0, 0x31, 0x50, 0x30, b'h', b'i'];
        assert!(b.windows(store.len()).any(|w| w == store));
        assert!(b.ends_with(&[0x1D, 0x28, 0x6B, 3, 0, 0x31, 0x51, 0x30]));
        assert!(EscPos::new()
            .qr(&[0; QR_MAX_DATA + 1], 6, QrEcLevel::M)
            .is_err());
    }

    #[test]
    fn raster_is_sent_in_chunks_of_whole_rows() {
        let bmp = Bitmap::new(576, 100);
        let mut p = EscPos::new().raster_chunk(72 * 30);
        p.raster(&bmp);
        let b = p.into_bytes();
        // 100 rows of 72 bytes in blocks of 30 rows: 30 + 30 + 30 + 10.
        let headers: Vec<usize> = b
            .windows(4)
            .enumerate()
            .filter(|(_, w)| *w == [0x1D, 0x76, 0x30, 0x00])
            .map(|(i, _)| i)
            .collect();
        assert_eq!(headers.len(), 4);
        assert_eq!(b.len(), 4 * 8 + 72 * 100);
        assert_eq!(&b[4..8], &[72, 0, 30, 0]);
    }

    #[test]
    fn text_is_gb18030_without_control_characters() {
        let mut p = EscPos::new();
        p.line("渝\u{1b}快");
        assert_eq!(p.into_bytes(), vec![0xD3, 0xE5, 0xBF, 0xEC, b'\n']);
    }
}
