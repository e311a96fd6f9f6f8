#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/ids.hpp"
#include "core/time.hpp"
#include "incident/planner.hpp"
#include "incident/validation.hpp"
#include "store/migrations.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"
#include "support/engine_harness.hpp"

using namespace containd;
using namespace containd::store;

namespace {

class temp_dir {
public:
    temp_dir() : path_(std::filesystem::temp_directory_path() / ("containd-store-" + random_uuid())) {
        std::filesystem::create_directories(path_);
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

new_incident sample_incident(const manual_clock& clock, const std::string& ref = "SENTINEL-1") {
    return containd::testing::planned_incident(containd::testing::walkthrough_submission(ref), clock.now(),
                                               containd::testing::contoso_settings());
}

const std::string key(32, 'k');

}  // namespace

TEST(Store, opens_with_wal_full_sync_and_foreign_keys_at_the_newest_schema) {
    temp_dir dir;
    manual_clock clock(from_unix_ms(0));
    store::store db(dir.file("a.db"), clock, vault(key));
    auto q = db.db().prepare("PRAGMA journal_mode");
    ASSERT_TRUE(q.step());
    EXPECT_EQ(q.text(0), "wal");
    auto sync = db.db().prepare("PRAGMA synchronous");
    ASSERT_TRUE(sync.step());
    EXPECT_EQ(sync.int64(0), 2) << "FULL";
    auto fk = db.db().prepare("PRAGMA foreign_keys");
    ASSERT_TRUE(fk.step());
    EXPECT_EQ(fk.int64(0), 1);
    EXPECT_EQ(db.db().user_version(), all_migrations().back().version);
    EXPECT_EQ(db.integrity_check(), "ok");
}

TEST(Store, migrations_apply_in_order_and_a_failing_one_leaves_the_old_schema) {
    temp_dir dir;
    connection db(dir.file("m.db"));
    std::vector<migration> v1 = {{1, "0001_a.sql", "CREATE TABLE a (x INTEGER) STRICT;"}};
    migrate(db, v1);
    EXPECT_EQ(db.user_version(), 1);
    // Version 2 fails half-way: its first statement must not survive.
    std::vector<migration> v2 = v1;
    v2.push_back({2, "0002_b.sql", "CREATE TABLE b (y INTEGER); INSERT INTO nowhere VALUES (1);"});
    EXPECT_THROW(migrate(db, v2), storage_error);
    EXPECT_EQ(db.user_version(), 1);
    auto q = db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'b'");
    ASSERT_TRUE(q.step());
    EXPECT_EQ(q.int64(0), 0);
    // Fixed, it applies; applying again is a no-op.
    v2.back().sql = "CREATE TABLE b (y INTEGER) STRICT;";
    migrate(db, v2);
    migrate(db, v2);
    EXPECT_EQ(db.user_version(), 2);
}

TEST(Store, refuses_a_database_newer_than_the_code) {
    temp_dir dir;
    {
        connection db(dir.file("n.db"));
        db.set_user_version(all_migrations().back().version + 1);
    }
    manual_clock clock(from_unix_ms(0));
    try {
        store::store db(dir.file("n.db"), clock, vault(key));
        FAIL() << "opened a newer database";
    } catch (const storage_error& e) {
        EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos);
    }
}

TEST(Store, keeps_an_incident_with_its_plan_and_replays_by_key_or_reference) {
    temp_dir dir;
    manual_clock clock(*parse_rfc3339("2026-03-12T09:00:00Z"));
    store::store db(dir.file("i.db"), clock, vault(key));
    auto first = sample_incident(clock);
    first.idempotency_key = "key-1";
    ASSERT_TRUE(std::holds_alternative<created>(db.create_incident(first)));

    auto replay = first;
    replay.id = random_uuid();
    auto again = db.create_incident(replay);
    ASSERT_TRUE(std::holds_alternative<existing>(again));
    EXPECT_EQ(std::get<existing>(again).id, first.id);
    EXPECT_TRUE(std::get<existing>(again).same_request);

    auto other_body = sample_incident(clock, "SENTINEL-2");
    other_body.idempotency_key = "key-1";
    auto conflict = db.create_incident(other_body);
    ASSERT_TRUE(std::holds_alternative<existing>(conflict));
    EXPECT_FALSE(std::get<existing>(conflict).same_request);

    auto same_ref = sample_incident(clock, "SENTINEL-1");
    auto by_ref = db.create_incident(same_ref);
    ASSERT_TRUE(std::holds_alternative<existing>(by_ref));
    EXPECT_FALSE(std::get<existing>(by_ref).by_idempotency_key);

    const auto stored = db.get_incident(first.id);
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->status, incident_status::running);
    EXPECT_EQ(db.steps(first.id).size(), first.plan.steps.size());
    EXPECT_EQ(db.accounts(first.id).size(), 4u);
    EXPECT_EQ(db.list_incidents({}).size(), 1u);
}

