//! Email through a real SMTP conversation (issue 6, F6): a small SMTP sink on a local port that
//! can be taken down mid-batch and brought back, answer 4xx or 5xx, and records only what it
//! answered 250 to. Messages carry the tracking pixel, tracked links and the RFC 8058 headers;
//! tracking URLs record opens, clicks and one-click unsubscribes through the real router.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use kimochi_domain::*;
use kimochi_web::email::send_due;
use serde_json::{Value, json};

use super::smtp_sink::{SmtpSink, decoded_parts};
use super::{App, customer_body};

pub(super) fn header_value<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    raw.lines().take_while(|l| !l.is_empty()).find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(": ")))
}

async fn mail_customer(app: &App, token: &str, external_id: &str, email_consent: bool) -> i64 {
    let mut body = customer_body(external_id, "山田 花子", "やまだ はなこ", "03-1234-5678");
    body["consent"]["email"] = json!(email_consent);
    let reply = app.call(Method::POST, "/api/v1/customers", Some(token), Some(body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.body["id"].as_i64().unwrap()
}

async fn queue(app: &App, token: &str, customer: i64) -> Value {
    let reply = app
        .call(
            Method::POST,
            &format!("/api/v1/customers/{customer}/emails"),
            Some(token),
            Some(json!({
                "subject": "定期便のご案内",
                "body": "いつもありがとうございます。新商品はこちら→https://shop.example.jp/new?c=1 です。",
                "body_html": "<html><body><p><a href=\"https://shop.example.jp/new?c=1\">新商品</a> <a href=\"https://shop.example.jp/faq\">FAQ</a></p></body></html>",
            })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
    reply.body.clone()
}

async fn outcomes(app: &App, tenant: TenantId, customer: i64) -> Vec<Outcome> {
    let mut contacts = app.store.contact_list(tenant, CustomerId(customer), 100).await.unwrap();
    contacts.sort_by_key(|c| c.id);
    contacts.iter().filter_map(|c| c.outcome).collect()
}

async fn get(app: &App, uri: &str) -> super::Reply {
    app.send(Request::builder().uri(uri).body(Body::empty()).unwrap()).await
}

/// The path of a tracking URL under the configured public URL.
fn path_of(url: &str) -> &str {
    url.strip_prefix("https://crm.example.jp").unwrap()
}

#[tokio::test]
async fn emails_arrive_tracked_and_one_click_unsubscribe_withdraws_consent() {
    let sink = SmtpSink::start().await;
    let app = App::new("email_tracking").await;
    let tenant = app.tenant("acme").await;
    let token = app.token(tenant, Role::Supervisor).await;
    let customer = mail_customer(&app, &token, "C1", true).await;
    let queued = queue(&app, &token, customer).await;
    assert_eq!(queued["status"], "queued");

    let summary = send_due(app.store.clone(), &sink.config()).await.unwrap();
    assert_eq!(summary.sent, 1);
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let raw = &messages[0];
    assert_eq!(header_value(raw, "To"), Some("C1@example.jp"));
    let unsubscribe = header_value(raw, "List-Unsubscribe").unwrap();
    assert!(unsubscribe.starts_with("<https://crm.example.jp/t/u/") && unsubscribe.ends_with('>'), "{unsubscribe}");
    assert_eq!(header_value(raw, "List-Unsubscribe-Post"), Some("List-Unsubscribe=One-Click"));
    assert!(header_value(raw, "Message-ID").is_some_and(|id| id.ends_with("@kimochi>")));
    let parts = decoded_parts(raw);
    assert_eq!(parts.len(), 2, "text and HTML: {raw}");
    let (text, html) = (&parts[0], &parts[1]);
    let token_part = unsubscribe.trim_matches(['<', '>']).rsplit('/').next().unwrap();
    assert!(text.contains(&format!("こちら→https://crm.example.jp/t/c/{token_part}/0 です")), "{text}");
    assert!(!text.contains("shop.example.jp"), "every link is tracked: {text}");
    assert!(html.contains(&format!("href=\"https://crm.example.jp/t/c/{token_part}/1\"")), "{html}");
    let pixel = format!("https://crm.example.jp/t/o/{token_part}.gif");
    assert!(html.contains(&format!("<img src=\"{pixel}\"")), "{html}");
    assert_eq!(outcomes(&app, tenant, customer).await, [Outcome::Sent]);

    // Forged and malformed tokens: a GIF or a 404 page, nothing recorded, counted.
    let forged = get(&app, &format!("/t/o/{}.gif", "0".repeat(32))).await;
    assert_eq!(forged.status, StatusCode::OK);
    assert_eq!(forged.headers[header::CONTENT_TYPE], "image/gif");
    assert_eq!(get(&app, "/t/o/not-a-token").await.headers[header::CONTENT_TYPE], "image/gif");
    let forged_click = get(&app, &format!("/t/c/{}/0", "f".repeat(32))).await;
    assert_eq!(forged_click.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&app, &format!("/t/c/{token_part}/9")).await.status, StatusCode::NOT_FOUND, "no link 9");
    assert_eq!(get(&app, &format!("/t/c/{token_part}/-1")).await.status, StatusCode::NOT_FOUND);
    let forged_unsubscribe = app
        .send(
            Request::builder()
                .method(Method::POST)
                .uri(format!("/t/u/{}", "a".repeat(32)))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(forged_unsubscribe.status, StatusCode::OK, "answered neutrally");
    assert_eq!(outcomes(&app, tenant, customer).await, [Outcome::Sent], "nothing recorded for forged tokens");
    let metrics = get(&app, "/metrics").await.text;
    assert!(metrics.contains("kimochi_email_tracking_rejected_total{route=\"open\"} 2"), "{metrics}");
    assert!(metrics.contains("kimochi_email_tracking_rejected_total{route=\"click\"} 3"), "{metrics}");
    assert!(metrics.contains("kimochi_email_tracking_rejected_total{route=\"unsubscribe\"} 1"), "{metrics}");

    // The real pixel: a no-cache GIF and an `opened` contact, once per hour.
    let open = get(&app, path_of(&pixel)).await;
    assert_eq!(open.headers[header::CONTENT_TYPE], "image/gif");
    assert!(open.headers[header::CACHE_CONTROL].to_str().unwrap().contains("no-store"));
    get(&app, path_of(&pixel)).await;
    // A click redirects (303) to the message's own link.
    let click = get(&app, &format!("/t/c/{token_part}/1")).await;
    assert_eq!(click.status, StatusCode::SEE_OTHER);
    assert_eq!(click.headers[header::LOCATION], "https://shop.example.jp/faq");

    // The confirm page does not unsubscribe (mail scanners follow links); the one-click POST does.
    let form = get(&app, &format!("/t/u/{token_part}")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.text.contains("<form method=\"post\">"), "{}", form.text);
    assert!(app.store.customer_get(tenant, CustomerId(customer)).await.unwrap().profile.consent.email);
    let one_click = app
        .send(
            Request::builder()
                .method(Method::POST)
                .uri(format!("/t/u/{token_part}"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("List-Unsubscribe=One-Click"))
                .unwrap(),
        )
        .await;
    assert_eq!(one_click.status, StatusCode::OK);
    assert!(!app.store.customer_get(tenant, CustomerId(customer)).await.unwrap().profile.consent.email);
    assert_eq!(
        outcomes(&app, tenant, customer).await,
        [Outcome::Sent, Outcome::Opened, Outcome::Clicked, Outcome::Unsubscribed]
    );

    // The list shows the delivery and the first open and click.
    let list = app.call(Method::GET, &format!("/api/v1/emails?customer_id={customer}"), Some(&token), None).await;
    let email = &list.body["emails"][0];
    assert_eq!(email["status"], "sent", "{}", list.text);
    assert!(email["opened_at"].is_string() && email["clicked_at"].is_string() && email["unsubscribed_at"].is_string());
    // And a new email to the customer is refused: no consent any more.
    let refused = app
        .call(
            Method::POST,
            &format!("/api/v1/customers/{customer}/emails"),
            Some(&token),
            Some(json!({"subject": "再送", "body": "本文"})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert_eq!(refused.body["error"]["code"], "consent.missing");
}

#[tokio::test]
async fn smtp_down_mid_send_loses_nothing_and_sends_each_message_once() {
    let mut sink = SmtpSink::start().await;
    let app = App::new("email_resume").await;
    let tenant = app.tenant("acme").await;
    let token = app.token(tenant, Role::Supervisor).await;
    let mut customers = Vec::new();
    for n in 0..8 {
        let customer = mail_customer(&app, &token, &format!("C{n}"), true).await;
        queue(&app, &token, customer).await;
        customers.push(customer);
    }
    // The server takes three messages, then dies: exchanges in flight are cut before their 250.
    sink.accept_then_go_down(3);
    let config = sink.config();
    let first = send_due(app.store.clone(), &config).await.unwrap();
    assert_eq!(first.sent, 3, "{first:?}");
    assert_eq!(first.retried, 5, "{first:?}");
    sink.stop();
    // Still down at the next pass: nothing is lost, nothing is sent.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let down = send_due(app.store.clone(), &config).await.unwrap();
    assert_eq!((down.sent, down.retried), (0, 5), "{down:?}");
    sink.restart().await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let resumed = send_due(app.store.clone(), &config).await.unwrap();
    assert_eq!(resumed.sent, 5, "{resumed:?}");

    let messages = sink.messages();
    let mut recipients: Vec<&str> = messages.iter().map(|m| header_value(m, "To").unwrap()).collect();
    recipients.sort_unstable();
    let mut expected: Vec<String> = (0..8).map(|n| format!("C{n}@example.jp")).collect();
    expected.sort_unstable();
    assert_eq!(recipients, expected, "every message exactly once");
    let mut ids: Vec<&str> = messages.iter().map(|m| header_value(m, "Message-ID").unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 8);
    for customer in customers {
        assert_eq!(outcomes(&app, tenant, customer).await, [Outcome::Sent], "one sent contact per message");
    }
    let list = app.call(Method::GET, "/api/v1/emails", Some(&token), None).await;
    let emails = list.body["emails"].as_array().unwrap();
    assert_eq!(emails.len(), 8);
    assert!(emails.iter().all(|e| e["status"] == "sent"), "{}", list.text);
    assert!(emails.iter().any(|e| e["attempts"] == 3), "retried ones took three attempts: {}", list.text);
}

#[tokio::test]
async fn temporary_failures_retry_and_permanent_ones_bounce() {
    let sink = SmtpSink::start().await;
    let app = App::new("email_bounce").await;
    let tenant = app.tenant("acme").await;
    let token = app.token(tenant, Role::Supervisor).await;
    let retried = mail_customer(&app, &token, "C1", true).await;
    let bounced = mail_customer(&app, &token, "BOUNCE", true).await;
    queue(&app, &token, retried).await;
    queue(&app, &token, bounced).await;
    sink.fail_next_recipients(1);
    let config = sink.config();
    let first = send_due(app.store.clone(), &config).await.unwrap();
    assert_eq!((first.sent + first.retried, first.bounced), (1, 1), "{first:?}");
    assert_eq!(outcomes(&app, tenant, bounced).await, [Outcome::Bounced]);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = send_due(app.store.clone(), &config).await.unwrap();
    assert_eq!(first.sent + second.sent, 1);
    assert_eq!(outcomes(&app, tenant, retried).await, [Outcome::Sent]);
    let list = app.call(Method::GET, "/api/v1/emails", Some(&token), None).await;
    let statuses: Vec<&str> =
        list.body["emails"].as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["bounced", "sent"], "{}", list.text);
    assert!(list.body["emails"][0]["last_error"].as_str().unwrap().contains("550"), "{}", list.text);
    assert_eq!(sink.messages().len(), 1);

    // A From that is not an address is a configuration error: nothing is claimed or bounced.
    let retried = mail_customer(&app, &token, "C2", true).await;
    queue(&app, &token, retried).await;
    let mut broken = sink.config();
    if let Some(smtp) = &mut broken.smtp {
        smtp.from = "not an address".into();
    }
    let error = send_due(app.store.clone(), &broken).await.unwrap_err();
    assert!(error.contains("[smtp] from"), "{error}");
    assert!(outcomes(&app, tenant, retried).await.is_empty());
    assert_eq!(send_due(app.store.clone(), &sink.config()).await.unwrap().sent, 1);
}

#[tokio::test]
async fn the_api_refuses_without_consent_or_address_and_masks_for_analysts() {
    let app = App::new("email_api").await;
    let tenant = app.tenant("acme").await;
    let token = app.token(tenant, Role::Supervisor).await;
    let analyst = app.token(tenant, Role::Analyst).await;
    let no_consent = mail_customer(&app, &token, "C1", false).await;
    let mut body = customer_body("C2", "佐藤 一郎", "さとう いちろう", "03-1234-0000");
    body["emails"] = json!([]);
    let no_address =
        app.call(Method::POST, "/api/v1/customers", Some(&token), Some(body)).await.body["id"].as_i64().unwrap();
    let fine = mail_customer(&app, &token, "C3", true).await;
    let send = |customer: i64, body: Value| {
        let app = &app;
        let token = token.clone();
        async move {
            app.call(Method::POST, &format!("/api/v1/customers/{customer}/emails"), Some(&token), Some(body)).await
        }
    };
    let email = json!({"subject": "ご案内", "body": "本文"});
    let refused = send(no_consent, email.clone()).await;
    assert_eq!(
        (refused.status, refused.body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("consent.missing"))
    );
    let refused = send(no_address, email.clone()).await;
    assert_eq!(
        (refused.status, refused.body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("email"))
    );
    let refused = send(fine, json!({"subject": "件名\r\nBcc: x@example.com", "body": "本文"})).await;
    assert_eq!(
        (refused.status, refused.body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("subject"))
    );
    let refused = send(fine, json!({"subject": "件名", "body": ""})).await;
    assert_eq!(refused.body["error"]["field"], "body");
    assert_eq!(send(fine, email.clone()).await.status, StatusCode::ACCEPTED);
    // Analysts may not send, and see the address masked.
    let forbidden =
        app.call(Method::POST, &format!("/api/v1/customers/{fine}/emails"), Some(&analyst), Some(email)).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let list = app.call(Method::GET, "/api/v1/emails", Some(&analyst), None).await;
    assert_eq!(list.body["emails"].as_array().unwrap().len(), 1, "{}", list.text);
    assert_eq!(list.body["emails"][0]["to"], "C***@example.jp");
    let list = app.call(Method::GET, "/api/v1/emails", Some(&token), None).await;
    assert_eq!(list.body["emails"][0]["to"], "C3@example.jp");
}

#[tokio::test]
async fn behavioural_events_are_imported_through_the_api() {
    let app = App::new("events_api").await;
    let tenant = app.tenant("acme").await;
    let admin = app.token(tenant, Role::Admin).await;
    let supervisor = app.token(tenant, Role::Supervisor).await;
    let customer = mail_customer(&app, &admin, "C1", true).await;
    let post = |query: &str, token: &str, body: &'static str| {
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("/api/v1/imports/events?{query}"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "text/csv")
            .body(Body::from(body))
            .unwrap();
        app.send(request)
    };
    let csv = "顧客ID,アンケート,設問,回答,回答日時\nC1,満足度,Q1,とても良い,2026/11/01 10:00\nC9,満足度,Q1,良い,2026/11/01\nC1,満足度,Q2,,2026/11/01\n";
    assert_eq!(post("kind=survey", &supervisor, csv).await.status, StatusCode::FORBIDDEN);
    let refused = post("kind=survey", &admin, csv).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.text);
    assert_eq!(refused.body["error"]["code"], "import.rejected");
    let lines: Vec<(i64, &str)> = refused.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["line"].as_i64().unwrap(), p["column"].as_str().unwrap()))
        .collect();
    assert_eq!(lines, [(3, "customer_external_id"), (4, "回答")], "{}", refused.text);
    assert!(app.store.behavior_event_list(tenant, CustomerId(customer), 10).await.unwrap().is_empty());
    let imported = post("kind=survey&skip_invalid=true", &admin, csv).await;
    assert_eq!(
        (imported.body["inserted"].as_i64(), imported.body["skipped"].as_i64()),
        (Some(1), Some(2)),
        "{}",
        imported.text
    );
    let jsonl = "{\"customer_external_id\": \"C1\", \"event\": \"open\", \"occurred_at\": \"2026-11-02 08:00\", \"campaign\": \"秋\"}\n";
    let mail = post("kind=email", &admin, jsonl).await;
    assert_eq!(mail.body["inserted"], 1, "{}", mail.text);
    assert_eq!(outcomes(&app, tenant, customer).await, [Outcome::Opened]);
    let events =
        app.call(Method::GET, &format!("/api/v1/customers/{customer}/behavior-events"), Some(&supervisor), None).await;
    assert_eq!(events.body["events"][0]["question"], "Q1", "{}", events.text);
    assert_eq!(events.body["events"][0]["answer"], "とても良い");
    assert_eq!(events.body["events"][0]["attributes"]["survey"], "満足度");
    let bad_kind = post("kind=sms", &admin, jsonl).await;
    assert_eq!(
        (bad_kind.status, bad_kind.body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("kind"))
    );
    let not_csv = post("kind=web", &admin, "no,header\n1,2\n").await;
    assert_eq!(not_csv.body["error"]["code"], "import.file", "{}", not_csv.text);
}

#[tokio::test]
async fn the_server_sends_on_its_own_when_smtp_is_configured() {
    let sink = SmtpSink::start().await;
    let config = kimochi_web::WebConfig { email: sink.config(), ..kimochi_web::WebConfig::default() };
    let app = App::with_config("email_worker", config).await;
    let tenant = app.tenant("acme").await;
    let token = app.token(tenant, Role::Agent).await;
    let customer = mail_customer(&app, &token, "C1", true).await;
    queue(&app, &token, customer).await;
    // The API wakes the sender; it delivers without anyone running a pass by hand.
    for _ in 0..100 {
        if !sink.messages().is_empty() && outcomes(&app, tenant, customer).await == [Outcome::Sent] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(sink.messages().len(), 1);
    assert_eq!(outcomes(&app, tenant, customer).await, [Outcome::Sent]);
}
