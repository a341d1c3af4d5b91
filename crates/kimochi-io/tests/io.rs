//! The file formats as a caller sees them: bytes in, records and problems out; records in,
//! bytes out, and back again.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use kimochi_domain::datetime::{format_jst, parse_datetime};
use kimochi_domain::import::{ContactImport, ProductImport, RowProblem};
use kimochi_domain::*;
use kimochi_io::*;
use time::macros::{date, datetime};

fn shift_jis(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
    assert!(!unmappable, "{text:?} is not in Shift_JIS");
    bytes.into_owned()
}

/// `(line, column, part of the reason)` of each problem, in file order.
fn problems(problems: &[RowProblem]) -> Vec<(u64, &str, &str)> {
    problems.iter().map(|problem| (problem.line, problem.column.as_str(), problem.reason.as_str())).collect()
}

/// Checks problems by line and column, and that each reason contains the expected text.
fn assert_problems(got: &[RowProblem], expected: &[(u64, &str, &str)]) {
    let got = problems(got);
    assert_eq!(got.len(), expected.len(), "{got:#?}");
    for (got, expected) in got.iter().zip(expected) {
        assert_eq!((got.0, got.1), (expected.0, expected.1), "{got:?}");
        assert!(got.2.contains(expected.2), "reason {:?} should contain {:?}", got.2, expected.2);
    }
}

/// Checks that `text` parses as customers with the valid rows on `lines` and problems whose
/// line and column match and whose reason contains the given text.
fn check_customers(text: &str, lines: &[u64], expected_problems: &[(u64, &str, &str)]) {
    let parsed = parse_customers(text).unwrap_or_else(|error| panic!("{error}\n{text}"));
    let got_lines: Vec<u64> = parsed.rows.iter().map(|row| row.line).collect();
    assert_eq!(got_lines, lines, "valid lines of\n{text}\nproblems: {:?}", parsed.problems);
    assert_problems(&parsed.problems, expected_problems);
}

fn check_file_error(result: Result<impl std::fmt::Debug, FileError>, expected: &[&str]) {
    let error = result.expect_err("the file should be refused");
    let message = error.to_string();
    for part in expected {
        assert!(message.contains(part), "{message:?} should contain {part:?}");
    }
}

#[test]
fn shift_jis_file_with_japanese_headers_and_full_width_digits() {
    let text = "顧客ID,氏名,フリガナ,電話番号,メールアドレス,生年月日,性別,都道府県\r\n\
                Ｃ００１,山田　太郎,やまだ　たろう,０３（１２３４）５６７８,ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ,１９８０／０４／０１,男性,東京\r\n\
                C002,佐藤 花子,ｻﾄｳ ﾊﾅｺ,090-1111-2222;03-9999-8888,,1975年12月3日,女,大阪府\r\n";
    let decoded = decode(&shift_jis(text), Encoding::Auto).unwrap();
    assert_eq!(decoded.encoding, DetectedEncoding::ShiftJis);
    let parsed = parse_customers(&decoded.text).unwrap();
    assert_eq!(parsed.problems, vec![]);
    let yamada = &parsed.rows[0];
    assert_eq!(yamada.line, 2);
    assert_eq!(yamada.record.external_id.as_ref().map(ExternalId::as_str), Some("C001"));
    assert_eq!(yamada.record.name, "山田 太郎");
    assert_eq!(yamada.record.kana.as_deref(), Some("ヤマダ タロウ"));
    let digits: Vec<&str> = yamada.record.phones.iter().map(PhoneNumber::digits).collect();
    assert_eq!(digits, ["0312345678"]);
    assert_eq!(yamada.record.emails, vec![Email::parse("taro@example.jp").unwrap()]);
    assert_eq!(yamada.record.birth_date, Some(date!(1980 - 04 - 01)));
    assert_eq!(yamada.record.gender, Gender::Male);
    assert_eq!(yamada.record.prefecture.as_deref(), Some("東京都"));

    let sato = &parsed.rows[1];
    assert_eq!(sato.line, 3);
    assert_eq!(sato.record.kana.as_deref(), Some("サトウ ハナコ"));
    let digits: Vec<&str> = sato.record.phones.iter().map(PhoneNumber::digits).collect();
    assert_eq!(digits, ["09011112222", "0399998888"]);
    assert_eq!(sato.record.emails, vec![]);
    assert_eq!(sato.record.birth_date, Some(date!(1975 - 12 - 03)));
    assert_eq!(sato.record.gender, Gender::Female);
    assert_eq!(sato.record.prefecture.as_deref(), Some("大阪府"));
}

