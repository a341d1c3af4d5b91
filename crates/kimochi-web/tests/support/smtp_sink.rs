//! A small SMTP sink on a local port for tests (issue 6, F6): it records only the messages it
//! answered 250 to, can be taken down mid-batch and brought back, and can answer 4xx or 5xx.
//! Shared by the web crate's API tests and the binary's end-to-end test on the demo data
//! (included with `#[path]`, since tests of two crates cannot share a module otherwise).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kimochi_web::email::{EmailConfig, SmtpConfig};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Debug, Default)]
pub(crate) struct SinkState {
    /// Raw DATA of every message answered 250.
    messages: Vec<String>,
    /// Accept this many more messages, then go down: in-flight exchanges are cut before the
    /// final 250 and new connections are refused.
    accept_limit: Option<usize>,
    down: bool,
    /// Answer `451` to the next this many RCPT commands.
    temporary_failures: usize,
}

pub(crate) struct SmtpSink {
    addr: SocketAddr,
    state: Arc<Mutex<SinkState>>,
    listener_task: Option<tokio::task::JoinHandle<()>>,
}

impl SmtpSink {
    pub(crate) async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut sink = SmtpSink { addr, state: Arc::default(), listener_task: None };
        sink.listen(listener);
        sink
    }

    fn listen(&mut self, listener: TcpListener) {
        let state = self.state.clone();
        self.listener_task = Some(tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                if state.lock().unwrap().down {
                    return; // dropping the listener: further connections are refused
                }
                tokio::spawn(serve_smtp(stream, state.clone()));
            }
        }));
    }

    /// Takes the server down now: connections are refused.
    pub(crate) fn stop(&mut self) {
        self.state.lock().unwrap().down = true;
        if let Some(task) = self.listener_task.take() {
            task.abort();
        }
    }

    /// Brings it back on the same port, accepting everything.
    pub(crate) async fn restart(&mut self) {
        self.stop();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let listener = TcpListener::bind(self.addr).await.unwrap();
        {
            let mut state = self.state.lock().unwrap();
            state.down = false;
            state.accept_limit = None;
        }
        self.listen(listener);
    }

    /// Accepts `count` more messages, then goes down in the middle of the next exchange.
    pub(crate) fn accept_then_go_down(&self, count: usize) {
        self.state.lock().unwrap().accept_limit = Some(count);
    }

    /// Answers `451` to the next `count` RCPT commands.
    pub(crate) fn fail_next_recipients(&self, count: usize) {
        self.state.lock().unwrap().temporary_failures = count;
    }

    pub(crate) fn messages(&self) -> Vec<String> {
        self.state.lock().unwrap().messages.clone()
    }

    pub(crate) fn config(&self) -> EmailConfig {
        EmailConfig {
            smtp: Some(SmtpConfig {
                host: "127.0.0.1".into(),
                port: self.addr.port(),
                from: "ショップ <info@shop.example.jp>".into(),
                username: None,
                password: None,
            }),
            public_url: "https://crm.example.jp/".into(),
            poll_interval: Duration::from_millis(100),
            base_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(1),
            max_attempts: 5,
            timeout: Duration::from_secs(5),
        }
    }
}

async fn serve_smtp(stream: tokio::net::TcpStream, state: Arc<Mutex<SinkState>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    if write.write_all(b"220 sink ESMTP\r\n").await.is_err() {
        return;
    }
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let command = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO") {
            b"250 sink\r\n"
        } else if command.starts_with("MAIL FROM") || command.starts_with("RSET") || command.starts_with("NOOP") {
            b"250 OK\r\n"
        } else if command.starts_with("RCPT TO") {
            let mut state = state.lock().unwrap();
            if command.contains("BOUNCE") {
                b"550 5.1.1 no such user\r\n"
            } else if state.temporary_failures > 0 {
                state.temporary_failures -= 1;
                b"451 4.3.0 try again later\r\n"
            } else {
                b"250 OK\r\n"
            }
        } else if command == "DATA" {
            if write.write_all(b"354 go ahead\r\n").await.is_err() {
                return;
            }
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                if line == ".\r\n" {
                    break;
                }
                data.push_str(&line);
            }
            {
                let mut state = state.lock().unwrap();
                if state.down || state.accept_limit == Some(0) {
                    state.down = true;
                    return; // cut before the 250: the message was not accepted
                }
                state.messages.push(data);
                if let Some(limit) = &mut state.accept_limit {
                    *limit -= 1;
                }
            }
            b"250 2.0.0 queued\r\n"
        } else if command == "QUIT" {
            let _ = write.write_all(b"221 bye\r\n").await;
            return;
        } else {
            b"502 unknown\r\n"
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}

/// The decoded base64 parts of a raw message (text, then HTML when there is one).
pub(crate) fn decoded_parts(raw: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = raw;
    while let Some(at) = rest.find("Content-Transfer-Encoding: base64\r\n") {
        rest = &rest[at..];
        let body_start = rest.find("\r\n\r\n").unwrap() + 4;
        let body: String = rest[body_start..]
            .lines()
            .take_while(|l| !l.is_empty() && !l.starts_with("--"))
            .collect::<Vec<_>>()
            .concat();
        parts.push(String::from_utf8(base64_decode(&body)).unwrap());
        rest = &rest[body_start..];
    }
    parts
}

fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0);
    for byte in text.bytes().filter(|b| *b != b'=') {
        let value = ALPHABET.iter().position(|a| *a == byte).unwrap() as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}
