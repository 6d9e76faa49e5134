//! CloudWatch Logs filter patterns: a parser and an evaluator.
//!
//! This module owns the filter-pattern language (JSON, term and space-delimited
//! forms) and its meaning on a log event. It lets rootguard judge a metric
//! filter by *what it matches* rather than by its text. It must not do I/O: the
//! corpus it judges against is compiled in (`crate::domain::rootactivity::corpus`). A pattern it
//! cannot read is a [`ParseError`] with a position, never a panic.
//!
//! Semantics, as CloudWatch Logs documents them:
//! - JSON form `{ … }`: selectors `$.a.b[0].c`; `=` and `!=` compare strings
//!   (with `*` wildcards) or numbers; `<`, `<=`, `>`, `>=` compare numbers;
//!   `IS NULL`, `NOT EXISTS`, `IS TRUE`, `IS FALSE`; `&&` binds tighter than
//!   `||`; parentheses group. A comparison on a field that does not exist is
//!   false, `!=` included. Values are case sensitive.
//! - Term form: `ERROR "bad thing" -DEBUG ?WARN`: every plain term must occur,
//!   no `-` term may occur, and at least one `?` term must occur if any is given.
//! - Space-delimited form `[ip, user, ..., status = 4*, bytes > 1000]`.
//! - The empty pattern matches every event.

use std::fmt;

use serde_json::Value;
use thiserror::Error;

#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("at position {pos}: {message}")]
pub struct ParseError {
    /// Byte offset into the pattern text.
    pub pos: usize,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Pattern {
    /// The empty pattern.
    All,
    Json(Expr),
    Terms(Vec<Term>),
    Delimited(Vec<Column>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp(Selector, Op, Literal),
    NotExists(Selector),
    IsNull(Selector),
    IsBool(Selector, bool),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector(pub Vec<Seg>);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Literal {
    pub text: String,
    pub quoted: bool,
    /// The value as a number, when it is one and was not quoted.
    pub number: Option<f64>,
    /// `%regex%`: CloudWatch Logs' regex subset, matched anywhere in the value.
    pub regex: Option<Rx>,
}

/// A compiled `%regex%` value (compared by its source).
#[derive(Clone, Debug)]
pub struct Rx(regex::Regex);

impl PartialEq for Rx {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

/// The regex subset CloudWatch Logs filter patterns accept (CloudWatch Logs
/// User Guide, "Supported regular expressions (regex) syntax"): letters,
/// digits, the symbols `:_#=@/;,-`, the operators `^$?[]{}|\*+.`; no `()`
/// groups, no multibyte characters.
fn parse_regex(src: &str) -> Result<Rx, String> {
    if src.is_empty() {
        return Err("an empty %regex%".into());
    }
    if let Some(c) = src
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || ":_#=@/;,-^$?[]{}|\\*+.".contains(*c)))
    {
        return Err(format!(
            "%regex% uses {c:?}, which CloudWatch Logs regex does not support"
        ));
    }
    regex::Regex::new(src).map(Rx).map_err(|e| {
        format!(
            "%regex% does not compile: {}",
            e.to_string().lines().last().unwrap_or("")
        )
    })
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TermKind {
    Required,
    Optional,
    Excluded,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    pub kind: TermKind,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    /// `...`: any number of columns.
    Ellipsis,
    /// A named column with an optional condition on its value.
    Named { name: String, cond: Option<ColCond> },
}

#[derive(Clone, Debug, PartialEq)]
pub enum ColCond {
    Cmp(Op, Literal),
    And(Box<ColCond>, Box<ColCond>),
    Or(Box<ColCond>, Box<ColCond>),
}

/// A log event as CloudWatch Logs sees it: raw text, and its JSON if it is JSON.
pub struct Event<'a> {
    pub text: &'a str,
    pub json: Option<&'a Value>,
}

impl Pattern {
    pub fn parse(text: &str) -> Result<Pattern, ParseError> {
        Parser::new(text).pattern()
    }

    pub fn matches(&self, event: &Event) -> bool {
        match self {
            Pattern::All => true,
            Pattern::Json(e) => event.json.is_some_and(|j| e.eval(j)),
            Pattern::Terms(terms) => {
                let has = |t: &Term| event.text.contains(t.text.as_str());
                let optional: Vec<&Term> = terms
                    .iter()
                    .filter(|t| t.kind == TermKind::Optional)
                    .collect();
                terms.iter().all(|t| match t.kind {
                    TermKind::Required => has(t),
                    TermKind::Excluded => !has(t),
                    TermKind::Optional => true,
                }) && (optional.is_empty() || optional.iter().any(|t| has(t)))
            }
            Pattern::Delimited(cols) => match_columns(cols, &split_fields(event.text)),
        }
    }
}

impl Expr {
    pub fn eval(&self, doc: &Value) -> bool {
        match self {
            Expr::And(a, b) => a.eval(doc) && b.eval(doc),
            Expr::Or(a, b) => a.eval(doc) || b.eval(doc),
            Expr::NotExists(s) => s.get(doc).is_none(),
            Expr::IsNull(s) => s.get(doc).is_some_and(Value::is_null),
            Expr::IsBool(s, b) => s.get(doc).and_then(Value::as_bool) == Some(*b),
            Expr::Cmp(s, op, lit) => s.get(doc).is_some_and(|v| compare(v, *op, lit)),
        }
    }
}

impl Selector {
    pub fn get<'v>(&self, doc: &'v Value) -> Option<&'v Value> {
        self.0.iter().try_fold(doc, |v, seg| match seg {
            Seg::Key(k) => v.as_object()?.get(k),
            Seg::Index(i) => v.as_array()?.get(*i),
        })
    }
}

