//! The host's barcode reader, camera and guidance lights through their XFS4IoT services.
//!
//! Each driver is one [`ServiceClient`] and a few commands; what the answers mean is decided
//! by pure functions ([`read_outcome`], [`picture_outcome`], [`light_payload`]) so the
//! decisions can be tested without a socket. Every failure is one [`Xfs4IotError`] (with its
//! `kind()` and words for a person); no call waits longer than its timeout plus the
//! tracker's grace, so the kiosk is never blocked on a silent service.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::client::{ClientConfig, ServiceClient};
use super::error::Xfs4IotError;
use super::message::CompletionCode;
use super::tracker::{Command, Completion};
use crate::scanner::{sanitize, ScanEvent};

/// What one `BarcodeReader.Read` gave.
pub fn read_outcome(
    result: Result<Completion, Xfs4IotError>,
) -> Result<Option<ScanEvent>, Xfs4IotError> {
    let done = match result {
        Ok(done) => done,
        // The service's own wait ended with nothing presented: no code, not a fault.
        Err(Xfs4IotError::Failed {
            code: CompletionCode::TimeOut,
            ..
        }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(first) = done
        .payload
        .get("readOutput")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    else {
        return Ok(None);
    };
    let data = first
        .get("barcodeData")
        .and_then(Value::as_str)
        .ok_or_else(|| Xfs4IotError::Protocol("readOutput without barcodeData".into()))?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|_| Xfs4IotError::Protocol("barcodeData is not base64".into()))?;
    if raw.len() > 4 * crate::scanner::sanitize::MAX_CHARS {
        return Ok(Some(ScanEvent::Oversize(raw.len())));
    }
    Ok(Some(match sanitize(&raw) {
        Ok(p) => ScanEvent::Code(p),
        Err(e) => ScanEvent::Rejected(e),
    }))
}

/// The barcode reader (渝快码 and receipt codes) at a service URI.
pub struct Xfs4IotBarcodeReader {
    client: ServiceClient,
}

impl Xfs4IotBarcodeReader {
    /// Connects to the BarcodeReader service at `uri`.
    pub fn connect(uri: &str, config: ClientConfig) -> Result<Self, Xfs4IotError> {
        Ok(Self {
            client: ServiceClient::connect(uri, config)?,
        })
    }

    /// The connection.
    pub fn client(&self) -> &ServiceClient {
        &self.client
    }

    /// Waits up to `wait` for one QR code: `Ok(None)` when none was presented; the code
    /// sanitised as the serial scanner's are, so it takes the same path into the kiosk.
    pub fn read(&self, wait: Duration) -> Result<Option<ScanEvent>, Xfs4IotError> {
        let cmd = Command::new("BarcodeReader.Read")
            .with("symbologies", vec!["qrCode"])
            .timeout(wait);
        read_outcome(self.client.call(cmd))
    }
}

/// A picture the host's camera took, checked to be an image.
#[derive(Debug, Clone)]
pub struct Picture {
    /// The file as the service sent it (PNG or JPEG).
    pub bytes: Vec<u8>,
    /// Decoded.
    pub image: image::RgbImage,
}

/// Largest picture accepted, in bytes after base64.
pub const MAX_PICTURE: usize = 16 * 1024 * 1024;

/// What one `Camera.TakePicture` gave.
pub fn picture_outcome(result: Result<Completion, Xfs4IotError>) -> Result<Picture, Xfs4IotError> {
    let done = result?;
    let b64 = done
        .payload
        .get("pictureFile")
        .and_then(Value::as_str)
        .ok_or_else(|| Xfs4IotError::Protocol("TakePicture without pictureFile".into()))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| Xfs4IotError::Protocol("pictureFile is not base64".into()))?;
    if bytes.len() > MAX_PICTURE {
        return Err(Xfs4IotError::TooLarge {
            len: bytes.len(),
            max: MAX_PICTURE,
        });
    }
    let image = image::load_from_memory(&bytes)
        .map_err(|_| Xfs4IotError::Protocol("pictureFile is not an image".into()))?
        .to_rgb8();
    Ok(Picture { bytes, image })
}

/// The camera (`room`, `person` or `exitSlot`) at a service URI.
pub struct Xfs4IotCamera {
    client: ServiceClient,
    /// Which of the service's cameras photographs materials.
    pub camera: String,
    /// How long one picture may take.
    pub timeout: Duration,
}

impl Xfs4IotCamera {
    /// Connects to the Camera service at `uri`; pictures from its `person` camera.
    pub fn connect(uri: &str, config: ClientConfig) -> Result<Self, Xfs4IotError> {
        Ok(Self {
            client: ServiceClient::connect(uri, config)?,
            camera: "person".into(),
            timeout: Duration::from_secs(10),
        })
    }

    /// The connection.
    pub fn client(&self) -> &ServiceClient {
        &self.client
    }

    /// Takes one picture.
    pub fn take_picture(&self) -> Result<Picture, Xfs4IotError> {
        let cmd = Command::new("Camera.TakePicture")
            .with("camera", self.camera.as_str())
            .timeout(self.timeout);
        picture_outcome(self.client.call(cmd))
    }
}

