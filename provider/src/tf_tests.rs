//! The wire value round-trips every kind of Terraform value through msgpack.

use super::*;

fn roundtrip(v: &Dyn) -> Dyn {
    let bytes = rmp_serde::to_vec_named(&from_dyn(v)).expect("encode");
    to_dyn(rmp_serde::from_slice::<ValueAny>(&bytes).expect("decode"))
}

#[test]
fn every_kind_of_value_survives_msgpack() {
    let mut obj = Dyn::obj();
    obj.set("s", "x".into());
    obj.set("n", Dyn::Number(-3));
    obj.set("f", Dyn::Float(1.5));
    obj.set("b", Dyn::Bool(true));
    obj.set("u", Dyn::Unknown);
    obj.set("null", Dyn::Null);
    obj.set("l", Dyn::List(vec![Dyn::Unknown, "y".into()]));
    assert_eq!(roundtrip(&obj), obj);
}

#[test]
fn whole_floats_become_numbers() {
    let bytes = rmp_serde::to_vec(&3.0f64).expect("encode");
    assert_eq!(
        to_dyn(rmp_serde::from_slice::<ValueAny>(&bytes).expect("decode")),
        Dyn::Number(3)
    );
}
