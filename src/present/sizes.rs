//! Sizes for people: files offered, fetched and their rates.

/// `2.3 MB`, `512 B`: a size for people (powers of 1024, as the size settings are read).
pub fn show_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{bytes} B"),
        _ => format!("{value:.1} {}", UNITS[unit]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_shown_for_people() {
        assert_eq!(show_size(512), "512 B");
        assert_eq!(show_size(2_411_724), "2.3 MB");
        assert_eq!(show_size(1 << 30), "1.0 GB");
    }
}
