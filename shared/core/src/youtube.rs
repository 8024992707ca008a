//! What a YouTube URL or page title says, the one reading of them that Takeout's entries,
//! the browser's tabs and windows (ActivityWatch) and the page all share: which video a
//! URL opens, and the video's title inside a tab's or a window's title.

/// The video a watch URL opens, in every form YouTube has: `www.`, `m.` and
/// `music.youtube.com/watch?v=ID` (with any other parameters, in any order), `youtu.be/ID`,
/// `/shorts/ID`, `/live/ID` and `/embed/ID` (also on `youtube-nocookie.com`). `None` for
/// posts, channels, searches and other pages.
pub fn video_id_from_url(url: &str) -> Option<String> {
    let (host, path, query) = url_parts(url);
    let id = match host {
        "youtube.com" if path == "watch" => {
            query.split('&').find_map(|kv| kv.strip_prefix("v=")).map(|v| v.split('#').next().unwrap_or(v))
        }
        "youtube.com" | "youtube-nocookie.com" => ["shorts/", "live/", "embed/"]
            .iter()
            .find_map(|prefix| path.strip_prefix(prefix))
            .map(|rest| rest.split(['/', '#']).next().unwrap_or(rest)),
        "youtu.be" => Some(path.split(['/', '#']).next().unwrap_or(path)),
        _ => None,
    }?;
    crate::records::is_video_id(id).then(|| id.to_string())
}

/// A YouTube URL's host (without `www.`, `m.`, `music.`), path and query.
pub fn url_parts(url: &str) -> (&str, &str, &str) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let (host, path_query) = rest.split_once('/').unwrap_or((rest, ""));
    let host = host.trim_start_matches("www.").trim_start_matches("m.").trim_start_matches("music.");
    let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
    (host, path, query)
}

/// The video's title in a YouTube tab's title: without the site's " - YouTube" (or
/// " - YouTube Music") and without the count of unread notifications YouTube puts first,
/// "(3) ". `None` where nothing is left (a page still loading is titled "YouTube").
pub fn title_of_tab(tab_title: &str) -> Option<String> {
    let title = without_notification_count(tab_title.trim());
    let title =
        ["- YouTube Music", "- YouTube"].iter().find_map(|site| title.strip_suffix(site)).unwrap_or(title).trim_end();
    (!title.is_empty() && title != "YouTube" && title != "YouTube Music").then(|| title.to_string())
}

/// The browser names a window title ends with after the page's title ("Title - YouTube -
/// Google Chrome", "Title - YouTube — Mozilla Firefox", "… - Microsoft​ Edge").
const BROWSERS: &[&str] =
    &["Google Chrome", "Chromium", "Mozilla Firefox", "Firefox", "Microsoft Edge", "Brave", "Opera", "Vivaldi"];

/// The video's title in a browser window's title, where the window shows a YouTube page:
/// "(2) Title - YouTube - Google Chrome" → "Title" (YouTube Music's too). `None` for any
/// other window.
pub fn title_of_window(window_title: &str) -> Option<String> {
    // Edge writes "Microsoft\u{200b} Edge" and may add "and 2 more pages - Personal".
    let cleaned = window_title.replace('\u{200b}', "");
    let (page, rest) = cleaned.rsplit_once(" - YouTube").or_else(|| cleaned.rsplit_once(" – YouTube"))?;
    let rest = rest.strip_prefix(" Music").unwrap_or(rest);
    let follows = [" - ", " — ", " – ", " and "].iter().any(|sep| rest.starts_with(sep));
    if !follows || !BROWSERS.iter().any(|b| rest.contains(b)) {
        return None;
    }
    let title = without_notification_count(page.trim()).trim();
    (!title.is_empty()).then(|| title.to_string())
}

/// "(3) Title" → "Title"; "(3)" alone or "(live)" stay.
fn without_notification_count(title: &str) -> &str {
    let Some(rest) = title.strip_prefix('(') else { return title };
    let Some((count, after)) = rest.split_once(") ") else { return title };
    let count = count.trim_end_matches('+');
    match !count.is_empty() && count.bytes().all(|b| b.is_ascii_digit()) {
        true => after,
        false => title,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_a_watch_url() {
        let id = |url: &str| video_id_from_url(url);
        for url in [
            "https://www.youtube.com/watch?v=YIcNZERTDOY",
            "https://m.youtube.com/watch?v=YIcNZERTDOY&pp=ygUEcnVzdA%3D%3D",
            "https://music.youtube.com/watch?v=YIcNZERTDOY&list=RDAMVM",
            "https://www.youtube.com/watch?feature=share&v=YIcNZERTDOY&t=30s#comments",
            "https://youtu.be/YIcNZERTDOY?si=abc",
            "https://www.youtube.com/shorts/YIcNZERTDOY",
            "https://www.youtube.com/live/YIcNZERTDOY?feature=share",
            "https://www.youtube-nocookie.com/embed/YIcNZERTDOY",
            "youtube.com/watch?v=YIcNZERTDOY",
        ] {
            assert_eq!(id(url).as_deref(), Some("YIcNZERTDOY"), "{url}");
        }
        for url in [
            "https://www.youtube.com/",
            "https://www.youtube.com/results?search_query=rust",
            "https://www.youtube.com/@LetsGetRusty",
            "https://www.youtube.com/channel/UCj_9basIcwkAABCDEFGHIJK",
            "https://www.youtube.com/post/UgkxsmO11W1xcb7O7JNTqEDg7PUhGm1GZ6SA",
            "https://www.youtube.com/watch?v=",
            "https://www.youtube.com/watch?v=bad%20id",
            "https://example.org/watch?v=YIcNZERTDOY",
            "https://www.google.com/url?q=https://www.youtube.com/watch?v=YIcNZERTDOY",
        ] {
            assert_eq!(id(url), None, "{url}");
        }
    }

    #[test]
    fn titles_of_tabs_and_windows() {
        assert_eq!(title_of_tab("(3) Rust 1.95 is out - YouTube").as_deref(), Some("Rust 1.95 is out"));
        assert_eq!(title_of_tab("(99+) ไทย ซีรีส์ ตอนที่ 12 - YouTube").as_deref(), Some("ไทย ซีรีส์ ตอนที่ 12"));
        assert_eq!(title_of_tab("Watermelon Man - YouTube Music").as_deref(), Some("Watermelon Man"));
        assert_eq!(title_of_tab("(live) Launch day - YouTube").as_deref(), Some("(live) Launch day"));
        assert_eq!(title_of_tab("YouTube"), None);
        assert_eq!(title_of_tab("(2) YouTube"), None);
        assert_eq!(
            title_of_window("(2) Rust 1.95 is out - YouTube - Google Chrome").as_deref(),
            Some("Rust 1.95 is out")
        );
        assert_eq!(title_of_window("Café - YouTube — Mozilla Firefox").as_deref(), Some("Café"));
        assert_eq!(
            title_of_window("Tokio - YouTube and 2 more pages - Personal - Microsoft\u{200b} Edge").as_deref(),
            Some("Tokio")
        );
        assert_eq!(
            title_of_window("Watermelon Man - YouTube Music - Google Chrome").as_deref(),
            Some("Watermelon Man")
        );
        assert_eq!(title_of_window("Top 10 - YouTube alternatives - Google Chrome"), None);
        assert_eq!(title_of_window("lib.rs - vrd - Visual Studio Code"), None);
        assert_eq!(title_of_window("How YouTube works - Wikipedia - Google Chrome"), None);
        assert_eq!(title_of_window("YouTube - Google Chrome"), None);
    }
}
