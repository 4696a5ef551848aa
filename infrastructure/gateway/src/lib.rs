//! The nginx gateway of `infrastructure/nginx/nginx.conf`, run on this machine with Debian's
//! nginx instead of in a container: the same file, rendered for local addresses (`render`),
//! written with a self-signed certificate into a directory of its own (`Gateway::prepare`),
//! and started with that directory as nginx's prefix (`Gateway::nginx_command`).
//! `cargo xtask up --instances N` and the gateway tests both go through here, so what they
//! prove is the configuration the containers run.
//!
//! Rendering replaces only what names the container network — the instances' and the shop's
//! addresses, the listening ports, the certificate's and the pid file's paths — and refuses a
//! file in which one of those lines is missing: a change to `nginx.conf` that the local
//! stack would silently not follow fails here first.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The gateway's configuration in the repository, relative to the workspace root.
pub const TEMPLATE: &str = "infrastructure/nginx/nginx.conf";

/// Where the rendered gateway listens and what it balances.
#[derive(Debug, Clone)]
pub struct Local {
    /// Plain HTTP: the gateway's probe, and redirects to HTTPS.
    pub http: SocketAddr,
    pub https: SocketAddr,
    /// The storefront-api instances, in the upstream's order.
    pub api: Vec<SocketAddr>,
    pub shop: SocketAddr,
}

/// A line of the template that rendering needs and did not find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingLine(pub &'static str);

impl fmt::Display for MissingLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{TEMPLATE} has no line `{}`: the local gateway cannot follow the change",
            self.0
        )
    }
}

impl std::error::Error for MissingLine {}

/// The container's `upstream` entries (Docker's DNS names), replaced by local addresses.
const API_SERVER: &str = "server storefront-api:8080";
const SHOP_SERVER: &str = "server web-shop:3000";
const HTTP_LISTEN: &str = "listen 80;";
const HTTPS_LISTEN: &str = "listen 443 ssl;";
const CERTIFICATE: &str = "ssl_certificate /etc/nginx/tls/tls.crt;";
const CERTIFICATE_KEY: &str = "ssl_certificate_key /etc/nginx/tls/tls.key;";
const PID: &str = "pid /var/run/nginx.pid;";
const REDIRECT: &str = "return 308 https://$host$request_uri;";
const HTTP_BLOCK: &str = "http {";

/// nginx's temporary folders, each in the gateway's directory (the package's defaults under
/// /var/lib/nginx need root to create).
const TEMP_PATHS: [(&str, &str); 5] = [
    ("client_body_temp_path", "client_body"),
    ("proxy_temp_path", "proxy"),
    ("fastcgi_temp_path", "fastcgi"),
    ("uwsgi_temp_path", "uwsgi"),
    ("scgi_temp_path", "scgi"),
];

/// `template` for the local addresses of `local`, with its pid file, temporary files and
/// certificate in `dir`.
pub fn render(template: &str, local: &Local, dir: &Path) -> Result<String, MissingLine> {
    let dir = dir.display();
    let mut rendered = String::with_capacity(template.len() + 512);
    let mut seen = Vec::new();
    for line in template.lines() {
        let code = line.trim_start();
        let indent = &line[..line.len() - code.len()];
        let mut emit = |text: String| {
            rendered.push_str(indent);
            rendered.push_str(&text);
            rendered.push('\n');
        };
        let found = if let Some(rest) = code.strip_prefix(API_SERVER) {
            for address in &local.api {
                emit(format!("server {address}{rest}"));
            }
            Some(API_SERVER)
        } else if let Some(rest) = code.strip_prefix(SHOP_SERVER) {
            emit(format!("server {}{rest}", local.shop));
            Some(SHOP_SERVER)
        } else if code == HTTP_LISTEN {
            emit(format!("listen {};", local.http));
            Some(HTTP_LISTEN)
        } else if code == HTTPS_LISTEN {
            emit(format!("listen {} ssl;", local.https));
            Some(HTTPS_LISTEN)
        } else if code == CERTIFICATE {
            emit(format!("ssl_certificate {dir}/tls/tls.crt;"));
            Some(CERTIFICATE)
        } else if code == CERTIFICATE_KEY {
            emit(format!("ssl_certificate_key {dir}/tls/tls.key;"));
            Some(CERTIFICATE_KEY)
        } else if code == PID {
            emit(format!("pid {dir}/nginx.pid;"));
            Some(PID)
        } else if code == REDIRECT {
            // Locally HTTPS is not on 443: the redirect names its port.
            emit(format!(
                "return 308 https://$host:{}$request_uri;",
                local.https.port()
            ));
            Some(REDIRECT)
        } else if code == HTTP_BLOCK {
            emit(code.to_owned());
            // Request bodies and buffered answers in the gateway's own directory, not in
            // the package's /var/lib/nginx (another nginx may use it).
            for (directive, folder) in TEMP_PATHS {
                emit(format!("    {directive} {dir}/temp/{folder};"));
            }
            Some(HTTP_BLOCK)
        } else {
            emit(code.to_owned());
            None
        };
        seen.extend(found);
    }
    for needed in [
        API_SERVER,
        SHOP_SERVER,
        HTTP_LISTEN,
        HTTPS_LISTEN,
        CERTIFICATE,
        CERTIFICATE_KEY,
        PID,
        REDIRECT,
        HTTP_BLOCK,
    ] {
        if !seen.contains(&needed) {
            return Err(MissingLine(needed));
        }
    }
    Ok(rendered)
}

