//! Wire-level device emulators, for tests, the demo profile and technicians
//! (`ykb-terminal devsim idcard|printer|scanner|xfs4iot`). They speak the devices' protocols byte
//! for byte over a pseudo-terminal, TCP or WebSocket, so the real drivers are exercised end to end.

pub mod idcard;
pub mod printer;
pub mod pty;
pub mod scanner;
pub mod xfs4iot;

pub use idcard::{CardFile, IdCardSim, SamFault, SamSim};
pub use printer::{PrinterMedia, PrinterShared, PrinterSim, PrinterSimConfig};
pub use pty::{PtyDevice, WireDevice};
pub use scanner::{ScannerDevice, ScannerSim, Terminator};
pub use xfs4iot::{Fault, Xfs4IotShared, Xfs4IotSim};

use std::io::{self, BufRead, Write};

/// Runs an emulator's control console: reads lines from `input` until EOF or `quit`, applies
/// each with `control`, and writes the answer (or `error: …`) to `output`. Used by
/// `ykb-terminal devsim …` on stdin/stdout.
pub fn control_loop(
    input: impl BufRead,
    mut output: impl Write,
    mut control: impl FnMut(&str) -> Result<String, String>,
) -> io::Result<()> {
    for line in input.lines() {
        let line = line?;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line == "quit" || line == "exit" {
            break;
        }
        match control(line) {
            Ok(msg) => writeln!(output, "{msg}")?,
            Err(e) => writeln!(output, "error: {e}")?,
        }
        output.flush()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_loop_answers_each_line_and_stops_at_quit() {
        let input = b"place\n\n# comment\nbogus\nquit\nplace\n";
        let mut out = Vec::new();
        super::control_loop(&input[..], &mut out, |l| {
            if l == "place" {
                Ok("placed".into())
            } else {
                Err(format!("unknown {l}"))
            }
        })
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "placed\nerror: unknown bogus\n"
        );
    }
}