#[test]
fn utf8_file_with_bom_and_every_customer_column() {
    let text = "\u{FEFF}external_id,name,phone,携帯電話,email,gender,address,電話同意,メルマガ,DM同意,架電禁止,流入元,attr:肌質,属性:好きな香り,order_count\n\
                C001,山田 太郎,03-1234-5678,090-1234-5678、03-1234-5678,a@example.jp; b@example.jp,,東京都千代田区1-1,はい,○,×,,Instagram広告,乾燥肌,,3\n";
    let decoded = decode(text.as_bytes(), Encoding::Auto).unwrap();
    assert_eq!(decoded.encoding, DetectedEncoding::Utf8Bom);
    assert!(!decoded.text.starts_with('\u{FEFF}'));
    let parsed = parse_customers(&decoded.text).unwrap();
    assert_eq!(parsed.problems, vec![]);
    let profile = &parsed.rows[0].record;
    let digits: Vec<&str> = profile.phones.iter().map(PhoneNumber::digits).collect();
    assert_eq!(digits, ["0312345678", "09012345678"], "phones in column order, without repeats");
    let emails: Vec<&str> = profile.emails.iter().map(Email::as_str).collect();
    assert_eq!(emails, ["a@example.jp", "b@example.jp"]);
    assert_eq!(profile.gender, Gender::Unknown);
    assert_eq!(profile.consent, Consent { phone: true, email: true, dm: false });
    assert!(!profile.do_not_call);
    assert_eq!(profile.ad_medium.as_deref(), Some("Instagram広告"));
    assert_eq!(profile.attributes, BTreeMap::from([("肌質".to_owned(), "乾燥肌".to_owned())]));
    // Text handed over with its BOM still on reads the same.
    assert_eq!(parse_customers(text).unwrap(), parsed);
}

#[test]
fn bad_cells_are_each_reported_and_good_rows_kept() {
    let header = "顧客ID,氏名,電話番号,生年月日,性別,フリガナ\r\n";
    check_customers(&format!("{header}C1,山田,03-1234-5678,1980-01-01,男,ヤマダ\r\n"), &[2], &[]);
    check_customers(
        &format!("{header}C1,山田,,1980-02-30,,\r\nC2,佐藤,03-1234,,宇宙人,\r\nC3,鈴木,,,,スズキ\r\n"),
        &[4],
        &[
            (2, "生年月日", "no such day"),
            (3, "電話番号", "10 or 11 digits"),
            (3, "性別", "is not one of female, male"),
        ],
    );
    check_customers(&format!("{header},,,,,\r\n,山田,,,,\r\n"), &[], &[(3, "顧客ID", "is required")]);
    // Blank lines still count: the problem is on the line a text editor shows.
    check_customers("顧客ID,氏名\r\n\r\nC1,\r\n\nC2,佐藤\n", &[5], &[(3, "氏名", "is required")]);
    check_customers(&format!("{header}C1, ,,,,山田\r\n"), &[], &[(2, "氏名", "is required"), (2, "フリガナ", "kana")]);
    check_customers(
        &format!("{header}C1,山田,03-1234-5678;abc;0120,,,\r\n"),
        &[],
        &[(2, "電話番号", "\"abc\" contains characters"), (2, "電話番号", "\"0120\" a Japanese phone number")],
    );
    check_customers("顧客ID,氏名,電話同意\nC1,山田,たぶん\n", &[], &[(2, "電話同意", "is not yes or no")]);
    check_customers("顧客ID,氏名,\nC1,山田,\nC2,佐藤,メモ\n", &[2], &[(3, "", "without a header")]);
    // A spreadsheet that ran formulas would have been told `'=1+1`; the import reads `=1+1`.
    let parsed = parse_customers("顧客ID,氏名\nC1,'=1+1\n").unwrap();
    assert_eq!(parsed.rows[0].record.name, "=1+1");
}

