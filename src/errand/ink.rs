//! 笔迹 — a finger's strokes on a pad, as the kiosk's handwriting pad, the kiosk's signature
//! pad and the counter's evaluation pad all take them: positions in a 1024 × 1024 box (y
//! down), strokes and points capped so a finger dragged on forever holds no unbounded memory.
//! Pure: pen events in, strokes out.

/// The pad's box: every position is clamped into `0..BOX` on both axes.
pub const BOX: i32 = 1024;
/// The most strokes a pad keeps (more than any character or signature has).
pub const PAD_MAX_STROKES: usize = 40;
/// The most points a pad keeps in all; a finger dragged on past this draws nothing more.
pub const PAD_MAX_POINTS: usize = 4000;
/// A move closer than this to the last point kept adds nothing (units of the 1024 box).
const PAD_MIN_STEP: i32 = 6;

/// The finger on a pad, in the pad's 1024 × 1024 box (y down).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pen {
    /// Touched down: a stroke starts.
    Down(i32, i32),
    /// Moved while down.
    Move(i32, i32),
    /// Lifted (or the touch was cancelled): the stroke is done.
    Up,
}

/// The strokes written so far and the stroke under the finger.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ink {
    pub strokes: Vec<Vec<[i32; 2]>>,
    pub pen: Option<Vec<[i32; 2]>>,
}

impl Ink {
    /// 重写 / 重签: nothing written.
    pub fn rewrite(&mut self) {
        self.strokes.clear();
        self.pen = None;
    }

    /// The strokes done, then the one being drawn (what a pad draws back).
    pub fn all(&self) -> impl Iterator<Item = &Vec<[i32; 2]>> {
        self.strokes.iter().chain(self.pen.iter())
    }

    fn points(&self) -> usize {
        self.strokes.iter().map(Vec::len).sum::<usize>() + self.pen.as_ref().map_or(0, Vec::len)
    }

    /// Applies a pen event; whether anything changed.
    pub fn apply(&mut self, pen: Pen) -> bool {
        let clamp = |x: i32, y: i32| [x.clamp(0, BOX - 1), y.clamp(0, BOX - 1)];
        let room = self.points() < PAD_MAX_POINTS;
        match pen {
            Pen::Down(x, y) => {
                if self.strokes.len() >= PAD_MAX_STROKES || !room {
                    return false;
                }
                if let Some(open) = self.pen.take().filter(|s| !s.is_empty()) {
                    self.strokes.push(open);
                }
                self.pen = Some(vec![clamp(x, y)]);
                true
            }
            Pen::Move(x, y) => {
                let Some(stroke) = self.pen.as_mut().filter(|_| room) else {
                    return false;
                };
                let p = clamp(x, y);
                let far = stroke
                    .last()
                    .is_none_or(|l| (l[0] - p[0]).abs().max((l[1] - p[1]).abs()) >= PAD_MIN_STEP);
                if far {
                    stroke.push(p);
                }
                far
            }
            Pen::Up => match self.pen.take() {
                Some(stroke) if !stroke.is_empty() => {
                    self.strokes.push(stroke);
                    true
                }
                _ => false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stroke_is_clamped_into_the_box_and_kept_once_lifted() {
        let mut ink = Ink::default();
        assert!(!ink.apply(Pen::Move(5, 5)), "no stroke without a touch");
        assert!(ink.apply(Pen::Down(-20, 2000)));
        assert!(!ink.apply(Pen::Move(-18, 2000)), "too close to add a point");
        assert!(ink.apply(Pen::Move(300, 400)));
        assert_eq!(ink.all().count(), 1, "the stroke under the finger is drawn");
        assert!(ink.strokes.is_empty());
        assert!(ink.apply(Pen::Up));
        assert_eq!(ink.strokes, vec![vec![[0, BOX - 1], [300, 400]]]);
        ink.rewrite();
        assert_eq!(ink.all().count(), 0);
    }
}
