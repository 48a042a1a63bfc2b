//! Squads (API.md §4): any member creates, edits and archives them; the leader must be an
//! active agent of the workspace; members are agents of the workspace; unknown ids name the
//! field; an archived squad is read-only; nothing is written on any error.
mod common;

use common::{TestServer, World};
use serde_json::{json, Value};

struct Setup {
    s: TestServer,
    w: World,
    lead: String,
    a: String,
    b: String,
    archived: String,
    foreign: String,
}

fn setup() -> Setup {
    let s = TestServer::start();
    let w = World::seed(&s);
    let rt = s.insert_runtime(&w.owner_id, "public");
    let lead = s.create_agent(&w.owner, &rt, "lead");
    let a = s.create_agent(&w.member, &rt, "a");
    let b = s.create_agent(&w.member, &rt, "b");
    let archived = s.create_agent(&w.owner, &rt, "old");
    s.post(
        &format!("/api/agents/{archived}/archive"),
        &w.owner,
        json!({}),
    )
    .expect(200);
    let far_rt = s.insert_runtime_in(&w.other_ws, &w.owner_id, "public");
    let foreign = hangar::ids::new_id();
    s.sql()
        .execute(
            "INSERT INTO agent (id, workspace_id, runtime_id, name, created_at, updated_at)
             VALUES (?1, ?2, ?3, 'far', 0, 0)",
            [&foreign, &w.other_ws, &far_rt],
        )
        .unwrap();
    Setup {
        s,
        w,
        lead,
        a,
        b,
        archived,
        foreign,
    }
}

