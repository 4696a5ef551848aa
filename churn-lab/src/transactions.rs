//! Transactions and behaviour events: reading files, validating every value, and building the
//! typed frames the feature code works on.
//!
//! A transactions file is CSV or Parquet with `customer_id`, `ordered_at` (ISO date or
//! datetime), `amount` (decimal) and optionally `quantity` and `status`. A negative amount, or a
//! status such as `refunded`, marks a refund; `cancelled` marks a cancellation; every other row
//! is a purchase. Bad values are reported with the line (CSV) or row (Parquet) and the column, so
//! an analyst can fix the file instead of guessing.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};
use polars::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What one row of a transactions file means for the shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionKind {
    Purchase,
    Refund,
    Cancellation,
}

impl TransactionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Purchase => "purchase",
            Self::Refund => "refund",
            Self::Cancellation => "cancellation",
        }
    }

    /// The inverse of [`Self::as_str`].
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Purchase, Self::Refund, Self::Cancellation]
            .into_iter()
            .find(|kind| kind.as_str() == raw)
    }

    /// Reads an order status as the shop or a public dataset writes it.
    fn from_status(status: &str, amount: f64) -> Self {
        match status.trim().to_ascii_lowercase().as_str() {
            "cancelled" | "canceled" | "cancellation" | "voided" => Self::Cancellation,
            "refunded" | "refund" | "returned" | "partially_refunded" => Self::Refund,
            _ if amount < 0.0 => Self::Refund,
            _ => Self::Purchase,
        }
    }
}

/// One transaction, for callers that hold records rather than files (the API scoring one
/// customer, tests).
#[derive(Debug, Clone, PartialEq)]
pub struct Transaction {
    pub customer_id: String,
    pub ordered_at: NaiveDateTime,
    pub amount: f64,
    pub quantity: i64,
    pub kind: TransactionKind,
}

/// One behaviour event of a known customer.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub customer_id: String,
    pub occurred_at: NaiveDateTime,
    pub kind: String,
}

/// Where in a file a bad value sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// 1-based line of a CSV file, the header being line 1.
    Line(usize),
    /// 1-based row of a Parquet file.
    Row(usize),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Line(n) => write!(f, "line {n}"),
            Self::Row(n) => write!(f, "row {n}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: unsupported file type; use a .csv or .parquet file")]
    UnsupportedFormat { path: PathBuf },
    #[error("{path}: missing column `{column}` (found: {found})")]
    MissingColumn {
        path: PathBuf,
        column: &'static str,
        found: String,
    },
    #[error("{path}: {position}, column `{column}`: {reason} (value: {value:?})")]
    BadValue {
        path: PathBuf,
        position: Position,
        column: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error("{path}: the file holds no rows")]
    Empty { path: PathBuf },
    #[error("{path}: line {line} has {found} fields where the header has {expected}")]
    Ragged {
        path: PathBuf,
        line: usize,
        found: usize,
        expected: usize,
    },
    #[error("{path}: {message}")]
    Unreadable { path: PathBuf, message: String },
}

/// Where a frame came from, so every analysis can say what it ran on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataManifest {
    pub source: String,
    pub sha256: Option<String>,
    pub rows: usize,
    pub customers: usize,
    pub first_at: Option<NaiveDateTime>,
    pub last_at: Option<NaiveDateTime>,
}

/// Validated transactions: `customer_id` (str), `ordered_at` (datetime, ms), `day` (i32 days
/// since 1970-01-01), `amount` (f64, negative for refunds), `quantity` (i64), `kind` (str, see
/// [`TransactionKind::as_str`]).
#[derive(Debug, Clone)]
pub struct Transactions {
    frame: DataFrame,
    manifest: DataManifest,
}

/// Validated behaviour events: `customer_id` (str), `day` (i32), `type` (str).
#[derive(Debug, Clone)]
pub struct Events {
    frame: DataFrame,
    manifest: DataManifest,
}

/// Days since 1970-01-01 of a date, the time unit of every feature.
pub fn day_number(date: NaiveDate) -> i32 {
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid epoch")).num_days() as i32
}

impl Transactions {
    /// Reads a CSV or Parquet transactions file, checking every value.
    pub fn from_path(path: &Path) -> Result<Self, LoadError> {
        Self::from_table(RawTable::read(path)?)
    }

    /// The contents of a transactions file called `name` (its extension names the format),
    /// checked as [`Transactions::from_path`] checks a file.
    pub fn from_bytes(bytes: Vec<u8>, name: &Path) -> Result<Self, LoadError> {
        Self::from_table(RawTable::parse(bytes, name)?)
    }

