//! The ActivityWatch options, one group for every tool that asks a server (vrd-ingest aw,
//! vrd-rank, vrd-label): the same flags, environment variables and meaning everywhere.

use crate::client::{Client, DEFAULT_SERVER};
use crate::hosts::Hosts;
use anyhow::Result;
use std::path::PathBuf;

/// The environment variable that may hold the server's API key.
pub const API_KEY_ENV: &str = "VRD_AW_API_KEY";

#[derive(clap::Args, Debug, Clone)]
pub struct AwOptions {
    /// The ActivityWatch server.
    #[arg(long, env = "VRD_AW_SERVER", default_value = DEFAULT_SERVER, alias = "server", value_name = "URL")]
    pub aw_server: String,
    /// Whose timeline: a host name, repeatable or comma-separated (a desktop and a phone;
    /// a phone's aw-android reports `unknown`). Default: the server's own host, or an
    /// export's only one.
    #[arg(long, env = "VRD_AW_HOSTNAME", alias = "hostname", value_delimiter = ',', value_name = "HOST")]
    pub aw_hostname: Vec<String>,
    /// Every host that has a window watcher, each event tagged with its host.
    #[arg(long, conflicts_with = "aw_hostname")]
    pub aw_all_hosts: bool,
    /// A file holding the server's API key (readable by its owner only); else
    /// VRD_AW_API_KEY.
    #[arg(long, env = "VRD_AW_API_KEY_FILE", alias = "api-key-file", value_name = "FILE")]
    pub aw_api_key_file: Option<PathBuf>,
    /// Count time with an audible browser tab (aw-watcher-web) as active: a video playing
    /// with hands off the keyboard looks AFK to the AFK watcher otherwise.
    #[arg(long)]
    pub aw_audible_active: bool,
}

impl AwOptions {
    /// A client for the server, with the API key from the key file or the environment.
    pub fn client(&self) -> Result<Client> {
        let key = vrd_core::secrets::secret(self.aw_api_key_file.as_deref(), API_KEY_ENV)?;
        Client::new(&self.aw_server, key)
    }

    /// Refuses what [`AwOptions::client`] would refuse (a key file others can read),
    /// without making the client (its TLS setup costs a tenth of a second).
    pub fn check(&self) -> Result<()> {
        vrd_core::secrets::secret(self.aw_api_key_file.as_deref(), API_KEY_ENV).map(drop)
    }

    pub fn hosts(&self) -> Hosts {
        match (self.aw_all_hosts, self.aw_hostname.is_empty()) {
            (true, _) => Hosts::All,
            (false, true) => Hosts::Default,
            (false, false) => Hosts::Named(self.aw_hostname.clone()),
        }
    }
}
