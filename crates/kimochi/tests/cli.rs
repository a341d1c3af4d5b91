//! The `kimochi` command line as an operator uses it: real binary, real files, a fresh SQLite
//! database per test.

// Tests may panic on the unexpected and read the clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "cli/care_campaign_on_demo.rs"]
mod care_campaign_on_demo;
#[path = "../../kimochi-web/tests/support/smtp_sink.rs"]
mod smtp_sink;

struct Workspace {
    dir: PathBuf,
}

impl Workspace {
    fn new(name: &str) -> Workspace {
        let dir = std::env::temp_dir().join(format!("kimochi_cli_{}_{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Workspace { dir }
    }

    fn db(&self) -> String {
        format!("sqlite://{}", self.dir.join("kimochi.db").display())
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_kimochi"))
            .args(args)
            .env("KIMOCHI_DB", self.db())
            .env_remove("KIMOCHI_CONFIG")
            .current_dir(&self.dir)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "kimochi {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    fn file(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path.display().to_string()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn shift_jis(text: &str) -> Vec<u8> {
    let (bytes, _, had_errors) = encoding_rs::SHIFT_JIS.encode(text);
    assert!(!had_errors, "test text must be encodable in Shift_JIS");
    bytes.into_owned()
}

const CUSTOMERS_SJIS: &str = "顧客ID,氏名,フリガナ,電話番号,メールアドレス,生年月日,性別,都道府県\r\n\
C001,山田 花子,ヤマダ ハナコ,０３（１２３４）５６７８,hanako@example.jp,１９７５/４/１,女性,東京\r\n\
C002,佐藤　一郎,さとう いちろう,090-1111-2222,,1980年12月3日,男性,大阪府\r\n";

#[test]
fn imports_a_shift_jis_file_with_full_width_digits_and_is_idempotent() {
    let ws = Workspace::new("sjis");
    ws.ok(&["tenant", "create", "acme"]);
    let file = ws.file("customers.csv", &shift_jis(CUSTOMERS_SJIS));
    let out = ws.ok(&["import", "customers", &file, "--tenant", "acme"]);
    assert!(out.contains("2 new, 0 updated"), "{out}");
    // Importing the same file again updates, never duplicates.
    let out = ws.ok(&["import", "customers", &file, "--tenant", "acme"]);
    assert!(out.contains("0 new, 2 updated"), "{out}");
    let exported = ws.path("customers-out.csv");
    ws.ok(&["export", "customers", "--tenant", "acme", "--format", "csv", "--out", exported.to_str().unwrap()]);
    let bytes = std::fs::read(&exported).unwrap();
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "CSV exports start with a UTF-8 BOM for Excel");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[1].starts_with("C001,山田 花子,ヤマダ ハナコ,03-1234-5678,hanako@example.jp,1975-04-01,female,東京都"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains("サトウ イチロウ") && lines[2].contains("1980-12-03") && lines[2].contains("大阪府"),
        "{}",
        lines[2]
    );
}

#[test]
fn one_bad_row_is_reported_by_line_and_nothing_is_imported() {
    let ws = Workspace::new("bad_row");
    ws.ok(&["tenant", "create", "acme"]);
    let text = "顧客ID,氏名,フリガナ,電話番号,メールアドレス,生年月日,性別,都道府県\r\n\
C001,山田 花子,ヤマダ ハナコ,03-1234-5678,,1975-04-01,女性,東京\r\n\
C002,佐藤 一郎,サトウ イチロウ,電話なし,,1980-02-30,男性,大阪\r\n\
C003,鈴木 次郎,スズキ ジロウ,090-3333-4444,,1990-01-01,男性,京都\r\n";
    let file = ws.file("customers.csv", &shift_jis(text));
    let output = ws.run(&["import", "customers", &file, "--tenant", "acme"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains(":3: column 電話番号:"), "{stderr}");
    assert!(stderr.contains(":3: column 生年月日:"), "{stderr}");
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    assert!(!stderr.contains(":2:") && !stderr.contains(":4:"), "only line 3 is bad: {stderr}");
    let exported = ws.ok(&["export", "customers", "--tenant", "acme"]);
    assert_eq!(exported.trim_start_matches('\u{feff}').lines().count(), 1, "only the header: {exported}");
    // A dry run checks and writes nothing; --skip-invalid imports the good rows.
    let output = ws.run(&["import", "customers", &file, "--tenant", "acme", "--skip-invalid", "--dry-run"]);
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("would import customers: 2 new"));
    let out = ws.ok(&["import", "customers", &file, "--tenant", "acme", "--skip-invalid"]);
    assert!(out.contains("2 new, 0 updated, 1 rows skipped"), "{out}");
}

#[test]
fn orders_and_contacts_reference_customers_by_external_id() {
    let ws = Workspace::new("orders");
    ws.ok(&["tenant", "create", "acme"]);
    ws.ok(&["import", "customers", &ws.file("c.csv", CUSTOMERS_SJIS.as_bytes()), "--tenant", "acme"]);
    ws.ok(&[
        "import",
        "products",
        &ws.file(
            "p.csv",
            "商品コード,商品名,商品区分,価格\nP1,うるおい美容液,本商品,\"5,980\"\nP2,トライアル,トライアル,1980\n"
                .as_bytes(),
        ),
        "--tenant",
        "acme",
    ]);
    let orders = "注文番号,顧客ID,注文日,商品コード,数量,金額\nO1,C001,2026/01/05 10:00,P2,1,1980\nO2,C001,2026/02/05,P1,2,11960\nO2,C001,2026/02/05,P2,1,0\nO3,C404,2026/02/05,P1,1,5980\n";
    let output = ws.run(&["import", "orders", &ws.file("o.csv", orders.as_bytes()), "--tenant", "acme"]);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        !output.status.success() && stderr.contains(":5: column customer_external_id: no customer has this id"),
        "{stderr}"
    );
    let orders = orders.replace("O3,C404", "O3,C002");
    let out = ws.ok(&["import", "orders", &ws.file("o.csv", orders.as_bytes()), "--tenant", "acme"]);
    assert!(out.contains("3 new"), "{out}");
    let contacts = "対応ID,顧客ID,チャネル,受発信,開始日時,終了日時,コールリーズン,結果,内容,元対応ID\n\
K1,C001,SNS,受信,2026-03-01 09:00,,使い方,,\"説明書どおりに使っても\n効果がない\",\n\
K2,C001,電話,発信,2026-03-01 11:00,2026-03-01 11:07,使い方,解決,お電話で使い方をご案内,K1\n";
    let out = ws.ok(&["import", "contacts", &ws.file("k.csv", contacts.as_bytes()), "--tenant", "acme"]);
    assert!(out.contains("2 new"), "{out}");
    let exported = ws.ok(&["export", "contacts", "--tenant", "acme"]);
    assert!(exported.contains("K2,C001,phone,outbound") && exported.contains(",K1"), "{exported}");
    let exported = ws.ok(&["export", "orders", "--tenant", "acme"]);
    assert_eq!(exported.lines().count(), 1 + 4, "one row per order line: {exported}");
    let xlsx = ws.path("orders.xlsx");
    ws.ok(&["export", "orders", "--tenant", "acme", "--format", "xlsx", "--out", xlsx.to_str().unwrap()]);
    assert!(std::fs::read(&xlsx).unwrap().starts_with(b"PK"), "xlsx is a zip");
}

#[test]
fn wrong_encoding_and_missing_columns_are_file_errors() {
    let ws = Workspace::new("file_errors");
    ws.ok(&["tenant", "create", "acme"]);
    let file = ws.file("c.csv", &shift_jis(CUSTOMERS_SJIS));
    let output = ws.run(&["import", "customers", &file, "--tenant", "acme", "--encoding", "utf-8"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("line 1"), "{}", String::from_utf8_lossy(&output.stderr));
    let output = ws.run(&[
        "import",
        "customers",
        &ws.file("m.csv", "氏名,電話番号\n山田,03-1234-5678\n".as_bytes()),
        "--tenant",
        "acme",
    ]);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("external_id"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = ws.run(&["import", "customers", &file, "--tenant", "nope"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("no tenant \"nope\""));
}

#[test]
fn demo_is_deterministic_and_tokens_work() {
    let ws = Workspace::new("demo");
    let out = ws.ok(&["demo", "--customers", "300", "--seed", "7"]);
    assert!(out.contains("demo tenant demo: 300 customers"), "{out}");
    assert!(out.contains("password `kimochi-demo`"), "{out}");
    let first = ws.ok(&["export", "customers", "--tenant", "demo"]);
    let again = ws.ok(&["demo", "--customers", "300", "--seed", "7"]);
    assert!(again.contains("already exists"), "{again}");
    ws.ok(&["demo", "--customers", "300", "--seed", "7", "--tenant", "demo-two"]);
    let second = ws.ok(&["export", "customers", "--tenant", "demo-two"]);
    let strip =
        |text: &str| text.lines().map(|l| l.split(',').take(14).collect::<Vec<_>>().join(",")).collect::<Vec<_>>();
    assert_eq!(strip(&first), strip(&second), "the same seed gives the same customers");
    let users = ws.ok(&["user", "list", "--tenant", "demo"]);
    assert!(users.contains("op01") && users.contains("analyst01"), "{users}");
    let token = ws.ok(&["token", "create", "--tenant", "demo", "--role", "analyst"]);
    assert!(token.trim().starts_with("kmc_") && token.trim().len() > 40, "{token}");
    let tenants = ws.ok(&["tenant", "list"]);
    assert!(tenants.contains("demo") && tenants.contains("demo-two"));
}

#[test]
fn every_command_has_help() {
    let ws = Workspace::new("help");
    for command in [
        &["--help"][..],
        &["serve", "--help"],
        &["demo", "--help"],
        &["tenant", "create", "--help"],
        &["user", "create", "--help"],
        &["import", "--help"],
        &["export", "--help"],
        &["token", "create", "--help"],
        &["analyze", "--help"],
        &["text", "analyze", "--help"],
        &["rfm", "--help"],
        &["clv", "fit", "--help"],
        &["clv", "predict", "--help"],
        &["search", "reindex", "--help"],
        &["email", "send-queued", "--help"],
        &["campaign", "run", "--help"],
    ] {
        let out = ws.ok(command);
        assert!(out.contains("Usage: kimochi"), "{command:?}: {out}");
    }
    assert!(Path::new(env!("CARGO_BIN_EXE_kimochi")).exists());
}

#[test]
fn users_are_created_with_a_password_from_standard_input() {
    let ws = Workspace::new("users");
    ws.ok(&["tenant", "create", "acme"]);
    let create = |password: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kimochi"))
            .args([
                "user",
                "create",
                "--tenant",
                "acme",
                "--login",
                "op01",
                "--name",
                "佐藤 美咲",
                "--role",
                "agent",
                "--team",
                "一般受付",
            ])
            .env("KIMOCHI_DB", ws.db())
            .env_remove("KIMOCHI_PASSWORD")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let short = create("short");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 8 characters"));
    assert!(ws.ok(&["user", "list", "--tenant", "acme"]).is_empty(), "a refused user writes nothing");
    let created = create("a-long-password");
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let users = ws.ok(&["user", "list", "--tenant", "acme"]);
    assert!(users.contains("op01\tagent\t佐藤 美咲"), "{users}");
}

/// The CDNOW sample (Fader, Hardie & Lee; shipped with `lifetimes`) as a transactions CSV.
fn cdnow_csv() -> String {
    let text = include_str!("../../kimochi-analytics/tests/fixtures/CDNOW_sample.txt");
    let mut csv = String::from("customer_id,date,amount\n");
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        csv.push_str(&format!("{},{},{}\n", fields[0], fields[2], fields[4]));
    }
    csv
}

#[test]
fn clv_fit_reproduces_the_published_bg_nbd_and_gamma_gamma_parameters() {
    let ws = Workspace::new("clv");
    let file = ws.file("cdnow.csv", cdnow_csv().as_bytes());
    let out = ws.ok(&[
        "clv",
        "fit",
        "--transactions",
        &file,
        "--calibration-end",
        "1997-09-30",
        "--model",
        "bgnbd",
        "--json",
    ]);
    let fit: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(fit["model"], "bgnbd");
    assert_eq!(fit["n_customers"], 2357);
    let close = |value: &serde_json::Value, expected: f64, tolerance: f64| {
        (value.as_f64().unwrap() - expected).abs() < tolerance
    };
    assert!(close(&fit["params"]["r"], 0.243, 0.001), "{fit}");
    assert!(close(&fit["params"]["alpha"], 4.414, 0.001), "{fit}");
    assert!(close(&fit["params"]["a"], 0.793, 0.001), "{fit}");
    assert!(close(&fit["params"]["b"], 2.426, 0.001), "{fit}");
    assert!(close(&fit["log_likelihood"], -9582.4, 0.1), "{fit}");
    let out =
        ws.ok(&["clv", "fit", "--transactions", &file, "--calibration-end", "1997-09-30", "--model", "gg", "--json"]);
    let fit: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(
        close(&fit["params"]["p"], 6.25, 0.01)
            && close(&fit["params"]["q"], 3.74, 0.01)
            && close(&fit["params"]["gamma"], 15.44, 0.01),
        "{fit}"
    );

    let predictions = ws.path("predictions.csv");
    ws.ok(&[
        "clv",
        "predict",
        "--transactions",
        &file,
        "--calibration-end",
        "1997-09-30",
        "--horizon-weeks",
        "39",
        "--out",
        predictions.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&predictions).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("customer_id,frequency,recency,T,p_alive,expected_purchases,expected_spend,clv"));
    let rows: Vec<Vec<f64>> = lines.map(|l| l.split(',').skip(1).map(|v| v.parse().unwrap()).collect()).collect();
    assert_eq!(rows.len(), 2357);
    assert!(
        rows.iter().all(|r| (0.0..=1.0).contains(&r[3]) && r[4] >= 0.0 && r[5] > 0.0 && r[6] >= 0.0),
        "p_alive in [0,1], non-negative predictions"
    );
    // Customers with no repeat purchase are certainly alive under BG/NBD.
    assert!(rows.iter().filter(|r| r[0] == 0.0).all(|r| r[3] == 1.0));
}

#[test]
fn clv_on_a_lifetimes_summary_fits_and_predicts_like_on_the_transactions() {
    let ws = Workspace::new("clv-summary");
    // lifetimes' own summary of the CDNOW sample (customer_id,frequency,recency,T,monetary_value
    // and its predictions at its fitted parameters): extra columns are ignored.
    let reference = include_str!("../../kimochi-analytics/tests/fixtures/lifetimes_cdnow_predictions.csv");
    let summary = ws.file("summary.csv", reference.as_bytes());
    let transactions = ws.file("cdnow.csv", cdnow_csv().as_bytes());
    let fit = |source: &[&str]| -> serde_json::Value {
        let mut args = vec!["clv", "fit", "--model", "bgnbd", "--json"];
        args.extend_from_slice(source);
        serde_json::from_str(ws.ok(&args).trim()).unwrap()
    };
    let from_summary = fit(&["--summary", &summary]);
    let from_transactions = fit(&["--transactions", &transactions, "--calibration-end", "1997-09-30"]);
    assert_eq!(from_summary["n_customers"], 2357);
    for name in ["r", "alpha", "a", "b"] {
        let (a, b) =
            (from_summary["params"][name].as_f64().unwrap(), from_transactions["params"][name].as_f64().unwrap());
        assert!((a - b).abs() <= 1e-6 * b.abs(), "{name}: {a} from the summary, {b} from the transactions");
    }

    let out = ws.ok(&["clv", "predict", "--summary", &summary, "--horizon-weeks", "39"]);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("customer_id,frequency,recency,T,p_alive,expected_purchases,expected_spend,clv"));
    let ours: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let theirs: Vec<Vec<&str>> = reference.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(ours.len(), theirs.len());
    for (ours, theirs) in ours.iter().zip(&theirs) {
        assert_eq!(ours[0], theirs[0], "customers in file order");
        let (p_ours, p_theirs): (f64, f64) = (ours[4].parse().unwrap(), theirs[5].parse().unwrap());
        assert!((p_ours - p_theirs).abs() < 1e-5, "customer {}: P(alive) {p_ours} vs lifetimes {p_theirs}", ours[0]);
    }

    // Bad rows are named by line and nothing is written.
    let bad = ws.file(
        "bad.csv",
        "customer_id,frequency,recency,T,monetary_value\nA,1,2,10,5\nB,1,12,10,5\nC,x,0,10,0\nD,0,0,10,-1\n".as_bytes(),
    );
    let output = ws.run(&["clv", "predict", "--summary", &bad, "--horizon-weeks", "39"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.csv:3: recency must lie between 0 and T"), "{stderr}");
    assert!(stderr.contains("bad.csv:4: column frequency: not a number"), "{stderr}");
    assert!(stderr.contains("bad.csv:5: monetary_value must be"), "{stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).is_empty(), "nothing predicted from a file with bad rows");
    let missing = ws.file("missing.csv", "customer_id,frequency,recency\nA,1,2\n".as_bytes());
    let output = ws.run(&["clv", "fit", "--summary", &missing, "--model", "gg"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("no column \"T\""));
    // One source, not both, and a calibration end only matters for transactions.
    assert!(
        !ws.run(&["clv", "fit", "--summary", &summary, "--transactions", &transactions, "--model", "gg"])
            .status
            .success()
    );
    assert!(!ws.run(&["clv", "fit", "--transactions", &transactions, "--model", "gg"]).status.success());
}

#[test]
fn rfm_on_a_file_and_bad_rows_named_by_line() {
    let ws = Workspace::new("rfm");
    let mut csv = String::from("customer_id,date,amount\n");
    for customer in 1..=10 {
        for purchase in 0..customer {
            csv.push_str(&format!("C{customer:02},2024-{:02}-01,{}\n", 1 + purchase % 12, 1000 * customer));
        }
    }
    let file = ws.file("t.csv", csv.as_bytes());
    let out = ws.ok(&["rfm", "--transactions", &file, "--as-of", "2024-12-31"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "customer_id,recency_days,frequency,monetary,r,f,m,cell");
    assert_eq!(lines.len(), 11);
    assert!(lines[1].starts_with("C01,") && lines[1].ends_with(",1,1,1,111"), "{}", lines[1]);
    assert!(lines[10].starts_with("C10,") && lines[10].ends_with(",5,5,5,555"), "{}", lines[10]);
    let bad = ws.file("bad.csv", "customer_id,date,amount\nC1,2024-01-01,100\nC2,2024-13-01,100\n".as_bytes());
    let output = ws.run(&["rfm", "--transactions", &bad, "--as-of", "2024-12-31"]);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(":3: column date:"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn analyze_scores_every_customer_and_the_karte_shows_the_scores() {
    let ws = Workspace::new("analyze");
    let out = ws.ok(&["demo", "--customers", "600", "--seed", "3"]);
    assert!(out.contains("scored 600 customers as of 2026-10-31"), "the demo is scored at once: {out}");
    let out = ws.ok(&["analyze", "--tenant", "demo", "--as-of", "2026-10-31", "--quiet"]);
    assert!(out.contains("tenant demo: scored 600 customers as of 2026-10-31"), "{out}");
    for line in
        ["stages: ", "of 125 cells filled", "BG/NBD: r=", "churn risk: high", "loyalty: ", "customer types (k = "]
    {
        assert!(out.contains(line), "{line:?} missing from {out}");
    }

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let store = kimochi_store::open(&ws.db()).await.unwrap();
        let tenant = store.tenant_by_slug("demo").await.unwrap().id;
        let run = store.score_run_latest(tenant).await.unwrap().expect("the run is recorded");
        assert_eq!((run.customers, kimochi_domain::datetime::format_date(run.as_of).as_str()), (600, "2026-10-31"));
        let summary: serde_json::Value = serde_json::from_str(&run.summary).unwrap();
        let staged: u64 = summary["stages"].as_array().unwrap().iter().map(|s| s["customers"].as_u64().unwrap()).sum();
        assert_eq!(staged, 600, "every customer has exactly one stage");
        // Every customer's karte carries scores; buyers carry the purchase figures.
        let page = store.scoring_rows(tenant, None, 600).await.unwrap();
        assert_eq!(page.len(), 600);
        let mut buyers = 0;
        for row in page.iter().step_by(25) {
            let karte = store.karte(tenant, row.customer_id, kimochi_store::KarteLimits::default()).await.unwrap();
            let score = karte.score.expect("every customer is scored");
            assert_eq!(score.as_of, run.as_of);
            if row.purchase_days > 0 && score.stage != kimochi_domain::Stage::Excluded {
                buyers += 1;
                assert!(score.rfm_cell.is_some() && score.p_alive.is_some() && score.clv.is_some(), "{score:?}");
                assert!(score.churn_level.is_some() && !score.churn_reasons.is_empty(), "{score:?}");
            }
        }
        assert!(buyers > 5, "the sample holds buyers");
    });

    // Mistakes are named.
    let unknown = ws.run(&["analyze", "--tenant", "nope", "--quiet"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no tenant \"nope\""));
    let bad_date = ws.run(&["analyze", "--as-of", "2026-13-01", "--quiet"]);
    assert!(!bad_date.status.success());
    assert!(String::from_utf8_lossy(&bad_date.stderr).contains("--as-of"));
}

/// The demo plants its churn effects (docs/demo-data.md); scoring the stored data must find them:
/// the fitted relative risks within a quarter of the planted factors, and the customers with an
/// unmet expectation ranked as churn-prone at about the planted rate.
#[test]
fn analyze_recovers_the_demo_planted_churn_effects() {
    let ws = Workspace::new("planted");
    let out = ws.ok(&["demo", "--customers", "20000", "--seed", "42"]);
    assert!(out.contains("scored 20000 customers"), "{out}");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let store = kimochi_store::open(&ws.db()).await.unwrap();
        let tenant = store.tenant_by_slug("demo").await.unwrap().id;
        let run = store.score_run_latest(tenant).await.unwrap().unwrap();
        let summary: serde_json::Value = serde_json::from_str(&run.summary).unwrap();
        let drivers = summary["churn"]["drivers"].as_array().unwrap();
        let driver = |code: &str| {
            let d = drivers.iter().find(|d| d["code"] == code).unwrap_or_else(|| panic!("{code} missing: {drivers:?}"));
            (d["relative_risk"].as_f64().unwrap(), d["ci_low"].as_f64().unwrap(), d["ci_high"].as_f64().unwrap())
        };
        let within = |code: &str, planted: f64| {
            let (risk, low, high) = driver(code);
            assert!(
                (risk / planted - 1.0).abs() <= 0.25,
                "{code}: fitted {risk:.2} (95% CI {low:.2}–{high:.2}), planted {planted}"
            );
        };
        within("expectation_gap", 3.0);
        within("advocate", 0.5);
        within("unreachable", 2.0);
        // Media against the reference medium (the most common, TV通販, planted 1.5×).
        assert_eq!(
            summary["churn"]["drivers"].as_array().unwrap().iter().filter(|d| d["code"] == "medium:TV通販").count(),
            0
        );
        within("medium:紹介", 0.6 / 1.5);
        within("medium:新聞広告", 0.9 / 1.5);

        // Active subscribers with a gap note rank as churn-prone at about the planted rate.
        let rows = store.scoring_rows(tenant, None, 20_000).await.unwrap();
        let (mut gap, mut other) = (Vec::new(), Vec::new());
        for row in &rows {
            let score = store.customer_score(tenant, row.customer_id).await.unwrap().unwrap();
            if score.stage != kimochi_domain::Stage::Subscription {
                continue;
            }
            let probability = score.churn_probability.expect("every active subscriber has a churn risk");
            if row.gap_notes > 0 { gap.push(probability) } else { other.push(probability) }
        }
        let mean = |values: &[f64]| values.iter().sum::<f64>() / values.len() as f64;
        assert!(gap.len() > 100 && other.len() > 1000, "{} {}", gap.len(), other.len());
        let ratio = mean(&gap) / mean(&other);
        assert!((2.0..=3.8).contains(&ratio), "gap subscribers' mean churn risk is {ratio:.2}× the others'");
    });
}

#[test]
fn text_analyze_writes_one_json_line_per_input_line() {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_kimochi"))
        .args(["text", "analyze"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let input = "とても満足しています。友達にも勧めました。\n\
                 全然効果を感じないので解約したいです。090-1234-5678まで\n\
                 \n\
                 <script>alert(1)</script>\u{202e}届きますか？\n";
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let lines: Vec<serde_json::Value> =
        String::from_utf8(output.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4, "one object per input line, empty lines included");
    let kinds = |i: usize| -> Vec<String> {
        lines[i]["kimochi"].as_array().unwrap().iter().map(|k| k.as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(lines[0]["polarity"], "positive");
    assert!(kinds(0).contains(&"advocacy".to_owned()) && kinds(0).contains(&"satisfaction".to_owned()));
    assert_eq!(lines[1]["polarity"], "negative");
    assert!(kinds(1).contains(&"churn_intent".to_owned()), "{:?}", lines[1]);
    assert!(!lines[1]["text"].as_str().unwrap().contains("1234"), "phone numbers are masked: {}", lines[1]["text"]);
    assert_eq!(lines[2]["polarity"], "neutral");
    for line in &lines {
        // Every span points into the text it came with.
        let text = line["text"].as_str().unwrap();
        for span in line["spans"].as_array().unwrap() {
            let (start, end) = (span["start"].as_u64().unwrap() as usize, span["end"].as_u64().unwrap() as usize);
            assert_eq!(&text[start..end], span["surface"].as_str().unwrap());
        }
    }
}

#[test]
fn imported_contacts_raise_alerts_with_the_tenants_own_crisis_words_once() {
    let ws = Workspace::new("import_alerts");
    ws.ok(&["tenant", "create", "acme"]);
    ws.ok(&["tenant", "create", "beta"]);
    ws.ok(&["import", "customers", &ws.file("c.csv", CUSTOMERS_SJIS.as_bytes()), "--tenant", "acme"]);
    ws.ok(&["import", "customers", &ws.file("c.csv", CUSTOMERS_SJIS.as_bytes()), "--tenant", "beta"]);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (acme, beta) = runtime.block_on(async {
        let store = kimochi_store::open(&ws.db()).await.unwrap();
        let acme = store.tenant_by_slug("acme").await.unwrap().id;
        let beta = store.tenant_by_slug("beta").await.unwrap().id;
        let word = kimochi_domain::NewCrisisWord {
            phrase: "ﾍﾝｷﾝ".into(),
            key: kimochi_text::crisis::matching_key("ﾍﾝｷﾝ"),
            severity: kimochi_domain::CrisisSeverity::Critical,
            note: String::new(),
        };
        store.crisis_word_create(acme, &word, time::OffsetDateTime::UNIX_EPOCH).await.unwrap();
        (acme, beta)
    });
    let contacts = "対応ID,顧客ID,チャネル,受発信,開始日時,内容\n\
K1,C001,SNS,受信,2026-03-01 09:00,へんきんしてほしい\n\
K2,C001,電話,受信,2026-03-01 11:00,ありがとうございました\n\
K3,C002,電話,受信,2026-03-02 11:00,消費者センターに相談します\n";
    for tenant in ["acme", "beta"] {
        let file = ws.file("k.csv", contacts.as_bytes());
        ws.ok(&["import", "contacts", &file, "--tenant", tenant]);
        // Importing the same file again updates the contacts and raises nothing new.
        ws.ok(&["import", "contacts", &file, "--tenant", tenant]);
    }
    runtime.block_on(async {
        let store = kimochi_store::open(&ws.db()).await.unwrap();
        let query = kimochi_domain::AlertQuery { since: None, unacknowledged_only: false, limit: 10 };
        let alerts = store.alert_list(acme, &query).await.unwrap();
        let words: Vec<Vec<&str>> =
            alerts.iter().map(|a| a.matches.iter().map(|m| m.phrase.as_str()).collect()).collect();
        assert_eq!(words, vec![vec!["消費者センター"], vec!["ﾍﾝｷﾝ"]], "acme's own word and a built-in one");
        let alerts = store.alert_list(beta, &query).await.unwrap();
        assert_eq!(alerts.len(), 1, "acme's word is not beta's: {alerts:?}");
        assert_eq!(alerts[0].matches[0].phrase, "消費者センター");
    });
}

#[test]
fn search_reindex_rebuilds_the_index_from_the_database() {
    let ws = Workspace::new("search");
    ws.ok(&["tenant", "create", "acme"]);
    ws.ok(&["tenant", "create", "beta"]);
    ws.ok(&["import", "customers", &ws.file("c.csv", CUSTOMERS_SJIS.as_bytes()), "--tenant", "acme"]);
    let contacts = "対応ID,顧客ID,チャネル,受発信,開始日時,内容\n\
K1,C001,メール,受信,2026-03-01 09:00,ローションが肌に合いません\n\
K2,C001,電話,発信,2026-03-02 10:00,\n";
    ws.ok(&["import", "contacts", &ws.file("k.csv", contacts.as_bytes()), "--tenant", "acme"]);
    let out = ws.ok(&["search", "reindex"]);
    assert!(out.contains("acme: 0 FAQ articles and 2 contacts indexed"), "{out}");
    assert!(out.contains("beta: 0 FAQ articles and 0 contacts indexed"), "{out}");
    // Beside the SQLite file unless configured.
    assert!(ws.path("kimochi.db.search").join("meta.json").exists(), "{out}");
    let elsewhere = ws.path("elsewhere");
    let out = ws.ok(&["search", "reindex", "--tenant", "acme", "--search-index", elsewhere.to_str().unwrap()]);
    assert!(out.contains("acme: 0 FAQ articles and 2 contacts indexed") && !out.contains("beta"), "{out}");
    assert!(elsewhere.join("meta.json").exists());
    let output = ws.run(&["search", "reindex", "--tenant", "nobody"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no tenant \"nobody\""));
}

/// `kimochi voc report` on the demo tenant recovers what the generator planted
/// (docs/demo-data.md): the words of the largest lost-order reason (説明書どおりに使っても効果が
/// 出ない, 30%) rank before those of any other reason and the three largest reasons are in the
/// top fifteen; the churn drivers are led by the expectation gap (3×) and no-contact streaks (2×).
#[test]
fn voc_report_finds_the_demo_planted_reasons_and_drivers() {
    let ws = Workspace::new("voc");
    ws.ok(&["demo", "--customers", "20000", "--seed", "42"]);
    let out = ws.ok(&["voc", "report", "--tenant", "demo", "--from", "2023-11-01", "--to", "2026-10-31", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();

    let lost = &report["lost_order_reasons"];
    assert!(lost["lost_contacts"].as_u64().unwrap() > 1000, "{}", lost["lost_contacts"]);
    let terms: Vec<&str> = lost["terms"].as_array().unwrap().iter().map(|t| t["term"].as_str().unwrap()).collect();
    // Words of each planted reason (the markers of kimochi_demo's LostOrderReason as lemmas).
    let reasons: [&[&str]; 6] = [
        &["説明書", "書く", "通り", "使用量", "記載"],
        &["価格", "値段", "予算", "予算オーバー", "お金"],
        &["肌 合う", "かゆみ", "赤み", "ピリピリ"],
        &["他社", "デパート", "ドラッグストア", "化粧品"],
        &["必要", "いらない", "様子"],
        &["反対", "家族", "無駄遣い"],
    ];
    let reason_of = |term: &str| reasons.iter().position(|words| words.contains(&term));
    let ranked: Vec<usize> = terms.iter().filter_map(|t| reason_of(t)).collect();
    assert_eq!(ranked.first(), Some(&0), "the largest planted reason comes first: {terms:?}");
    for reason in 0..3 {
        assert!(
            terms.iter().take(15).any(|t| reason_of(t) == Some(reason)),
            "reason {reason} in the top 15: {terms:?}"
        );
    }
    for term in lost["terms"].as_array().unwrap() {
        let examples = term["examples"].as_array().unwrap();
        assert!(!examples.is_empty() && examples.len() <= 3, "{term}");
    }

    let reasons = &report["call_reasons"];
    assert_eq!(reasons["table"]["unit"], "month");
    assert_eq!(reasons["table"]["periods"].as_array().unwrap().len(), 36);
    let names: Vec<&str> =
        reasons["table"]["reasons"].as_array().unwrap().iter().map(|r| r["reason"].as_str().unwrap()).collect();
    assert_eq!(names[0], "注文", "{names:?}");
    assert!(names.contains(&"定期便の解約") && names.contains(&"肌トラブル"), "{names:?}");

    let drivers = report["churn_drivers"]["drivers"].as_array().unwrap();
    let codes: Vec<&str> = drivers.iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(&codes[..2], &["expectation_gap", "unreachable"], "{codes:?}");
    let gap = drivers[0]["relative_risk"].as_f64().unwrap();
    assert!((gap / 3.0 - 1.0).abs() <= 0.25, "gap {gap}");
    let advocate = drivers.iter().find(|d| d["code"] == "advocate").unwrap();
    assert!(advocate["ci_high"].as_f64().unwrap() < 1.0, "advocates churn less: {advocate}");
    // Topics: the words in which customers whose expectation was not met say so (the planted gap
    // effect: 「値段のわりに違いがよくわかりません」「このまま続けていいのか迷っています」, the
    // lukewarm 「効果はこれから」…) raise the cancellation rate; the cancelling call is never read.
    let topics = report["churn_drivers"]["topics"].as_array().unwrap();
    let terms: Vec<&str> = topics.iter().map(|t| t["label"].as_str().unwrap()).collect();
    let planted = [
        "迷う",
        "いい",
        "元",
        "戻る",
        "わり",
        "違い",
        "値段",
        "期待",
        "シミ",
        "薄い",
        "変化",
        "しっとり",
        "ハリ",
        "効果",
        "正直",
        "もう少し",
        "これから",
        "がっかり",
    ];
    assert!(terms.len() >= 3, "{terms:?}");
    for term in terms.iter().take(3) {
        assert!(planted.iter().any(|w| term.contains(w)), "{term} is no gap phrase: {terms:?}");
    }
    assert!(terms.iter().all(|t| !t.contains("解約") && !t.contains("休止")), "{terms:?}");
    assert!(topics.iter().all(|t| t["ci_low"].as_f64().unwrap() > 1.0 && t["kind"] == "topic"));

    let text = ws.ok(&["voc", "report", "--tenant", "demo", "--period", "week"]);
    for heading in ["■ 失注理由", "■ コールリーズン", "■ 離反要因", "説明書", "期待とのギャップ", "週別"]
    {
        assert!(text.contains(heading), "{heading} missing from:\n{text}");
    }
    assert!(!regex_like_phone(&text), "example utterances are masked");

    let bad = ws.run(&["voc", "report", "--tenant", "demo", "--from", "2026-13-01"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--from"), "{}", String::from_utf8_lossy(&bad.stderr));
    let bad = ws.run(&["voc", "report", "--tenant", "demo", "--period", "year"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--period"));
    let unknown = ws.run(&["voc", "report", "--tenant", "nope"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no tenant \"nope\""));
    let help = ws.ok(&["voc", "report", "--help"]);
    assert!(help.contains("--from") && help.contains("--period") && help.contains("--json"), "{help}");
}

/// A phone number written plainly (digits with hyphens), which masked text never has.
fn regex_like_phone(text: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_digit() || c == '-')).any(|part| {
        let digits = part.chars().filter(char::is_ascii_digit).count();
        part.contains('-') && (10..=11).contains(&digits)
    })
}

/// `kimochi analyze` applies the stage thresholds an administrator stored for the tenant.
#[test]
fn analyze_reads_the_tenants_stage_thresholds() {
    let ws = Workspace::new("analyze_thresholds");
    ws.ok(&["demo", "--customers", "300", "--seed", "5"]);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dormant = |store: std::sync::Arc<dyn kimochi_store::Store>| async move {
        let tenant = store.tenant_by_slug("demo").await.unwrap().id;
        let run = store.score_run_latest(tenant).await.unwrap().unwrap();
        let summary: serde_json::Value = serde_json::from_str(&run.summary).unwrap();
        summary["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stage"] == "dormant")
            .map_or(0, |s| s["customers"].as_u64().unwrap())
    };
    let before = runtime.block_on(async {
        let store = kimochi_store::open(&ws.db()).await.unwrap();
        let before = dormant(store.clone()).await;
        let tenant = store.tenant_by_slug("demo").await.unwrap().id;
        let short = kimochi_domain::StageThresholds {
            dormant_after_days: 30,
            subscription_active_days: 45,
            repeater_min_main_orders: 2,
        };
        store.stage_thresholds_set(tenant, &short, time::OffsetDateTime::UNIX_EPOCH).await.unwrap();
        before
    });
    ws.ok(&["analyze", "--tenant", "demo", "--as-of", "2026-10-31", "--quiet"]);
    let after = runtime.block_on(async { dormant(kimochi_store::open(&ws.db()).await.unwrap()).await });
    assert!(after > before, "a 30-day dormancy makes more dormant customers than a year: {before} → {after}");
}

#[test]
fn behavioural_events_import_from_shift_jis_csv_and_json_lines() {
    let ws = Workspace::new("events");
    ws.ok(&["tenant", "create", "acme"]);
    let customers = ws.file("customers.csv", &shift_jis(CUSTOMERS_SJIS));
    ws.ok(&["import", "customers", &customers, "--tenant", "acme"]);
    // Survey answers in Shift_JIS, one customer by phone (full-width digits), one unknown.
    let survey = "電話番号,アンケート,設問,回答,回答日時\r\n０３－１２３４－５６７８,満足度,使い心地,とても良い,2026/11/01 10:00\r\n090-9999-0000,満足度,使い心地,良い,2026/11/01 11:00\r\n";
    let file = ws.file("survey.csv", &shift_jis(survey));
    let output = ws.run(&["import", "events", &file, "--tenant", "acme", "--kind", "survey"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains(":3: column phone:") && stderr.contains("nothing was imported"), "{stderr}");
    let out = ws.ok(&["import", "events", &file, "--tenant", "acme", "--kind", "survey", "--skip-invalid"]);
    assert!(out.contains("1 new, 0 updated, 1 rows skipped"), "{out}");
    // Web visits and email clicks as JSON lines, by email and external id; idempotent.
    let web = ws.file("web.jsonl", "{\"email\": \"hanako@example.jp\", \"url\": \"https://shop.example.jp/a\", \"accessed_at\": \"2026-11-02 09:00\"}\n".as_bytes());
    assert!(ws.ok(&["import", "events", &web, "--tenant", "acme", "--kind", "web"]).contains("1 new"));
    assert!(ws.ok(&["import", "events", &web, "--tenant", "acme", "--kind", "web"]).contains("0 new"));
    let mail = ws.file("mail.jsonl", "{\"customer_external_id\": \"C002\", \"event\": \"クリック\", \"occurred_at\": \"2026-11-03 08:00\", \"url\": \"https://shop.example.jp/b\", \"campaign\": \"秋\"}\n".as_bytes());
    assert!(ws.ok(&["import", "events", &mail, "--tenant", "acme", "--kind", "email"]).contains("1 new"));
    let contacts = ws.ok(&["export", "contacts", "--tenant", "acme"]);
    assert!(contacts.contains("clicked") && contacts.contains("https://shop.example.jp/b"), "{contacts}");
    // --kind is required for events.
    assert!(!ws.run(&["import", "events", &web, "--tenant", "acme"]).status.success());
}

#[test]
fn campaign_run_moves_the_steps_on_and_says_what_it_did() {
    let ws = Workspace::new("campaign_run");
    ws.ok(&["tenant", "create", "acme", "--name", "Acme"]);
    // Three customers with phone consent and a call-list campaign over them, written through the
    // store as the API would.
    let db = ws.db();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        use kimochi_domain::campaign::{CallCondition, CallRules, CampaignStep, NewCampaign};
        let store = kimochi_store::open(&db).await.unwrap();
        let tenant = store.tenant_by_slug("acme").await.unwrap().id;
        let at = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
        let mut members = Vec::new();
        for i in 0..3 {
            let mut profile = kimochi_domain::CustomerProfile::named(&format!("顧客 {i}")).unwrap();
            profile.phones = vec![kimochi_domain::PhoneNumber::parse(&format!("090-0000-000{i}")).unwrap()];
            profile.consent.phone = true;
            members.push(store.customer_create(tenant, &profile, at).await.unwrap().id);
        }
        let campaign = NewCampaign {
            name: "ケアコール".into(),
            purpose: String::new(),
            members,
            holdout_fraction: 0.0,
            seed: 1,
            steps: vec![CampaignStep::Call { condition: CallCondition::Everyone, rules: CallRules::default() }],
        };
        store.campaign_create(tenant, &campaign, at).await.unwrap();
    });
    let out = ws.ok(&["campaign", "run", "--tenant", "acme", "--json"]);
    let report: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!((report["campaigns"].as_u64(), report["calls_opened"].as_u64()), (Some(1), Some(3)), "{out}");
    // A second run has nothing left to do.
    let out = ws.ok(&["campaign", "run", "--tenant", "acme"]);
    assert!(out.contains("0 人が次のステップへ"), "{out}");
    let unknown = ws.run(&["campaign", "run", "--tenant", "nope"]);
    assert!(!unknown.status.success());
}

/// `kimochi demo` stores the operators' hearing checklists of the last year: the asked-rate
/// report over the demo's last months shows operators who ask at clearly different rates, and
/// segments on the answers and on the behaviour events select customers.
#[test]
fn the_demo_holds_hearing_answers_with_an_asked_rate_spread() {
    let ws = Workspace::new("demo_hearing");
    ws.ok(&["demo", "--customers", "3000", "--seed", "5"]);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let store = kimochi_store::open(&ws.db()).await.unwrap();
        let tenant = store.tenant_by_slug("demo").await.unwrap().id;
        let from = kimochi_domain::datetime::parse_datetime("from", "2026-05-01 00:00").unwrap();
        let to = kimochi_domain::datetime::parse_datetime("to", "2026-11-01 00:00").unwrap();
        let rates = store.hearing_asked_rates(tenant, from, to).await.unwrap();
        let mut per_operator: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
        for rate in &rates {
            let entry = per_operator.entry(rate.agent_name.clone().expect("an operator")).or_default();
            entry.0 += rate.shown;
            entry.1 += rate.asked;
        }
        let shares: Vec<f64> =
            per_operator.values().filter(|(shown, _)| *shown >= 100).map(|(s, a)| *a as f64 / *s as f64).collect();
        assert!(shares.len() >= 5, "{per_operator:?}");
        let low = shares.iter().copied().fold(1.0, f64::min);
        let high = shares.iter().copied().fold(0.0, f64::max);
        assert!(high - low >= 0.25, "asked rates from {low:.2} to {high:.2}: {per_operator:?}");
        let as_of = kimochi_domain::datetime::parse_datetime("as_of", "2026-11-01 00:00").unwrap();
        for rule in [
            serde_json::json!({"field": "hearing_choice", "op": "in", "value": ["高い"], "attribute": "investment_appetite"}),
            serde_json::json!({"field": "hearing_status", "op": "in", "value": ["not_asked"], "attribute": "life_event_date"}),
            serde_json::json!({"field": "survey_answer", "op": "gte", "value": 9, "key": "NPS", "days": 1095}),
            serde_json::json!({"field": "web_visits", "op": "gte", "value": 1, "url": "products/serum", "days": 120}),
        ] {
            let rule = kimochi_domain::segment::SegmentRule::from_json(&rule).unwrap();
            let count = store.segment_count(tenant, &rule, as_of).await.unwrap();
            assert!(count > 0 && count < 3000, "{rule:?}: {count}");
        }
    });
}
