//! YouTube Data API resources → vrd records: `videos.list` items, `playlistItems.list`
//! items (for uploads whose details are gone), ISO 8601 durations, the Shorts heuristic.

use anyhow::{anyhow, bail, Result};
use serde::Deserialize;
use std::collections::HashMap;
use vrd_core::records::Video;
use vrd_core::time::{parse_rfc3339, Timestamp};

pub const SOURCE: &str = "youtube-api";

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Snippet {
    published_at: Option<String>,
    channel_id: Option<String>,
    title: Option<String>,
    description: String,
    channel_title: Option<String>,
    tags: Vec<String>,
    category_id: Option<String>,
    live_broadcast_content: Option<String>,
    resource_id: Option<ResourceId>,
    /// playlistItems: the uploader (the playlist's owner is `channelTitle`).
    video_owner_channel_title: Option<String>,
    video_owner_channel_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ResourceId {
    video_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ContentDetails {
    duration: Option<String>,
    video_id: Option<String>,
    video_published_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VideoItem {
    id: serde_json::Value,
    #[serde(default)]
    snippet: Option<Snippet>,
    #[serde(default)]
    content_details: Option<ContentDetails>,
    #[serde(default)]
    live_streaming_details: Option<serde_json::Value>,
}

/// A `videos.list` item. `categories` maps category ids to names where known.
pub fn video(item: &serde_json::Value, categories: &HashMap<String, String>) -> Result<Video> {
    let item: VideoItem = typed(item, "").map_err(|e| anyhow!("video item{}: {e}", id_of(item)))?;
    let video_id = item.id.as_str().ok_or_else(|| anyhow!("video item: field `id`: not a string"))?.to_string();
    let snippet = item.snippet.ok_or_else(|| anyhow!("video {video_id}: no snippet (request part=snippet)"))?;
    let title = snippet.title.ok_or_else(|| anyhow!("video {video_id}: field `snippet.title` missing"))?;
    let duration_s = item
        .content_details
        .and_then(|c| c.duration)
        .map(|d| iso_duration_s(&d).map_err(|e| anyhow!("video {video_id}: field `contentDetails.duration`: {e}")))
        .transpose()?;
    let published_at = time_field(snippet.published_at.as_deref(), &video_id, "snippet.publishedAt")?;
    let live = match snippet.live_broadcast_content.as_deref() {
        Some(state @ ("live" | "upcoming")) => Some(state.to_string()),
        _ if item.live_streaming_details.is_some() => Some("completed".to_string()),
        _ => None,
    };
    let short = duration_s.map(|d| is_short(d, &title, &snippet.description, &snippet.tags));
    let category = snippet.category_id.map(|id| categories.get(&id).cloned().unwrap_or(id));
    Ok(Video {
        video_id,
        title,
        description: snippet.description,
        channel: snippet.channel_title,
        channel_id: snippet.channel_id,
        published_at,
        duration_s,
        tags: snippet.tags,
        category,
        live,
        short,
        source: SOURCE.into(),
    })
}

/// The video a `playlistItems.list` item points to.
pub fn playlist_video_id(item: &serde_json::Value) -> Option<String> {
    let cd = item.pointer("/contentDetails/videoId").and_then(|v| v.as_str());
    let rid = item.pointer("/snippet/resourceId/videoId").and_then(|v| v.as_str());
    cd.or(rid).map(str::to_string)
}

/// What a playlist item alone says of its video, for uploads `videos.list` no longer
/// returns. Private and deleted entries (no real title) give nothing.
pub fn video_from_playlist_item(item: &serde_json::Value) -> Result<Option<Video>> {
    let Some(video_id) = playlist_video_id(item) else { return Ok(None) };
    let snippet: Snippet = part(item, "snippet", &video_id)?;
    let details: ContentDetails = part(item, "contentDetails", &video_id)?;
    let title = match snippet.title {
        Some(t) if !matches!(t.as_str(), "Private video" | "Deleted video") => t,
        _ => return Ok(None),
    };
    let published = details.video_published_at.as_deref().or(snippet.published_at.as_deref());
    Ok(Some(Video {
        published_at: time_field(published, &video_id, "publishedAt")?,
        title,
        description: snippet.description,
        channel: snippet.video_owner_channel_title.or(snippet.channel_title),
        channel_id: snippet.video_owner_channel_id.or(snippet.channel_id),
        duration_s: None,
        tags: vec![],
        category: None,
        live: None,
        short: None,
        source: SOURCE.into(),
        video_id,
    }))
}

/// A JSON value as a typed part (`within`, "" for the whole item) of a response; the error
/// names the field at fault (`field `snippet.title`: invalid type: …`).
fn typed<T: serde::de::DeserializeOwned>(value: &serde_json::Value, within: &str) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = match (within, e.path().to_string()) {
            ("", path) => path,
            (within, path) if path == "." => within.to_string(),
            (within, path) => format!("{within}.{path}"),
        };
        anyhow!("field `{path}`: {}", e.into_inner())
    })
}

