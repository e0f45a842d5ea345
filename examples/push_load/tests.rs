//! Run with `cargo test --example push_load`: the parts that need no
//! server (the end-to-end run is `scripts/polling-vs-push.sh`).
use super::*;

#[test]
fn updates_are_read_from_objects_and_arrays() {
    assert_eq!(updates_in(r#"{"seq":7,"time_us":123}"#), [(7, 123)]);
    assert_eq!(
        updates_in(r#"[{"seq":1,"time_us":10},{"seq":2,"time_us":11}]"#),
        [(1, 10), (2, 11)]
    );
    assert!(updates_in("[]").is_empty());
}

#[test]
fn delivery_counts_latency_gaps_and_repeats_only_while_measuring() {
    let stats = Stats::default();
    let mut last = 0;
    stats.deliver(&mut last, r#"{"seq":1,"time_us":0}"#);
    assert_eq!((last, stats.updates.load(Relaxed)), (1, 0));
    stats.measuring.store(true, Relaxed);
    let now = now_us();
    stats.deliver(&mut last, &format!(r#"[{{"seq":2,"time_us":{now}}}]"#));
    stats.deliver(&mut last, &format!(r#"[{{"seq":5,"time_us":{now}}}]"#));
    stats.deliver(&mut last, &format!(r#"[{{"seq":5,"time_us":{now}}}]"#));
    assert_eq!(last, 5);
    assert_eq!(stats.updates.load(Relaxed), 3);
    assert_eq!(stats.missed.load(Relaxed), 2);
    assert_eq!(stats.repeated.load(Relaxed), 1);
    let latencies = stats.latencies_us.lock().unwrap();
    assert!(latencies.iter().all(|&us| us < 10_000_000), "{latencies:?}");
}

#[test]
fn percentiles_are_nearest_rank() {
    let us: Vec<u64> = (1..=100).map(|i| i * 1000).collect();
    assert_eq!(percentile(&us, 50.0), 50.0);
    assert_eq!(percentile(&us, 99.0), 99.0);
    assert_eq!(percentile(&us[..1], 99.0), 1.0);
    assert_eq!(percentile(&[], 50.0), 0.0);
}

#[test]
fn ways_parse_and_name_themselves() {
    assert_eq!(
        Way::parse("poll:250"),
        Ok(Way::Poll(Duration::from_millis(250)))
    );
    assert_eq!(Way::parse("ws-deflate"), Ok(Way::Ws { deflate: true }));
    assert!(Way::parse("poll:0").is_err());
    assert!(Way::parse("carrier-pigeon").is_err());
    assert_eq!(
        Way::Poll(Duration::from_secs(1)).label(),
        "short polling, every 1 s"
    );
    assert_eq!(
        Way::Poll(Duration::from_millis(100)).short_label(),
        "poll every 100 ms"
    );
}