/// A gateway directory ready for nginx: the rendered configuration, a certificate, the
/// temporary folders.
#[derive(Debug, Clone)]
pub struct Gateway {
    pub dir: PathBuf,
    pub local: Local,
}

impl Gateway {
    /// Renders `template` into `dir/nginx.conf` and makes a self-signed certificate for
    /// `localhost` and 127.0.0.1 (kept while `dir/tls` has one valid for another day: a
    /// browser that accepted it once is not asked again).
    pub fn prepare(template: &str, local: Local, dir: &Path) -> anyhow::Result<Self> {
        use std::os::unix::fs::PermissionsExt;
        let conf = render(template, &local, dir)?;
        std::fs::create_dir_all(dir.join("tls"))?;
        for (_, folder) in TEMP_PATHS {
            let folder = dir.join("temp").join(folder);
            std::fs::create_dir_all(&folder)?;
            // Started as root, nginx's workers run as `nobody` and write request bodies
            // there (the folders above must let it through too).
            if is_root() {
                std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o777))?;
            }
        }
        std::fs::write(dir.join("nginx.conf"), conf)?;
        let gateway = Self {
            dir: dir.to_path_buf(),
            local,
        };
        if !gateway.certificate_lasts_a_day() {
            gateway.make_certificate()?;
        }
        Ok(gateway)
    }

    /// The authority that signed the certificate HTTPS serves (PEM): clients that should
    /// trust the gateway add it (`curl --cacert`, a browser's authorities).
    pub fn certificate(&self) -> PathBuf {
        Self::certificate_in(&self.dir)
    }

    /// The same, for a gateway prepared in `dir` by another process.
    pub fn certificate_in(dir: &Path) -> PathBuf {
        dir.join("tls/authority.crt")
    }

    /// The pid file of nginx's master process.
    pub fn pid_file(&self) -> PathBuf {
        self.dir.join("nginx.pid")
    }

    pub fn https_url(&self) -> String {
        format!("https://localhost:{}", self.local.https.port())
    }

    pub fn http_url(&self) -> String {
        format!("http://{}", self.local.http)
    }

    /// nginx in the foreground (`daemon off`, so the child is the master: stopping it stops
    /// the gateway) on this directory; logs to stdout and stderr. Callers choose how it runs.
    pub fn nginx_command(&self, nginx: &Path) -> Command {
        let mut command = Command::new(nginx);
        command.args(self.nginx_args());
        command
    }

    /// The arguments of [`Gateway::nginx_command`], for a caller that starts nginx its own way.
    pub fn nginx_args(&self) -> Vec<String> {
        let dir = self.dir.display();
        vec![
            // Before it reads the file, nginx opens its compiled-in error log unless told.
            "-e".into(),
            "stderr".into(),
            "-p".into(),
            format!("{dir}/"),
            "-c".into(),
            format!("{dir}/nginx.conf"),
            "-g".into(),
            "daemon off;".into(),
        ]
    }

    fn certificate_lasts_a_day(&self) -> bool {
        Command::new("openssl")
            .args(["x509", "-checkend", "86400", "-noout", "-in"])
            .arg(self.dir.join("tls/tls.crt"))
            .output()
            .is_ok_and(|output| output.status.success())
    }

    /// A certificate authority of the gateway's own and the server certificate it signs for
    /// `localhost` and 127.0.0.1. Two, not one self-signed certificate: TLS clients such as
    /// rustls refuse a CA certificate presented as the server's own.
    fn make_certificate(&self) -> anyhow::Result<()> {
        let tls = self.dir.join("tls");
        std::fs::write(
            tls.join("server.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\n\
             basicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature,keyEncipherment\n\
             extendedKeyUsage=serverAuth\n",
        )?;
        let days = CERTIFICATE_DAYS.to_string();
        openssl(
            Command::new("openssl")
                .args([
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", &days,
                ])
                .args(["-subj", "/CN=Nexus local gateway authority"])
                .args(["-addext", "basicConstraints=critical,CA:TRUE"])
                .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"])
                .arg("-keyout")
                .arg(tls.join("authority.key"))
                .arg("-out")
                .arg(tls.join("authority.crt")),
        )?;
        openssl(
            Command::new("openssl")
                .args([
                    "req",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-subj",
                    "/CN=localhost",
                ])
                .arg("-keyout")
                .arg(tls.join("tls.key"))
                .arg("-out")
                .arg(tls.join("tls.csr")),
        )?;
        openssl(
            Command::new("openssl")
                .args(["x509", "-req", "-days", &days, "-CAcreateserial"])
                .arg("-in")
                .arg(tls.join("tls.csr"))
                .arg("-CA")
                .arg(tls.join("authority.crt"))
                .arg("-CAkey")
                .arg(tls.join("authority.key"))
                .arg("-extfile")
                .arg(tls.join("server.ext"))
                .arg("-out")
                .arg(tls.join("tls.crt")),
        )
    }
}

