//! Conformance cases for hearing points (issue 6, migration 0010): question sets, answers stored
//! with their contact (or not at all), soft facts, the asked-rate report and prospect rows.

use kimochi_domain::hearing::*;

use super::*;

fn question(label: &str, kind: AnswerKind, soft_attribute: &str) -> NewHearingQuestion {
    NewHearingQuestion {
        id: None,
        label: label.into(),
        kind,
        soft_attribute: soft_attribute.into(),
        hint: "雑談から自然に".into(),
        weight: DEFAULT_WEIGHT,
    }
}

fn beauty_set(name: &str, default_inbound: bool) -> NewHearingSet {
    NewHearingSet {
        name: name.into(),
        description: "基本の聞き出し".into(),
        default_inbound,
        questions: vec![
            question(
                "いちばん気になること",
                AnswerKind::Choice { options: vec!["乾燥".into(), "シミ".into(), "ハリ".into()] },
                "what_matters_most",
            ),
            question(
                "月のスキンケア予算",
                AnswerKind::Number { min: Some(0.0), max: Some(100_000.0), unit: Some("円".into()) },
                "monthly_budget",
            ),
            question("ご結婚の予定日", AnswerKind::Date, "wedding_date"),
            question("ご家族の様子", AnswerKind::Text { max_chars: 100 }, "life_plan"),
        ],
    }
}

async fn agent(store: &Arc<dyn Store>, tenant: TenantId, login: &str) -> User {
    let user = NewUser {
        login: login.into(),
        display_name: format!("{login} さん"),
        role: Role::Agent,
        team_id: None,
        password_hash: "$argon2id$unused".into(),
    };
    store.user_create(tenant, &user, now()).await.unwrap()
}

fn line(set: &HearingSet, index: usize, asked: bool, value: Option<AnswerValue>) -> NewHearingAnswer {
    NewHearingAnswer { question_id: set.questions[index].id, asked, value }
}

