//! What the person had done before a moment, kept as the running state the next-watch
//! features read: watches are pushed in time order, and a [`Moment`] at `t` sees exactly
//! the watches pushed before it, which must all lie strictly before `t` (the same strict
//! cut as the activity windows). Training walks a history once, pushing watches and
//! asking moments between them; ranking pushes the history up to `--at` and asks one, so
//! the two see the same state by construction.

use super::activity::{Activity, ACTIVITY_DAYS};
use super::features::{Candidate, Feature::*, Features, FEATURES};
use std::collections::{HashMap, VecDeque};
use vrd_core::time::Timestamp;
use vrd_ranking::cold_start::{familiarity, recency_weighted_mean};
use vrd_ranking::lexical::{LexicalIndex, LexicalVector};

/// How many of the latest watches the similarity features look back over (late fusion:
/// the candidate against each, not only their mean).
pub const RECENT: usize = 50;
/// How many of the latest watches the lexical features look back over: the best of the
/// last few, and the profile of the last many.
pub const RECENT_LEXICAL: usize = 10;
pub const LEXICAL_PROFILE_WATCHES: usize = 50;
/// The recency weights of the taste profile and the interests halve every this many days
/// (as the cold-start profile's).
pub const INTEREST_HALF_LIFE_DAYS: f64 = 30.0;
/// A channel's decayed watch count halves every this many days.
pub const CHANNEL_HALF_LIFE_DAYS: f64 = 7.0;
/// An interest (cluster of the history) takes a watch whose cosine to its centre is at
/// least this; below it the watch starts a new interest.
const CLUSTER_JOIN: f32 = 0.5;
/// At most this many interests; past it a watch joins the nearest.
const MAX_CLUSTERS: usize = 32;
/// Time-of-day profiles are smoothed over neighbouring hours with this spread (hours).
const HOUR_SPREAD: f64 = 2.0;
/// A gap shorter than this continues the session.
const SESSION_MINUTES: f64 = 60.0;
/// The profile of what was watched after the moment's apps starts from this many watches'
/// worth of the fortnight's usual, so that one watch after a rare app does not make it.
const ACTIVITY_PRIOR: f32 = 2.0;

/// One watch as the state takes it: its unit-length embedding where the video has one, its
/// channel (id, else name) where known.
pub struct Watch<'a> {
    pub at: Timestamp,
    pub title: &'a str,
    pub embedding: Option<&'a [f32]>,
    pub channel: Option<&'a str>,
    /// The apps of the hour before it, where the timeline covers it.
    pub activity: Option<&'a Activity>,
    /// Its title and channel in the lexical view, where the model has one (only the last
    /// [`LEXICAL_PROFILE_WATCHES`] are read).
    pub lexical: Option<&'a LexicalVector>,
}

struct ChannelPast {
    count: f64,
    /// Watches decayed by [`CHANNEL_HALF_LIFE_DAYS`], as of `last_at`.
    decayed: f64,
    last_at: Timestamp,
    /// Watches per hour of day (UTC; a person's zone shifts every hour alike).
    hours: [f32; 24],
}

struct Interest {
    sum: Vec<f32>,
    centre: Vec<f32>,
    /// Watches decayed by [`INTEREST_HALF_LIFE_DAYS`], as of `as_of`.
    weight: f64,
    as_of: Timestamp,
}