#[test]
fn problem_values_are_the_raw_cell_cut_to_80_characters() {
    let long = "あ".repeat(300);
    let parsed = parse_customers(&format!("顧客ID,氏名\nC1,{long}\n")).unwrap();
    let [problem] = parsed.problems.as_slice() else { panic!("{:?}", parsed.problems) };
    assert_eq!(problem.value, "あ".repeat(80));
    assert_eq!(problem.reason, "is longer than 200 characters");
    assert_eq!(
        problem.to_string(),
        format!("line 2, column 氏名: is longer than 200 characters (value {:?})", "あ".repeat(80))
    );
}

#[test]
fn repeated_external_ids_name_the_first_line() {
    check_customers(
        "顧客ID,氏名\nC1,山田\nC2,佐藤\nＣ１,山田 二郎\nC1,山田 三郎\n",
        &[2, 3],
        &[(4, "顧客ID", "repeats the id of line 2"), (5, "顧客ID", "repeats the id of line 2")],
    );
    let parsed = parse_products("商品コード,商品名,区分,価格\nP1,美容液,本商品,3980\nP1,美容液,定期,3480\n").unwrap();
    assert_problems(&parsed.problems, &[(3, "商品コード", "repeats the id of line 2")]);
    let parsed = parse_contacts(
        "対応ID,顧客ID,チャネル,受発信,開始日時\nK1,C1,電話,受信,2024-01-05 10:00\nK1,C1,電話,受信,2024-01-05 11:00\n",
    )
    .unwrap();
    assert_problems(&parsed.problems, &[(3, "対応ID", "repeats the id of line 2")]);
}

#[test]
fn broken_quotes_are_reported_on_their_row() {
    // A quote never closed swallows the rest of the file into one row.
    check_customers(
        "顧客ID,氏名\r\nC1,山田\r\nC2,\"佐藤\r\nC3,鈴木\r\nC4,高橋\r\n",
        &[2],
        &[(3, WHOLE_ROW, "never closed")],
    );
    // A stray quote closed by another one lines later joins those lines into one row.
    check_customers(
        "顧客ID,氏名\nC1,山田\nC2,\"佐藤\nC3,鈴木\"x,1\nC4,高橋\n",
        &[2, 5],
        &[(3, WHOLE_ROW, "has 3 fields but the header has 2; it runs over lines 3–4")],
    );
    check_customers(
        "顧客ID,氏名\nC1\nC2,佐藤,余分\nC3,鈴木\n",
        &[4],
        &[(2, WHOLE_ROW, "has 1 fields"), (3, WHOLE_ROW, "has 3 fields")],
    );
    // A quote inside an unquoted cell is an ordinary character.
    check_customers("顧客ID,氏名\nC1,山田 \"タロ\" 太郎\n", &[2], &[]);
    check_file_error(parse_customers("\"顧客ID,氏名\nC1,山田\n"), &["line 1", "never closed"]);
}

#[test]
fn file_level_problems() {
    check_file_error(parse_customers(""), &["empty"]);
    check_file_error(parse_customers("\r\n \r\n"), &["empty"]);
    check_file_error(parse_customers("顧客ID,電話番号\nC1,03-1234-5678\n"), &["name", "氏名", "顧客ID, 電話番号"]);
    check_file_error(parse_customers("氏名,お名前,顧客ID\n"), &["\"氏名\"", "\"お名前\"", "name"]);
    check_file_error(parse_customers("顧客ID,氏名,attr:肌質,属性:肌質\n"), &["attr:肌質", "属性:肌質"]);
    check_file_error(
        parse_customers("顧客ID,氏名,好きな色\n"),
        &["\"好きな色\" is unknown", "kana (フリガナ", "attr:<name>"],
    );
    check_file_error(parse_orders("注文番号,顧客ID,注文日,商品コード\n"), &["amount", "金額"]);
    check_file_error(decode(b"a\n\xFF\n", Encoding::Auto), &["neither UTF-8 nor Shift_JIS", "line 2"]);
    // A header alone is a file with nothing to import, not an error.
    let parsed = parse_customers("顧客ID,氏名\r\n").unwrap();
    assert!(parsed.rows.is_empty() && parsed.is_clean());
}

