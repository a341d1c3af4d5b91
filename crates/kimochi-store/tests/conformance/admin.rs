//! Conformance cases for administration (migration 0008): user accounts, role/team changes,
//! deactivation, and per-tenant stage thresholds.

use super::*;

fn new_user(login: &str, role: Role, team: Option<TeamId>) -> NewUser {
    NewUser {
        login: login.into(),
        display_name: format!("{login} さん"),
        role,
        team_id: team,
        password_hash: "$argon2id$unused".into(),
    }
}

pub(crate) async fn users_change_role_team_and_deactivate(store: Arc<dyn Store>) {
    let a = tenant(&store, "acme").await;
    let b = tenant(&store, "beta").await;
    let team = store.team_create(a, "東京センター").await.unwrap();
    let other_team = store.team_create(b, "大阪").await.unwrap();
    let op = store.user_create(a, &new_user("op01", Role::Agent, None), now()).await.unwrap();
    store.user_create(a, &new_user("admin", Role::Admin, None), now()).await.unwrap();
    store.user_create(b, &new_user("op01", Role::Agent, None), now()).await.unwrap();

    let accounts = store.user_accounts(a).await.unwrap();
    let logins: Vec<(&str, bool)> = accounts.iter().map(|u| (u.user.login.as_str(), u.active)).collect();
    assert_eq!(logins, [("admin", true), ("op01", true)]);

    // Role and team change together.
    let change = UserChange { role: Role::Supervisor, team_id: Some(team.id), active: true };
    let changed = store.user_update(a, op.id, &change, now()).await.unwrap();
    assert_eq!((changed.user.role, changed.user.team_id, changed.active), (Role::Supervisor, Some(team.id), true));
    assert_eq!(store.user_get(a, op.id).await.unwrap().role, Role::Supervisor);

    // Another tenant's team is an unknown reference, and nothing changes.
    let foreign = UserChange { role: Role::Agent, team_id: Some(other_team.id), active: true };
    assert!(matches!(
        store.user_update(a, op.id, &foreign, now()).await,
        Err(StoreError::UnknownReference { field: "team_id" })
    ));
    assert_eq!(store.user_get(a, op.id).await.unwrap().role, Role::Supervisor);
    // Another tenant's user id reads as not found.
    let b_user = store.user_accounts(b).await.unwrap()[0].user.id;
    assert!(matches!(store.user_update(a, b_user, &change, now()).await, Err(StoreError::NotFound(_))));
    assert_eq!(store.user_get(b, b_user).await.unwrap().role, Role::Agent);

    // Deactivation ends the sessions and refuses the login; the row stays.
    let expires = now() + time::Duration::hours(1);
    store.session_create("hash-op01", a, op.id, "csrf", expires).await.unwrap();
    assert!(store.session_get("hash-op01", now()).await.is_ok());
    let off = UserChange { role: Role::Supervisor, team_id: Some(team.id), active: false };
    let deactivated = store.user_update(a, op.id, &off, now()).await.unwrap();
    assert!(!deactivated.active);
    assert!(matches!(store.session_get("hash-op01", now()).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.user_credentials(a, "op01").await, Err(StoreError::NotFound(_))));
    assert!(store.user_credentials(b, "op01").await.is_ok(), "the other tenant's op01 is untouched");
    let accounts = store.user_accounts(a).await.unwrap();
    assert!(accounts.iter().any(|u| u.user.id == op.id && !u.active));
    // A session created for a deactivated user (a race with the login) is not honoured either.
    store.session_create("hash-late", a, op.id, "csrf", expires).await.unwrap();
    assert!(matches!(store.session_get("hash-late", now()).await, Err(StoreError::NotFound(_))));

    // Reactivation lets them log in again.
    let on = UserChange { role: Role::Agent, team_id: None, active: true };
    let back = store.user_update(a, op.id, &on, now()).await.unwrap();
    assert!(back.active);
    assert_eq!(back.user.team_id, None);
    assert!(store.user_credentials(a, "op01").await.is_ok());
}

pub(crate) async fn stage_thresholds_are_per_tenant(store: Arc<dyn Store>) {
    let a = tenant(&store, "acme").await;
    let b = tenant(&store, "beta").await;
    assert_eq!(store.stage_thresholds(a).await.unwrap(), StageThresholds::default());

    let custom = StageThresholds { dormant_after_days: 180, subscription_active_days: 62, repeater_min_main_orders: 3 };
    store.stage_thresholds_set(a, &custom, now()).await.unwrap();
    assert_eq!(store.stage_thresholds(a).await.unwrap(), custom);
    assert_eq!(store.stage_thresholds(b).await.unwrap(), StageThresholds::default());

    // Setting again replaces.
    let again = StageThresholds { dormant_after_days: 400, ..custom };
    store.stage_thresholds_set(a, &again, now()).await.unwrap();
    assert_eq!(store.stage_thresholds(a).await.unwrap(), again);

    // Out of range is refused and nothing is lost.
    let bad = StageThresholds { repeater_min_main_orders: 0, ..custom };
    match store.stage_thresholds_set(a, &bad, now()).await {
        Err(StoreError::Invalid(error)) => assert_eq!(error.field, "repeater_min_main_orders"),
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert_eq!(store.stage_thresholds(a).await.unwrap(), again);
}
