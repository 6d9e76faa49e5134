//! Parser and evaluator tests, plus property tests: random input never panics
//! and reports an in-bounds position; random expression trees survive a
//! print-then-parse round trip and evaluate the same.

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

/// xorshift64*: a small deterministic generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

#[test]
fn property_random_input_never_panics() {
    let alphabet: Vec<char> =
        "{}[]()$.=!<>&|\"\\*?-, \t0123456789abcXYZ_éNOTEXISTSISNULLTRUEFALSE…"
            .chars()
            .collect();
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    for _ in 0..20_000 {
        let len = rng.below(40);
        let mut s: String = (0..len).map(|_| *rng.pick(&alphabet)).collect();
        if rng.below(2) == 0 {
            s.insert(0, '{');
        }
        match Pattern::parse(&s) {
            Ok(p) => {
                let doc = json!({"a": {"b": [1, "x"]}, "c": null});
                let _ = p.matches(&Event {
                    text: &s,
                    json: Some(&doc),
                });
            }
            Err(e) => assert!(e.pos <= s.len(), "{s:?}: position {} out of bounds", e.pos),
        }
    }
}

fn random_expr(rng: &mut Rng, depth: usize) -> Expr {
    let sels = [
        Selector(vec![Seg::Key("a".into())]),
        Selector(vec![Seg::Key("a".into()), Seg::Key("b".into())]),
        Selector(vec![Seg::Key("a".into()), Seg::Index(0)]),
        Selector(vec![
            Seg::Key("userIdentity".into()),
            Seg::Key("type".into()),
        ]),
    ];
    let lits = [
        Literal {
            text: "Root".into(),
            quoted: true,
            number: None,
            regex: None,
        },
        Literal {
            text: "Ro*".into(),
            quoted: false,
            number: None,
            regex: None,
        },
        Literal {
            text: "1".into(),
            quoted: false,
            number: Some(1.0),
            regex: None,
        },
        Literal {
            text: "2.5".into(),
            quoted: false,
            number: Some(2.5),
            regex: None,
        },
        Literal {
            text: "with \"quote\"".into(),
            quoted: true,
            number: None,
            regex: None,
        },
    ];
    if depth > 0 && rng.below(3) == 0 {
        let a = Box::new(random_expr(rng, depth - 1));
        let b = Box::new(random_expr(rng, depth - 1));
        return if rng.below(2) == 0 {
            Expr::And(a, b)
        } else {
            Expr::Or(a, b)
        };
    }
    let sel = rng.pick(&sels).clone();
    match rng.below(5) {
        0 => Expr::NotExists(sel),
        1 => Expr::IsNull(sel),
        2 => Expr::IsBool(sel, rng.below(2) == 0),
        _ => {
            let op = *rng.pick(&[Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge]);
            let lit = if matches!(op, Op::Eq | Op::Ne) {
                rng.pick(&lits).clone()
            } else {
                rng.pick(&lits[2..4]).clone()
            };
            Expr::Cmp(sel, op, lit)
        }
    }
}

#[test]
fn property_print_parse_round_trip() {
    let docs = [
        json!({"a": {"b": "Root"}, "userIdentity": {"type": "Root"}}),
        json!({"a": [1, 2], "userIdentity": {"type": "IAMUser"}}),
        json!({"a": 2.5}),
        json!({"a": null}),
        json!({"a": true}),
    ];
    let mut rng = Rng(0xdead_beef_0bad_f00d);
    for _ in 0..5_000 {
        let e = random_expr(&mut rng, 4);
        let text = format!("{{ {e} }}");
        let parsed = Pattern::parse(&text).unwrap_or_else(|err| panic!("{text}: {err}"));
        assert_eq!(parsed, Pattern::Json(e.clone()), "{text}");
        for d in &docs {
            assert_eq!(parsed.matches(&ev(d)), e.eval(d), "{text} on {d}");
        }
    }
}