    fn from_table(raw: RawTable) -> Result<Self, LoadError> {
        let customer_ids = raw.required("customer_id")?;
        let ordered_at = raw.required("ordered_at")?;
        let amounts = raw.required("amount")?;
        let quantities = raw.optional("quantity");
        let statuses = raw.optional("status");

        let mut records = Vec::with_capacity(raw.height);
        for i in 0..raw.height {
            let customer_id = raw.text(customer_ids, i, "customer_id", "customer_id is empty")?;
            let at_text = raw.text(ordered_at, i, "ordered_at", "ordered_at is empty")?;
            let ordered_at = parse_timestamp(&at_text)
                .ok_or_else(|| raw.bad(i, "ordered_at", &at_text, "not an ISO date or datetime"))?;
            let amount_text = raw.text(amounts, i, "amount", "amount is empty")?;
            let amount = parse_amount(&amount_text)
                .ok_or_else(|| raw.bad(i, "amount", &amount_text, "not a decimal number"))?;
            let quantity = match quantities.and_then(|c| raw.cell(c, i)) {
                None => 1,
                Some(text) => text
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|q| q.is_finite() && q.fract() == 0.0)
                    .map(|q| q as i64)
                    .ok_or_else(|| raw.bad(i, "quantity", &text, "not a whole number"))?,
            };
            let status = statuses.and_then(|c| raw.cell(c, i)).unwrap_or_default();
            records.push(Transaction {
                customer_id,
                ordered_at,
                amount,
                quantity,
                kind: TransactionKind::from_status(&status, amount),
            });
        }
        let mut transactions = Self::from_records(&records);
        transactions.manifest.source = raw.path.display().to_string();
        transactions.manifest.sha256 = Some(raw.sha256);
        Ok(transactions)
    }

    /// Builds the frame from records already in memory.
    pub fn from_records(records: &[Transaction]) -> Self {
        let customer_id: Vec<&str> = records.iter().map(|r| r.customer_id.as_str()).collect();
        let ordered_at: Vec<i64> = records
            .iter()
            .map(|r| r.ordered_at.and_utc().timestamp_millis())
            .collect();
        let day: Vec<i32> = records
            .iter()
            .map(|r| day_number(r.ordered_at.date()))
            .collect();
        let amount: Vec<f64> = records.iter().map(|r| r.amount).collect();
        let quantity: Vec<i64> = records.iter().map(|r| r.quantity).collect();
        let kind: Vec<&str> = records.iter().map(|r| r.kind.as_str()).collect();
        let ordered_at = Series::new("ordered_at".into(), ordered_at)
            .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
            .expect("i64 casts to datetime");
        let frame = DataFrame::new_infer_height(vec![
            Column::new("customer_id".into(), customer_id),
            ordered_at.into_column(),
            Column::new("day".into(), day),
            Column::new("amount".into(), amount),
            Column::new("quantity".into(), quantity),
            Column::new("kind".into(), kind),
        ])
        .expect("columns of equal length");
        let manifest = manifest_of(
            "records",
            records.len(),
            records.iter().map(|r| (&r.customer_id, r.ordered_at)),
        );
        Self { frame, manifest }
    }

    pub fn frame(&self) -> &DataFrame {
        &self.frame
    }

    pub fn lazy(&self) -> LazyFrame {
        self.frame.clone().lazy()
    }

    pub fn manifest(&self) -> &DataManifest {
        &self.manifest
    }

    /// The same data, naming where it came from in its manifest.
    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.manifest.source = source.into();
        self
    }

    pub fn len(&self) -> usize {
        self.frame.height()
    }

    pub fn is_empty(&self) -> bool {
        self.frame.height() == 0
    }

    /// The last day with a transaction.
    pub fn last_date(&self) -> Option<NaiveDate> {
        self.manifest.last_at.map(|at| at.date())
    }
}

impl Events {
    /// Reads a CSV or Parquet events file with `customer_id`, `occurred_at` and `type`.
    pub fn from_path(path: &Path) -> Result<Self, LoadError> {
        Self::from_table(RawTable::read(path)?)
    }

    /// The contents of an events file called `name` (its extension names the format).
    pub fn from_bytes(bytes: Vec<u8>, name: &Path) -> Result<Self, LoadError> {
        Self::from_table(RawTable::parse(bytes, name)?)
    }

