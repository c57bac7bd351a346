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

fn alerts_schema() -> Block {
    use crate::schema::{Attribute, NestedBlock};
    Block {
        description: "test".into(),
        attributes: vec![
            Attribute::required("name", Ty::String, "name"),
            Attribute::optional("old", Ty::String, "old").deprecated("use new_wo"),
        ],
        blocks: vec![NestedBlock {
            name: "alerts",
            nesting: Nesting::OptionalSingle,
            block: Block {
                description: "alerts".into(),
                attributes: vec![
                    Attribute::optional("url_wo", Ty::String, "url").write_only(),
                    Attribute::optional("url_wo_version", Ty::String, "version"),
                ],
                blocks: vec![],
            },
        }],
    }
}

fn alerts_config(url: &str) -> Dyn {
    let mut alerts = Dyn::obj();
    alerts.set("url_wo", url.into());
    alerts.set("url_wo_version", "1".into());
    let mut config = Dyn::obj();
    config.set("name", "x".into());
    config.set("old", "still here".into());
    config.set("alerts", Dyn::List(vec![alerts]));
    config
}

#[test]
fn write_only_values_reach_create_and_never_plan_or_state() {
    let block = alerts_schema();
    let config = alerts_config("https://hooks.example/secret");
    let planned = block.without_write_only(&block.conform(&config));
    let alerts = &planned.get("alerts").as_list().expect("alerts")[0];
    assert!(
        alerts.get("url_wo").is_null(),
        "the plan holds no write-only value"
    );
    assert_eq!(alerts.get("url_wo_version").as_str(), Some("1"));
    let worked_from = block.with_write_only(&planned, &config);
    let alerts = &worked_from.get("alerts").as_list().expect("alerts")[0];
    assert_eq!(
        alerts.get("url_wo").as_str(),
        Some("https://hooks.example/secret")
    );
    let state = block.without_write_only(&worked_from);
    assert!(!format!("{state:?}").contains("secret"), "{state:?}");
}

#[test]
fn a_write_only_value_without_the_capability_is_an_error_at_its_attribute() {
    let block = alerts_schema();
    let config = alerts_config("https://hooks.example/secret");
    let mut diags = Diags::default();
    check_capabilities(&block, &config, ClientCapabilities::default(), &mut diags);
    let error = diags
        .0
        .iter()
        .find(|d| d.severity == Severity::Error)
        .expect("an error");
    assert_eq!(
        error.path,
        Some(AttrPath::attr("alerts").then_index(0).then_attr("url_wo"))
    );
    assert!(
        error.summary.contains("Terraform 1.11"),
        "{}",
        error.summary
    );

    let mut diags = Diags::default();
    let capable = ClientCapabilities {
        write_only_attributes_allowed: true,
        ..ClientCapabilities::default()
    };
    check_capabilities(&block, &config, capable, &mut diags);
    assert!(!diags.has_errors(), "{diags:?}");
}

#[test]
fn a_deprecated_attribute_set_is_a_warning_with_its_message() {
    let block = alerts_schema();
    let mut diags = Diags::default();
    let capable = ClientCapabilities {
        write_only_attributes_allowed: true,
        ..ClientCapabilities::default()
    };
    check_capabilities(&block, &alerts_config("u"), capable, &mut diags);
    let warning = diags.0.first().expect("a warning");
    assert_eq!(warning.severity, Severity::Warning);
    assert_eq!(warning.path, Some(AttrPath::attr("old")));
    assert!(warning.detail.contains("use new_wo"), "{}", warning.detail);

    let mut unset = alerts_config("u");
    unset.set("old", Dyn::Null);
    let mut diags = Diags::default();
    check_capabilities(&block, &unset, capable, &mut diags);
    assert!(diags.0.is_empty(), "{diags:?}");
}

#[test]
fn the_schema_on_the_wire_marks_write_only_and_deprecated_attributes() {
    let tf = to_tf_block(&alerts_schema());
    let old = &tf.attributes["old"];
    assert!(old.deprecated);
    assert_eq!(old.deprecation_message, "use new_wo");
    let TfNestedBlock::Optional(alerts) = &tf.blocks["alerts"] else {
        panic!("alerts is an optional block");
    };
    assert!(alerts.attributes["url_wo"].write_only);
    assert!(!alerts.attributes["url_wo_version"].write_only);
}