/// The running state of a history.
pub struct Past {
    dim: usize,
    /// The latest embedded watches (time, title, unit embedding), oldest first.
    recent: VecDeque<(Timestamp, String, Vec<f32>)>,
    /// The latest [`LEXICAL_PROFILE_WATCHES`] watches in the lexical view (time, title,
    /// vector), oldest first.
    recent_lexical: VecDeque<(Timestamp, String, LexicalVector)>,
    /// The channels of the last few watches (embedded or not), oldest first.
    last_channels: VecDeque<Option<u32>>,
    last_at: Option<Timestamp>,
    watches: usize,
    channel_ids: HashMap<String, u32>,
    channels: Vec<ChannelPast>,
    hour_sums: Vec<Vec<f32>>,
    hour_counts: [f64; 24],
    /// Weekday and weekend sums.
    day_sums: [Vec<f32>; 2],
    total_sum: Vec<f32>,
    interests: Vec<Interest>,
    /// The latest searches (time, unit query embedding, the query in the lexical view),
    /// oldest first.
    searches: VecDeque<(Timestamp, Vec<f32>, Option<LexicalVector>)>,
    /// The embedded watches of the last [`ACTIVITY_DAYS`] with a known activity (time,
    /// activity, unit embedding), oldest first.
    after_activity: VecDeque<(Timestamp, Activity, Vec<f32>)>,
}

/// How many of the latest searches the search features look back over.
pub const RECENT_SEARCHES: usize = 20;

impl Past {
    pub fn new(dim: usize) -> Past {
        Past {
            dim,
            recent: VecDeque::with_capacity(RECENT + 1),
            recent_lexical: VecDeque::with_capacity(LEXICAL_PROFILE_WATCHES + 1),
            last_channels: VecDeque::with_capacity(6),
            last_at: None,
            watches: 0,
            channel_ids: HashMap::new(),
            channels: Vec::new(),
            hour_sums: vec![vec![0.0; dim]; 24],
            hour_counts: [0.0; 24],
            day_sums: [vec![0.0; dim], vec![0.0; dim]],
            total_sum: vec![0.0; dim],
            interests: Vec::new(),
            searches: VecDeque::with_capacity(RECENT_SEARCHES + 1),
            after_activity: VecDeque::new(),
        }
    }

    /// Adds the next search (in time order among the searches), its query embedded by the
    /// model that embedded the videos, and in the lexical view where the model has one.
    pub fn push_search(&mut self, at: Timestamp, embedding: &[f32], lexical: Option<&LexicalVector>) {
        assert!(self.searches.back().is_none_or(|s| s.0 <= at), "searches must be pushed in time order");
        if self.searches.len() == RECENT_SEARCHES {
            self.searches.pop_front();
        }
        self.searches.push_back((at, unit(embedding), lexical.cloned()));
    }

    /// How many watches were pushed.
    pub fn watches(&self) -> usize {
        self.watches
    }

    /// Adds the next watch. Watches come in time order: an earlier one than the last is a
    /// caller's bug.
    pub fn push(&mut self, w: &Watch) {
        assert!(self.last_at.is_none_or(|last| last <= w.at), "watches must be pushed in time order");
        self.last_at = Some(w.at);
        self.watches += 1;
        let channel = w.channel.map(|c| self.channel_id(c));
        if self.last_channels.len() == 5 {
            self.last_channels.pop_front();
        }
        self.last_channels.push_back(channel);
        let hour = hour_of(w.at);
        if let Some(id) = channel {
            let c = &mut self.channels[id as usize];
            c.decayed = decay(c.decayed, c.last_at, w.at, CHANNEL_HALF_LIFE_DAYS) + 1.0;
            c.count += 1.0;
            c.last_at = w.at;
            c.hours[hour] += 1.0;
        }
        self.hour_counts[hour] += 1.0;
        if let Some(lexical) = w.lexical {
            if self.recent_lexical.len() == LEXICAL_PROFILE_WATCHES {
                self.recent_lexical.pop_front();
            }
            self.recent_lexical.push_back((w.at, w.title.to_string(), lexical.clone()));
        }
        let Some(e) = w.embedding else { return };
        let e = unit(e);
        add(&mut self.hour_sums[hour], &e);
        add(&mut self.day_sums[weekend(w.at)], &e);
        add(&mut self.total_sum, &e);
        self.join_interest(&e, w.at);
        if let Some(activity) = w.activity {
            // Later moments than this watch never look back this far.
            let horizon = w.at - chrono::Duration::days(ACTIVITY_DAYS);
            while self.after_activity.front().is_some_and(|(at, _, _)| *at <= horizon) {
                self.after_activity.pop_front();
            }
            self.after_activity.push_back((w.at, activity.clone(), e.clone()));
        }
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back((w.at, w.title.to_string(), e));
    }