    fn from_table(raw: RawTable) -> Result<Self, LoadError> {
        let customer_ids = raw.required("customer_id")?;
        let occurred_at = raw.required("occurred_at")?;
        let kinds = raw.required("type")?;
        let mut records = Vec::with_capacity(raw.height);
        for i in 0..raw.height {
            let customer_id = raw.text(customer_ids, i, "customer_id", "customer_id is empty")?;
            let at_text = raw.text(occurred_at, i, "occurred_at", "occurred_at is empty")?;
            let occurred_at = parse_timestamp(&at_text).ok_or_else(|| {
                raw.bad(i, "occurred_at", &at_text, "not an ISO date or datetime")
            })?;
            let kind = raw.text(kinds, i, "type", "type is empty")?;
            records.push(Event {
                customer_id,
                occurred_at,
                kind,
            });
        }
        let mut events = Self::from_records(&records);
        events.manifest.source = raw.path.display().to_string();
        events.manifest.sha256 = Some(raw.sha256);
        Ok(events)
    }

    pub fn from_records(records: &[Event]) -> Self {
        let customer_id: Vec<&str> = records.iter().map(|r| r.customer_id.as_str()).collect();
        let day: Vec<i32> = records
            .iter()
            .map(|r| day_number(r.occurred_at.date()))
            .collect();
        let kind: Vec<&str> = records.iter().map(|r| r.kind.as_str()).collect();
        let frame = DataFrame::new_infer_height(vec![
            Column::new("customer_id".into(), customer_id),
            Column::new("day".into(), day),
            Column::new("type".into(), kind),
        ])
        .expect("columns of equal length");
        let manifest = manifest_of(
            "records",
            records.len(),
            records.iter().map(|r| (&r.customer_id, r.occurred_at)),
        );
        Self { frame, manifest }
    }

    pub fn lazy(&self) -> LazyFrame {
        self.frame.clone().lazy()
    }

    pub fn manifest(&self) -> &DataManifest {
        &self.manifest
    }

    /// The same data, naming where it came from in its manifest.
    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.manifest.source = source.into();
        self
    }
}

/// Reads a transactions file and, when given, an events file: the data every command works
/// on. An events file that was named but cannot be read is an error, never "no events".
pub fn load(
    transactions: &Path,
    events: Option<&Path>,
) -> Result<(Transactions, Option<Events>), LoadError> {
    let transactions = Transactions::from_path(transactions)?;
    let events = events.map(Events::from_path).transpose()?;
    Ok((transactions, events))
}

fn manifest_of<'a>(
    source: &str,
    rows: usize,
    entries: impl Iterator<Item = (&'a String, NaiveDateTime)>,
) -> DataManifest {
    let mut customers = std::collections::HashSet::new();
    let (mut first_at, mut last_at): (Option<NaiveDateTime>, Option<NaiveDateTime>) = (None, None);
    for (customer, at) in entries {
        customers.insert(customer.as_str());
        first_at = Some(first_at.map_or(at, |f| f.min(at)));
        last_at = Some(last_at.map_or(at, |l| l.max(at)));
    }
    DataManifest {
        source: source.to_owned(),
        sha256: None,
        rows,
        customers: customers.len(),
        first_at,
        last_at,
    }
}

/// Accepts `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fff]]` (also with a space), and RFC 3339 with a
/// zone (converted to UTC).
pub fn parse_timestamp(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(date.and_time(NaiveTime::MIN));
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.naive_utc());
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
            return Some(at);
        }
    }
    None
}

fn parse_amount(text: &str) -> Option<f64> {
    let text = text.trim();
    let plain = text
        .bytes()
        .enumerate()
        .all(|(i, b)| b.is_ascii_digit() || b == b'.' || (i == 0 && (b == b'-' || b == b'+')));
    if !plain {
        return None;
    }
    text.parse::<f64>().ok().filter(|a| a.is_finite())
}

/// A file read with every column as text, so that each value can be checked and reported
/// with its position.
struct RawTable {
    path: PathBuf,
    frame: DataFrame,
    height: usize,
    is_csv: bool,
    sha256: String,
}

/// The first line (1-based, counting the header) whose number of fields differs from the
/// header's, with both counts. Quoted fields may hold commas and line breaks; a blank line is
/// left to the row checks (it is a row without a customer).
fn ragged_line(bytes: &[u8]) -> Option<(usize, usize, usize)> {
    let (mut line, mut record_line) = (1, 1);
    let (mut fields, mut in_quotes, mut blank) = (1, false, true);
    let mut expected = None;
    for &b in bytes.iter().chain([&b'\n']) {
        match b {
            b'"' => {
                in_quotes = !in_quotes;
                blank = false;
            }
            b',' if !in_quotes => {
                fields += 1;
                blank = false;
            }
            b'\n' if !in_quotes => {
                if !blank {
                    match expected {
                        None => expected = Some(fields),
                        Some(e) if e != fields => return Some((record_line, fields, e)),
                        Some(_) => {}
                    }
                }
                line += 1;
                record_line = line;
                (fields, blank) = (1, true);
            }
            b'\n' => line += 1,
            b'\r' => {}
            _ => blank = false,
        }
    }
    None
}

