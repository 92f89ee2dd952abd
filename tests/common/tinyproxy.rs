//! Debian's tinyproxy, started by a test on a free loopback port with
//! Basic authentication (`trek` / `proxy-pass-123`); stopped when dropped.
//! Its log names every request it forwarded and every CONNECT tunnel.
//! `scripts/test` installs it.

use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const USER: &str = "trek";
pub const PASSWORD: &str = "proxy-pass-123";

pub struct Tinyproxy {
    pub port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start() -> Tinyproxy {
    let dir = tempfile::tempdir().unwrap();
    // tinyproxy drops to `nobody`, which must be able to write its log.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let d = dir.path().display();
    let conf = dir.path().join("tinyproxy.conf");
    std::fs::write(
        &conf,
        format!(
            "User nobody\nGroup nogroup\nPort {port}\nListen 127.0.0.1\nTimeout 60\nLogFile \"{d}/tinyproxy.log\"\nLogLevel Connect\nMaxClients 100\nAllow 127.0.0.1\nBasicAuth {USER} {PASSWORD}\n"
        ),
    )
    .unwrap();
    let child = Command::new("tinyproxy")
        .arg("-d")
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("tinyproxy is installed (scripts/test installs it)");
    let proxy = Tinyproxy { port, child, dir };
    super::poll_until(Duration::from_secs(10), "tinyproxy listening", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    proxy
}

impl Tinyproxy {
    /// `http://user:password@127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://{USER}:{PASSWORD}@127.0.0.1:{}", self.port)
    }

    /// The requests it has logged (`GET http://…`, `CONNECT host:port`).
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("tinyproxy.log"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once("]: Request (file descriptor "))
            .filter_map(|(_, rest)| rest.split_once("): ").map(|(_, r)| r.to_string()))
            .collect()
    }
}