    /// What the fortnight before `t` holds of the watches made after activities like `now`:
    /// their mean weighted by how alike the two hours' apps were, against the fortnight's
    /// usual (none: no such watch).
    fn after_alike(&self, t: Timestamp, now: &Activity) -> Option<AfterActivity> {
        let horizon = t - chrono::Duration::days(ACTIVITY_DAYS);
        let (mut alike, mut usual, mut support) = (vec![0f32; self.dim], vec![0f32; self.dim], 0f32);
        for (_, activity, e) in self.after_activity.iter().filter(|(at, _, _)| *at > horizon) {
            add(&mut usual, e);
            let w = now.overlap(activity);
            if w > 0.0 {
                axpy(&mut alike, w, e);
                support += w;
            }
        }
        if support == 0.0 {
            return None;
        }
        let usual = unit(&usual);
        axpy(&mut alike, ACTIVITY_PRIOR, &usual);
        Some(AfterActivity { alike: unit(&alike), usual, app: now.main_app().to_string() })
    }

    fn channel_id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.channel_ids.get(name) {
            return id;
        }
        let id = self.channels.len() as u32;
        self.channel_ids.insert(name.to_string(), id);
        self.channels.push(ChannelPast { count: 0.0, decayed: 0.0, last_at: Timestamp::MIN_UTC, hours: [0.0; 24] });
        id
    }

    /// Online clustering: the nearest interest takes the watch when close enough (or when
    /// there are already as many as allowed), else the watch starts one.
    fn join_interest(&mut self, e: &[f32], at: Timestamp) {
        let nearest =
            self.interests.iter().enumerate().map(|(i, c)| (dot(&c.centre, e), i)).max_by(|a, b| a.0.total_cmp(&b.0));
        match nearest {
            Some((cos, i)) if cos >= CLUSTER_JOIN || self.interests.len() >= MAX_CLUSTERS => {
                let c = &mut self.interests[i];
                add(&mut c.sum, e);
                c.centre = unit(&c.sum);
                c.weight = decay(c.weight, c.as_of, at, INTEREST_HALF_LIFE_DAYS) + 1.0;
                c.as_of = at;
            }
            _ => self.interests.push(Interest { sum: e.to_vec(), centre: e.to_vec(), weight: 1.0, as_of: at }),
        }
    }

    /// The index [`Moment`] compares candidates with in the lexical view: the last
    /// [`RECENT_LEXICAL`] watches newest first (empty texts where the history is shorter),
    /// then the unit sum of the last [`LEXICAL_PROFILE_WATCHES`].
    fn lexical_index(&self) -> LexicalIndex {
        let empty = LexicalVector::default();
        let mut newest: Vec<&LexicalVector> =
            self.recent_lexical.iter().rev().take(RECENT_LEXICAL).map(|(_, _, v)| v).collect();
        newest.resize(RECENT_LEXICAL, &empty);
        let profile = LexicalVector::unit_sum(self.recent_lexical.iter().map(|(_, _, v)| v));
        LexicalIndex::new(newest.into_iter().chain([&profile]))
    }

    /// The state as seen at `t`, with the apps of the hour before it where known: every
    /// pushed watch must lie strictly before it.
    pub fn moment(&self, t: Timestamp, now: Option<&Activity>) -> Moment<'_> {
        assert!(self.last_at.is_none_or(|last| last < t), "a moment sees only watches strictly before it");
        assert!(self.searches.back().is_none_or(|s| s.0 < t), "a moment sees only searches strictly before it");
        // The cold start's taste profile, over the same recent watches.
        let profile = recency_weighted_mean(
            self.recent.iter().rev().map(|(at, _, e)| (*at, e.as_slice())),
            self.dim,
            INTEREST_HALF_LIFE_DAYS,
        );
        let hour = hour_of(t);
        let mut hour_profile = vec![0f32; self.dim];
        let mut near_hour = [0f32; 24];
        for (b, w) in near_hour.iter_mut().enumerate() {
            *w = hour_kernel(hour, b) as f32;
            axpy(&mut hour_profile, *w, &self.hour_sums[b]);
        }
        let watches_near = near_hour.iter().zip(&self.hour_counts).map(|(&w, &n)| f64::from(w) * n).sum::<f64>();
        let shares: Vec<f64> =
            self.interests.iter().map(|c| decay(c.weight, c.as_of, t, INTEREST_HALF_LIFE_DAYS)).collect();
        let total: f64 = shares.iter().sum();
        let session = self.recent.iter().rev().take(3).fold(vec![0f32; self.dim], |mut s, (_, _, e)| {
            add(&mut s, e);
            s
        });
        Moment {
            past: self,
            t,
            activity: now.and_then(|now| self.after_alike(t, now)),
            profile: unit(&profile),
            lexical: self.lexical_index(),
            hour_profile: unit(&hour_profile),
            day_profile: unit(&self.day_sums[weekend(t)]),
            overall: unit(&self.total_sum),
            session: unit(&session),
            interest_shares: shares.iter().map(|s| s / total.max(f64::MIN_POSITIVE)).collect(),
            near_hour,
            share_near_hour: watches_near / (self.watches.max(1) as f64),
            most_watched_channel: self.channels.iter().map(|c| c.count).fold(0.0, f64::max),
            gap_minutes: self.last_at.map(|l| (t - l).num_seconds() as f64 / 60.0),
        }
    }
}