/// A playlist item's part `name`, typed (its default where the item has none).
fn part<T: serde::de::DeserializeOwned + Default>(item: &serde_json::Value, name: &str, video_id: &str) -> Result<T> {
    let Some(value) = item.get(name) else { return Ok(T::default()) };
    typed(value, name).map_err(|e| anyhow!("playlist item {video_id}: {e}"))
}

/// ` ID` of an item whose `id` is a video id, for messages ("" otherwise).
fn id_of(item: &serde_json::Value) -> String {
    item.get("id").and_then(|id| id.as_str()).map_or_else(String::new, |id| format!(" {id}"))
}

fn time_field(text: Option<&str>, video_id: &str, field: &str) -> Result<Option<Timestamp>> {
    text.map(|t| parse_rfc3339(t).map_err(|e| anyhow!("video {video_id}: field `{field}`: {e}"))).transpose()
}

/// `PT1H2M3S`, `P1DT2H`, `PT0S`, `P0D` (live) → seconds. Years and months have no fixed
/// length and never occur in video durations: refused.
pub fn iso_duration_s(text: &str) -> Result<f64> {
    let rest = text.strip_prefix('P').ok_or_else(|| anyhow!("{text:?} is not an ISO 8601 duration"))?;
    let mut total = 0.0;
    let mut number = String::new();
    let mut in_time = false;
    let mut seen_unit = false;
    for c in rest.chars() {
        match c {
            'T' if !in_time && number.is_empty() => in_time = true,
            '0'..='9' | '.' => number.push(c),
            unit => {
                let n: f64 = number.parse().map_err(|_| anyhow!("{text:?}: no number before `{unit}`"))?;
                total += n * match (in_time, unit) {
                    (false, 'W') => 604_800.0,
                    (false, 'D') => 86_400.0,
                    (true, 'H') => 3_600.0,
                    (true, 'M') => 60.0,
                    (true, 'S') => 1.0,
                    _ => bail!("{text:?}: unit `{unit}` not allowed here"),
                };
                number.clear();
                seen_unit = true;
            }
        }
    }
    if !number.is_empty() || !seen_unit {
        bail!("{text:?} is not an ISO 8601 duration");
    }
    Ok(total)
}