impl RawTable {
    fn read(path: &Path) -> Result<Self, LoadError> {
        let io = |source| LoadError::Io {
            path: path.to_owned(),
            source,
        };
        let mut bytes = Vec::new();
        File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(io)?;
        Self::parse(bytes, path)
    }

    fn parse(bytes: Vec<u8>, path: &Path) -> Result<Self, LoadError> {
        let sha256 = format!("{:x}", Sha256::digest(&bytes));
        let unreadable = |e: PolarsError| LoadError::Unreadable {
            path: path.to_owned(),
            message: e.to_string(),
        };
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let (frame, is_csv) = match extension.as_deref() {
            Some("csv") => {
                // Polars would fill a short row with nulls and reject a long one without
                // saying where: name the line.
                if let Some((line, found, expected)) = ragged_line(&bytes) {
                    return Err(LoadError::Ragged {
                        path: path.to_owned(),
                        line,
                        found,
                        expected,
                    });
                }
                let frame = CsvReadOptions::default()
                    .with_has_header(true)
                    .with_infer_schema_length(Some(0))
                    .into_reader_with_file_handle(std::io::Cursor::new(bytes))
                    .finish()
                    .map_err(unreadable)?;
                (frame, true)
            }
            Some("parquet") | Some("pq") => {
                let frame = ParquetReader::new(std::io::Cursor::new(bytes))
                    .finish()
                    .map_err(unreadable)?;
                let as_text: Vec<Column> = frame
                    .columns()
                    .iter()
                    .map(|c| c.cast(&DataType::String))
                    .collect::<PolarsResult<_>>()
                    .map_err(unreadable)?;
                let frame = DataFrame::new_infer_height(as_text).map_err(unreadable)?;
                (frame, false)
            }
            _ => {
                return Err(LoadError::UnsupportedFormat {
                    path: path.to_owned(),
                });
            }
        };
        let height = frame.height();
        if height == 0 {
            return Err(LoadError::Empty {
                path: path.to_owned(),
            });
        }
        Ok(Self {
            path: path.to_owned(),
            frame,
            height,
            is_csv,
            sha256,
        })
    }

    fn column(&self, name: &str) -> Option<&StringChunked> {
        let column = self.frame.columns().iter().find(|c| {
            c.name().trim().eq_ignore_ascii_case(name) && c.dtype() == &DataType::String
        })?;
        column.str().ok()
    }