/// The past as seen at one moment, with what every candidate is compared against made
/// once.
pub struct Moment<'p> {
    past: &'p Past,
    pub t: Timestamp,
    activity: Option<AfterActivity>,
    profile: Vec<f32>,
    /// In the lexical view: the last [`RECENT_LEXICAL`] watches, newest first, then the
    /// last [`LEXICAL_PROFILE_WATCHES`] watches' vocabulary ([`Past::lexical_index`]).
    lexical: LexicalIndex,
    hour_profile: Vec<f32>,
    day_profile: Vec<f32>,
    overall: Vec<f32>,
    session: Vec<f32>,
    interest_shares: Vec<f64>,
    near_hour: [f32; 24],
    /// The share of all watches made near this hour of day.
    share_near_hour: f64,
    most_watched_channel: f64,
    gap_minutes: Option<f64>,
}

/// The watches after activities like the moment's, as the features compare candidates with.
struct AfterActivity {
    alike: Vec<f32>,
    usual: Vec<f32>,
    /// The moment's main app, for the reasons.
    app: String,
}

impl Moment<'_> {
    /// The moment's main app, when watches after activities like it are known.
    pub fn activity_app(&self) -> Option<&str> {
        self.activity.as_ref().map(|a| a.app.as_str())
    }

    /// The minutes since the last watch, if any.
    pub fn gap_minutes(&self) -> Option<f64> {
        self.gap_minutes
    }

    /// The features of `c` at this moment, in [`FEATURES`] order.
    pub fn features(&self, c: &Candidate) -> Features {
        let past = self.past;
        let e = unit(c.embedding);
        let mut f = [0f32; FEATURES.len()];
        let mut sims: Vec<f32> = past.recent.iter().rev().map(|(_, _, r)| dot(r, &e)).collect();
        // Newest first, with each watch's age in days.
        let (mut hours, mut days_sum, mut days_weight, mut since) = (0f32, 0f64, 0f64, None);
        for ((at, _, _), &sim) in past.recent.iter().rev().zip(&sims) {
            let age = days(self.t - *at);
            hours = hours.max(sim * (-age * 4.0).exp() as f32);
            let w = (-age / 2.0).exp();
            days_sum += w * f64::from(sim.max(0.0));
            days_weight += w;
            if since.is_none() && sim >= CLUSTER_JOIN {
                since = Some(age);
            }
        }
        f[SimDecayedHours] = hours;
        f[SimDecayedDays] = (days_sum / days_weight.max(1e-9)) as f32;
        f[TopicDaysSinceLog] = since.unwrap_or(365.0).ln_1p() as f32;
        for (at, q, lexical) in &past.searches {
            let (age, cos) = (days(self.t - *at), dot(q, &e));
            if age <= 7.0 {
                f[SearchBestWeek] = f[SearchBestWeek].max(cos);
                if let Some((q, c)) = lexical.as_ref().zip(c.lexical) {
                    f[LexSearchWeek] = f[LexSearchWeek].max(q.dot(c));
                }
            }
            f[SearchRecent] = f[SearchRecent].max(cos * (-age).exp() as f32);
        }
        if let Some(c) = c.lexical {
            // Newest first: the last watch, the best of the last 10.
            // Slots the history does not fill read 0, as do texts sharing nothing (the
            // weights are never negative).
            let mut dots = [0f32; RECENT_LEXICAL + 1];
            self.lexical.dots(c, &mut dots);
            f[LexLast] = dots[0];
            f[LexMaxLast10] = dots[..RECENT_LEXICAL].iter().copied().fold(0.0, f32::max);
            f[LexProfile] = dots[RECENT_LEXICAL];
        }
        // Newest first: the last watch, the best of the last 10, the top 3 of the last 50.
        f[SimLast] = sims.first().copied().unwrap_or(0.0);
        f[SimMaxLast10] = sims.iter().take(10).copied().reduce(f32::max).unwrap_or(0.0);
        sims.sort_by(|a, b| b.total_cmp(a));
        let top = sims.iter().take(3);
        f[SimTop3Last50] = top.clone().sum::<f32>() / top.count().max(1) as f32;
        f[SimProfile] = dot(&self.profile, &e);
        // The interests: the nearest one, its share of the recent history, and the
        // share-weighted closeness to all of them.
        let mut best = (0f32, 0f64);
        let mut mix = 0f64;
        for (c, &share) in past.interests.iter().zip(&self.interest_shares) {
            let cos = dot(&c.centre, &e);
            if cos > best.0 {
                best = (cos, share);
            }
            mix += share * f64::from(cos.max(0.0));
        }
        (f[InterestBestCos], f[InterestBestShare], f[InterestMix]) = (best.0, best.1 as f32, mix as f32);
        let channel =
            c.channel.and_then(|name| past.channel_ids.get(name)).map(|&id| (id, &past.channels[id as usize]));
        if let Some((id, ch)) = channel {
            f[ChannelDecayedLog] = decay(ch.decayed, ch.last_at, self.t, CHANNEL_HALF_LIFE_DAYS).ln_1p() as f32;
            f[ChannelCountLog] = ch.count.ln_1p() as f32;
            f[ChannelDaysSinceLog] = days(self.t - ch.last_at).ln_1p() as f32;
            f[ChannelShareLast5] = past.last_channels.iter().filter(|&&l| l == Some(id)).count() as f32 / 5.0;
            f[ChannelSameAsLast] = (past.last_channels.back() == Some(&Some(id))) as u8 as f32;
            // How much more than the person's usual this channel is watched near this hour.
            let near: f64 = ch.hours.iter().zip(&self.near_hour).map(|(&n, &w)| f64::from(n * w)).sum();
            f[ChannelHourLift] = ((near + 1.0) / (ch.count * self.share_near_hour + 1.0)).ln() as f32;
            f[ChannelFamiliarity] = familiarity(ch.count, self.most_watched_channel) as f32;
        } else {
            f[ChannelNew] = 1.0;
        }
        // The session: how close to the last few watches, while the session lasts.
        let in_session = self.gap_minutes.map_or(0.0, |g| (-g / SESSION_MINUTES).exp()) as f32;
        f[SessionSim] = in_session * dot(&self.session, &e);
        f[SessionActive] = in_session;
        // Time of day and day of week crossed with the candidate: closer to what this hour
        // (this kind of day) usually holds than to the history as a whole.
        f[HourAffinity] = dot(&self.hour_profile, &e) - dot(&self.overall, &e);
        f[WeekdayAffinity] = dot(&self.day_profile, &e) - dot(&self.overall, &e);
        if let Some(p) = c.published_at {
            f[UploadAgeLogDays] = days(self.t - p).max(0.0).ln_1p() as f32;
            f[UploadAgeKnown] = 1.0;
        }
        if let Some(a) = &self.activity {
            f[ActivityAffinity] = dot(&a.alike, &e) - dot(&a.usual, &e);
            f[ActivityKnown] = 1.0;
        }
        f
    }
}

