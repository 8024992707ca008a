//! Reach: where the feed's candidates come from beyond the subscriptions. The plan of the
//! channels the store follows (`plan`), their polite fetching (`fetch`), the videos the
//! person saved.

pub mod fetch;
pub mod plan;

use anyhow::Result;
use vrd_core::reach::{ChannelFetch, DiscoveredChannel, PlannedChannel, SavedVideo};
use vrd_core::records::{Subscription, Video, WatchEvent};
use vrd_store::Store;

/// Everything a plan is made from, read from the store once.
pub struct StoreInputs {
    pub watches: Vec<WatchEvent>,
    pub subscriptions: Vec<Subscription>,
    pub saved: Vec<(SavedVideo, Option<Video>)>,
    pub discovered: Vec<DiscoveredChannel>,
    pub videos: Vec<Video>,
    pub fetches: Vec<ChannelFetch>,
}

impl StoreInputs {
    pub fn read(store: &Store) -> Result<StoreInputs> {
        let videos = store.videos()?;
        let by_id: std::collections::HashMap<&str, &Video> = videos.iter().map(|v| (v.video_id.as_str(), v)).collect();
        let saved = store
            .saved_videos()?
            .into_iter()
            .map(|s| {
                let v = by_id.get(s.video_id.as_str()).map(|v| (*v).clone());
                (s, v)
            })
            .collect();
        Ok(StoreInputs {
            watches: store.watch_events()?,
            subscriptions: store.subscriptions()?,
            saved,
            discovered: store.discovered_channels()?,
            videos,
            fetches: store.channel_fetches()?,
        })
    }

    pub fn plan(&self, settings: &plan::Settings) -> Vec<PlannedChannel> {
        let inputs = plan::Inputs {
            watches: &self.watches,
            subscriptions: &self.subscriptions,
            saved: &self.saved,
            discovered: &self.discovered,
            videos: &self.videos,
            fetches: &self.fetches,
        };
        plan::plan(&inputs, settings)
    }
}