#[test]
fn members_create_list_get_and_edit_squads() {
    let Setup {
        s,
        w,
        lead,
        a,
        b,
        archived,
        ..
    } = setup();
    let path = format!("/api/workspaces/{}/squads", s.ws);
    let mark = s.newest_event_id();
    let created = s
        .post(
            &path,
            &w.member,
            json!({"name": " core ", "leader_agent_id": lead,
                   "member_agent_ids": [b, a, b.to_uppercase(), archived]}),
        )
        .expect(201);
    let id = created.id();
    let mut expected_members = vec![a.clone(), b.clone(), archived.clone()];
    expected_members.sort();
    assert_eq!(created.body["name"], "core");
    assert_eq!(created.body["leader_agent_id"], lead.as_str());
    assert_eq!(created.body["member_agent_ids"], json!(expected_members));
    assert_eq!(created.body["archived_at"], Value::Null);
    let events = s.event_rows_after(mark);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, "squad:created");
    assert_eq!(events[0].2["squad"], created.body);

    let one = format!("/api/squads/{id}");
    assert_eq!(s.get(&one, &w.admin).expect(200).body, created.body);
    s.get(&one, &w.outsider).expect_error(404, "not_found");
    assert_eq!(
        s.get(&path, &w.member).expect(200).body,
        json!([created.body])
    );
    s.get(&path, &w.outsider).expect_error(404, "not_found");

    let mark = s.newest_event_id();
    let edited = s
        .patch(
            &one,
            &w.member,
            json!({"name": "core team", "leader_agent_id": a, "member_agent_ids": [lead]}),
        )
        .expect(200);
    assert_eq!(edited.body["name"], "core team");
    assert_eq!(edited.body["leader_agent_id"], a.as_str());
    assert_eq!(edited.body["member_agent_ids"], json!([lead]));
    assert_eq!(
        s.count(&format!(
            "SELECT COUNT(*) FROM squad_member WHERE squad_id = '{id}'"
        )),
        1
    );
    // A patch that changes nothing writes nothing.
    s.patch(&one, &w.member, json!({"name": "core team"}))
        .expect(200);
    assert_eq!(s.event_types_after(mark), ["squad:updated"]);

    let mark = s.newest_event_id();
    let gone = s
        .post(&format!("{one}/archive"), &w.member, json!({}))
        .expect(200);
    assert!(gone.body["archived_at"].is_string());
    assert_eq!(s.event_types_after(mark), ["squad:archived"]);
    s.post(&format!("{one}/archive"), &w.member, json!({}))
        .expect_error(409, "squad_archived");
    s.patch(&one, &w.member, json!({"name": "again"}))
        .expect_error(409, "squad_archived");
    assert_eq!(s.get(&path, &w.member).expect(200).body, json!([]));
    assert_eq!(
        s.get(&format!("{path}?include_archived=true"), &w.member)
            .expect(200)
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn leaders_and_members_must_be_agents_of_the_workspace() {
    let Setup {
        s,
        w,
        lead,
        a,
        archived,
        foreign,
        ..
    } = setup();
    let path = format!("/api/workspaces/{}/squads", s.ws);
    let unknown = hangar::ids::new_id();
    let mark = s.newest_event_id();
    let cases = [
        (
            json!({"name": "x", "leader_agent_id": archived}),
            409,
            "agent_archived",
            "leader_agent_id",
        ),
        (
            json!({"name": "x", "leader_agent_id": unknown}),
            404,
            "not_found",
            "leader_agent_id",
        ),
        (
            json!({"name": "x", "leader_agent_id": foreign}),
            404,
            "not_found",
            "leader_agent_id",
        ),
        (
            json!({"name": "x", "leader_agent_id": lead, "member_agent_ids": [a, unknown]}),
            404,
            "not_found",
            "member_agent_ids",
        ),
        (
            json!({"name": "x", "leader_agent_id": lead, "member_agent_ids": [foreign]}),
            404,
            "not_found",
            "member_agent_ids",
        ),
        (
            json!({"name": "x", "leader_agent_id": "l"}),
            400,
            "invalid_id",
            "leader_agent_id",
        ),
        (
            json!({"name": "x", "leader_agent_id": lead, "member_agent_ids": ["m"]}),
            400,
            "invalid_id",
            "member_agent_ids",
        ),
        (
            json!({"name": "x", "leader_agent_id": lead, "member_agent_ids": "m"}),
            400,
            "invalid_json",
            "",
        ),
        (
            json!({"name": "", "leader_agent_id": lead}),
            400,
            "invalid_field",
            "name",
        ),
        (
            json!({"name": "x"}),
            400,
            "invalid_field",
            "leader_agent_id",
        ),
        (
            json!({"name": "x", "leader_agent_id": lead, "lead": 1}),
            400,
            "unknown_field",
            "lead",
        ),
    ];
    for (body, status, code, field) in cases {
        let r = s.post(&path, &w.member, body).expect_error(status, code);
        assert!(
            r.body["error"].as_str().unwrap().contains(field),
            "the message names {field}: {r:#?}"
        );
    }
    let too_many: Vec<String> = (0..101).map(|_| hangar::ids::new_id()).collect();
    s.post(
        &path,
        &w.member,
        json!({"name": "x", "leader_agent_id": lead, "member_agent_ids": too_many}),
    )
    .expect_error(400, "invalid_field");
    s.post(
        &path,
        &w.outsider,
        json!({"name": "x", "leader_agent_id": lead}),
    )
    .expect_error(404, "not_found");
    assert_eq!(s.count("SELECT COUNT(*) FROM squad"), 0);
    assert!(s.event_rows_after(mark).is_empty());

    let id = s
        .post(
            &path,
            &w.member,
            json!({"name": "x", "leader_agent_id": lead, "member_agent_ids": [a]}),
        )
        .expect(201)
        .id();
    let one = format!("/api/squads/{id}");
    let mark = s.newest_event_id();
    s.patch(&one, &w.member, json!({"leader_agent_id": archived}))
        .expect_error(409, "agent_archived");
    s.patch(
        &one,
        &w.member,
        json!({"name": "y", "member_agent_ids": [unknown]}),
    )
    .expect_error(404, "not_found");
    s.patch(&one, &w.member, json!({"leader_agent_id": foreign}))
        .expect_error(404, "not_found");
    s.patch(&one, &w.outsider, json!({"name": "y"}))
        .expect_error(404, "not_found");
    s.patch("/api/squads/s", &w.member, json!({"name": "y"}))
        .expect_error(400, "invalid_id");
    assert!(s.event_rows_after(mark).is_empty());
    let squad = s.get(&one, &w.member).expect(200);
    assert_eq!(squad.body["name"], "x");
    assert_eq!(squad.body["member_agent_ids"], json!([a]));
    // The leader being archived later does not lock the squad: it can still be renamed.
    s.post(&format!("/api/agents/{lead}/archive"), &w.owner, json!({}))
        .expect(200);
    s.patch(&one, &w.member, json!({"name": "renamed"}))
        .expect(200);
}
