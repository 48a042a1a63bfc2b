//! CSV for report rows (API.md §5, RFC 4180): a header of the row's JSON field names in the
//! order they serialise, then one record per row; strings as they are, numbers as their JSON
//! text, `null` as an empty field; fields holding a comma, quote, CR or LF are quoted with
//! inner quotes doubled; every record ends with CRLF. The header comes from serialising
//! `T::default()`, so an empty report still names its columns, and CSV can never drift from the
//! JSON shape. `parse` reads such text back (for `hangar check`).

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::Serialize;
use serde_json::Value;

/// Renders `rows` as CSV with a header row.
pub fn to_csv<T: Serialize + Default>(rows: &[T]) -> Result<String, String> {
    let header = fields(&T::default())?;
    let mut out = String::new();
    push_record(&mut out, header.iter().map(|(name, _)| name.clone()));
    for row in rows {
        push_record(&mut out, fields(row)?.into_iter().map(|(_, v)| cell(&v)));
    }
    Ok(out)
}

/// Reads CSV as `to_csv` writes it (RFC 4180, CRLF or LF line ends) back into records of
/// fields; `hangar check` uses it to compare an export with the rows it came from.
pub fn parse(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut records = Vec::new();
    let (mut record, mut field) = (Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(ch) = chars.next() {
        match (quoted, ch) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, other) => field.push(other),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, other) => field.push(other),
        }
    }
    if quoted {
        return Err("a quoted field is not closed".to_string());
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

/// One field as CSV text before quoting.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn push_record(out: &mut String, cells: impl Iterator<Item = String>) {
    for (i, cell) in cells.enumerate() {
        if i > 0 {
            out.push(',');
        }
        if cell.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&cell.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&cell);
        }
    }
    out.push_str("\r\n");
}

/// `row`'s JSON fields in serialisation order (serde_json's own map would sort them).
fn fields<T: Serialize>(row: &T) -> Result<Vec<(String, Value)>, String> {
    let text = serde_json::to_string(row).map_err(|e| e.to_string())?;
    let ordered: Ordered = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    Ok(ordered.0)
}

/// A JSON object read into a list, keeping its field order.
struct Ordered(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Ordered, D::Error> {
        d.deserialize_map(OrderedVisitor)
    }
}

struct OrderedVisitor;

impl<'de> Visitor<'de> for OrderedVisitor {
    type Value = Ordered;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
        let mut fields = Vec::new();
        while let Some(entry) = map.next_entry::<String, Value>()? {
            fields.push(entry);
        }
        Ok(Ordered(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Default)]
    struct Row {
        zeta: String,
        alpha: Option<f64>,
        count: i128,
        flag: bool,
    }

    #[test]
    fn header_follows_field_order_and_cells_are_quoted_as_rfc_4180_says() {
        let rows = [
            Row {
                zeta: "plain".into(),
                alpha: Some(0.5),
                count: 12,
                flag: true,
            },
            Row {
                zeta: "a,b \"c\"\nd".into(),
                alpha: None,
                count: -3,
                flag: false,
            },
        ];
        assert_eq!(
            to_csv(&rows).unwrap(),
            "zeta,alpha,count,flag\r\nplain,0.5,12,true\r\n\"a,b \"\"c\"\"\nd\",,-3,false\r\n"
        );
    }

    #[test]
    fn parse_reads_back_what_to_csv_writes() {
        let rows = [
            Row {
                zeta: "a,b \"c\"\r\nd".into(),
                alpha: None,
                count: -3,
                flag: false,
            },
            Row {
                zeta: String::new(),
                alpha: Some(1.25),
                count: 0,
                flag: true,
            },
        ];
        let text = to_csv(&rows).unwrap();
        let got = parse(&text).unwrap();
        assert_eq!(
            got,
            vec![
                vec!["zeta", "alpha", "count", "flag"],
                vec!["a,b \"c\"\r\nd", "", "-3", "false"],
                vec!["", "1.25", "0", "true"],
            ]
        );
        assert!(parse("\"open").is_err());
    }

    #[test]
    fn an_empty_report_still_has_its_header() {
        assert_eq!(to_csv::<Row>(&[]).unwrap(), "zeta,alpha,count,flag\r\n");
    }
}
