//! Whether labels are about videos the store holds (`add`, `import`); reading label files
//! is `vrd_core::label_files`.

use anyhow::{bail, Result};
use vrd_core::records::Label;
use vrd_store::Store;

/// Refuses labels of videos the store has never seen (a typo would silently train on
/// nothing), naming where each came from.
pub fn check_known(store: &Store, labels: &[Label], origin: impl Fn(usize) -> String) -> Result<()> {
    let known = store.known_video_ids(labels.iter().map(|l| l.video_id.as_str()))?;
    if let Some((i, l)) = labels.iter().enumerate().find(|(_, l)| !known.contains(&l.video_id)) {
        let unknown = labels.iter().filter(|l| !known.contains(&l.video_id)).count();
        bail!(
            "{}: unknown video id {:?} ({unknown} unknown in all): not in {}; ingest it first \
             (vrd-ingest … --db) or pass --allow-unknown",
            origin(i),
            l.video_id,
            store.path().display()
        );
    }
    Ok(())
}
