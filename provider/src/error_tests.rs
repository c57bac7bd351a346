use super::*;

fn aws(part: &str, code: &str) -> Error {
    Error::Aws {
        action: "creating".into(),
        part: part.into(),
        code: code.into(),
        message: "the endpoint said no".into(),
    }
}

fn stopped() -> Error {
    Error::Stopped {
        action: "creating".into(),
        part: "service \"fans\"".into(),
    }
}

#[test]
fn steps_side_by_side_are_done_when_every_one_is() {
    assert!(all_of([Ok(()), Ok(())]).is_ok());
    assert!(all_of(Vec::new()).is_ok());
}

#[test]
fn one_failed_step_is_its_own_error() {
    let e = all_of([Ok(()), Err(aws("web ACL \"fans\"", "InjectedFault"))]).unwrap_err();
    assert!(matches!(e, Error::Aws { .. }), "{e:?}");
    assert_eq!(e.code(), Some("InjectedFault"));
}

/// Two steps failing at once each become a diagnostic of their own, in the
/// order of the steps; the message names both.
#[test]
fn two_failed_steps_are_both_reported() {
    let e = all_of([
        Err(aws("load balancer \"fans\"", "InjectedFault")),
        Ok(()),
        Err(aws("Lambda function \"fans-slack\"", "AccessDenied")),
    ])
    .unwrap_err();
    let mut diags = Diags::default();
    e.report(&mut diags);
    let summaries: Vec<&str> = diags.0.iter().map(|d| d.summary.as_str()).collect();
    assert_eq!(
        summaries,
        [
            "creating load balancer \"fans\" failed",
            "creating Lambda function \"fans-slack\" failed"
        ]
    );
    assert!(e.to_string().contains("InjectedFault"), "{e}");
    assert!(e.to_string().contains("AccessDenied"), "{e}");
    assert!(!e.is_not_found());
}

/// Two steps stopped by Terraform's Ctrl-C say so once.
#[test]
fn the_same_error_twice_is_reported_once() {
    let e = all_of([Err(stopped()), Err(stopped())]).unwrap_err();
    assert!(matches!(e, Error::Stopped { .. }), "{e:?}");
}
