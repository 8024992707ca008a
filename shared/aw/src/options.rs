//! What a tool asks of ActivityWatch: which server, whose timeline, the API key's file,
//! and whether an audible tab counts as active. The tools fill it from their command line
//! (vrd-cli's `AwArgs`).

use crate::client::Client;
use crate::hosts::Hosts;
use anyhow::Result;
use std::path::PathBuf;

/// The environment variable that may hold the server's API key.
pub const API_KEY_ENV: &str = "VRD_AW_API_KEY";

#[derive(Debug, Clone)]
pub struct AwOptions {
    /// The server's URL.
    pub server: String,
    pub hosts: Hosts,
    /// A file holding the server's API key (readable by its owner only); else
    /// [`API_KEY_ENV`].
    pub api_key_file: Option<PathBuf>,
    /// Count time with an audible browser tab (aw-watcher-web) as active.
    pub audible_active: bool,
}

impl AwOptions {
    /// A client for the server, with the API key from the key file or the environment.
    pub fn client(&self) -> Result<Client> {
        let key = vrd_core::secrets::secret(self.api_key_file.as_deref(), API_KEY_ENV)?;
        Client::new(&self.server, key)
    }

    /// Refuses what [`AwOptions::client`] would refuse (a key file others can read),
    /// without making the client.
    pub fn check(&self) -> Result<()> {
        vrd_core::secrets::secret(self.api_key_file.as_deref(), API_KEY_ENV).map(drop)
    }
}