/// What `--explain` says of a candidate: plain facts of the history behind its features.
pub struct Facts<'p> {
    /// How many of the latest watches in a row are like it (cosine at least
    /// [`CLUSTER_JOIN`]), and the latest one's title.
    pub streak: (usize, Option<&'p str>),
    /// Its channel's watches, and the days since the latest (none: a new channel).
    pub channel: Option<(usize, f64)>,
    /// The share of the recent history of the interest it belongs to, if any.
    pub interest_share: Option<f64>,
    /// Of the last [`RECENT_LEXICAL`] watches, the one closest to it in the lexical view,
    /// if any is at all.
    pub lexical: Option<LexicalMatch<'p>>,
}

/// A recent watch whose title shares grams with the candidate's.
pub struct LexicalMatch<'p> {
    pub title: &'p str,
    /// The two texts' cosine in the lexical view.
    pub cosine: f32,
    /// Whether it is the last watch.
    pub last: bool,
    pub at: Timestamp,
}

impl<'p> Moment<'p> {
    pub fn facts(&self, c: &Candidate) -> Facts<'p> {
        let past = self.past;
        let e = unit(c.embedding);
        let like: Vec<&(Timestamp, String, Vec<f32>)> =
            past.recent.iter().rev().take_while(|(_, _, r)| dot(r, &e) >= CLUSTER_JOIN).collect();
        let channel = c.channel.and_then(|name| past.channel_ids.get(name)).map(|&id| &past.channels[id as usize]);
        let channel = channel.map(|ch| (ch.count as usize, days(self.t - ch.last_at)));
        let interest_share = past
            .interests
            .iter()
            .zip(&self.interest_shares)
            .filter(|(i, _)| dot(&i.centre, &e) >= CLUSTER_JOIN)
            .map(|(_, &s)| s)
            .reduce(f64::max);
        let lexical = c.lexical.and_then(|c| {
            let newest_first = past.recent_lexical.iter().rev().take(RECENT_LEXICAL).enumerate();
            let (k, (at, title, cosine)) = newest_first
                .map(|(k, (at, title, w))| (k, (*at, title.as_str(), w.dot(c))))
                // The newest of equals.
                .reduce(|best, next| if next.1 .2 > best.1 .2 { next } else { best })?;
            (cosine > 0.0).then_some(LexicalMatch { title, cosine, last: k == 0, at })
        });
        Facts { streak: (like.len(), like.first().map(|w| w.1.as_str())), channel, interest_share, lexical }
    }
}

