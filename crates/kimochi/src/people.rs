//! Commands about the running center: serving, tenants, users and API tokens.

use std::io::BufRead;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use kimochi_domain::{NewUser, Role, TenantSlug};
use kimochi_store::{Store, StoreError};
use kimochi_web::{AppState, WebConfig, auth};

use crate::cli::{ServeArgs, TenantCommand, TokenCommand, UserCommand};
use crate::config::Config;

pub async fn open(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    kimochi_store::open(&config.db).await.with_context(|| format!("opening the database {}", config.db_for_display()))
}

pub async fn tenant_id(store: &Arc<dyn Store>, slug: &str) -> anyhow::Result<kimochi_domain::TenantId> {
    match store.tenant_by_slug(slug).await {
        Ok(tenant) => Ok(tenant.id),
        Err(StoreError::NotFound(_)) => bail!("no tenant {slug:?}: create it with `kimochi tenant create {slug}`"),
        Err(error) => Err(error).context("reading tenants"),
    }
}

pub async fn serve(config: &Config, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let store = open(config).await?;
    listen(config, store, args.addr.as_deref()).await?;
    Ok(ExitCode::SUCCESS)
}

/// Binds the address and serves until interrupted.
pub async fn listen(config: &Config, store: Arc<dyn Store>, addr: Option<&str>) -> anyhow::Result<()> {
    let addr = config.addr(addr);
    let listener = tokio::net::TcpListener::bind(&addr).await.with_context(|| format!("listening on {addr}"))?;
    let local = listener.local_addr().context("reading the listening address")?;
    println!("kimochi is serving {} on http://{local}/  (database: {})", store.engine(), config.db_for_display());
    // Index the text engine's dictionary now rather than on the first recorded contact.
    kimochi_text::ContactTagger::shared().context("starting the text engine")?;
    let state = AppState::new(
        store,
        WebConfig { secure_cookies: config.secure_cookies, email: config.email.clone(), ..WebConfig::default() },
    )
    .with_search(crate::search::open_index(config, kimochi_search::IndexConfig::default())?);
    // Contacts written by imports, the demo or other servers are indexed within seconds.
    kimochi_web::search::spawn_catch_up(&state);
    // Campaign steps (issue 6) move on every minute.
    kimochi_web::campaigns::spawn_runner(&state);
    kimochi_web::serve(listener, state).await.context("serving HTTP")?;
    Ok(())
}

pub async fn tenant(config: &Config, command: TenantCommand) -> anyhow::Result<ExitCode> {
    let store = open(config).await?;
    match command {
        TenantCommand::Create { slug, name } => {
            let parsed = TenantSlug::parse(&slug).map_err(|e| anyhow::anyhow!("{e}"))?;
            let tenant = store
                .tenant_create(&parsed, name.as_deref().unwrap_or(&slug), crate::now())
                .await
                .with_context(|| format!("creating tenant {slug}"))?;
            println!("created tenant {} (id {})", tenant.slug, tenant.id);
        }
        TenantCommand::List => {
            for tenant in store.tenant_list().await.context("listing tenants")? {
                println!("{}\t{}\t{}", tenant.id, tenant.slug, tenant.name);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn read_password() -> anyhow::Result<String> {
    let password = match std::env::var("KIMOCHI_PASSWORD") {
        Ok(password) => password,
        Err(_) => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    if password.chars().count() < 8 {
        bail!("the password must have at least 8 characters");
    }
    Ok(password)
}

pub async fn user(config: &Config, command: UserCommand) -> anyhow::Result<ExitCode> {
    let store = open(config).await?;
    match command {
        UserCommand::Create { tenant, login, name, role, team } => {
            let tenant = tenant_id(&store, &tenant).await?;
            // Read and check the password before writing anything (the team may be new).
            let password = read_password()?;
            let team_id = match team {
                None => None,
                Some(team) => {
                    let teams = store.team_list(tenant).await.context("listing teams")?;
                    match teams.into_iter().find(|t| t.name == team) {
                        Some(found) => Some(found.id),
                        None => Some(store.team_create(tenant, &team).await.context("creating the team")?.id),
                    }
                }
            };
            let password_hash =
                auth::hash_password(&password).map_err(|e| anyhow::anyhow!("hashing the password: {e}"))?;
            let user = store
                .user_create(
                    tenant,
                    &NewUser { login, display_name: name, role: Role::from(role), team_id, password_hash },
                    crate::now(),
                )
                .await
                .context("creating the user")?;
            println!("created user {} ({}) id {}", user.login, user.role, user.id);
        }
        UserCommand::List { tenant } => {
            let tenant = tenant_id(&store, &tenant).await?;
            for user in store.user_list(tenant).await.context("listing users")? {
                println!("{}\t{}\t{}\t{}", user.id, user.login, user.role, user.display_name);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn token(config: &Config, command: TokenCommand) -> anyhow::Result<ExitCode> {
    let store = open(config).await?;
    match command {
        TokenCommand::Create { tenant, role, label } => {
            let tenant = tenant_id(&store, &tenant).await?;
            let (token, hash) = auth::new_api_token();
            store
                .api_token_create(tenant, Role::from(role), &label, &hash, crate::now())
                .await
                .context("storing the token")?;
            println!("{token}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
