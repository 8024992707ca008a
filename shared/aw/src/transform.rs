//! The transforms of ActivityWatch's canonical "active window while not AFK" timeline,
//! ported from aw-core's `aw_transform` (flood, filter_keyvals, filter_period_intersect,
//! the trimming of `query_bucket`) step for step, so that a timeline computed here from an
//! export file equals the one the server's query API returns for the same data.

use crate::Event;
use serde_json::Value;

/// Gaps up to `pulsetime` between events are filled: equal neighbours merge, different
/// ones split the gap (the longer event takes it). Zero-length events are dropped.
pub fn flood(events: &[Event], pulsetime_s: f64) -> Vec<Event> {
    let mut events = events.to_vec();
    events.sort_by_key(|e| e.start_us); // stable, like Python's sorted()
    let pulse = (pulsetime_s * 1e6).round() as i64;
    let negative_gap_trim = 100_000; // 0.1 s
    for i in 1..events.len() {
        let (left, right) = events.split_at_mut(i);
        let (e1, e2) = (&mut left[i - 1], &mut right[0]);
        let gap = e2.start_us - e1.end_us();
        if gap == 0 {
            continue;
        }
        if gap < 0 && e1.data == e2.data {
            let start = e1.start_us.min(e2.start_us);
            let end = e1.end_us().max(e2.end_us());
            e1.start_us = start;
            e1.duration_us = end - start;
            e2.start_us = end;
            e2.duration_us = 0;
        } else if gap < -negative_gap_trim {
            // Overlap between different events: left alone (aw-core only warns).
        } else if -negative_gap_trim < gap && gap <= pulse {
            let e2_end = e2.end_us();
            if e1.duration_us >= e2.duration_us {
                if e1.data == e2.data {
                    e1.duration_us = e2_end - e1.start_us;
                    e2.start_us = e2_end;
                    e2.duration_us = 0;
                } else {
                    e1.duration_us = e2.start_us - e1.start_us;
                }
            } else if e1.data == e2.data {
                e2.start_us = e1.start_us;
                e2.duration_us = e2_end - e2.start_us;
                e1.duration_us = 0;
            } else {
                e2.start_us = e1.end_us();
                e2.duration_us = e2_end - e2.start_us;
            }
        }
    }
    events.retain(|e| e.duration_us > 0);
    events
}

/// Events whose `data[key]` is one of `values`.
pub fn filter_keyvals(events: &[Event], key: &str, values: &[Value]) -> Vec<Event> {
    events.iter().filter(|e| e.data.get(key).is_some_and(|v| values.contains(v))).cloned().collect()
}

/// The parts of `events` that fall within some event of `filter` (e.g. not-AFK periods).
pub fn filter_period_intersect(events: &[Event], filter: &[Event]) -> Vec<Event> {
    let mut a = events.to_vec();
    let mut b = filter.to_vec();
    a.sort_by_key(|e| e.start_us);
    b.sort_by_key(|e| e.start_us);
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        let (s1, e1) = (a[i].start_us, a[i].end_us());
        let (s2, e2) = (b[j].start_us, b[j].end_us());
        match intersection((s1, e1), (s2, e2)) {
            Some((s, e)) => {
                let mut piece = a[i].clone();
                piece.start_us = s;
                piece.duration_us = e - s;
                out.push(piece);
                if e1 <= e2 {
                    i += 1;
                } else {
                    j += 1;
                }
            }
            None => {
                if e1 <= s2 {
                    i += 1;
                } else if e2 <= s1 {
                    j += 1;
                } else {
                    i += 1;
                    j += 1;
                }
            }
        }
    }
    out
}

/// The union of two sets of periods, aw-core's `period_union`: overlapping or touching
/// periods become one; the data is dropped (it cannot be kept consistent), leaving a mask.
pub fn period_union(a: &[Event], b: &[Event]) -> Vec<Event> {
    let mut all: Vec<Event> = a.iter().chain(b).cloned().collect();
    all.sort_by_key(|e| (e.start_us, e.duration_us));
    let mut out: Vec<Event> = Vec::with_capacity(all.len());
    for e in all {
        match out.last_mut() {
            Some(last) if e.start_us <= last.end_us() => {
                last.duration_us = last.end_us().max(e.end_us()) - last.start_us;
            }
            _ => out.push(e),
        }
    }
    for e in &mut out {
        e.data = serde_json::Map::new();
    }
    out
}

