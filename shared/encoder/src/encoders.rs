//! The sentence encoders one run uses, each folder loaded once: a feed may need the media
//! model to complete the embeddings cache and to embed the searches, and the context model
//! to embed the activity (by default the same folder), and loading one costs a fraction of
//! a second for MiniLM and seconds for BGE-M3.

use anyhow::Result;
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use vrd_model::{SentenceEncoder, SentenceEncoderOptions};

#[derive(Default)]
pub struct Encoders {
    loaded: RefCell<Vec<(PathBuf, Rc<SentenceEncoder>)>>,
}

impl Encoders {
    /// The encoder of the folder `flag` names (default: `VRD_MODEL`, then the installed or
    /// packaged one), loaded on first use.
    pub fn get(&self, flag: Option<&Path>) -> Result<Rc<SentenceEncoder>> {
        let dir = crate::encoder_dir::resolve_encoder_dir(flag)?;
        if let Some((_, encoder)) = self.loaded.borrow().iter().find(|(loaded, _)| *loaded == dir) {
            return Ok(encoder.clone());
        }
        let encoder = Rc::new(SentenceEncoder::load(&dir, &SentenceEncoderOptions::default())?);
        self.loaded.borrow_mut().push((dir, encoder.clone()));
        Ok(encoder)
    }

    /// How many folders were loaded.
    pub fn loaded(&self) -> usize {
        self.loaded.borrow().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_loaded_once_however_often_it_is_asked_for() {
        let tiny = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/tiny-xlmr");
        let encoders = Encoders::default();
        let first = encoders.get(Some(&tiny)).unwrap();
        let again = encoders.get(Some(&tiny)).unwrap();
        assert!(Rc::ptr_eq(&first, &again));
        assert_eq!(encoders.loaded(), 1);
        assert!(encoders.get(Some(&tiny.join("missing"))).is_err());
        assert_eq!(encoders.loaded(), 1, "a folder that does not load is not kept");
    }
}