TEST(Store, the_event_chain_detects_a_changed_entry_and_refuses_edits) {
    temp_dir dir;
    manual_clock clock(*parse_rfc3339("2026-03-12T09:00:00Z"));
    store::store db(dir.file("e.db"), clock, vault(key));
    const auto in = sample_incident(clock);
    db.create_incident(in);
    for (int i = 0; i < 5; ++i) {
        clock.advance(seconds(1));
        db.append_event(in.id, "note", i, {{"n", i}});
    }
    EXPECT_FALSE(db.verify_event_chain(in.id));
    EXPECT_THROW(db.db().exec("UPDATE events SET data_json = '{}' WHERE id = 3"), storage_error);
    EXPECT_THROW(db.db().exec("DELETE FROM events WHERE id = 3"), storage_error);

    // Someone with raw access drops the guard and edits history: the chain shows it.
    db.db().exec("DROP TRIGGER events_are_append_only_update");
    db.db().exec("UPDATE events SET data_json = '{\"n\":99}' WHERE id = 4");
    EXPECT_EQ(db.verify_event_chain(in.id), 4);
}

TEST(Store, secrets_are_encrypted_revealed_once_and_never_in_plain_text_on_disk) {
    temp_dir dir;
    manual_clock clock(*parse_rfc3339("2026-03-12T09:00:00Z"));
    const std::string marker = "MARKER-Pa55w0rd-!!-never-on-disk";
    const auto in = sample_incident(clock);
    {
        store::store db(dir.file("s.db"), clock, vault(key));
        db.create_incident(in);
        EXPECT_EQ(db.put_secret_once(in.id, "password:ap.clerk@contoso.com", marker), marker);
        EXPECT_EQ(db.put_secret_once(in.id, "password:ap.clerk@contoso.com", "other"), marker)
            << "a re-run re-sends the same password";
        EXPECT_EQ(db.peek_secret(in.id, "password:ap.clerk@contoso.com"), marker);
    }
    for (const char* suffix : {"", "-wal"}) {
        const auto bytes = read_all(dir.file(std::string("s.db") + suffix));
        EXPECT_EQ(bytes.find(marker), std::string::npos) << suffix;
    }
    // A different key cannot open it.
    {
        store::store db(dir.file("s.db"), clock, vault(std::string(32, 'x')));
        EXPECT_FALSE(db.peek_secret(in.id, "password:ap.clerk@contoso.com"));
    }
    store::store db(dir.file("s.db"), clock, vault(key));
    auto first = db.reveal_secret(in.id, "password:ap.clerk@contoso.com", "operator-1");
    EXPECT_EQ(first.status, reveal_status::revealed);
    EXPECT_EQ(first.plaintext, marker);
    EXPECT_EQ(db.reveal_secret(in.id, "password:ap.clerk@contoso.com", "operator-1").status,
              reveal_status::already_revealed);
    EXPECT_EQ(db.reveal_secret(in.id, "password:nobody@contoso.com", "operator-1").status, reveal_status::not_found);
    bool audited = false;
    for (const auto& e : db.events(in.id))
        if (e.kind == "secret_revealed" && e.data["by"] == "operator-1") audited = true;
    EXPECT_TRUE(audited);
}

TEST(Vault, detects_tampering_and_a_row_swap) {
    vault v(key);
    auto sealed = v.seal("hunter2", "incident-a\npassword:x");
    EXPECT_EQ(v.open(sealed, "incident-a\npassword:x"), "hunter2");
    EXPECT_FALSE(v.open(sealed, "incident-b\npassword:x"));
    sealed.ciphertext[0] ^= 1;
    EXPECT_FALSE(v.open(sealed, "incident-a\npassword:x"));
    EXPECT_THROW(vault("short"), std::invalid_argument);
}

TEST(Vault, loads_hex_or_raw_key_files_and_creates_a_private_one) {
    temp_dir dir;
    const auto path = dir.file("vault.key");
    auto created_vault = vault::create_or_load(path);
    EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::group_all,
              std::filesystem::perms::none);
    auto loaded = vault::from_key_file(path);
    EXPECT_EQ(loaded.open(created_vault.seal("x", "a"), "a"), "x");
    std::ofstream(dir.file("bad.key")) << "not a key";
    try {
        vault::from_key_file(dir.file("bad.key"));
        FAIL();
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()).find("not a key"), std::string::npos) << "never echo key material";
    }
}