fn compare(v: &Value, op: Op, lit: &Literal) -> bool {
    match op {
        Op::Eq => equals(v, lit),
        Op::Ne => !equals(v, lit),
        _ => match (v.as_f64(), lit.number) {
            (Some(a), Some(b)) => match op {
                Op::Lt => a < b,
                Op::Le => a <= b,
                Op::Gt => a > b,
                _ => a >= b,
            },
            _ => false,
        },
    }
}

fn equals(v: &Value, lit: &Literal) -> bool {
    if let Some(rx) = &lit.regex {
        return match v {
            Value::String(s) => rx.0.is_match(s),
            Value::Number(n) => rx.0.is_match(&n.to_string()),
            Value::Bool(b) => rx.0.is_match(&b.to_string()),
            _ => false,
        };
    }
    match v {
        Value::String(s) => wildcard(&lit.text, s),
        Value::Number(n) => match lit.number {
            Some(b) => n.as_f64() == Some(b),
            None => wildcard(&lit.text, &n.to_string()),
        },
        Value::Bool(b) => !lit.quoted && lit.text == b.to_string(),
        _ => false,
    }
}

/// `*` matches any run of characters; everything else literally.
pub fn wildcard(pattern: &str, s: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = s.chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] != '*' && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn split_fields(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c == ' ' {
            chars.next();
            continue;
        }
        let close = match c {
            '"' => Some('"'),
            '[' => Some(']'),
            _ => None,
        };
        let mut field = String::new();
        if let Some(end) = close {
            chars.next();
            for c in chars.by_ref() {
                if c == end {
                    break;
                }
                field.push(c);
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ' ' {
                    break;
                }
                field.push(c);
                chars.next();
            }
        }
        out.push(field);
    }
    out
}

fn col_matches(cond: &ColCond, field: &str) -> bool {
    match cond {
        ColCond::And(a, b) => col_matches(a, field) && col_matches(b, field),
        ColCond::Or(a, b) => col_matches(a, field) || col_matches(b, field),
        ColCond::Cmp(op, lit) => {
            let v = field
                .parse::<f64>()
                .ok()
                .and_then(|n| serde_json::Number::from_f64(n).map(Value::Number))
                .filter(|_| lit.number.is_some())
                .unwrap_or_else(|| Value::String(field.to_string()));
            compare(&v, *op, lit)
        }
    }
}

