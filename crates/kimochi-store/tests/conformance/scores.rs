//! Conformance cases for the scoring run's bulk paths (`kimochi analyze`): reading the scoring
//! rows in id ranges, and replacing a tenant's scores in one transaction while readers keep the
//! old ones (PostgreSQL's scores have no foreign key since migration 0015: the store keeps the
//! invariant).

use super::*;

fn score_of(customer_id: CustomerId, stage: Stage, rfm_cell: u16) -> CustomerScore {
    CustomerScore {
        customer_id,
        as_of: time::macros::date!(2026 - 11 - 01),
        stage,
        rfm_cell: Some(rfm_cell),
        recency_days: Some(12),
        p_alive: Some(0.5),
        expected_purchases: None,
        expected_spend: None,
        clv: Some(10_000.0),
        churn_probability: Some(0.25),
        churn_level: Some(ChurnLevel::Low),
        churn_reasons: vec![ScoreReason { code: "overdue".into(), text: "周期超過\t\\".into(), weight: 0.5 }],
        loyalty: None,
        near_loyal: None,
        positive_dormant: false,
        cluster: Some(1),
        cluster_label: Some("常連".into()),
        repeat_alerts: Vec::new(),
        scored_at: now(),
    }
}

async fn customers(store: &Arc<dyn Store>, tenant: TenantId, count: usize) -> Vec<CustomerId> {
    let mut ids = Vec::new();
    for index in 0..count {
        let profile = profile(&format!("S{index}"), "山田 花子", "ヤマダ", &format!("0901111{index:04}"));
        ids.push(store.customer_create(tenant, &profile, now()).await.unwrap().id);
    }
    ids
}

async fn stages(store: &Arc<dyn Store>, tenant: TenantId, ids: &[CustomerId]) -> Vec<Option<Stage>> {
    let mut stages = Vec::new();
    for &id in ids {
        stages.push(store.customer_score(tenant, id).await.unwrap().map(|score| score.stage));
    }
    stages
}

pub(crate) async fn scoring_rows_read_in_id_ranges(store: Arc<dyn Store>) {
    let t = tenant(&store, "acme").await;
    let empty = tenant(&store, "empty").await;
    let ids = customers(&store, t, 5).await;
    let other = tenant(&store, "other").await;
    customers(&store, other, 1).await;

    assert_eq!(store.customer_id_bounds(t).await.unwrap(), Some((ids[0], ids[4])));
    assert_eq!(store.customer_id_bounds(empty).await.unwrap(), None);
    let read = |after: Option<CustomerId>, up_to: CustomerId, limit: u32| {
        let store = Arc::clone(&store);
        async move {
            store.scoring_rows_up_to(t, after, up_to, limit).await.unwrap().iter().map(|r| r.customer_id).collect()
        }
    };
    let first: Vec<CustomerId> = read(None, ids[2], 10).await;
    assert_eq!(first, ids[..3].to_vec());
    let second: Vec<CustomerId> = read(Some(ids[2]), ids[4], 10).await;
    assert_eq!(second, ids[3..].to_vec());
    let paged: Vec<CustomerId> = read(Some(ids[0]), ids[3], 1).await;
    assert_eq!(paged, vec![ids[1]]);
    let nothing: Vec<CustomerId> = read(Some(ids[4]), CustomerId(i64::MAX), 10).await;
    assert!(nothing.is_empty());
    // A range holds only the tenant's customers.
    assert_eq!(store.scoring_rows_up_to(other, None, ids[4], 10).await.unwrap().len(), 0);
}

