// Reads a QR code drawn by `rootguard::app::mfa::qr_text` back from terminal
// output and decodes it with rqrr. Shared by the unit tests of `src/mfa.rs`
// and the pseudo-terminal tests.

/// The QR rows of terminal output: lines drawn black-on-white, ANSI removed.
pub fn qr_rows(output: &str) -> Vec<Vec<char>> {
    output
        .split('\n')
        .filter_map(|l| {
            let (_, rest) = l.split_once("\x1b[30;47m")?;
            let row = rest.split("\x1b[0m").next().unwrap_or(rest);
            Some(row.chars().collect::<Vec<char>>())
        })
        .filter(|r| !r.is_empty())
        .collect()
}

/// Decodes the first QR code drawn in `output`.
pub fn decode_terminal_qr(output: &str) -> Option<String> {
    decode_rows(&qr_rows(output))
}

/// Decodes half-block rows (each character two modules tall). Only what was
/// drawn counts: nothing is added around it, so a code without its quiet zone
/// or with rows missing does not decode.
pub fn decode_rows(rows: &[Vec<char>]) -> Option<String> {
    let w = rows.iter().map(Vec::len).max()?;
    let h = rows.len() * 2;
    let scale = 4;
    let dark = |x: usize, y: usize| {
        let c = rows[y / 2].get(x).copied().unwrap_or(' ');
        matches!((c, y % 2), ('█', _) | ('▀', 0) | ('▄', 1))
    };
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w * scale, h * scale, |x, y| {
        if dark(x / scale, y / scale) {
            0
        } else {
            255
        }
    });
    let grids = img.detect_grids();
    grids.first()?.decode().ok().map(|(_, s)| s)
}