pub(crate) async fn hearing_sets_crud_default_and_tenancy(store: Arc<dyn Store>) {
    let a = tenant(&store, "acme").await;
    let b = tenant(&store, "beta").await;

    let first = store.hearing_set_create(a, &beauty_set("基本セット", true), now()).await.unwrap();
    assert_eq!(first.questions.len(), 4);
    assert_eq!(first.questions.iter().map(|q| q.position).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert_eq!(
        first.questions[0].kind,
        AnswerKind::Choice { options: vec!["乾燥".into(), "シミ".into(), "ハリ".into()] }
    );
    assert_eq!(
        first.questions[1].kind,
        AnswerKind::Number { min: Some(0.0), max: Some(100_000.0), unit: Some("円".into()) }
    );
    assert_eq!(first.questions[3].kind, AnswerKind::Text { max_chars: 100 });
    assert_eq!(store.hearing_set_get(a, first.id).await.unwrap(), first);
    assert_eq!(store.hearing_set_default_inbound(a).await.unwrap().map(|s| s.id), Some(first.id));

    // The name is unique per tenant; another tenant may use it.
    let again = store.hearing_set_create(a, &beauty_set("基本セット", false), now()).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let foreign = store.hearing_set_create(b, &beauty_set("基本セット", false), now()).await.unwrap();

    // Invalid sets are refused with the question named, and nothing is stored.
    let mut bad = beauty_set("壊れたセット", false);
    bad.questions[1].kind = AnswerKind::Number { min: Some(10.0), max: Some(1.0), unit: None };
    match store.hearing_set_create(a, &bad, now()).await {
        Err(StoreError::Invalid(error)) => {
            assert!(error.reason.contains("question 2 「月のスキンケア予算」"), "{error}")
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert_eq!(store.hearing_set_list(a).await.unwrap().len(), 1);

    // A second default takes the mark from the first.
    let second = store.hearing_set_create(a, &beauty_set("ブライダル", true), now()).await.unwrap();
    assert_eq!(store.hearing_set_default_inbound(a).await.unwrap().map(|s| s.id), Some(second.id));
    assert!(!store.hearing_set_get(a, first.id).await.unwrap().default_inbound);
    assert_eq!(store.hearing_set_default_inbound(b).await.unwrap(), None);

    // Another tenant's set reads as not found everywhere.
    assert!(matches!(store.hearing_set_get(a, foreign.id).await, Err(StoreError::NotFound(_))));
    assert!(matches!(
        store.hearing_set_update(a, foreign.id, &beauty_set("x", false), now()).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(store.hearing_set_delete(a, foreign.id).await, Err(StoreError::NotFound(_))));
    assert_eq!(store.hearing_set_get(b, foreign.id).await.unwrap().name, "基本セット");

    // Editing keeps question ids, inserts new ones and removes those left out (no answers yet).
    let mut edit = beauty_set("基本セット(改)", false);
    edit.questions[0].id = Some(first.questions[0].id);
    edit.questions[0].label = "一番の悩み".into();
    edit.questions.remove(3);
    edit.questions[2].id = Some(first.questions[2].id);
    let edited = store.hearing_set_update(a, first.id, &edit, now()).await.unwrap();
    assert_eq!(edited.name, "基本セット(改)");
    assert_eq!(edited.questions.len(), 3);
    assert_eq!(edited.questions[0].id, first.questions[0].id);
    assert_eq!(edited.questions[0].label, "一番の悩み");
    assert_ne!(edited.questions[1].id, first.questions[1].id, "a question without id is new");
    assert_eq!(edited.questions[2].id, first.questions[2].id);
    // A question id of another set (or tenant) is refused.
    let mut stolen = edit.clone();
    stolen.questions[0].id = Some(foreign.questions[0].id);
    assert!(matches!(
        store.hearing_set_update(a, first.id, &stolen, now()).await,
        Err(StoreError::UnknownReference { .. })
    ));

    store.hearing_set_delete(a, second.id).await.unwrap();
    assert!(matches!(store.hearing_set_get(a, second.id).await, Err(StoreError::NotFound(_))));
    assert_eq!(store.hearing_set_list(a).await.unwrap().iter().map(|s| s.id).collect::<Vec<_>>(), [first.id]);
}

pub(crate) async fn hearing_answers_are_stored_with_their_contact(store: Arc<dyn Store>) {
    let a = tenant(&store, "acme").await;
    let b = tenant(&store, "beta").await;
    let op = agent(&store, a, "op01").await;
    let op2 = agent(&store, a, "op02").await;
    let customer =
        store.customer_create(a, &profile("C001", "山田 花子", "ヤマダ ハナコ", "03-1234-5678"), now()).await.unwrap();
    let other = store.customer_create(b, &profile("C001", "他社 顧客", "タシャ", "03-9999-0000"), now()).await.unwrap();
    let set = store.hearing_set_create(a, &beauty_set("基本セット", true), now()).await.unwrap();
    let foreign_set = store.hearing_set_create(b, &beauty_set("基本セット", true), now()).await.unwrap();
    let wedding = time::Date::from_calendar_date(2027, time::Month::March, 20).unwrap();

    let mut call = contact(customer.id, "2026-11-10 10:00", Some(Outcome::Resolved));
    call.agent_id = Some(op.id);

    // A bad answer (over the maximum) stores neither the contact nor any answer.
    let bad = HearingCapture {
        set_id: set.id,
        answers: vec![
            line(&set, 0, true, Some(AnswerValue::Choice("乾燥".into()))),
            line(&set, 1, true, Some(AnswerValue::Number(500_000.0))),
        ],
    };
    match store.contact_create_with_hearing(a, &call, &bad).await {
        Err(StoreError::Invalid(error)) => {
            assert_eq!(error.field, "hearing");
            assert!(error.reason.contains("「月のスキンケア予算」"), "{error}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    // A type mismatch and an option that does not exist are refused the same way.
    let mismatch =
        HearingCapture { set_id: set.id, answers: vec![line(&set, 2, true, Some(AnswerValue::Text("来年".into())))] };
    assert!(matches!(store.contact_create_with_hearing(a, &call, &mismatch).await, Err(StoreError::Invalid(_))));
    let no_option = HearingCapture {
        set_id: set.id,
        answers: vec![line(&set, 0, true, Some(AnswerValue::Choice("毛穴".into())))],
    };
    assert!(matches!(store.contact_create_with_hearing(a, &call, &no_option).await, Err(StoreError::Invalid(_))));
    // Another tenant's set is an unknown reference.
    let foreign = HearingCapture { set_id: foreign_set.id, answers: vec![line(&foreign_set, 0, false, None)] };
    assert!(matches!(
        store.contact_create_with_hearing(a, &call, &foreign).await,
        Err(StoreError::UnknownReference { field: "hearing.set_id" })
    ));
    // Another tenant's customer is not found, with a valid capture of this tenant.
    let elsewhere = NewContact { customer_id: other.id, ..call.clone() };
    let valid_empty = HearingCapture { set_id: set.id, answers: vec![line(&set, 0, false, None)] };
    assert!(matches!(
        store.contact_create_with_hearing(a, &elsewhere, &valid_empty).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.contact_list(a, customer.id, 10).await.unwrap().is_empty(), "nothing was half-written");
    assert!(store.hearing_asked_rates(a, at("2026-01-01 00:00"), at("2027-01-01 00:00")).await.unwrap().is_empty());

    // The full checklist: answered, asked without an answer, not asked.
    let good = HearingCapture {
        set_id: set.id,
        answers: vec![
            line(&set, 0, true, Some(AnswerValue::Choice("乾燥".into()))),
            line(&set, 1, true, None),
            line(&set, 2, true, Some(AnswerValue::Date(wedding))),
            line(&set, 3, false, None),
        ],
    };
    let (created, answers) = store.contact_create_with_hearing(a, &call, &good).await.unwrap();
    assert_eq!(created.customer_id, customer.id);
    assert_eq!(answers.len(), 4);
    assert!(answers.iter().all(|x| x.contact_id == created.id && x.agent_id == Some(op.id)));
    assert!(answers.iter().all(|x| x.answered_at == call.started_at && x.customer_id == customer.id));
    assert_eq!(answers[0].value, Some(AnswerValue::Choice("乾燥".into())));
    assert_eq!((answers[1].asked, answers[1].value.clone()), (true, None));
    assert_eq!(answers[2].value, Some(AnswerValue::Date(wedding)));
    assert!(!answers[3].asked);
    assert_eq!(store.hearing_answers_of_contact(a, created.id).await.unwrap(), answers);
    assert!(store.hearing_answers_of_contact(b, created.id).await.unwrap().is_empty());
    assert_eq!(store.customer_stats(a, customer.id).await.unwrap().contact_count, 1, "stats recomputed");

    // A later contact by another operator changes one soft fact; the latest wins.
    let mut later = contact(customer.id, "2026-11-20 15:00", Some(Outcome::Resolved));
    later.agent_id = Some(op2.id);
    let update = HearingCapture {
        set_id: set.id,
        answers: vec![
            line(&set, 0, true, Some(AnswerValue::Choice("ハリ".into()))),
            line(&set, 1, true, Some(AnswerValue::Number(8000.0))),
            line(&set, 2, false, None),
            line(&set, 3, false, None),
        ],
    };
    store.contact_create_with_hearing(a, &later, &update).await.unwrap();
    let facts = store.hearing_soft_facts(a, customer.id).await.unwrap();
    let by_key: Vec<(&str, String)> = facts.iter().map(|f| (f.soft_attribute.as_str(), f.value.display())).collect();
    assert_eq!(
        by_key,
        [
            ("what_matters_most", "ハリ".to_owned()),
            ("monthly_budget", "8000".to_owned()),
            ("wedding_date", "2027-03-20".to_owned())
        ]
    );
    assert_eq!(facts[1].unit.as_deref(), Some("円"));
    assert!(matches!(store.hearing_soft_facts(a, other.id).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.hearing_soft_facts(b, customer.id).await, Err(StoreError::NotFound(_))));

    // Asked rates per operator and question, for the period only.
    let rates = store.hearing_asked_rates(a, at("2026-11-01 00:00"), at("2026-12-01 00:00")).await.unwrap();
    let rows: Vec<(Option<&str>, u32, i64, i64, i64)> =
        rates.iter().map(|r| (r.agent_name.as_deref(), r.position, r.shown, r.asked, r.answered)).collect();
    assert_eq!(
        rows,
        [
            (Some("op01 さん"), 1, 1, 1, 1),
            (Some("op01 さん"), 2, 1, 1, 0),
            (Some("op01 さん"), 3, 1, 1, 1),
            (Some("op01 さん"), 4, 1, 0, 0),
            (Some("op02 さん"), 1, 1, 1, 1),
            (Some("op02 さん"), 2, 1, 1, 1),
            (Some("op02 さん"), 3, 1, 0, 0),
            (Some("op02 さん"), 4, 1, 0, 0),
        ]
    );
    assert_eq!(rates[1].answered_rate(), Some(0.0));
    let november_first_half =
        store.hearing_asked_rates(a, at("2026-11-01 00:00"), at("2026-11-15 00:00")).await.unwrap();
    assert_eq!(november_first_half.len(), 4);
    assert!(store.hearing_asked_rates(b, at("2026-11-01 00:00"), at("2026-12-01 00:00")).await.unwrap().is_empty());

    // Prospect rows: the answered customer with their soft facts; none for the other tenant.
    let prospects = store.prospect_rows(a, 100).await.unwrap();
    assert_eq!(prospects.len(), 1);
    assert_eq!(prospects[0].customer.id, customer.id);
    assert_eq!(prospects[0].soft_facts, facts);
    assert!(store.prospect_rows(b, 100).await.unwrap().is_empty());

    // A set with answers cannot be deleted; a question with answers is retired, not deleted.
    assert!(matches!(store.hearing_set_delete(a, set.id).await, Err(StoreError::Conflict(_))));
    let mut fewer = beauty_set("基本セット", true);
    fewer.questions.truncate(1);
    fewer.questions[0].id = Some(set.questions[0].id);
    let edited = store.hearing_set_update(a, set.id, &fewer, now()).await.unwrap();
    assert_eq!(edited.questions.len(), 1);
    assert_eq!(store.hearing_soft_facts(a, customer.id).await.unwrap().len(), 3, "retired answers stay facts");
    // The kind of an answered question cannot change.
    let mut retyped = fewer.clone();
    retyped.questions[0].kind = AnswerKind::Text { max_chars: 10 };
    assert!(matches!(store.hearing_set_update(a, set.id, &retyped, now()).await, Err(StoreError::Invalid(_))));

    // Deleting the customer takes their answers with them.
    store.customer_delete(a, customer.id).await.unwrap();
    assert!(store.hearing_asked_rates(a, at("2026-11-01 00:00"), at("2026-12-01 00:00")).await.unwrap().is_empty());
}
