//! Crisis words, alerts, the live stream and webhooks through the API.

use std::sync::Mutex;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use kimochi_domain::*;
use kimochi_web::WebConfig;
use kimochi_web::webhooks::{WebhookConfig, signature};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::{App, customer_body};

async fn customer(app: &App, token: &str, external_id: &str) -> i64 {
    let reply = app
        .call(
            Method::POST,
            "/api/v1/customers",
            Some(token),
            Some(customer_body(external_id, "山田 花子", "やまだ はなこ", "03-1234-5678")),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.body["id"].as_i64().unwrap()
}

async fn contact(app: &App, token: &str, customer: i64, text: &str) -> Value {
    let reply = app
        .call(
            Method::POST,
            &format!("/api/v1/customers/{customer}/contacts"),
            Some(token),
            Some(json!({"channel": "sns", "direction": "inbound", "text": text})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.body
}

#[tokio::test]
async fn crisis_words_are_admin_only_validated_and_per_tenant() {
    let app = App::new("crisis_words").await;
    let a = app.tenant("acme").await;
    let b = app.tenant("beta").await;
    let admin = app.token(a, Role::Admin).await;
    let supervisor = app.token(a, Role::Supervisor).await;
    let agent_b = app.token(b, Role::Agent).await;
    let admin_b = app.token(b, Role::Admin).await;
    let word = json!({"phrase": "ﾍﾝｷﾝ", "severity": "critical", "note": "返金要求は法務へ"});
    let refused = app.call(Method::POST, "/api/v1/crisis-words", Some(&supervisor), Some(word.clone())).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let created = app.call(Method::POST, "/api/v1/crisis-words", Some(&admin), Some(word)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["severity"], "critical");
    // The same word in another spelling (width, kana, spacing, symbols) is a conflict on `phrase`.
    let again = app
        .call(
            Method::POST,
            "/api/v1/crisis-words",
            Some(&admin),
            Some(json!({"phrase": "へ・ん・き・ん", "severity": "low"})),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert_eq!(again.body["error"]["field"], "phrase");
    for (body, field) in [
        (json!({"phrase": "", "severity": "low"}), "phrase"),
        (json!({"phrase": "・・・", "severity": "low"}), "phrase"),
        (json!({"phrase": "あ".repeat(101), "severity": "low"}), "phrase"),
        (json!({"phrase": "解約", "severity": "urgent"}), "severity"),
        (json!({"phrase": "解約", "severity": "low", "note": "x".repeat(501)}), "note"),
    ] {
        let reply = app.call(Method::POST, "/api/v1/crisis-words", Some(&admin), Some(body.clone())).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", reply.text);
        assert_eq!(reply.body["error"]["field"], field, "{body}: {}", reply.text);
    }
    let listed = app.call(Method::GET, "/api/v1/crisis-words", Some(&admin), None).await;
    assert_eq!(listed.body["crisis_words"].as_array().unwrap().len(), 1, "nothing bad was stored: {}", listed.text);
    // The word fires for its tenant at once (the matcher is rebuilt), and never for another.
    let mine = customer(&app, &admin, "C1").await;
    let theirs = customer(&app, &admin_b, "C1").await;
    let text = "へんきんしてください";
    assert_eq!(contact(&app, &admin, mine, text).await["crisis_words"], 1);
    assert_eq!(contact(&app, &agent_b, theirs, text).await["crisis_words"], 0);
    let alerts = app.call(Method::GET, "/api/v1/alerts", Some(&admin), None).await;
    assert_eq!(alerts.body["alerts"][0]["severity"], "critical");
    assert_eq!(
        alerts.body["alerts"][0]["matches"],
        json!([{"phrase": "ﾍﾝｷﾝ", "severity": "critical", "start": 0, "end": 12}])
    );
    assert_eq!(app.call(Method::GET, "/api/v1/alerts", Some(&admin_b), None).await.body["alerts"], json!([]));
    // Changing the severity and deleting the word take effect on the next contact.
    let id = created.body["id"].as_i64().unwrap();
    let path = format!("/api/v1/crisis-words/{id}");
    let changed =
        app.call(Method::PUT, &path, Some(&admin), Some(json!({"phrase": "へんきん", "severity": "low"}))).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    contact(&app, &admin, mine, text).await;
    let alerts = app.call(Method::GET, "/api/v1/alerts", Some(&admin), None).await;
    assert_eq!(alerts.body["alerts"][0]["severity"], "low", "{}", alerts.text);
    assert_eq!(app.call(Method::DELETE, &path, Some(&admin), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(contact(&app, &admin, mine, text).await["crisis_words"], 0);
    // Built-in words fire for every tenant.
    assert_eq!(contact(&app, &agent_b, theirs, "消費者センターに相談します").await["crisis_words"], 1);
}

#[tokio::test]
async fn alerts_are_listed_and_acknowledged_by_supervisors_only() {
    let app = App::new("alerts_ack").await;
    let t = app.tenant("acme").await;
    let agent = app.token(t, Role::Agent).await;
    let analyst = app.token(t, Role::Analyst).await;
    let supervisor = app.token(t, Role::Supervisor).await;
    let id = customer(&app, &agent, "C1").await;
    contact(&app, &agent, id, "ありがとうございました").await;
    let recorded = contact(&app, &agent, id, "弁護士に相談して訴えるつもりです。最悪").await;
    assert_eq!(recorded["crisis_words"], 3);
    for token in [&agent, &analyst] {
        assert_eq!(app.call(Method::GET, "/api/v1/alerts", Some(token), None).await.status, StatusCode::FORBIDDEN);
    }
    let listed = app.call(Method::GET, "/api/v1/alerts?unacknowledged=true", Some(&supervisor), None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let alerts = listed.body["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "one alert per contact, however many words");
    let alert = &alerts[0];
    assert_eq!(alert["contact_id"], recorded["id"]);
    assert_eq!(alert["severity"], "critical");
    assert_eq!(alert["customer_name"], "山田 花子");
    // The spans point into the stored text.
    let text = alert["text"].as_str().unwrap();
    for m in alert["matches"].as_array().unwrap() {
        let (start, end) = (m["start"].as_u64().unwrap() as usize, m["end"].as_u64().unwrap() as usize);
        assert!(text.get(start..end).is_some_and(|s| !s.is_empty()), "{m} in {text}");
    }
    let phrases: Vec<&str> =
        alert["matches"].as_array().unwrap().iter().map(|m| m["phrase"].as_str().unwrap()).collect();
    assert!(phrases.contains(&"弁護士") && phrases.contains(&"最悪"), "{phrases:?}");
    let ack = format!("/api/v1/alerts/{}/ack", alert["id"]);
    assert_eq!(app.call(Method::POST, &ack, Some(&agent), None).await.status, StatusCode::FORBIDDEN);
    let acked = app.call(Method::POST, &ack, Some(&supervisor), None).await;
    assert_eq!(acked.status, StatusCode::OK, "{}", acked.text);
    assert!(acked.body["acknowledged_at"].is_string());
    let open = app.call(Method::GET, "/api/v1/alerts?unacknowledged=true", Some(&supervisor), None).await;
    assert_eq!(open.body["alerts"], json!([]));
    let all = app.call(Method::GET, "/api/v1/alerts?since=2000-01-01", Some(&supervisor), None).await;
    assert_eq!(all.body["alerts"].as_array().unwrap().len(), 1);
    let future =
        app.call(Method::GET, "/api/v1/alerts?since=2099-01-01T00:00:00%2B09:00", Some(&supervisor), None).await;
    assert_eq!(future.body["alerts"], json!([]), "{}", future.text);
    let bad = app.call(Method::GET, "/api/v1/alerts?since=yesterday", Some(&supervisor), None).await;
    assert_eq!((bad.status, bad.body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("since")));
}

/// Reads server-sent events from a body until `wanted` events of the named kinds arrived.
async fn read_events(body: &mut Body, wanted: usize) -> Vec<(String, Value)> {
    let mut buffer = String::new();
    let mut events = Vec::new();
    while events.len() < wanted {
        let frame = tokio::time::timeout(Duration::from_secs(20), body.frame())
            .await
            .expect("an event within 20 s")
            .expect("the stream is open")
            .unwrap();
        if let Ok(data) = frame.into_data() {
            buffer.push_str(std::str::from_utf8(&data).unwrap());
        }
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let kind = block.lines().find_map(|l| l.strip_prefix("event: ")).map(str::to_owned);
            let data = block.lines().find_map(|l| l.strip_prefix("data: "));
            if let (Some(kind), Some(data)) = (kind, data) {
                events.push((kind, serde_json::from_str(data).unwrap()));
            }
        }
    }
    events
}

async fn open_stream(app: &App, token: &str) -> Body {
    let request = Request::get("/api/v1/events")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "text/event-stream");
    response.into_body()
}

#[tokio::test]
async fn the_live_stream_carries_the_callers_tenant_only() {
    let app = App::new("live_stream").await;
    let a = app.tenant("acme").await;
    let b = app.tenant("beta").await;
    let agent_a = app.token(a, Role::Agent).await;
    let supervisor_a = app.token(a, Role::Supervisor).await;
    let agent_b = app.token(b, Role::Agent).await;
    let admin_b = app.token(b, Role::Admin).await;
    assert_eq!(app.call(Method::GET, "/api/v1/events", Some(&agent_a), None).await.status, StatusCode::FORBIDDEN);
    let mut stream_a = open_stream(&app, &supervisor_a).await;
    let mut stream_b = open_stream(&app, &admin_b).await;
    let customer_a = customer(&app, &agent_a, "C1").await;
    let customer_b = customer(&app, &agent_b, "C1").await;
    let recorded = contact(&app, &agent_a, customer_a, "<script>alert(1)</script>炎上させます").await;
    contact(&app, &agent_b, customer_b, "いつもありがとう").await;
    let events = read_events(&mut stream_a, 2).await;
    assert_eq!(events[0].0, "contact");
    assert_eq!(events[0].1["id"], recorded["id"]);
    assert_eq!(events[0].1["customer_name"], "山田 花子");
    assert_eq!(events[0].1["text"], "<script>alert(1)</script>炎上させます", "JSON carries the text as data");
    assert_eq!(events[1].0, "alert");
    assert_eq!(events[1].1["contact_id"], recorded["id"]);
    assert_eq!(events[1].1["severity"], "high");
    // Tenant b's stream got only tenant b's contact.
    let events = read_events(&mut stream_b, 1).await;
    assert_eq!(events[0].0, "contact");
    assert_eq!(events[0].1["customer_id"], customer_b);
    // An acknowledgement is announced to the tenant's boards.
    let ack = app
        .call(
            Method::POST,
            &format!("/api/v1/alerts/{}/ack", events_id(&app, &supervisor_a).await),
            Some(&supervisor_a),
            None,
        )
        .await;
    assert_eq!(ack.status, StatusCode::OK);
    let events = read_events(&mut stream_a, 1).await;
    assert_eq!(events[0].0, "alert_acknowledged");
}

async fn events_id(app: &App, token: &str) -> i64 {
    app.call(Method::GET, "/api/v1/alerts", Some(token), None).await.body["alerts"][0]["id"].as_i64().unwrap()
}

/// What the test receiver got: (delivery id header, timestamp, signature, body).
type Received = Vec<(String, String, String, String)>;

#[tokio::test]
async fn webhooks_reach_a_receiver_that_was_down_exactly_once() {
    // A real HTTP receiver on a free port that fails its first request.
    let received: std::sync::Arc<Mutex<Received>> = Default::default();
    let seen = received.clone();
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let seen = seen.clone();
            async move {
                let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
                let mut seen = seen.lock().unwrap();
                seen.push((
                    header("x-kimochi-delivery"),
                    header("x-kimochi-timestamp"),
                    header("x-kimochi-signature"),
                    body,
                ));
                if seen.len() == 1 { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::NO_CONTENT }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, receiver).await });
    let config = WebConfig {
        webhooks: WebhookConfig {
            poll_interval: Duration::from_millis(50),
            base_backoff: Duration::from_millis(10),
            ..WebhookConfig::default()
        },
        ..WebConfig::default()
    };
    let app = App::with_config("webhooks", config).await;
    let t = app.tenant("acme").await;
    let admin = app.token(t, Role::Admin).await;
    for (url, problem) in [("https://example.com/x", "https"), ("ftp://x/y", "http://"), ("not a url", "URL")] {
        let request = Request::post("/api/v1/webhooks")
            .header(header::AUTHORIZATION, format!("Bearer {admin}"))
            .header(header::ACCEPT_LANGUAGE, "en")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({"url": url}).to_string()))
            .unwrap();
        let refused = app.send(request).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert_eq!(refused.body["error"]["field"], "url");
        assert!(refused.text.contains(problem), "{url}: {}", refused.text);
    }
    let url = format!("http://{address}/hook");
    let hook = app.call(Method::POST, "/api/v1/webhooks", Some(&admin), Some(json!({"url": url}))).await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.text);
    let secret = hook.body["secret"].as_str().unwrap().to_owned();
    let again = app.call(Method::POST, "/api/v1/webhooks", Some(&admin), Some(json!({"url": url}))).await;
    assert_eq!((again.status, again.body["error"]["field"].as_str()), (StatusCode::CONFLICT, Some("url")));
    let id = customer(&app, &admin, "C1").await;
    contact(&app, &admin, id, "ありがとう").await;
    contact(&app, &admin, id, "責任者を出せ").await;
    // Wait until the outbox says delivered.
    let mut counts = Value::Null;
    for _ in 0..400 {
        counts = app.call(Method::GET, "/api/v1/webhooks", Some(&admin), None).await.body["webhooks"][0].clone();
        if counts["delivered"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!((counts["delivered"].as_i64(), counts["pending"].as_i64()), (Some(1), Some(0)), "{counts}");
    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 2, "one failed attempt, one delivery, nothing after: {received:?}");
    assert_eq!(received[0].0, received[1].0, "the retry is the same delivery");
    let (_, timestamp, signed, body) = &received[1];
    assert_eq!(signed, &signature(&secret, timestamp.parse().unwrap(), body), "signed with the webhook's secret");
    let payload: Value = serde_json::from_str(body).unwrap();
    assert_eq!(payload["event"], "alert");
    assert_eq!(payload["alert"]["severity"], "high");
    assert_eq!(payload["alert"]["words"], json!([{"phrase": "責任者を出せ", "severity": "high"}]));
    assert!(!body.contains("山田"), "no personal data in the payload: {body}");
}
