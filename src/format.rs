//! How numbers and labels are written for people, one definition each, so `report` and `check`
//! print the same thing the same way.

/// A fraction as a percentage in its shortest form: 0.95 → "95 %", 0.975 → "97.5 %" (settings
/// such as a confidence level).
pub fn percent(fraction: f64) -> String {
    let value = fraction * 100.0;
    if (value - value.round()).abs() < 1e-9 {
        format!("{value:.0} %")
    } else {
        format!("{value} %")
    }
}

/// A measured share with one decimal: 0.25 → "25.0 %" (error and cache-hit rates).
pub fn rate(fraction: f64) -> String {
    format!("{:.1} %", fraction * 100.0)
}

/// A speedup for people: 2.25 → "2.25×".
pub fn times(x: f64) -> String {
    format!("{x:.2}×")
}

/// A speedup for machines (CSV): three decimals, no unit.
pub fn ratio(x: f64) -> String {
    format!("{x:.3}")
}

/// Text from the user's CSVs (labels, regions, messages quoting them) made safe inside Markdown:
/// it can neither break a table (`|`) nor turn into markup.
pub fn markdown_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '|' | '*' | '_' | '`' | '<' | '>' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Whole milliseconds from 10 ms up (as the seed wrote them), two decimals below.
pub fn short_ms(value: f64) -> String {
    if value >= 10.0 {
        format!("{value:.0}")
    } else {
        let text = format!("{value:.2}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_drops_needless_decimals() {
        assert_eq!(percent(0.95), "95 %");
        assert_eq!(percent(0.975), "97.5 %");
    }

    #[test]
    fn markdown_escape_keeps_table_cells_and_markup_intact() {
        assert_eq!(markdown_escape("eu|west_1*"), "eu\\|west\\_1\\*");
    }
}