/// How long the local certificates last (they are made again a day before they end).
const CERTIFICATE_DAYS: u32 = 90;

fn openssl(command: &mut Command) -> anyhow::Result<()> {
    let output = command
        .output()
        .map_err(|error| anyhow::anyhow!("cannot run openssl: {error}"))?;
    anyhow::ensure!(
        output.status.success(),
        "openssl could not make the gateway's certificate: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

fn is_root() -> bool {
    // The owner of this process's own /proc entry is its effective user.
    std::fs::metadata("/proc/self").is_ok_and(|meta| {
        use std::os::unix::fs::MetadataExt;
        meta.uid() == 0
    })
}

/// Where Debian's nginx is (`/usr/sbin` is not on every user's PATH).
pub fn nginx_binary() -> Option<PathBuf> {
    let candidates = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/sbin")]);
    candidates
        .map(|dir| dir.join("nginx"))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local() -> Local {
        Local {
            http: "127.0.0.1:18080".parse().unwrap(),
            https: "127.0.0.1:18443".parse().unwrap(),
            api: vec![
                "127.0.0.1:18081".parse().unwrap(),
                "127.0.0.1:18082".parse().unwrap(),
            ],
            shop: "127.0.0.1:13000".parse().unwrap(),
        }
    }

    fn template() -> String {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        std::fs::read_to_string(root.join(TEMPLATE)).unwrap()
    }

    #[test]
    fn the_repositorys_gateway_renders_for_local_addresses() {
        let conf = render(&template(), &local(), Path::new("/tmp/gw")).unwrap();
        assert!(conf.contains("server 127.0.0.1:18081 max_fails=3 fail_timeout=10s;"));
        assert!(conf.contains("server 127.0.0.1:18082 max_fails=3 fail_timeout=10s;"));
        assert!(conf.contains("server 127.0.0.1:13000 "));
        assert!(conf.contains("listen 127.0.0.1:18443 ssl;"));
        assert!(conf.contains("return 308 https://$host:18443$request_uri;"));
        assert!(conf.contains("ssl_certificate_key /tmp/gw/tls/tls.key;"));
        assert!(conf.contains("pid /tmp/gw/nginx.pid;"));
        assert!(!conf.contains("storefront-api:8080"));
        assert!(!conf.contains("/etc/nginx/tls"));
    }

    #[test]
    fn a_template_without_a_rendered_line_is_refused_by_name() {
        let changed = template().replace("listen 443 ssl;", "listen 443 ssl http2;");
        assert_eq!(
            render(&changed, &local(), Path::new("/tmp/gw")).unwrap_err(),
            MissingLine(HTTPS_LISTEN)
        );
    }
}