#[test]
fn products_orders_and_tab_separated_text() {
    let parsed = parse_products("商品コード\t商品名\t商品区分\t販売価格\tカテゴリ\nP1\t美容液 30ml\tトライアル\t¥1,980\tスキンケア\nP2\t\tsample\tfree\t\n").unwrap();
    assert_eq!(
        parsed.rows.iter().map(|row| &row.record).collect::<Vec<_>>(),
        [&ProductImport {
            external_id: ExternalId::parse("P1").unwrap(),
            name: "美容液 30ml".to_owned(),
            kind: ProductKind::Trial,
            category: Some("スキンケア".to_owned()),
            price: 1980,
        }]
    );
    assert_problems(&parsed.problems, &[(3, "商品名", "is required"), (3, "販売価格", "whole number of yen")]);

    let text = "受注番号,会員ID,購入日,商品ID,数量,小計,経路,定期\n\
                O1,C1,2024/1/5 10:30,P1,2,\"3,960\",電話,1\n\
                O1,C1,2024/1/5 10:30,P2,,0,電話,1\n\
                O1,C2,2024/1/6,P3,1,100,電話,0\n\
                O2,C1,2024-01-07,P1,0,100,,\n";
    let parsed = parse_orders(text).unwrap();
    let lines: Vec<(u64, &str, i64, i64)> = parsed
        .rows
        .iter()
        .map(|row| (row.line, row.record.product_external_id.as_str(), row.record.quantity, row.record.amount))
        .collect();
    assert_eq!(lines, [(2, "P1", 2, 3960), (3, "P2", 1, 0)]);
    assert_eq!(format_jst(parsed.rows[0].record.ordered_at), "2024-01-05T10:30:00+09:00");
    assert_eq!(parsed.rows[0].record.channel, Some(Channel::Phone));
    assert!(parsed.rows[0].record.is_subscription);
    assert_problems(
        &parsed.problems,
        &[
            (4, "会員ID", "differs from line 2 of the same order, which has \"C1\""),
            (4, "購入日", "differs from line 2"),
            (4, "定期", "differs from line 2"),
            (5, "数量", "between 1 and 100000"),
        ],
    );
    // Without a quantity column every line is one item.
    let parsed = parse_orders("注文ID,顧客ID,注文日,商品コード,金額\nO1,C1,2024-01-05,P1,500\n").unwrap();
    assert_eq!(parsed.rows[0].record.quantity, 1);
}

#[test]
fn multi_line_contact_text_keeps_later_line_numbers() {
    let text = "対応ID,顧客ID,チャネル,受発信,開始日時,終了日時,コールリーズン,対応結果,お客様の声,元対応ID,担当者\r\n\
                K1,C1,電話,入電,2024/1/5 10:00,2024/1/5 10:12,解約相談,解決,\"肌に合わないと。\r\n\
                「もう少し様子を見る」とのこと。\r\n\
                \"\"定期\"\"は継続。\",,sato\r\n\
                K2,C1,メール,発信,2024/1/6 09:00,2024/1/6 08:00,,,,K1,\r\n\
                K3,C2,ＳＮＳ,受信,2024/1/7 12:00,,,,,,\r\n\
                K4,C2,電話,受信,2024/1/8 12:00,,,たぶん,,K4,\r\n";
    let parsed = parse_contacts(text).unwrap();
    let lines: Vec<(u64, &str)> = parsed.rows.iter().map(|row| (row.line, row.record.external_id.as_str())).collect();
    assert_eq!(lines, [(2, "K1"), (6, "K3")]);
    let first = &parsed.rows[0].record;
    assert_eq!(
        first.text,
        "肌に合わないと。\r\n「もう少し様子を見る」とのこと。\r\n\"定期\"は継続。".replace('\r', "")
    );
    assert_eq!(first.direction, Direction::Inbound);
    assert_eq!(first.outcome, Some(Outcome::Resolved));
    assert_eq!(first.reason.as_deref(), Some("解約相談"));
    assert_eq!(first.agent_login.as_deref(), Some("sato"));
    assert_eq!(first.ended_at, Some(parse_datetime("t", "2024-01-05 10:12").unwrap()));
    assert_eq!(parsed.rows[1].record.channel, Channel::Sns);
    assert_problems(
        &parsed.problems,
        &[(5, "終了日時", "is before started_at"), (7, "対応結果", "is not one of"), (7, "元対応ID", "own id")],
    );
}