/// The Data API has no Shorts flag. A Short is at most three minutes long; a video that
/// short is taken for one when it is under a minute or says `#shorts`.
fn is_short(duration_s: f64, title: &str, description: &str, tags: &[String]) -> bool {
    let says_short = |s: &str| s.to_lowercase().contains("#shorts");
    duration_s > 0.0
        && duration_s <= 180.0
        && (duration_s <= 60.0 || says_short(title) || says_short(description) || tags.iter().any(|t| says_short(t)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_of_the_wrong_type_is_named_by_its_field() {
        let item =
            serde_json::json!({"kind": "youtube#video", "id": "dQw4w9WgXcQ", "snippet": {"title": null, "tags": "x"}});
        let err = video(&item, &HashMap::new()).unwrap_err().to_string();
        assert!(err.starts_with("video item dQw4w9WgXcQ: field `snippet.tags`: invalid type"), "{err}");
        let item = serde_json::json!({"snippet": {"resourceId": {"videoId": "dQw4w9WgXcQ"}}, "contentDetails": 3});
        let err = video_from_playlist_item(&item).unwrap_err().to_string();
        assert!(err.starts_with("playlist item dQw4w9WgXcQ: field `contentDetails`: invalid type"), "{err}");
    }

    #[test]
    fn iso_durations() {
        assert_eq!(iso_duration_s("PT21M7S").unwrap(), 1267.0);
        assert_eq!(iso_duration_s("PT1H").unwrap(), 3600.0);
        assert_eq!(iso_duration_s("P1DT2H3M4S").unwrap(), 86_400.0 + 7384.0);
        assert_eq!(iso_duration_s("P0D").unwrap(), 0.0);
        assert_eq!(iso_duration_s("PT0.5S").unwrap(), 0.5);
        for bad in ["", "P", "PT", "21M", "PT5", "P1M", "PTxS", "P5H"] {
            assert!(iso_duration_s(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_full_video_item() {
        let item = serde_json::json!({
            "id": "abc", "snippet": {"publishedAt": "2024-01-02T03:04:05Z", "channelId": "UCx", "title": "T #Shorts",
              "description": "d", "channelTitle": "C", "tags": ["a"], "categoryId": "28", "liveBroadcastContent": "none"},
            "contentDetails": {"duration": "PT45S"}
        });
        let cats = HashMap::from([("28".to_string(), "Science & Technology".to_string())]);
        let v = video(&item, &cats).unwrap();
        assert_eq!((v.duration_s, v.short, v.live.as_deref()), (Some(45.0), Some(true), None));
        assert_eq!(v.category.as_deref(), Some("Science & Technology"));
        let live = serde_json::json!({"id": "l", "snippet": {"title": "L", "liveBroadcastContent": "none"},
            "liveStreamingDetails": {"actualStartTime": "2024-01-01T00:00:00Z"}, "contentDetails": {"duration": "PT2H"}});
        let v = video(&live, &HashMap::new()).unwrap();
        assert_eq!((v.live.as_deref(), v.short), (Some("completed"), Some(false)));
        let err = video(
            &serde_json::json!({"id": "x", "snippet": {"title": "t"}, "contentDetails": {"duration": "5 min"}}),
            &cats,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("video x: field `contentDetails.duration`"), "{err}");
    }

    /// Every real response in ../shared/data/youtube-api parses, with the record counts of
    /// each file (the samples missing is a failure, not a pass).
    #[test]
    fn every_real_sample_parses() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/youtube-api");
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("the real samples {} are missing (../shared/data): {e}", dir.display()));
        let expected: HashMap<&str, usize> = HashMap::from([
            ("apidata__videos__videos_info_multi.json", 2),
            ("apidata__videos__videos_info_single.json", 1),
            ("apidata__videos__videos_chart_paged_1.json", 5),
            ("apidata__videos__videos_chart_paged_2.json", 3),
            ("modeldata__videos__video_api_response.json", 1),
            ("apidata__playlist_items__playlist_items_paged_1.json", 10),
            ("apidata__playlist_items__playlist_items_paged_2.json", 3),
        ]);
        let mut seen = 0;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let page: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(entry.path()).unwrap()).unwrap();
            let items = page["items"].as_array().cloned().unwrap_or_default();
            let parsed = match page["kind"].as_str() {
                Some("youtube#videoListResponse") => {
                    items.iter().map(|i| video(i, &HashMap::new()).unwrap()).collect::<Vec<_>>().len()
                }
                Some("youtube#playlistItemListResponse") => {
                    items.iter().filter_map(|i| video_from_playlist_item(i).unwrap()).count()
                }
                _ => continue,
            };
            assert_eq!(Some(&parsed), expected.get(name.as_str()), "{name}");
            seen += 1;
        }
        assert_eq!(seen, expected.len());
    }

    #[test]
    fn private_playlist_entries_give_nothing() {
        let item = serde_json::json!({"snippet": {"title": "Private video", "resourceId": {"videoId": "p"}}});
        assert!(video_from_playlist_item(&item).unwrap().is_none());
        assert_eq!(playlist_video_id(&item).as_deref(), Some("p"));
    }
}
