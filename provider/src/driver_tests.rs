//! Every state maps to exactly its schema: the keys a state produces are the
//! schema's attributes and blocks, at every level, neither more nor fewer.
//! (`Block::conform` drops keys the schema lacks, so a misspelt key in a
//! state's encoding would otherwise become a null output without a word.)

use super::*;
use crate::resources::{auth, database, edge, network, service};
use crate::schema::{Block, Ty};

/// A value of every attribute and one item of every block, so that decoding
/// and encoding it walk every field.
fn sample(block: &Block) -> Dyn {
    fn of(ty: &Ty) -> Dyn {
        match ty {
            Ty::String => Dyn::str("x"),
            Ty::Number => Dyn::Number(1),
            Ty::Bool => Dyn::Bool(true),
            Ty::List(t) | Ty::Set(t) => Dyn::List(vec![of(t)]),
            Ty::Map(t) => {
                let mut m = Dyn::obj();
                m.set("k", of(t));
                m
            }
            Ty::Object(fields) => {
                let mut o = Dyn::obj();
                for (name, t) in fields {
                    o.set(name, of(t));
                }
                o
            }
        }
    }
    let mut v = Dyn::obj();
    for a in &block.attributes {
        let one_of = a.checks.iter().find_map(|c| match c {
            crate::schema::Check::OneOf(items) => items.first(),
            _ => None,
        });
        v.set(a.name, one_of.map_or_else(|| of(&a.ty), |s| Dyn::str(*s)));
    }
    for b in &block.blocks {
        v.set(b.name, Dyn::List(vec![sample(&b.block)]));
    }
    v
}

/// Where the keys of `value` differ from `block`'s, as `path: extra x` / `path: missing y`.
fn key_differences(path: &str, block: &Block, value: &Dyn, out: &mut Vec<String>) {
    let Some(map) = value.as_map() else {
        out.push(format!("{path}: not an object: {value:?}"));
        return;
    };
    let want: Vec<&str> = block
        .attributes
        .iter()
        .map(|a| a.name)
        .chain(block.blocks.iter().map(|b| b.name))
        .collect();
    for k in map.keys() {
        if !want.contains(&k.as_str()) {
            out.push(format!("{path}: extra {k}"));
        }
    }
    for k in &want {
        if !map.contains_key(*k) {
            out.push(format!("{path}: missing {k}"));
        }
    }
    for a in &block.attributes {
        if let (Ty::Map(inner), Some(m)) = (&a.ty, map.get(a.name).and_then(Dyn::as_map)) {
            if let Ty::Object(fields) = inner.as_ref() {
                let fields = Block {
                    attributes: fields
                        .iter()
                        .map(|(n, t)| crate::schema::Attribute::computed(n, t.clone(), ""))
                        .collect(),
                    ..Block::default()
                };
                for (k, item) in m {
                    key_differences(&format!("{path}.{}[{k}]", a.name), &fields, item, out);
                }
            }
        }
    }
    for b in &block.blocks {
        if let Some(items) = map.get(b.name).and_then(Dyn::as_list) {
            for (i, item) in items.iter().enumerate() {
                key_differences(&format!("{path}.{}[{i}]", b.name), &b.block, item, out);
            }
        }
    }
}

fn check<C: Composite>(c: C) {
    let driver = Driver(c);
    let schema = driver.schema();
    let mut problems = Vec::new();
    for (what, input) in [
        ("empty", Dyn::obj()),
        ("every field", sample(&schema.block)),
    ] {
        let mut diags = Diags::default();
        let Some(state) = driver.decode(&input, &mut diags) else {
            problems.push(format!("{what}: does not decode: {diags:?}"));
            continue;
        };
        let encoded = match driver.encode("us-east-1", &state, input.get("timeouts")) {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!("{what}: does not encode: {e}"));
                continue;
            }
        };
        let mut out = Vec::new();
        key_differences(C::NAME, &schema.block, &encoded, &mut out);
        // Every input comes back as it went in: a key the state reads under
        // another name would come back as its default.
        for a in schema
            .block
            .attributes
            .iter()
            .filter(|a| a.mode != crate::schema::Mode::Computed)
        {
            if what == "every field" && encoded.get(a.name) != input.get(a.name) {
                out.push(format!(
                    "{}: {} went in as {:?} and came back as {:?}",
                    C::NAME,
                    a.name,
                    input.get(a.name),
                    encoded.get(a.name)
                ));
            }
        }
        problems.extend(out.into_iter().map(|p| format!("{what}: {p}")));
    }
    assert!(
        problems.is_empty(),
        "fansite_{}'s state and schema disagree:\n{}",
        C::NAME,
        problems.join("\n")
    );
}

#[test]
fn network_state_keys_are_the_schema_s() {
    check(network::NetworkResource);
}

#[test]
fn auth_state_keys_are_the_schema_s() {
    check(auth::AuthResource);
}

#[test]
fn database_state_keys_are_the_schema_s() {
    check(database::DatabaseResource);
}

#[test]
fn edge_state_keys_are_the_schema_s() {
    check(edge::EdgeResource);
}

#[test]
fn service_state_keys_are_the_schema_s() {
    check(service::ServiceResource);
}

#[test]
fn a_misspelt_key_is_caught() {
    let block = Block {
        attributes: vec![crate::schema::Attribute::computed("vpc_id", Ty::String, "")],
        ..Block::default()
    };
    let mut v = Dyn::obj();
    v.set("vpcid", Dyn::str("vpc-1"));
    let mut out = Vec::new();
    key_differences("t", &block, &v, &mut out);
    assert_eq!(
        out,
        vec![
            "t: extra vpcid".to_string(),
            "t: missing vpc_id".to_string()
        ]
    );
}