fn sample_customers() -> Vec<(Customer, CustomerStats)> {
    let mut yamada = CustomerProfile::named("山田 太郎").unwrap();
    yamada.external_id = Some(ExternalId::parse("C001").unwrap());
    yamada.kana = Some("ヤマダ タロウ".to_owned());
    yamada.birth_date = Some(date!(1980 - 04 - 01));
    yamada.gender = Gender::Male;
    yamada.prefecture = Some("東京都".to_owned());
    yamada.address = Some("千代田区千代田1-1, 3F".to_owned());
    yamada.phones = vec![PhoneNumber::parse("0312345678").unwrap(), PhoneNumber::parse("09012345678").unwrap()];
    yamada.emails = vec![Email::parse("taro@example.jp").unwrap(), Email::parse("t.yamada@example.com").unwrap()];
    yamada.consent = Consent { phone: true, email: false, dm: true };
    yamada.ad_medium = Some("=新聞広告".to_owned());
    yamada.attributes = BTreeMap::from([("肌質".to_owned(), "乾燥肌".to_owned())]);
    let mut sato = CustomerProfile::named("佐藤 \"はな\" 花子").unwrap();
    sato.external_id = Some(ExternalId::parse("C002").unwrap());
    sato.do_not_call = true;
    sato.attributes = BTreeMap::from([("好きな香り".to_owned(), "ラベンダー".to_owned())]);
    let stats = CustomerStats {
        first_order_at: Some(datetime!(2023-05-01 10:00 +09:00)),
        last_order_at: Some(datetime!(2024-01-05 10:30 +09:00)),
        order_count: 4,
        total_amount: 15_920,
        last_contact_at: Some(datetime!(2024-01-06 09:00 +09:00)),
        last_outcome: Some(Outcome::LostOrder),
        consecutive_no_contact: 0,
        contact_count: 3,
    };
    let at = datetime!(2024-01-01 00:00 UTC);
    [yamada, sato]
        .into_iter()
        .enumerate()
        .map(|(index, profile)| {
            let customer = Customer { id: CustomerId(index as i64 + 1), profile, created_at: at, updated_at: at };
            (customer, if index == 0 { stats.clone() } else { CustomerStats::default() })
        })
        .collect()
}

#[test]
fn customer_csv_export_imports_back_to_the_same_profiles() {
    let customers = sample_customers();
    let keys = attribute_keys(customers.iter().map(|(customer, _)| &customer.profile));
    assert_eq!(keys, ["好きな香り", "肌質"]);
    let mut sink = CsvSink::new(Vec::new(), &customer_columns(&keys)).unwrap();
    for (customer, stats) in &customers {
        sink.write_row(&customer_row(customer, stats, &keys)).unwrap();
    }
    let bytes = sink.finish().unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBFexternal_id,name,kana,phone,email,"));
    let text = std::str::from_utf8(&bytes).unwrap();
    assert!(text.ends_with("\r\n") && !text.replace("\r\n", "").contains('\n'), "CRLF only:\n{text}");
    assert!(text.contains(
        "C001,山田 太郎,ヤマダ タロウ,03-1234-5678;090-1234-5678,taro@example.jp;t.yamada@example.com,1980-04-01,male,東京都,\"千代田区千代田1-1, 3F\",1,0,1,0,'=新聞広告,,乾燥肌,4,15920,2023-05-01T10:00:00+09:00,"
    ), "{text}");
    assert!(text.contains("lost_order,0,3\r\n"), "{text}");

    let decoded = decode(&bytes, Encoding::Auto).unwrap();
    assert_eq!(decoded.encoding, DetectedEncoding::Utf8Bom);
    let parsed = parse_customers(&decoded.text).unwrap();
    assert_eq!(parsed.problems, vec![]);
    let imported: Vec<&CustomerProfile> = parsed.rows.iter().map(|row| &row.record).collect();
    let exported: Vec<&CustomerProfile> = customers.iter().map(|(customer, _)| &customer.profile).collect();
    assert_eq!(imported, exported);
}

