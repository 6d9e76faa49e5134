//! What `-o FORMAT[=PATH]` asks for: the formats and where each goes, parsed
//! from the flag. Pure; the renderers (`render`) draw each format and the
//! terminal edge (`term::out`) writes it.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Junit,
    Markdown,
    Html,
    Csv,
    Asff,
    Ocsf,
}

impl Format {
    pub const ALL: [(&'static str, Format); 8] = [
        ("text", Format::Text),
        ("json", Format::Json),
        ("junit", Format::Junit),
        ("markdown", Format::Markdown),
        ("html", Format::Html),
        ("csv", Format::Csv),
        ("asff", Format::Asff),
        ("ocsf", Format::Ocsf),
    ];

    /// The name `-o` takes for it.
    pub fn name(self) -> &'static str {
        Format::ALL
            .iter()
            .find(|(_, f)| *f == self)
            .map_or("text", |(n, _)| n)
    }
}

/// One `-o FORMAT[=PATH]`: stdout when there is no path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputSpec {
    pub format: Format,
    pub path: Option<std::path::PathBuf>,
}

/// Parses `FORMAT` or `FORMAT=PATH`.
pub fn parse_output(s: &str) -> Result<OutputSpec, String> {
    let (name, path) = match s.split_once('=') {
        Some((n, p)) => (n, Some(p)),
        None => (s, None),
    };
    let names: Vec<&str> = Format::ALL.iter().map(|(n, _)| *n).collect();
    let format = Format::ALL
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| *f)
        .ok_or_else(|| {
            let cut: String = name.chars().take(40).collect();
            format!(
                "{cut:?} is not an output format: expected one of {}, optionally =PATH",
                names.join(", ")
            )
        })?;
    match path {
        Some("") => Err(format!("{name}= needs a file path after the =")),
        Some(p) if p.chars().any(char::is_control) => {
            Err("the file path contains control characters".into())
        }
        Some(p) => Ok(OutputSpec {
            format,
            path: Some(p.into()),
        }),
        None => Ok(OutputSpec { format, path: None }),
    }
}
