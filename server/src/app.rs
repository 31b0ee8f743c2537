//! Starting and stopping the whole server.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::auth::Jwt;
use crate::config::Config;
use crate::http::{self, HttpLimits};
use crate::providers::{Provider, StartError};
use crate::routes;
use crate::signal::limits::SocketLimits;
use crate::signal::memory::MemoryRegistry;
use crate::signal::redis::RedisRegistry;
use crate::signal::registry::Registry;
use crate::signal::Signaling;
use crate::state::AppState;

/// A bound, not yet serving, server.
pub struct Server {
    listener: TcpListener,
    addr: SocketAddr,
    state: Arc<AppState>,
    router: axum::Router,
    limits: HttpLimits,
}

impl Server {
    /// Binds the HTTP listener and starts the provider (and its TURN socket).
    pub async fn bind(config: Config) -> Result<Self, StartError> {
        let provider = Provider::start(&config.provider, config.credential_ttl).await?;
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| StartError(format!("cannot listen on {}: {e}", config.listen)))?;
        let addr = listener
            .local_addr()
            .map_err(|e| StartError(format!("cannot read the listen address: {e}")))?;
        let registry: Arc<dyn Registry> = match &config.redis_url {
            Some(url) => Arc::new(
                RedisRegistry::connect(url, config.signal.registry)
                    .await
                    .map_err(|e| StartError(format!("signaling: {e}")))?,
            ),
            None => Arc::new(MemoryRegistry::new(config.signal.registry)),
        };
        let state = Arc::new(AppState::new(
            Jwt::new(
                &config.jwt_secret,
                config.jwt_audience.as_deref(),
                config.jwt_issuer.as_deref(),
            ),
            provider,
            config.dev,
            Signaling::new(
                registry,
                SocketLimits::new(config.signal.sockets),
                config.cors_origins.clone(),
            ),
        ));
        let router = routes::router(Arc::clone(&state), &config.cors_origins);
        Ok(Self {
            listener,
            addr,
            state,
            router,
            limits: config.http,
        })
    }

    /// The state every handler shares (tests look at the signaling rooms).
    pub fn state(&self) -> Arc<AppState> {
        Arc::clone(&self.state)
    }

    /// The bound HTTP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The embedded TURN server's address, if that is the provider.
    pub fn turn_addr(&self) -> Option<SocketAddr> {
        match &self.state.provider {
            Provider::Embedded(p) => Some(p.local_addr()),
            _ => None,
        }
    }

    /// The startup line(s).
    pub fn banner(&self) -> String {
        let mut line = format!(
            "ice-peer-server listening on http://{} (provider: {})",
            self.addr,
            self.state.provider.describe()
        );
        if self.state.dev.is_some() {
            line.push_str(&format!("\ndev mode: demo at http://{}/", self.addr));
        }
        line
    }

    /// Serves until `shutdown` resolves, then finishes open requests and stops the provider.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let result = http::serve(self.listener, self.router, self.limits, shutdown).await;
        self.state.provider.shutdown().await;
        result
    }
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is
/// called, not when the future is first polled: call it before printing the
/// startup line, so a signal sent right after that line stops the server
/// gracefully instead of killing it.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{signal, SignalKind};
        [SignalKind::terminate(), SignalKind::interrupt()].map(|kind| signal(kind).ok())
    };
    async move {
        #[cfg(unix)]
        {
            let [term, interrupt] = signals;
            tokio::select! {
                () = received(term) => {},
                () = received(interrupt) => {},
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        tracing::info!("shutting down");
    }
}

#[cfg(unix)]
async fn received(signal: Option<tokio::signal::unix::Signal>) {
    match signal {
        Some(mut signal) => {
            signal.recv().await;
        }
        None => std::future::pending().await,
    }
}