#[test]
fn order_and_contact_exports_use_the_import_columns() {
    let order = Order {
        id: OrderId(1),
        external_id: Some(ExternalId::parse("O1").unwrap()),
        customer_id: CustomerId(7),
        ordered_at: datetime!(2024-01-05 10:30 +09:00),
        channel: Some(Channel::Phone),
        ad_medium: None,
        is_subscription: true,
        total_amount: 4_960,
        lines: vec![
            OrderLine {
                product_id: ProductId(1),
                product_name: "美容液".to_owned(),
                product_kind: ProductKind::Main,
                quantity: 1,
                amount: 3_980,
            },
            OrderLine {
                product_id: ProductId(2),
                product_name: "サンプル".to_owned(),
                product_kind: ProductKind::Sample,
                quantity: 2,
                amount: 980,
            },
        ],
    };
    let product_external_id = |id: ProductId| format!("P{}", id.0);
    let table = Table { columns: order_columns(), rows: order_rows(&order, "C007", &product_external_id) };
    let csv = table.to_csv().unwrap();
    let parsed = parse_orders(&decode(&csv, Encoding::Auto).unwrap().text).unwrap();
    assert_eq!(parsed.problems, vec![]);
    let lines: Vec<(&str, &str, i64, i64, bool)> = parsed
        .rows
        .iter()
        .map(|row| {
            let line = &row.record;
            (
                line.customer_external_id.as_str(),
                line.product_external_id.as_str(),
                line.quantity,
                line.amount,
                line.is_subscription,
            )
        })
        .collect();
    assert_eq!(lines, [("C007", "P1", 1, 3980, true), ("C007", "P2", 2, 980, true)]);
    assert_eq!(parsed.rows[0].record.ordered_at, order.ordered_at);

    let contact = Contact {
        id: ContactId(2),
        external_id: Some(ExternalId::parse("K2").unwrap()),
        customer_id: CustomerId(7),
        channel: Channel::Email,
        direction: Direction::Outbound,
        started_at: datetime!(2024-01-06 09:00 +09:00),
        ended_at: Some(datetime!(2024-01-06 09:05 +09:00)),
        agent_id: Some(UserId(3)),
        reason: Some("定期解約".to_owned()),
        outcome: Some(Outcome::LostOrder),
        text: "一行目\n+二行目, \"引用\"".to_owned(),
        thread_id: ContactId(1),
        tags: Default::default(),
    };
    let refs = ContactRefs { customer_external_id: "C007", thread_external_id: Some("K1"), agent_login: Some("sato") };
    let table = Table { columns: contact_columns(), rows: vec![contact_row(&contact, refs)] };
    let parsed = parse_contacts(&decode(&table.to_csv().unwrap(), Encoding::Auto).unwrap().text).unwrap();
    assert_eq!(parsed.problems, vec![]);
    assert_eq!(
        parsed.rows[0].record,
        ContactImport {
            external_id: ExternalId::parse("K2").unwrap(),
            customer_external_id: ExternalId::parse("C007").unwrap(),
            channel: Channel::Email,
            direction: Direction::Outbound,
            started_at: contact.started_at,
            ended_at: contact.ended_at,
            reason: contact.reason.clone(),
            outcome: contact.outcome,
            text: contact.text.clone(),
            thread_external_id: Some(ExternalId::parse("K1").unwrap()),
            agent_login: Some("sato".to_owned()),
            tags: Default::default(),
        }
    );
}

#[test]
fn xlsx_export_is_a_workbook() {
    let customers = sample_customers();
    let keys = attribute_keys(customers.iter().map(|(customer, _)| &customer.profile));
    let mut sink = XlsxSink::new("顧客", &customer_columns(&keys)).unwrap();
    for (customer, stats) in &customers {
        sink.write_row(&customer_row(customer, stats, &keys)).unwrap();
    }
    let bytes = sink.finish().unwrap();
    assert!(bytes.starts_with(b"PK\x03\x04"), "an xlsx file is a zip archive");
    assert!(bytes.len() > 1000);
    // Handing the workbook to the CSV import says what it is.
    check_file_error(decode(&bytes, Encoding::Auto), &["Excel workbook"]);
}
