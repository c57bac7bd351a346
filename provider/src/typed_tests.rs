use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::*;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
struct Inner {
    port: i32,
    path: String,
}

impl Default for Inner {
    fn default() -> Self {
        Inner {
            port: 3306,
            path: "/health".into(),
        }
    }
}

#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
struct State {
    name: String,
    id: Option<String>,
    #[serde(rename = "origin_access_control_id")]
    oac_id: Option<String>,
    zones: Vec<String>,
    tags: Option<BTreeMap<String, String>>,
    share: f64,
    #[serde(with = "one_block")]
    check: Option<Inner>,
    items: Vec<Inner>,
}

fn obj(pairs: &[(&str, Dyn)]) -> Dyn {
    let mut v = Dyn::obj();
    for (k, x) in pairs {
        v.set(k, x.clone());
    }
    v
}

#[test]
fn a_state_goes_to_its_value_and_back_unchanged() {
    let s = State {
        name: "fans".into(),
        id: Some("vpc-1".into()),
        oac_id: Some("E1".into()),
        zones: vec!["a".into(), "b".into()],
        tags: Some([("app".to_string(), "fansite".to_string())].into()),
        share: 0.5,
        check: Some(Inner {
            port: 80,
            path: "/".into(),
        }),
        items: vec![Inner::default()],
    };
    let v = encode(&s).unwrap();
    assert_eq!(v.get("origin_access_control_id"), &Dyn::str("E1"));
    assert_eq!(v.get("share"), &Dyn::Float(0.5));
    assert_eq!(v.get("check").as_list().map(<[Dyn]>::len), Some(1));
    assert_eq!(decode::<State>(&v).unwrap(), s);
}

#[test]
fn null_and_unknown_read_as_the_default_and_absent_blocks_as_none() {
    let v = obj(&[
        ("name", Dyn::Unknown),
        ("id", Dyn::Unknown),
        (
            "zones",
            Dyn::List(vec![Dyn::str("a"), Dyn::Unknown, Dyn::Null]),
        ),
        ("tags", Dyn::Null),
        ("check", Dyn::List(vec![])),
        ("items", Dyn::List(vec![obj(&[("port", Dyn::Null)])])),
    ]);
    let s: State = decode(&v).unwrap();
    assert_eq!(
        s,
        State {
            zones: vec!["a".into()],
            items: vec![Inner::default()],
            ..State::default()
        }
    );
    let none = encode(&s).unwrap();
    assert_eq!(none.get("id"), &Dyn::Null);
    assert_eq!(none.get("tags"), &Dyn::Null);
    assert_eq!(none.get("check"), &Dyn::List(vec![]));
    assert_eq!(none.get("share"), &Dyn::Number(0));
}

#[test]
fn a_value_of_the_wrong_type_is_an_error_naming_what_was_expected() {
    let err = decode::<State>(&obj(&[("name", Dyn::Number(3))])).unwrap_err();
    assert!(err.0.contains("expected a string"), "{err}");
}