fn hour_of(t: Timestamp) -> usize {
    use chrono::Timelike;
    t.hour() as usize
}

/// 0 for Monday to Friday, 1 for the weekend (UTC).
fn weekend(t: Timestamp) -> usize {
    use chrono::Datelike;
    (t.weekday().number_from_monday() >= 6) as usize
}

fn hour_kernel(a: usize, b: usize) -> f64 {
    let d = a.abs_diff(b).min(24 - a.abs_diff(b)) as f64;
    (-d * d / (2.0 * HOUR_SPREAD * HOUR_SPREAD)).exp()
}

fn days(d: chrono::Duration) -> f64 {
    d.num_seconds() as f64 / 86_400.0
}

/// `value` as of `from`, decayed to `to` with the given half-life.
fn decay(value: f64, from: Timestamp, to: Timestamp, half_life_days: f64) -> f64 {
    if value == 0.0 {
        return 0.0;
    }
    value * 0.5f64.powf(days(to - from).max(0.0) / half_life_days)
}

/// The dot product: the features' inner loop (a candidate against each recent watch,
/// interest and profile), so it runs on AVX2 with FMA where the processor has them.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "a dot product of vectors of one length");
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the processor has AVX2 and FMA (checked just above).
        return unsafe { dot_avx2(a, b) };
    }
    dot_lanes(a, b)
}