/// The host's camera as one of ours: each frame is one `TakePicture` (a still camera, so
/// the live preview is slow), a failure the camera error of the same kind.
impl crate::camera::FrameSource for Xfs4IotCamera {
    fn describe(&self) -> String {
        format!("XFS4IoT {}", self.client.uri())
    }

    fn next_frame(&mut self) -> Result<image::RgbImage, crate::camera::CameraError> {
        use crate::camera::CameraError;
        let device = self.describe();
        self.take_picture().map(|p| p.image).map_err(|e| match e {
            Xfs4IotError::Timeout { .. } => CameraError::Timeout(device),
            Xfs4IotError::Protocol(reason) => CameraError::BadFrame { device, reason },
            other => CameraError::Offline {
                device,
                reason: other.to_string(),
            },
        })
    }
}

/// The device a citizen must use now, whose guidance light flashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guide {
    /// The ID-card reader (while asking for the card).
    CardReader,
    /// The receipt printer's exit (while printing).
    Receipt,
    /// The barcode reader (while asking for a code).
    Scanner,
    /// The document camera's plate (while photographing).
    Camera,
}

impl Guide {
    /// Every guide, to turn them all off.
    pub const ALL: [Guide; 4] = [Self::CardReader, Self::Receipt, Self::Scanner, Self::Camera];

    /// The XFS4IoT light's name.
    pub fn light(self) -> &'static str {
        match self {
            Self::CardReader => "cardReader",
            Self::Receipt => "receiptPrinter",
            Self::Scanner => "scanner",
            Self::Camera => "documentPrinter",
        }
    }
}

/// The `Lights.SetLight` payload for `on` (flashing green there, every other light off), or
/// for `None` all off.
pub fn light_payload(on: Option<Guide>) -> Map<String, Value> {
    Guide::ALL
        .iter()
        .map(|g| {
            let state = if Some(*g) == on {
                json!({"center": {"flashRate": "quick", "color": "green"}})
            } else {
                json!({"center": {"flashRate": "off"}})
            };
            (g.light().to_string(), state)
        })
        .collect()
}

/// The guidance lights at a service URI.
pub struct Xfs4IotLights {
    client: ServiceClient,
}

impl Xfs4IotLights {
    /// Connects to the Lights service at `uri`.
    pub fn connect(uri: &str, config: ClientConfig) -> Result<Self, Xfs4IotError> {
        Ok(Self {
            client: ServiceClient::connect(uri, config)?,
        })
    }

    /// The connection.
    pub fn client(&self) -> &ServiceClient {
        &self.client
    }

    /// Lights the slot the citizen must use (`None`: all off).
    pub fn guide(&self, on: Option<Guide>) -> Result<(), Xfs4IotError> {
        let mut cmd = Command::new("Lights.SetLight").timeout(Duration::from_secs(3));
        for (k, v) in light_payload(on) {
            cmd = cmd.with(&k, v);
        }
        self.client.call(cmd).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(payload: Value) -> Result<Completion, Xfs4IotError> {
        Ok(Completion {
            name: "X".into(),
            payload: payload.as_object().cloned().unwrap_or_default(),
        })
    }

    #[test]
    fn a_service_timeout_is_no_code_and_other_failures_stay_errors() {
        let timed_out = Err(Xfs4IotError::Failed {
            command: "BarcodeReader.Read".into(),
            code: CompletionCode::TimeOut,
            error_code: None,
            description: String::new(),
        });
        assert!(read_outcome(timed_out).unwrap().is_none());
        assert_eq!(
            read_outcome(Err(Xfs4IotError::Disconnected)).unwrap_err(),
            Xfs4IotError::Disconnected
        );
        let bad = read_outcome(done(json!({"readOutput": [{"barcodeData": "%%"}]})));
        assert!(matches!(bad, Err(Xfs4IotError::Protocol(_))));
    }

    #[test]
    fn a_code_is_sanitised_like_the_serial_scanners() {
        let b64 = base64::engine::general_purpose::STANDARD.encode("YKM123\u{202E}\x07");
        let got = read_outcome(done(json!({"readOutput": [{"barcodeData": b64}]}))).unwrap();
        let Some(ScanEvent::Code(p)) = got else {
            panic!("{got:?}")
        };
        assert_eq!(p.text, "YKM123");
        assert_eq!(p.removed, 2);
    }

    #[test]
    fn a_picture_that_is_not_an_image_is_refused() {
        let b64 = base64::engine::general_purpose::STANDARD.encode(b"not a picture");
        let err = picture_outcome(done(json!({ "pictureFile": b64 }))).unwrap_err();
        assert!(matches!(err, Xfs4IotError::Protocol(_)));
        assert!(matches!(
            picture_outcome(done(json!({}))),
            Err(Xfs4IotError::Protocol(_))
        ));
    }

    #[test]
    fn one_guide_flashes_and_the_others_are_off() {
        let p = light_payload(Some(Guide::CardReader));
        assert_eq!(p["cardReader"]["center"]["flashRate"], "quick");
        assert_eq!(p["receiptPrinter"]["center"]["flashRate"], "off");
        assert!(light_payload(None)
            .values()
            .all(|v| v["center"]["flashRate"] == "off"));
    }
}