/// timeslot's `Timeslot.intersection`, case for case (zero-length slots included).
fn intersection(a: (i64, i64), b: (i64, i64)) -> Option<(i64, i64)> {
    let contains = |x: (i64, i64), y: (i64, i64)| x.0 <= y.0 && y.1 <= x.1;
    if contains(a, b) {
        Some(b)
    } else if a.0 <= b.0 && b.0 < a.1 {
        Some((b.0, a.1))
    } else if a.0 < b.1 && b.1 <= a.1 {
        Some((a.0, b.1))
    } else if contains(b, a) {
        Some(a)
    } else {
        None
    }
}

/// What `query_bucket` returns for a period: the events overlapping it, cut to it. The
/// Python server rounds the period start down and its end up to whole milliseconds.
pub fn clip_to_period(events: &[Event], start_us: i64, end_us: i64) -> Vec<Event> {
    let start = start_us.div_euclid(1000) * 1000;
    let end = (end_us.div_euclid(1000) + 1) * 1000;
    events
        .iter()
        .filter(|e| e.end_us() >= start && e.start_us <= end)
        .map(|e| {
            let mut e = e.clone();
            if e.start_us < start {
                let end_of = e.end_us();
                e.start_us = start;
                e.duration_us = end_of - start;
            }
            if e.end_us() > end {
                e.duration_us = end - e.start_us;
            }
            e
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(start_s: i64, dur_s: f64, data: Value) -> Event {
        Event {
            start_us: start_s * 1_000_000,
            duration_us: (dur_s * 1e6) as i64,
            data: data.as_object().unwrap().clone(),
        }
    }

    fn spans(events: &[Event]) -> Vec<(f64, f64)> {
        events.iter().map(|e| (e.start_us as f64 / 1e6, e.duration_us as f64 / 1e6)).collect()
    }

    #[test]
    fn flood_merges_equal_neighbours_and_splits_gaps_between_different_ones() {
        let a = json!({"app": "a"});
        let b = json!({"app": "b"});
        // Equal data, 3 s gap: one event.
        assert_eq!(spans(&flood(&[ev(0, 10.0, a.clone()), ev(13, 5.0, a.clone())], 5.0)), [(0.0, 18.0)]);
        // Different data: the longer event takes the gap.
        assert_eq!(spans(&flood(&[ev(0, 10.0, a.clone()), ev(13, 5.0, b.clone())], 5.0)), [(0.0, 13.0), (13.0, 5.0)]);
        assert_eq!(spans(&flood(&[ev(0, 2.0, a.clone()), ev(5, 5.0, b.clone())], 5.0)), [(0.0, 2.0), (2.0, 8.0)]);
        // Gaps beyond the pulse time stay.
        assert_eq!(spans(&flood(&[ev(0, 1.0, a.clone()), ev(10, 1.0, b)], 5.0)), [(0.0, 1.0), (10.0, 1.0)]);
        // Overlapping equal events merge.
        assert_eq!(spans(&flood(&[ev(0, 10.0, a.clone()), ev(5, 10.0, a)], 5.0)), [(0.0, 15.0)]);
    }

    #[test]
    fn intersect_cuts_events_to_the_filter_periods() {
        // events1   |   =======        ======== |
        // events2   | ------  ---  ---   ----   |
        // result    |   ====  =          ====   |
        let w = json!({"app": "w"});
        let f = json!({"status": "not-afk"});
        let events = [ev(2, 7.0, w.clone()), ev(17, 8.0, w)];
        let filter = [ev(0, 6.0, f.clone()), ev(8, 3.0, f.clone()), ev(13, 3.0, f.clone()), ev(19, 4.0, f)];
        assert_eq!(spans(&filter_period_intersect(&events, &filter)), [(2.0, 4.0), (8.0, 1.0), (19.0, 4.0)]);
    }

    #[test]
    fn union_merges_overlapping_and_touching_periods_and_drops_the_data() {
        let a = [ev(0, 5.0, json!({"status": "not-afk"})), ev(20, 5.0, json!({"status": "not-afk"}))];
        let b = [ev(3, 4.0, json!({"audible": true})), ev(7, 1.0, json!({"audible": true})), ev(40, 1.0, json!({}))];
        let union = period_union(&a, &b);
        assert_eq!(spans(&union), [(0.0, 8.0), (20.0, 5.0), (40.0, 1.0)]);
        assert!(union.iter().all(|e| e.data.is_empty()));
    }

    #[test]
    fn keyvals_and_clipping() {
        let evs = [ev(0, 5.0, json!({"status": "afk"})), ev(5, 5.0, json!({"status": "not-afk"}))];
        assert_eq!(filter_keyvals(&evs, "status", &[json!("not-afk")]).len(), 1);
        let clipped = clip_to_period(&evs, 2_000_000, 7_000_000);
        assert_eq!(spans(&clipped), [(2.0, 3.0), (5.0, 2.001)]);
    }
}