fn match_columns(cols: &[Column], fields: &[String]) -> bool {
    match cols.split_first() {
        None => fields.is_empty(),
        Some((Column::Ellipsis, rest)) => {
            (0..=fields.len()).any(|skip| match_columns(rest, &fields[skip..]))
        }
        Some((Column::Named { cond, .. }, rest)) => match fields.split_first() {
            None => false,
            Some((f, more)) => {
                cond.as_ref().is_none_or(|c| col_matches(c, f)) && match_columns(rest, more)
            }
        },
    }
}

// ------------------------------------------------------------------- parser

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    /// `%regex%` values seen so far (CloudWatch Logs allows two).
    regexes: usize,
}

const MAX_DEPTH: usize = 64;

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Self {
        Parser {
            src,
            pos: 0,
            regexes: 0,
        }
    }

    fn err<T>(&self, message: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError {
            pos: self.pos,
            message: message.into(),
        })
    }

    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn eat(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    /// A keyword, matched case-insensitively and not followed by a word character.
    fn eat_keyword(&mut self, kw: &str) -> bool {
        let r = self.rest();
        if r.len() >= kw.len()
            && r.is_char_boundary(kw.len())
            && r[..kw.len()].eq_ignore_ascii_case(kw)
            && !r[kw.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            self.pos += kw.len();
            true
        } else {
            false
        }
    }

    fn pattern(mut self) -> Result<Pattern, ParseError> {
        self.ws();
        let p = match self.peek() {
            None => Pattern::All,
            Some('{') => {
                self.bump();
                let e = self.or_expr(0)?;
                self.ws();
                if !self.eat("}") {
                    return self.err("expected `}` or `&&`/`||`");
                }
                Pattern::Json(e)
            }
            Some('[') => {
                self.bump();
                Pattern::Delimited(self.columns()?)
            }
            Some(_) => Pattern::Terms(self.terms()?),
        };
        self.ws();
        if self.pos < self.src.len() {
            return self.err("unexpected text after the pattern");
        }
        Ok(p)
    }

    fn or_expr(&mut self, depth: usize) -> Result<Expr, ParseError> {
        let mut left = self.and_expr(depth)?;
        loop {
            self.ws();
            if !self.eat("||") {
                return Ok(left);
            }
            let right = self.and_expr(depth)?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
    }

    fn and_expr(&mut self, depth: usize) -> Result<Expr, ParseError> {
        let mut left = self.primary(depth)?;
        loop {
            self.ws();
            if !self.eat("&&") {
                return Ok(left);
            }
            let right = self.primary(depth)?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
    }

    fn primary(&mut self, depth: usize) -> Result<Expr, ParseError> {
        if depth > MAX_DEPTH {
            return self.err("parentheses nest too deeply");
        }
        self.ws();
        if self.eat("(") {
            let e = self.or_expr(depth + 1)?;
            self.ws();
            if !self.eat(")") {
                return self.err("expected `)`");
            }
            return Ok(e);
        }
        let sel = self.selector()?;
        self.ws();
        if self.eat_keyword("NOT") {
            self.ws();
            if self.eat_keyword("EXISTS") {
                return Ok(Expr::NotExists(sel));
            }
            return self.err("expected EXISTS after NOT");
        }
        if self.eat_keyword("IS") {
            self.ws();
            if self.eat_keyword("NULL") {
                return Ok(Expr::IsNull(sel));
            }
            if self.eat_keyword("TRUE") {
                return Ok(Expr::IsBool(sel, true));
            }
            if self.eat_keyword("FALSE") {
                return Ok(Expr::IsBool(sel, false));
            }
            return self.err("expected NULL, TRUE or FALSE after IS");
        }
        let op = self.op()?;
        self.ws();
        let lit = self.literal()?;
        if !matches!(op, Op::Eq | Op::Ne) && lit.number.is_none() {
            return self.err(format!(
                "`{}` compares numbers; {:?} is not a number",
                op_text(op),
                lit.text
            ));
        }
        Ok(Expr::Cmp(sel, op, lit))
    }

    fn op(&mut self) -> Result<Op, ParseError> {
        for (t, op) in [
            ("!=", Op::Ne),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("=", Op::Eq),
            ("<", Op::Lt),
            (">", Op::Gt),
        ] {
            if self.eat(t) {
                return Ok(op);
            }
        }
        self.err(
            "expected an operator: =, !=, <, <=, >, >=, IS NULL, IS TRUE, IS FALSE or NOT EXISTS",
        )
    }

    fn selector(&mut self) -> Result<Selector, ParseError> {
        if !self.eat("$") {
            return self.err("expected a selector such as $.eventName");
        }
        let mut segs = Vec::new();
        loop {
            if self.eat(".") {
                let start = self.pos;
                while self.peek().is_some_and(|c| {
                    c.is_alphanumeric() || c == '_' || c == '-' || c == '@' || c == ':'
                }) {
                    self.bump();
                }
                if start == self.pos {
                    return self.err("expected a field name after `.`");
                }
                segs.push(Seg::Key(self.src[start..self.pos].to_string()));
            } else if self.eat("[") {
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.bump();
                }
                let n = self.src[start..self.pos].parse::<usize>();
                let Ok(n) = n else {
                    return self.err("expected an array index");
                };
                if !self.eat("]") {
                    return self.err("expected `]`");
                }
                segs.push(Seg::Index(n));
            } else {
                break;
            }
        }
        if segs.is_empty() {
            return self.err("expected `.field` after `$`");
        }
        Ok(Selector(segs))
    }

    fn quoted(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        self.bump(); // opening quote
        let mut s = String::new();
        loop {
            match self.bump() {
                None => {
                    self.pos = start;
                    return self.err("unterminated string");
                }
                Some('"') => return Ok(s),
                Some('\\') => match self.bump() {
                    Some(c) => s.push(c),
                    None => return self.err("unterminated escape"),
                },
                Some(c) => s.push(c),
            }
        }
    }

    fn literal(&mut self) -> Result<Literal, ParseError> {
        if self.peek() == Some('"') {
            let text = self.quoted()?;
            return Ok(Literal {
                text,
                quoted: true,
                number: None,
                regex: None,
            });
        }
        if self.peek() == Some('%') {
            let open = self.pos;
            self.bump();
            let start = self.pos;
            while self.peek().is_some_and(|c| c != '%') {
                self.bump();
            }
            if !self.eat("%") {
                self.pos = open;
                return self.err("a %regex% is not closed with %");
            }
            let src = &self.src[start..self.pos - 1];
            self.regexes += 1;
            if self.regexes > 2 {
                return self.err("a filter pattern may hold at most 2 %regex%");
            }
            let rx = parse_regex(src).map_err(|m| ParseError {
                pos: start,
                message: m,
            })?;
            return Ok(Literal {
                text: format!("%{src}%"),
                quoted: false,
                number: None,
                regex: Some(rx),
            });
        }
        let start = self.pos;
        while self.peek().is_some_and(|c| {
            !c.is_whitespace()
                && !matches!(
                    c,
                    '&' | '|' | ')' | '(' | '}' | '{' | ',' | ']' | '"' | '=' | '!' | '<' | '>'
                )
        }) {
            self.bump();
        }
        if start == self.pos {
            return self.err("expected a value");
        }
        let text = self.src[start..self.pos].to_string();
        let number = text.parse::<f64>().ok().filter(|n| n.is_finite());
        Ok(Literal {
            text,
            quoted: false,
            number,
            regex: None,
        })
    }

    fn terms(&mut self) -> Result<Vec<Term>, ParseError> {
        let mut terms = Vec::new();
        loop {
            self.ws();
            let Some(c) = self.peek() else {
                return Ok(terms);
            };
            let kind = match c {
                '?' => TermKind::Optional,
                '-' => TermKind::Excluded,
                _ => TermKind::Required,
            };
            if kind != TermKind::Required {
                self.bump();
            }
            let text = if self.peek() == Some('"') {
                self.quoted()?
            } else {
                let start = self.pos;
                while self.peek().is_some_and(|c| !c.is_whitespace() && c != '"') {
                    self.bump();
                }
                if start == self.pos {
                    return self.err("expected a term");
                }
                self.src[start..self.pos].to_string()
            };
            if matches!(text.chars().next(), Some('{' | '['))
                && kind == TermKind::Required
                && terms.is_empty()
            {
                return self.err("a JSON or space-delimited pattern must start the text");
            }
            if text.starts_with('%') && text.ends_with('%') && text.len() > 1 {
                // A regex over the whole message: decided as unknown rather than guessed.
                return self.err("a %regex% term outside a JSON selector is not evaluated");
            }
            terms.push(Term { kind, text });
        }
    }

    fn columns(&mut self) -> Result<Vec<Column>, ParseError> {
        let mut cols = Vec::new();
        loop {
            self.ws();
            if self.eat("]") {
                return Ok(cols);
            }
            if !cols.is_empty() {
                if !self.eat(",") {
                    return self.err("expected `,` or `]`");
                }
                self.ws();
            }
            if self.eat("...") {
                cols.push(Column::Ellipsis);
                continue;
            }
            let start = self.pos;
            while self.peek().is_some_and(|c| {
                c.is_alphanumeric() || c == '_' || c == '-' || c == '$' || c == '.'
            }) {
                self.bump();
            }
            if start == self.pos {
                return self.err("expected a column name");
            }
            let name = self.src[start..self.pos].to_string();
            self.ws();
            let cond = if matches!(self.peek(), Some('=' | '!' | '<' | '>')) {
                Some(self.col_or()?)
            } else {
                None
            };
            cols.push(Column::Named { name, cond });
        }
    }

    fn col_or(&mut self) -> Result<ColCond, ParseError> {
        let mut left = self.col_and()?;
        loop {
            self.ws();
            if !self.eat("||") {
                return Ok(left);
            }
            let right = self.col_and()?;
            left = ColCond::Or(Box::new(left), Box::new(right));
        }
    }

    fn col_and(&mut self) -> Result<ColCond, ParseError> {
        let mut left = self.col_cmp()?;
        loop {
            self.ws();
            if !self.eat("&&") {
                return Ok(left);
            }
            let right = self.col_cmp()?;
            left = ColCond::And(Box::new(left), Box::new(right));
        }
    }

    fn col_cmp(&mut self) -> Result<ColCond, ParseError> {
        self.ws();
        // `w1 = 401 || w1 = 404`: a repeated column name is allowed.
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.bump();
        }
        self.ws();
        let op = self.op()?;
        self.ws();
        let lit = self.literal()?;
        if !matches!(op, Op::Eq | Op::Ne) && lit.number.is_none() {
            return self.err(format!(
                "`{}` compares numbers; {:?} is not a number",
                op_text(op),
                lit.text
            ));
        }
        Ok(ColCond::Cmp(op, lit))
    }
}

fn op_text(op: Op) -> &'static str {
    match op {
        Op::Eq => "=",
        Op::Ne => "!=",
        Op::Lt => "<",
        Op::Le => "<=",
        Op::Gt => ">",
        Op::Ge => ">=",
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("$")?;
        for s in &self.0 {
            match s {
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.quoted {
            write!(
                f,
                "\"{}\"",
                self.text.replace('\\', "\\\\").replace('"', "\\\"")
            )
        } else {
            f.write_str(&self.text)
        }
    }
}

impl fmt::Display for Expr {
    /// Fully parenthesised, so that printing then parsing gives the same tree.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::And(a, b) => write!(f, "({a} && {b})"),
            Expr::Or(a, b) => write!(f, "({a} || {b})"),
            Expr::Cmp(s, op, l) => write!(f, "{s} {} {l}", op_text(*op)),
            Expr::NotExists(s) => write!(f, "{s} NOT EXISTS"),
            Expr::IsNull(s) => write!(f, "{s} IS NULL"),
            Expr::IsBool(s, b) => write!(f, "{s} IS {}", if *b { "TRUE" } else { "FALSE" }),
        }
    }
}

#[cfg(test)]
mod tests;
