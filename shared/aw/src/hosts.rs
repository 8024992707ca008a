//! Whose timelines to read, and from which buckets: every host with a window watcher (a
//! desktop's aw-watcher-window, a phone's aw-watcher-android), the AFK bucket where the
//! host has one (phones have none: their window events exist only while the screen is in
//! use, which is how ActivityWatch's own UI reads them) and the host's browser-tab buckets
//! (for audible tabs).

use crate::BucketInfo;
use anyhow::{bail, Result};
use std::collections::BTreeSet;

pub const WINDOW_TYPE: &str = "currentwindow";
pub const AFK_TYPE: &str = "afkstatus";
pub const WEB_TYPE: &str = "web.tab.current";

/// The hostname older browser watchers (and aw-android) report.
const UNKNOWN_HOST: &str = "unknown";

/// The buckets of one host's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostBuckets {
    pub host: String,
    pub window: String,
    /// `None` for a phone: its window bucket alone is the timeline.
    pub afk: Option<String>,
    /// Browser-tab buckets whose audible tabs may count as active time.
    pub web: Vec<String>,
}

/// Which hosts a run reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hosts {
    /// The server's own host, or an export's only one.
    Default,
    Named(Vec<String>),
    /// Every host with a window watcher.
    All,
}

impl Hosts {
    /// The hosts asked for by name (none: the default one), or every host.
    pub fn chosen(named: &[String], all: bool) -> Hosts {
        match (all, named.is_empty()) {
            (true, _) => Hosts::All,
            (false, true) => Hosts::Default,
            (false, false) => Hosts::Named(named.to_vec()),
        }
    }
}

/// The hosts that have a window watcher.
pub fn window_hosts(buckets: &[BucketInfo]) -> BTreeSet<&str> {
    buckets.iter().filter(|b| b.kind == WINDOW_TYPE).map(|b| b.hostname.as_str()).collect()
}

/// The buckets of each chosen host, in the order named (`All`: by host name).
/// `default_host` names the host of `Hosts::Default` (asked only then).
pub fn select(
    buckets: &[BucketInfo],
    hosts: &Hosts,
    default_host: impl FnOnce() -> Result<String>,
) -> Result<Vec<HostBuckets>> {
    let present = window_hosts(buckets);
    let names: Vec<String> = match hosts {
        Hosts::Named(names) => names.clone(),
        Hosts::All if present.is_empty() => bail!("no window-watcher bucket found"),
        Hosts::All => present.iter().map(|h| h.to_string()).collect(),
        Hosts::Default => vec![default_host()?],
    };
    let mut seen = BTreeSet::new();
    names.iter().filter(|h| seen.insert(h.as_str())).map(|host| host_buckets(buckets, host)).collect()
}

/// The only host with a window watcher, for an export read without a host named.
pub fn only_host(buckets: &[BucketInfo]) -> Result<String> {
    let hosts = window_hosts(buckets);
    match hosts.len() {
        1 => Ok(hosts.into_iter().next().unwrap_or_default().to_string()),
        0 => bail!("no window-watcher bucket found"),
        _ => bail!("window buckets of several hosts {hosts:?}: pass --aw-hostname (repeatable) or --aw-all-hosts"),
    }
}

fn host_buckets(buckets: &[BucketInfo], host: &str) -> Result<HostBuckets> {
    let ids = |kind: &str, hostname: &str| -> Vec<String> {
        let mut ids: Vec<String> =
            buckets.iter().filter(|b| b.kind == kind && b.hostname == hostname).map(|b| b.id.clone()).collect();
        ids.sort();
        ids
    };
    let Some(window) = ids(WINDOW_TYPE, host).into_iter().next() else {
        bail!(
            "no window bucket for host {host:?} (window watcher hosts present: {:?}); pass --aw-hostname with one \
             of them, or --aw-all-hosts for all of them",
            window_hosts(buckets)
        );
    };
    let afk = ids(AFK_TYPE, host).into_iter().next();
    // Audible tabs widen the not-AFK periods: a host without AFK bucket has no use for them.
    let mut web = if afk.is_some() { ids(WEB_TYPE, host) } else { Vec::new() };
    // A browser watcher that did not know its host belongs to the one desktop, when there
    // is exactly one (a phone has no browser watcher).
    let desktops: BTreeSet<&str> = buckets.iter().filter(|b| b.kind == AFK_TYPE).map(|b| b.hostname.as_str()).collect();
    if web.is_empty() && afk.is_some() && desktops.len() == 1 && host != UNKNOWN_HOST {
        web = ids(WEB_TYPE, UNKNOWN_HOST);
    }
    Ok(HostBuckets { host: host.to_string(), window, afk, web })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(id: &str, kind: &str, hostname: &str) -> BucketInfo {
        BucketInfo { id: id.into(), kind: kind.into(), hostname: hostname.into() }
    }

    fn desktop_and_phone() -> Vec<BucketInfo> {
        vec![
            bucket("aw-watcher-window_laptop", WINDOW_TYPE, "laptop"),
            bucket("aw-watcher-afk_laptop", AFK_TYPE, "laptop"),
            bucket("aw-watcher-web-firefox", WEB_TYPE, "unknown"),
            bucket("aw-watcher-android-test", WINDOW_TYPE, "unknown"),
            bucket("aw-android-unlock", "os.lockscreen.unlocks", "unknown"),
        ]
    }

    #[test]
    fn a_phone_has_its_window_bucket_alone_and_a_desktop_its_afk_and_browser_buckets() {
        let b = desktop_and_phone();
        let got = select(&b, &Hosts::All, || unreachable!()).unwrap();
        assert_eq!(
            got,
            [
                HostBuckets {
                    host: "laptop".into(),
                    window: "aw-watcher-window_laptop".into(),
                    afk: Some("aw-watcher-afk_laptop".into()),
                    web: vec!["aw-watcher-web-firefox".into()],
                },
                HostBuckets {
                    host: "unknown".into(),
                    window: "aw-watcher-android-test".into(),
                    afk: None,
                    web: vec![]
                },
            ]
        );
        let named =
            select(&b, &Hosts::Named(vec!["unknown".into(), "laptop".into(), "unknown".into()]), || unreachable!())
                .unwrap();
        assert_eq!(named.iter().map(|h| h.host.as_str()).collect::<Vec<_>>(), ["unknown", "laptop"], "once each");
        let only_phone = vec![bucket("aw-watcher-android-test", WINDOW_TYPE, "unknown")];
        assert_eq!(only_host(&only_phone).unwrap(), "unknown");
    }

    #[test]
    fn missing_hosts_are_named() {
        let b = desktop_and_phone();
        let err = select(&b, &Hosts::Named(vec!["tablet".into()]), || unreachable!()).unwrap_err().to_string();
        assert!(err.contains("\"tablet\"") && err.contains("\"laptop\"") && err.contains("\"unknown\""), "{err}");
        assert!(only_host(&b).unwrap_err().to_string().contains("--aw-all-hosts"));
        let err = select(&b, &Hosts::Default, || Ok("server-host".into())).unwrap_err().to_string();
        assert!(err.contains("server-host"), "{err}");
    }
}