pub(crate) async fn scores_replace_whole_tenant_in_one_transaction(store: Arc<dyn Store>) {
    let t = tenant(&store, "acme").await;
    let ids = customers(&store, t, 5).await;
    let other = tenant(&store, "other").await;
    let foreign = customers(&store, other, 1).await;
    let old: Vec<CustomerScore> = ids.iter().map(|&id| score_of(id, Stage::Dormant, 111)).collect();
    store.scores_write(t, &old).await.unwrap();
    store.scores_write(other, &[score_of(foreign[0], Stage::Dormant, 111)]).await.unwrap();

    // A run that scores customers 0, 2 and 3: 1 and 4 (between and after them) lose their scores.
    let (sender, receiver) = tokio::sync::mpsc::channel(1);
    let replacing = {
        let store = Arc::clone(&store);
        tokio::spawn(async move { store.scores_replace(t, receiver).await })
    };
    sender.send(ScoreBatch::Scores(vec![score_of(ids[0], Stage::Repeater, 555)])).await.unwrap();
    sender.send(ScoreBatch::Scores(vec![score_of(ids[2], Stage::Repeater, 545)])).await.unwrap();
    // With room for one batch, this send returns once the writer took the second batch, that is
    // after it wrote the first: a reader still sees every old score, none of the new.
    sender.send(ScoreBatch::Scores(Vec::new())).await.unwrap();
    let during = stages(&store, t, &ids).await;
    assert_eq!(during, vec![Some(Stage::Dormant); 5], "readers see the old scores until the end");
    assert_eq!(store.scores_by_cell(t, 111, None, 10).await.unwrap().len(), 5);
    sender.send(ScoreBatch::Scores(vec![score_of(ids[3], Stage::Repeater, 545)])).await.unwrap();
    sender.send(ScoreBatch::End).await.unwrap();
    assert_eq!(replacing.await.unwrap().unwrap(), 3);
    let after = stages(&store, t, &ids).await;
    assert_eq!(after, vec![Some(Stage::Repeater), None, Some(Stage::Repeater), Some(Stage::Repeater), None]);
    assert_eq!(store.customer_score(t, ids[0]).await.unwrap(), Some(score_of(ids[0], Stage::Repeater, 555)));
    assert_eq!(store.scores_by_cell(t, 111, None, 10).await.unwrap().len(), 0);
    assert_eq!(store.scores_by_cell(t, 545, None, 10).await.unwrap().len(), 2);
    // The other tenant's scores are untouched.
    assert_eq!(stages(&store, other, &foreign).await, vec![Some(Stage::Dormant)]);

    // A run that fails (its sender goes away before the end) leaves the scores as they were.
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    sender.send(ScoreBatch::Scores(vec![score_of(ids[0], Stage::Dormant, 111)])).await.unwrap();
    drop(sender);
    let failed = store.scores_replace(t, receiver).await;
    assert!(matches!(failed, Err(StoreError::Incomplete(_))), "{failed:?}");
    assert_eq!(stages(&store, t, &ids).await, after);

    // Out of order (or twice the same customer) is refused, and nothing changes.
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    sender.send(ScoreBatch::Scores(vec![score_of(ids[1], Stage::Dormant, 111)])).await.unwrap();
    sender.send(ScoreBatch::Scores(vec![score_of(ids[0], Stage::Dormant, 111)])).await.unwrap();
    sender.send(ScoreBatch::End).await.unwrap();
    let refused = store.scores_replace(t, receiver).await;
    assert!(matches!(&refused, Err(StoreError::Invalid(error)) if error.field == "customer_id"), "{refused:?}");
    assert_eq!(stages(&store, t, &ids).await, after);

    // Nothing to write empties the tenant's scores.
    let (sender, receiver) = tokio::sync::mpsc::channel(1);
    sender.send(ScoreBatch::End).await.unwrap();
    assert_eq!(store.scores_replace(t, receiver).await.unwrap(), 0);
    assert_eq!(stages(&store, t, &ids).await, vec![None; 5]);
    assert_eq!(stages(&store, other, &foreign).await, vec![Some(Stage::Dormant)]);
}

pub(crate) async fn scores_follow_their_customers(store: Arc<dyn Store>) {
    let t = tenant(&store, "acme").await;
    let ids = customers(&store, t, 2).await;
    let other = tenant(&store, "other").await;
    let foreign = customers(&store, other, 1).await;
    store
        .scores_write(t, &[score_of(ids[0], Stage::Repeater, 555), score_of(ids[1], Stage::Repeater, 555)])
        .await
        .unwrap();
    // Deleting a customer deletes their score (and it leaves the heat map).
    store.customer_delete(t, ids[0]).await.unwrap();
    assert_eq!(store.customer_score(t, ids[0]).await.unwrap(), None);
    let cell: Vec<CustomerId> =
        store.scores_by_cell(t, 555, None, 10).await.unwrap().iter().map(|(c, _)| c.id).collect();
    assert_eq!(cell, vec![ids[1]]);
    // A score for a customer that is not the tenant's is refused, whoever it belongs to.
    let unknown = store.scores_write(t, &[score_of(CustomerId(ids[1].0 + 1_000), Stage::Repeater, 555)]).await;
    assert!(matches!(unknown, Err(StoreError::UnknownReference { .. })), "{unknown:?}");
    let foreign_write = store.scores_write(t, &[score_of(foreign[0], Stage::Repeater, 555)]).await;
    assert!(matches!(foreign_write, Err(StoreError::UnknownReference { .. })), "{foreign_write:?}");
    assert_eq!(store.customer_score(other, foreign[0]).await.unwrap(), None);
    // A replacement keeps only scores of customers that still exist.
    let (sender, receiver) = tokio::sync::mpsc::channel(2);
    sender.send(ScoreBatch::Scores(vec![score_of(ids[1], Stage::Dormant, 111)])).await.unwrap();
    sender.send(ScoreBatch::End).await.unwrap();
    assert_eq!(store.scores_replace(t, receiver).await.unwrap(), 1);
    assert_eq!(stages(&store, t, &ids).await, vec![None, Some(Stage::Dormant)]);
}
