//! The ActivityWatch option group, one for every tool that asks a server (vrd-ingest aw,
//! vrd-rank, vrd-label): the same flags, environment variables and meaning everywhere.

use std::path::PathBuf;
use vrd_aw::client::DEFAULT_SERVER;
use vrd_aw::hosts::Hosts;
use vrd_aw::options::AwOptions;

#[derive(clap::Args, Debug, Clone)]
pub struct AwArgs {
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

impl AwArgs {
    /// What the command line asked of ActivityWatch, as the library takes it.
    pub fn options(&self) -> AwOptions {
        AwOptions {
            server: self.aw_server.clone(),
            hosts: Hosts::chosen(&self.aw_hostname, self.aw_all_hosts),
            api_key_file: self.aw_api_key_file.clone(),
            audible_active: self.aw_audible_active,
        }
    }
}
