//! Parser and evaluator tests, plus property tests: random input never panics
//! and reports an in-bounds position; random expression trees survive a
//! print-then-parse round trip and evaluate the same.

use proptest::prelude::*;
use serde_json::json;

use super::*;

fn ev(doc: &Value) -> Event<'_> {
    Event {
        text: "",
        json: Some(doc),
    }
}

#[track_caller]
fn check(pattern: &str, doc: Value, want: bool) {
    let p = Pattern::parse(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
    let text = doc.to_string();
    assert_eq!(
        p.matches(&Event {
            text: &text,
            json: Some(&doc)
        }),
        want,
        "{pattern} on {doc}"
    );
}

#[test]
fn json_selectors_and_operators() {
    let doc = json!({
        "a": {"b": [{"c": "x"}, {"c": "yes"}], "n": 42, "f": 1.5, "t": true, "z": null},
        "s": "Hello World",
    });
    let cases = [
        ("{ $.a.b[1].c = \"yes\" }", true),
        ("{ $.a.b[0].c = yes }", false),
        ("{ $.a.b[2].c = yes }", false),
        ("{ $.a.n = 42 }", true),
        ("{ $.a.n != 42 }", false),
        ("{ $.a.n > 41 && $.a.n < 43 }", true),
        ("{ $.a.n >= 42 && $.a.n <= 42 }", true),
        ("{ $.a.f > 1 }", true),
        ("{ $.a.n > 100 || $.s = \"Hello*\" }", true),
        ("{ $.s = \"*World\" }", true),
        ("{ $.s = \"hello*\" }", false),
        ("{ $.s = * }", true),
        ("{ $.missing = * }", false),
        ("{ $.missing != \"x\" }", false),
        ("{ $.missing NOT EXISTS }", true),
        ("{ $.a.z NOT EXISTS }", false),
        ("{ $.a.z IS NULL }", true),
        ("{ $.a.n IS NULL }", false),
        ("{ $.a.t IS TRUE }", true),
        ("{ $.a.t IS FALSE }", false),
        ("{ $.a.t = true }", true),
        ("{ ($.a.n = 1 || $.a.n = 42) && $.s != \"x\" }", true),
        ("{ $.a.n = 1 || $.a.n = 2 && $.s = \"Hello World\" }", false),
        ("{ $.a.n = 42 || $.a.n = 2 && $.s = \"nope\" }", true),
        ("{$.a.n=42&&$.s=\"Hello World\"}", true),
        ("{ $.a.n is not exists }", false),
    ];
    for (p, want) in cases {
        if p.contains("is not exists") {
            assert!(Pattern::parse(p).is_err());
            continue;
        }
        check(p, doc.clone(), want);
    }
}

#[test]
fn keywords_are_case_insensitive() {
    check("{ $.x not exists }", json!({}), true);
    check("{ $.x is null }", json!({"x": null}), true);
}

#[test]
fn term_form() {
    let text = "2026-11-20 ERROR [main] disk full on /dev/sda1";
    let matches = |p: &str| {
        Pattern::parse(p)
            .unwrap()
            .matches(&Event { text, json: None })
    };
    assert!(matches("ERROR"));
    assert!(matches("ERROR \"disk full\""));
    assert!(!matches("ERROR -\"disk full\""));
    assert!(matches("?WARN ?ERROR"));
    assert!(!matches("?WARN ?DEBUG"));
    assert!(!matches("error"), "terms are case sensitive");
    assert!(matches(""), "the empty pattern matches everything");
    assert!(
        !Pattern::parse("{ $.x = 1 }")
            .unwrap()
            .matches(&Event { text, json: None }),
        "JSON patterns skip non-JSON events"
    );
}

#[test]
fn space_delimited_form() {
    let line =
        "127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] \"GET /apache_pb.gif HTTP/1.0\" 404 1534";
    let matches = |p: &str| {
        Pattern::parse(p).unwrap().matches(&Event {
            text: line,
            json: None,
        })
    };
    assert!(matches(
        "[ip, identity, user, timestamp, request, status_code = 404, bytes]"
    ));
    assert!(matches(
        "[ip, identity, user, timestamp, request, status_code = 4*, bytes > 1000]"
    ));
    assert!(!matches(
        "[ip, identity, user, timestamp, request, status_code = 200, bytes]"
    ));
    assert!(matches(
        "[..., status_code = 404 || status_code = 410, bytes]"
    ));
    assert!(matches("[ip = 127.0.0.1, ...]"));
    assert!(!matches("[ip, user]"), "column count must fit");
}

#[test]
fn errors_have_positions() {
    let cases = [
        ("{ $.a = }", 8, "expected a value"),
        ("{ $.a = 1", 9, "expected `}`"),
        ("{ a = 1 }", 2, "expected a selector"),
        ("{ $.a ~ 1 }", 6, "expected an operator"),
        ("{ $.a > abc }", 11, "compares numbers"),
        ("{ $.a NOT THERE }", 10, "expected EXISTS"),
        ("{ $.a = \"open }", 8, "unterminated string"),
        ("{ ($.a = 1 }", 11, "expected `)`"),
        ("{ $.a[x] = 1 }", 6, "array index"),
        ("{ $.a = 1 } trailing", 12, "unexpected text"),
        ("[a, b", 5, "expected `,` or `]`"),
    ];
    for (p, pos, msg) in cases {
        let e = Pattern::parse(p).unwrap_err();
        assert_eq!(e.pos, pos, "{p}: {e}");
        assert!(e.message.contains(msg), "{p}: {e}");
    }
    let deep = format!("{{ {}$.a = 1{} }}", "(".repeat(500), ")".repeat(500));
    assert!(Pattern::parse(&deep)
        .unwrap_err()
        .message
        .contains("nest too deeply"));
}

/// Cases per property: 2,000 in the suite; `PROPTEST_CASES` raises it for the
/// long runs (scripts/properties-long).
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Pattern text built from the grammar's own tokens and stray characters, so
/// the generator reaches deep into the parser; proptest shrinks a failure to
/// the shortest token list.
fn pattern_text() -> impl Strategy<Value = String> {
    let tokens = vec![
        "{",
        "}",
        "[",
        "]",
        "(",
        ")",
        "$",
        ".",
        "=",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "&&",
        "||",
        "\"",
        "\\",
        "*",
        "?",
        "-",
        ",",
        " ",
        "\t",
        "0",
        "1.5",
        "-2",
        "abc",
        "XYZ",
        "_",
        "é",
        "…",
        "$.a",
        "$.a.b[0]",
        "$.userIdentity.type",
        "NOT EXISTS",
        "IS NULL",
        "IS TRUE",
        "IS FALSE",
        "%",
        "%Ro+t%",
        "%[%",
        "\"Root\"",
        "Ro*",
        "...",
        "\u{0}",
        "\u{1b}",
    ];
    (
        proptest::bool::ANY,
        proptest::collection::vec(proptest::sample::select(tokens), 0..40),
    )
        .prop_map(|(brace, parts)| {
            let body: String = parts.concat();
            if brace {
                format!("{{{body}")
            } else {
                body
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(2_000)))]

    #[test]
    fn property_random_input_never_panics(s in pattern_text()) {
        match Pattern::parse(&s) {
            Ok(p) => {
                let doc = json!({"a": {"b": [1, "x"]}, "c": null});
                let _ = p.matches(&Event { text: &s, json: Some(&doc) });
            }
            Err(e) => prop_assert!(e.pos <= s.len(), "{:?}: position {} out of bounds", s, e.pos),
        }
    }

    #[test]
    fn property_any_string_never_panics(s in ".{0,60}") {
        if let Err(e) = Pattern::parse(&s) {
            prop_assert!(e.pos <= s.len());
        }
    }
}

fn selector() -> impl Strategy<Value = Selector> {
    proptest::sample::select(vec![
        Selector(vec![Seg::Key("a".into())]),
        Selector(vec![Seg::Key("a".into()), Seg::Key("b".into())]),
        Selector(vec![Seg::Key("a".into()), Seg::Index(0)]),
        Selector(vec![
            Seg::Key("userIdentity".into()),
            Seg::Key("type".into()),
        ]),
    ])
}

fn literal(text: &str, quoted: bool, number: Option<f64>) -> Literal {
    Literal {
        text: text.into(),
        quoted,
        number,
        regex: None,
    }
}

fn leaf() -> impl Strategy<Value = Expr> {
    let any_lit = proptest::sample::select(vec![
        literal("Root", true, None),
        literal("Ro*", false, None),
        literal("1", false, Some(1.0)),
        literal("2.5", false, Some(2.5)),
        literal("with \"quote\"", true, None),
    ]);
    let num_lit = proptest::sample::select(vec![
        literal("1", false, Some(1.0)),
        literal("2.5", false, Some(2.5)),
    ]);
    prop_oneof![
        selector().prop_map(Expr::NotExists),
        selector().prop_map(Expr::IsNull),
        (selector(), proptest::bool::ANY).prop_map(|(s, b)| Expr::IsBool(s, b)),
        (
            selector(),
            proptest::sample::select(vec![Op::Eq, Op::Ne]),
            any_lit
        )
            .prop_map(|(s, op, l)| Expr::Cmp(s, op, l)),
        (
            selector(),
            proptest::sample::select(vec![Op::Lt, Op::Le, Op::Gt, Op::Ge]),
            num_lit
        )
            .prop_map(|(s, op, l)| Expr::Cmp(s, op, l)),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(4, 16, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner).prop_map(|(a, b)| Expr::Or(Box::new(a), Box::new(b))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(2_000)))]

    #[test]
    fn property_print_parse_round_trip(e in expr()) {
        let docs = [
            json!({"a": {"b": "Root"}, "userIdentity": {"type": "Root"}}),
            json!({"a": [1, 2], "userIdentity": {"type": "IAMUser"}}),
            json!({"a": 2.5}),
            json!({"a": null}),
            json!({"a": true}),
        ];
        let text = format!("{{ {e} }}");
        let parsed = Pattern::parse(&text).map_err(|err| TestCaseError::fail(format!("{text}: {err}")))?;
        prop_assert_eq!(&parsed, &Pattern::Json(e.clone()), "{}", text);
        for d in &docs {
            prop_assert_eq!(parsed.matches(&ev(d)), e.eval(d), "{} on {}", text, d);
        }
    }
}
