//! HTTP routes: the WebSocket endpoint, health, status, metrics, document
//! reads and static files.

use std::sync::Arc;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use quire_core::sync::validate_doc_id;
use serde_json::json;
use tower_http::services::ServeDir;

use crate::auth::{self, TokenError};
use crate::room::{materialise, Command, DocView};
use crate::state::Shared;

/// WebSocket read buffer per connection (tungstenite's default is 128 KiB).
const READ_BUFFER: usize = 4096;
/// Bytes buffered before a write is flushed to the socket.
const WRITE_BUFFER: usize = 4096;

/// The relay's routes over `shared`.
pub fn router(shared: Arc<Shared>) -> Router {
    let mut app = Router::new()
        .route("/ws/{doc_id}", get(websocket))
        .route("/health", get(health))
        .route("/status", get(status))
        .route("/docs/{doc_id}", get(document))
        .route("/metrics", get(metrics));
    // A missing directory only makes its files 404.
    if let Some(pkg) = &shared.settings.pkg {
        app = app.nest_service("/pkg", ServeDir::new(pkg));
    }
    if let Some(www) = &shared.settings.www {
        app = app.fallback_service(ServeDir::new(www));
    }
    app.with_state(shared)
}

async fn websocket(
    State(shared): State<Arc<Shared>>,
    Path(doc_id): Path<String>,
    ws: WebSocketUpgrade,
) -> Response {
    let max = shared.settings.max_message;
    let guard = shared.try_connect();
    ws.max_message_size(max)
        .max_frame_size(max)
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .on_upgrade(move |socket| crate::conn::serve(socket, doc_id, shared, guard))
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// With auth on, `/status` names no documents or users (anyone can read
/// it): only how many connections and loaded documents there are.
async fn status(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    if shared.settings.auth.is_some() {
        return Json(json!({
            "auth": true,
            "connections": shared.connections(),
            "loaded_documents": shared.loaded_documents(),
        }));
    }
    Json(json!({
        "connections": shared.connections(),
        "documents": shared.status(),
    }))
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        shared.metrics.render(),
    )
        .into_response()
}

fn json_error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

async fn document(
    State(shared): State<Arc<Shared>>,
    Path(doc_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = validate_doc_id(&doc_id) {
        return json_error(StatusCode::BAD_REQUEST, e.to_string());
    }
    // Before the lookup, so a refusal says nothing about whether it exists.
    if let Some(refusal) = refuse_read(&shared, &headers, &doc_id) {
        return refusal;
    }
    match read_document(&shared, &doc_id).await {
        Ok(Some(view)) => Json(view).into_response(),
        Ok(None) => json_error(StatusCode::NOT_FOUND, format!("no document {doc_id:?}")),
        Err(e) => json_error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

/// With auth on, a read needs `Authorization: Bearer <token>` for `doc_id`
/// (either scope): the refusal is 401 without a usable token, 403 for
/// another document.
fn refuse_read(shared: &Shared, headers: &HeaderMap, doc_id: &str) -> Option<Response> {
    let secret = shared.settings.auth.as_ref()?;
    let token = match headers.get(header::AUTHORIZATION) {
        None => Ok(None),
        Some(value) => (value.to_str().ok())
            .and_then(auth::bearer_token)
            .map(Some)
            .ok_or(TokenError::Malformed {
                what: "expected `Authorization: Bearer <token>`",
            }),
    };
    let result = token.and_then(|t| secret.authorize(t, doc_id, auth::now_unix()));
    let e = result.err()?;
    shared.metrics.refused(e.reason());
    let (status, challenge) = match e {
        TokenError::Missing => (StatusCode::UNAUTHORIZED, r#"Bearer realm="quire""#),
        TokenError::WrongDocument { .. } => (
            StatusCode::FORBIDDEN,
            r#"Bearer realm="quire", error="insufficient_scope""#,
        ),
        _ => (
            StatusCode::UNAUTHORIZED,
            r#"Bearer realm="quire", error="invalid_token""#,
        ),
    };
    let mut response = json_error(status, e.to_string());
    (response.headers_mut()).insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static(challenge),
    );
    Some(response)
}

/// Asks the loaded room, else reads the store without loading a room (a
/// read must not keep a document in memory).
async fn read_document(shared: &Arc<Shared>, doc_id: &str) -> Result<Option<DocView>, String> {
    if let Some(room) = shared.loaded_room(doc_id) {
        let (reply, answer) = tokio::sync::oneshot::channel();
        if room.tx.send(Command::Read { reply }).await.is_ok() {
            if let Ok(view) = answer.await {
                return view;
            }
        }
        // The room unloaded meanwhile: its state is in the store.
    }
    let store = Arc::clone(shared.writer.store());
    let id = doc_id.to_owned();
    let stored = tokio::task::spawn_blocking(move || store.load(&id))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let Some(stored) = stored else {
        return Ok(None);
    };
    let (doc, seq) = materialise(&stored)?;
    Ok(Some(DocView {
        title: doc.title().to_owned(),
        text: doc.text(),
        counters: doc.counters(),
        server_seq: seq,
    }))
}
