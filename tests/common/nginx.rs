//! Debian's nginx, started by a test on a free loopback port with the
//! `server` block it gives, in a scratch folder; stopped when dropped.
//! `scripts/test` installs it.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Nginx {
    pub port: u16,
    /// The access log, one line per request in the test's `log_format`.
    pub log: PathBuf,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Starts nginx with one `server` whose text `server` may use `@PORT@`
/// (the port it listens on) and `@DIR@` (its folder, where the test put
/// certificates). Requests are logged as `$connection $server_protocol
/// $request_uri`.
pub fn start(server: &str, files: &[(&str, &[u8])]) -> Nginx {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let port = free_port();
    let log = dir.path().join("access.log");
    let conf = format!(
        r#"worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 256; }}
http {{
    log_format conns '$connection $server_protocol $request_uri';
    access_log {d}/access.log conns;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    default_type application/json;
    {}
}}
"#,
        server
            .replace("@PORT@", &port.to_string())
            .replace("@DIR@", &d)
    );
    let conf_path = dir.path().join("nginx.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let child = Command::new("nginx")
        .arg("-c")
        .arg(&conf_path)
        .arg("-e")
        .arg(dir.path().join("error.log"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx is installed (scripts/test installs it)");
    let nginx = Nginx {
        port,
        log,
        child,
        _dir: dir,
    };
    super::poll_until(Duration::from_secs(10), "nginx listening", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    nginx
}

impl Nginx {
    /// The access log's lines.
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}