/// The dot product in eight lanes, so that it vectorises on any processor.
fn dot_lanes(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Four 8-lane FMA accumulators over 32 floats a step, then the rest in eight lanes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
    use std::arch::x86_64::*;
    let n = a.len().min(b.len());
    let (mut acc, mut k) = ([_mm256_setzero_ps(); 4], 0);
    // SAFETY: every load reads 8 floats at k + 8j < n of both slices (k + 32 <= n).
    unsafe {
        while k + 32 <= n {
            for (j, s) in acc.iter_mut().enumerate() {
                let x = _mm256_loadu_ps(a.as_ptr().add(k + 8 * j));
                let y = _mm256_loadu_ps(b.as_ptr().add(k + 8 * j));
                *s = _mm256_fmadd_ps(x, y, *s);
            }
            k += 32;
        }
    }
    let sum = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    let mut lanes = [0f32; 8];
    // SAFETY: `lanes` holds 8 floats.
    unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), sum) };
    lanes.iter().sum::<f32>() + dot_lanes(&a[k..n], &b[k..n])
}

fn add(acc: &mut [f32], x: &[f32]) {
    axpy(acc, 1.0, x);
}

fn axpy(acc: &mut [f32], a: f32, x: &[f32]) {
    for (s, &v) in acc.iter_mut().zip(x) {
        *s += a * v;
    }
}

/// `v` at unit length (zero stays zero).
pub(crate) fn unit(v: &[f32]) -> Vec<f32> {
    let n = dot(v, v).sqrt();
    v.iter().map(|&x| if n > 0.0 { x / n } else { 0.0 }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whichever path runs (AVX2 with FMA, or the eight lanes), every length gives the
    /// product, to float rounding: the full 32-float steps, the 8-lane rest and the tail.
    #[test]
    fn the_dot_product_is_the_sum_of_products_at_every_length() {
        for len in [0, 1, 7, 8, 31, 32, 33, 100, 384, 1024] {
            let a: Vec<f32> = (0..len).map(|i| ((i * 37 % 11) as f32 - 5.0) / 3.0).collect();
            let b: Vec<f32> = (0..len).map(|i| ((i * 17 % 13) as f32 - 6.0) / 7.0).collect();
            let exact: f64 = a.iter().zip(&b).map(|(&x, &y)| f64::from(x) * f64::from(y)).sum();
            let scale: f64 = a.iter().zip(&b).map(|(&x, &y)| f64::from((x * y).abs())).sum::<f64>().max(1.0);
            assert!((f64::from(dot(&a, &b)) - exact).abs() <= 1e-5 * scale, "length {len}");
            assert!((f64::from(dot_lanes(&a, &b)) - exact).abs() <= 1e-5 * scale, "length {len}");
        }
    }

    #[test]
    #[should_panic(expected = "one length")]
    fn a_dot_product_of_unequal_lengths_is_a_bug() {
        dot(&[1.0, 2.0], &[1.0]);
    }
}
