use std::time::Duration;

use super::*;

#[tokio::test(start_paused = true)]
async fn the_stop_signal_ends_a_long_wait_at_once_and_keeps_what_it_recorded() {
    let stop = StopSignal::new();
    let ctx = Ctx::new(Duration::from_secs(3600), stop.clone());
    let started = Instant::now();
    let stopper = stop.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        stopper.cancel();
    });
    let mut made = Vec::new();
    let ended = ctx
        .run(Duration::ZERO, async {
            made.push("nat-1");
            // A wait that would last the whole hour.
            tokio::time::sleep(Duration::from_secs(3600)).await;
            made.push("never");
        })
        .await;
    assert!(matches!(ended, Ended::Stopped), "{ended:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(made, vec!["nat-1"]);
    assert!(ctx.is_stopped());
}

#[tokio::test(start_paused = true)]
async fn an_operation_is_cut_off_only_after_its_deadline_and_grace() {
    let ctx = Ctx::new(Duration::from_secs(60), StopSignal::new());
    let started = Instant::now();
    let ended = ctx
        .run(
            Duration::from_secs(30),
            tokio::time::sleep(Duration::from_secs(3600)),
        )
        .await;
    assert!(matches!(ended, Ended::TimedOut), "{ended:?}");
    assert_eq!(started.elapsed(), Duration::from_secs(90));
}

#[tokio::test(start_paused = true)]
async fn code_inside_an_operation_sees_its_deadline() {
    let ctx = Ctx::new(Duration::from_secs(600), StopSignal::new());
    let ended = ctx
        .run(Duration::ZERO, async {
            tokio::time::sleep(Duration::from_secs(100)).await;
            (
                remaining(),
                within(Duration::from_secs(60)),
                within(Duration::from_secs(9000)),
            )
        })
        .await;
    let Ended::Done((left, short, long)) = ended else {
        panic!("{ended:?}");
    };
    assert_eq!(left, Duration::from_secs(500));
    assert_eq!(short, Duration::from_secs(60));
    assert_eq!(long, Duration::from_secs(500));
}

#[tokio::test(start_paused = true)]
async fn outside_an_operation_the_budget_is_the_propagation_bound() {
    assert_eq!(remaining(), OUTSIDE_OPERATION);
    assert!(!current().is_stopped());
}
