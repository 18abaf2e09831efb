//! `quire-relay`: the relay binary. See `quire-relay --help`.

use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use quire_relay::auth::{self, Claims};
use quire_relay::config::{Command, TokenArgs};
use quire_relay::store::{MemoryStore, RedbStore, Store};
use quire_relay::{Config, Shared};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    if let Some(Command::Token(args)) = &config.command {
        return print_token(&config, args);
    }
    let auth = config.auth_secret().context("cannot use the auth secret")?;
    let filter = match &config.log {
        Some(f) => EnvFilter::try_new(f).context("invalid --log filter")?,
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    tracing_subscriber::fmt().with_env_filter(filter).init();

    let store: Arc<dyn Store> = if config.memory {
        Arc::new(MemoryStore::new())
    } else {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
        let store = RedbStore::open(&config.data_dir)
            .with_context(|| format!("cannot open the store in {}", config.data_dir.display()))?;
        Arc::new(store)
    };
    let mut settings = config.settings();
    settings.auth = auth;
    let auth = settings.auth.is_some();
    let shared = Shared::new(settings, store).context("cannot start the store writer")?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    println!("quire-relay listening on http://{addr}/");
    tracing::info!(%addr, memory = config.memory, auth, data_dir = %config.data_dir.display(), "started");
    quire_relay::serve(listener, shared, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// `quire-relay token`: prints a token for the configured secret.
fn print_token(config: &Config, args: &TokenArgs) -> anyhow::Result<()> {
    let secret = config
        .auth_secret()
        .context("cannot use the auth secret")?
        .context("no secret: pass --auth-secret-file PATH or set QUIRE_AUTH_SECRET")?;
    quire_core::sync::validate_doc_id(&args.doc)
        .map_err(|e| anyhow::anyhow!("--doc {:?}: {e}", args.doc))?;
    let claims = Claims {
        doc: args.doc.clone(),
        scope: args.scope,
        exp: auth::now_unix().saturating_add(args.ttl),
        replica: args.replica,
    };
    println!("{}", secret.mint(&claims));
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