    fn required(&self, name: &'static str) -> Result<&StringChunked, LoadError> {
        self.column(name).ok_or_else(|| LoadError::MissingColumn {
            path: self.path.clone(),
            column: name,
            found: self
                .frame
                .get_column_names()
                .iter()
                .map(|n| n.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    fn optional(&self, name: &str) -> Option<&StringChunked> {
        self.column(name)
    }

    fn cell(&self, column: &StringChunked, i: usize) -> Option<String> {
        column
            .get(i)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    }

    fn text(
        &self,
        column: &StringChunked,
        i: usize,
        name: &'static str,
        empty: &'static str,
    ) -> Result<String, LoadError> {
        self.cell(column, i)
            .ok_or_else(|| self.bad(i, name, "", empty))
    }

    fn bad(&self, i: usize, column: &'static str, value: &str, reason: &'static str) -> LoadError {
        LoadError::BadValue {
            path: self.path.clone(),
            position: if self.is_csv {
                Position::Line(i + 2)
            } else {
                Position::Row(i + 1)
            },
            column,
            value: value.to_owned(),
            reason,
        }
    }
}

/// Writes a frame as Parquet (snapshots, converted datasets).
pub fn write_parquet(frame: &mut DataFrame, path: &Path) -> Result<(), LoadError> {
    let file = File::create(path).map_err(|source| LoadError::Io {
        path: path.to_owned(),
        source,
    })?;
    ParquetWriter::new(file)
        .finish(frame)
        .map_err(|e| LoadError::Unreadable {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
        let path = dir.join(name);
        File::create(&path)
            .unwrap()
            .write_all(body.as_bytes())
            .unwrap();
        path
    }

    #[test]
    fn reads_dates_datetimes_refunds_and_cancellations() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "t.csv",
            "customer_id,ordered_at,amount,quantity,status\n\
             c1,2024-01-05,10.50,2,paid\n\
             c1,2024-02-01T10:15:00Z,-4.00,,\n\
             c2,2024-02-03 08:00:00,7,1,cancelled\n",
        );
        let tx = Transactions::from_path(&path).unwrap();
        assert_eq!(tx.len(), 3);
        assert_eq!(tx.manifest().customers, 2);
        let kinds: Vec<_> = tx
            .frame()
            .column("kind")
            .unwrap()
            .str()
            .unwrap()
            .no_null_iter()
            .collect();
        assert_eq!(kinds, ["purchase", "refund", "cancellation"]);
        assert_eq!(tx.last_date(), NaiveDate::from_ymd_opt(2024, 2, 3));
    }

    #[test]
    fn names_line_and_column_of_a_bad_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "t.csv",
            "customer_id,ordered_at,amount\nc1,2024-01-05,10\nc2,05/01/2024,3\n",
        );
        let message = Transactions::from_path(&path).unwrap_err().to_string();
        assert!(message.contains("line 3, column `ordered_at`"), "{message}");
        let path = write(
            dir.path(),
            "u.csv",
            "customer_id,ordered_at,amount\nc1,2024-01-05,ten\n",
        );
        let message = Transactions::from_path(&path).unwrap_err().to_string();
        assert!(message.contains("line 2, column `amount`"), "{message}");
    }

    #[test]
    fn names_the_line_with_too_many_or_too_few_fields() {
        let dir = tempfile::tempdir().unwrap();
        let header = "customer_id,ordered_at,amount\r\n";
        for (name, body, line, found) in [
            // An unquoted decimal comma splits the amount.
            (
                "long.csv",
                "c1,2024-01-05,10\r\nc2,2024-01-06,12,34\r\n",
                3,
                4,
            ),
            ("short.csv", "c1,2024-01-05,10\n\nc2,2024-01-06\n", 4, 2),
        ] {
            let path = write(dir.path(), name, &format!("{header}{body}"));
            let message = Transactions::from_path(&path).unwrap_err().to_string();
            let expected = format!("line {line} has {found} fields where the header has 3");
            assert!(message.contains(&expected), "{message}");
        }
        // Quoted commas and line breaks are inside one field.
        let path = write(
            dir.path(),
            "quoted.csv",
            "customer_id,ordered_at,amount\n\"c,1\",2024-01-05,10\n\"c\n2\",2024-01-06,3\n",
        );
        assert_eq!(Transactions::from_path(&path).unwrap().manifest().rows, 2);
    }

    #[test]
    fn names_a_missing_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "t.csv",
            "customer,ordered_at,amount\nc1,2024-01-05,1\n",
        );
        let message = Transactions::from_path(&path).unwrap_err().to_string();
        assert!(
            message.contains("missing column `customer_id`"),
            "{message}"
        );
        assert!(
            message.contains("found: customer, ordered_at, amount"),
            "{message}"
        );
    }

    #[test]
    fn load_reads_both_files_and_never_drops_a_named_events_file() {
        let dir = tempfile::tempdir().unwrap();
        let tx = write(
            dir.path(),
            "t.csv",
            "customer_id,ordered_at,amount\nc1,2024-01-05,10\n",
        );
        let events = write(
            dir.path(),
            "e.csv",
            "customer_id,occurred_at,type\nc1,2024-01-04,product_view\n",
        );
        let (read, none) = load(&tx, None).unwrap();
        assert_eq!(read.len(), 1);
        assert!(none.is_none());
        let (_, some) = load(&tx, Some(&events)).unwrap();
        assert_eq!(some.unwrap().manifest().rows, 1);
        let missing = dir.path().join("missing.csv");
        assert!(matches!(
            load(&tx, Some(&missing)),
            Err(LoadError::Io { path, .. }) if path == missing
        ));
    }

    #[test]
    fn parquet_round_trip_reports_rows() {
        let dir = tempfile::tempdir().unwrap();
        let csv = write(
            dir.path(),
            "t.csv",
            "customer_id,ordered_at,amount\nc1,2024-01-05,10\nc2,2024-01-06,3\n",
        );
        let tx = Transactions::from_path(&csv).unwrap();
        let mut frame = tx
            .frame()
            .select(["customer_id", "ordered_at", "amount"])
            .unwrap();
        let parquet = dir.path().join("t.parquet");
        write_parquet(&mut frame, &parquet).unwrap();
        let again = Transactions::from_path(&parquet).unwrap();
        assert_eq!(again.len(), 2);
        assert_eq!(again.manifest().last_at, tx.manifest().last_at);
    }
}
