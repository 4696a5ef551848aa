//! Frames printed as terminal tables (comfy-table).

use polars::prelude::{AnyValue, DataFrame};

/// Prints a frame under `title` (at most `limit` rows, and how many there were when cut).
pub fn print_frame(title: &str, frame: &DataFrame, limit: usize) {
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(frame.get_column_names().iter().map(|n| n.as_str()));
    for i in 0..frame.height().min(limit) {
        table.add_row(frame.columns().iter().map(|c| match c.get(i) {
            Ok(AnyValue::Float64(v)) => format!("{v:.2}"),
            Ok(AnyValue::String(s)) => s.to_owned(),
            Ok(v) => v.to_string(),
            Err(_) => String::new(),
        }));
    }
    println!("{title}");
    println!("{table}");
    if frame.height() > limit {
        println!("({} rows, {limit} shown)", frame.height());
    }
    println!();
}
