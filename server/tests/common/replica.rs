//! The server binary as a separate process (a "replica"): killed on drop, or
//! with SIGKILL mid-call, as a crashed machine would be.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long a replica may take to print its listening line.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A running `ice-peer-server` process.
pub struct Replica {
    /// Its HTTP address (an ephemeral loopback port).
    pub addr: SocketAddr,
    child: Option<Child>,
}

impl Replica {
    /// Runs `bin --listen 127.0.0.1:0 --turn-listen 127.0.0.1:0 --provider
    /// embedded --jwt-secret <secret>` plus `args`, and waits for its
    /// listening line to learn the port.
    pub fn start(bin: &Path, jwt_secret: &str, args: &[&str]) -> Self {
        Self::start_with_env(bin, jwt_secret, args, &[])
    }

    /// [`Replica::start`] with `env` added to its environment (e.g.
    /// `TOKIO_WORKER_THREADS=1` for a replica with one core's worth of threads).
    pub fn start_with_env(
        bin: &Path,
        jwt_secret: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        let mut child = Command::new(bin)
            .env_remove("TWILIO_ACCOUNT_SID")
            .env_remove("TWILIO_AUTH_TOKEN")
            .env_remove("REDIS_URL")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .args(["--listen", "127.0.0.1:0", "--turn-listen", "127.0.0.1:0"])
            .args(["--provider", "embedded", "--jwt-secret", jwt_secret])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        // Reads the listening line, then drains stdout so the server never
        // writes into a closed pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let addr = loop {
            match rx.recv_timeout(START_TIMEOUT) {
                Ok(line) => {
                    if let Some(addr) = listening_addr(&line) {
                        break addr;
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("{} printed no listening line", bin.display());
                }
            }
        };
        Self {
            addr,
            child: Some(child),
        }
    }

    /// The process id (to read its memory in /proc).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `ws://<addr>/api/calls/signal?room=<room>`.
    pub fn signal_url(&self, room: &str) -> String {
        format!("ws://{}/api/calls/signal?room={room}", self.addr)
    }

    /// `http://<addr><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// SIGKILL: no graceful shutdown, sockets cut as by a crash.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The address in "ice-peer-server listening on http://127.0.0.1:PORT (…)".
fn listening_addr(line: &str) -> Option<SocketAddr> {
    let rest = line.split("listening on http://").nth(1)?;
    rest.split_whitespace().next()?.parse().ok()
}

/// Resident memory of a process in KiB (VmRSS in /proc/<pid>/status).
pub fn rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS:")
}

/// The most resident memory a process has had, in KiB (VmHWM): what it
/// held at its peak, even if it has freed it since.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmHWM:")
}

fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
