// API abuse against the real containd binary (its configuration, its default body and header
// limits), with the real containd-sim as its tenant (RELIABILITY.md "API limits", "auth", "mass
// assignment", "injection", "idempotency"). What tests/integration/api/api_test already checks
// in-process on one request each (one oversize body, one slow sender, one malformed body, the
// route table) is not repeated; here the daemon is the shipped process and the checks are in
// bulk and concurrent:
//
// - every route of `containd --print-routes` without a token, with bad tokens, with each wrong
//   role: 401/403, and nothing changes (events, store, Graph);
// - every server-owned and unknown field, alone: 400 naming exactly it, nothing stored, the
//   Idempotency-Key not consumed; a corpus of broken JSON bodies: 400 problem+json;
// - oversize bodies (declared, sent, chunked) and headers (one long, many, a long target):
//   413/431 and the connection closed;
// - slow senders (headers, body, silence) closed on the read timeout while others are served
//   promptly; a connection flood beyond max_connections: exactly the excess gets 503;
//   pipelined floods answered in order, or abandoned without harm;
// - OData injection in every identifier: invalid ones refused before any Graph call (the
//   simulator's journal does not grow), valid ones (apostrophes) escaped so that every $filter
//   the simulator received holds the whole value as one literal;
// - concurrent submissions with one Idempotency-Key: one incident;
// - afterwards: readiness 200, VmRSS and open descriptors flat (figures printed).
//
// Bounded: every loop has a count and a deadline. CONTAIND_ABUSE_ROUNDS (default 2) sets how
// many rounds the memory test runs (the soak tier: README "Soak runs").

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <barrier>
#include <cstdio>
#include <map>
#include <regex>
#include <set>

#include "core/text.hpp"
#include "graph/odata.hpp"
#include "support/system_fixture.hpp"

namespace containd::testing {
namespace {

namespace fs = std::filesystem;
using namespace system_test;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using test::api_client;
using test::api_response;

constexpr const char* unknown_id = "0b7c6d5e-4f3a-4b2c-9d1e-0f9e8d7c6b5a";
constexpr int read_timeout_ms = 2000;
constexpr int max_connections = 32;

std::set<std::string> fields_of(const json& problem) {
    std::set<std::string> out;
    for (const auto& e : problem.value("errors", json::array())) out.insert(e.value("field", ""));
    return out;
}

// The string literals of an OData expression, unescaped ('' is a quote inside one).
std::vector<std::string> literals_of(const std::string& expression) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < expression.size(); ++i) {
        if (expression[i] != '\'') continue;
        std::string value;
        std::size_t j = i + 1;
        for (; j < expression.size(); ++j) {
            if (expression[j] != '\'') {
                value += expression[j];
            } else if (j + 1 < expression.size() && expression[j + 1] == '\'') {
                value += '\'';
                ++j;
            } else {
                break;
            }
        }
        out.push_back(value);
        i = j;
    }
    return out;
}

std::string auth(const char* token) { return std::string("Authorization: Bearer ") + token + "\r\n"; }

// ------------------------------------------------------------------ raw POSIX conversations

int connect_loopback(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    timeval tv{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

struct reply {
    std::string received;
    bool closed = false;  // EOF or reset within the timeout
    milliseconds elapsed{0};
    // The HTTP responses that arrived, their status codes in order (walked by Content-Length).
    std::vector<int> statuses() const {
        std::vector<int> out;
        std::size_t p = 0;
        while (received.compare(p, 9, "HTTP/1.1 ") == 0) {
            out.push_back(std::atoi(received.c_str() + p + 9));
            const auto end = received.find("\r\n\r\n", p);
            if (end == std::string::npos) break;
            const std::string head = lower(std::string_view(received).substr(p, end - p));
            const auto cl = head.find("\r\ncontent-length:");
            const std::size_t length = cl == std::string::npos ? 0 : std::stoul(head.substr(cl + 17));
            p = end + 4 + length;
        }
        return out;
    }
    int first_status() const {
        const auto s = statuses();
        return s.empty() ? 0 : s.front();
    }
};

// Reads until EOF/reset or the timeout.
reply read_until_closed(int fd, milliseconds timeout, steady_clock::time_point started = steady_clock::now()) {
    reply out;
    char chunk[16384];
    for (;;) {
        const auto left = timeout - std::chrono::duration_cast<milliseconds>(steady_clock::now() - started);
        if (left.count() <= 0) break;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
        const auto n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) {
            out.closed = true;
            break;
        }
        out.received.append(chunk, static_cast<std::size_t>(n));
    }
    out.elapsed = std::chrono::duration_cast<milliseconds>(steady_clock::now() - started);
    return out;
}

// Writes `bytes` from a thread (a server that answers early and stops reading cannot block the
// test) while reading the answer until the server closes or the timeout passes.
reply converse(std::uint16_t port, const std::string& bytes, milliseconds timeout = milliseconds(10000)) {
    const int fd = connect_loopback(port);
    if (fd < 0) return {};
    const auto started = steady_clock::now();
    std::atomic<bool> stop{false};
    std::thread writer([&] {
        std::size_t sent = 0;
        while (sent < bytes.size() && !stop) {
            const auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
            if (n > 0)
                sent += static_cast<std::size_t>(n);
            else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                break;
        }
    });
    auto out = read_until_closed(fd, timeout, started);
    stop = true;
    ::shutdown(fd, SHUT_RDWR);
    writer.join();
    ::close(fd);
    return out;
}

// ------------------------------------------------------------------ the fixture

class ApiAbuse : public system_fixture {
public:
    void SetUp() override {
        system_fixture::SetUp();
        start_sim();
        config["api"]["read_timeout_s"] = read_timeout_ms / 1000.0;
        config["api"]["idle_timeout_s"] = 5;
        config["api"]["max_connections"] = max_connections;
        start_daemon();
        ASSERT_TRUE(wait_ready());
    }

    // Ready, and the tenant's start-up preflight is over: its token and Graph reads (directory
    // roles, the app's credentials) are in the simulator's journal before a test takes its
    // baseline, so anything the journal gains afterwards came from what the test did (the next
    // preflight is 5 minutes away).
    bool wait_ready() {
        const auto deadline = steady_clock::now() + std::chrono::seconds(20);
        while (steady_clock::now() < deadline) {
            const auto r = api->get("/readyz", "");
            if (r.status == 200 && r.json().value("tenants", json::object()).contains("contoso")) return true;
            std::this_thread::sleep_for(milliseconds(100));
        }
        return false;
    }

    std::size_t journal_size() { return sim_journal().size(); }

    std::size_t stored() {
        const auto r = api->get("/v1/incidents?limit=200", viewer_token);
        return r.json().value("incidents", json::array()).size();
    }

    api_response submit(const json& body, test::header_list headers = {}) {
        return api->post("/v1/incidents", submitter_token, body, std::move(headers));
    }
    api_response submit_text(const std::string& body, const std::string& content_type = "application/json") {
        return api->request(
            "POST", "/v1/incidents", body,
            {{"Authorization", std::string("Bearer ") + submitter_token}, {"Content-Type", content_type}});
    }

    // The daemon is alive and answers at once.
    void expect_healthy(const char* after) {
        api_client fresh(api_port);
        const auto started = steady_clock::now();
        EXPECT_EQ(fresh.get("/readyz", "").status, 200) << "after " << after;
        EXPECT_EQ(fresh.get("/v1/incidents?limit=1", viewer_token).status, 200) << "after " << after;
        EXPECT_LT(steady_clock::now() - started, std::chrono::seconds(2)) << "after " << after;
        EXPECT_TRUE(daemon->running()) << "after " << after;
    }

    pid_t daemon_pid() const { return daemon->pid(); }
};

// ------------------------------------------------------------------ the abuse, as functions
// (each test runs one; the memory test runs them all, round after round)

struct route {
    std::string method, path, role;
};

std::vector<route> routes_of_the_binary() {
    std::vector<route> out;
    FILE* p = ::popen(CONTAIND_EXE " --print-routes", "r");
    if (!p) return out;
    char line[512];
    while (std::fgets(line, sizeof line, p)) {
        std::istringstream in(line);
        route r;
        if (in >> r.method >> r.path >> r.role) out.push_back(r);
    }
    ::pclose(p);
    return out;
}

std::string fill(std::string path, const std::string& id) {
    path = std::regex_replace(path, std::regex("\\{id\\}"), id);
    path = std::regex_replace(path, std::regex("\\{asset\\}"), "app.js");  // the dashboard's script
    return std::regex_replace(path, std::regex("\\{upn\\}"), "ap.clerk%40contoso.com");
}

// The corpus of broken bodies: none is a JSON object the submission parser could accept.
std::vector<std::string> broken_bodies() {
    std::vector<std::string> c = {
        "{",
        "}",
        "{\"tenant\": ",
        "{\"tenant\": \"contoso\"",
        "{\"tenant\": \"contoso\",}",
        "{\"tenant\" \"contoso\"}",
        "{tenant: \"contoso\"}",
        "{'tenant': 'contoso'}",
        "{\"accounts\": [}",
        "{\"accounts\": [{\"upn\": \"a@contoso.com\"},]}",
        "{\"a\":1}{\"b\":2}",
        "{\"a\":1} trailing",
        "{\"a\": NaN}",
        "{\"a\": Infinity}",
        "{\"a\": -Infinity}",
        "{\"a\": 01}",
        "{\"a\": 1.}",
        "{\"a\": .5}",
        "{\"a\": 0x10}",
        "{\"a\": +1}",
        "{\"a\": 1e999999}",
        "{\"a\": tru}",
        "{\"a\": nul}",
        "{\"a\": \"unterminated}",
        "{\"a\": \"bad escape \\q\"}",
        "{\"a\": \"\\u12\"}",
        "{\"a\": \"\\ud800\"}",
        "{\"a\": \"\\udc00\\ud800\"}",
        "{\"a\": \"raw\ttab\"}",
        "{\"a\": \"raw\nnewline\"}",
        std::string("{\"a\": \"nul\0byte\"}", 17),
        "{\"a\": \"\xff\xfe\"}",
        "{\"a\": \"\xc0\xaf\"}",                  // overlong '/'
        "{\"a\": \"\xed\xa0\x80\"}",              // an encoded surrogate
        "{\"a\": \"\xf4\x90\x80\x80\"}",          // beyond U+10FFFF
        "\xef\xbb\xbf{\"tenant\": \"contoso\"}",  // a byte-order mark
        "/* comment */ {}",
        "{\"a\": 1 // comment\n}",
        "[]",
        "[{\"tenant\": \"contoso\"}]",
        "\"a string\"",
        "42",
        "null",
        "true",
        "{}",
        " ",
        "\r\n\r\n",
        std::string(64 * 1024, '['),
        std::string(64 * 1024, '[') + std::string(64 * 1024, ']'),
        "{\"a\":" + std::string(20000, '{'),
        std::string(100000, ' ') + "{",
    };
    // Deep but well-formed nesting inside a real field.
    std::string deep = "{\"title\": ";
    for (int i = 0; i < 5000; ++i) deep += "{\"x\":";
    deep += "1";
    for (int i = 0; i < 5000; ++i) deep += "}";
    c.push_back(deep + "}");
    return c;
}

void malformed_json_round(ApiAbuse& t, std::vector<std::string>* failures) {
    const auto corpus = broken_bodies();
    for (std::size_t i = 0; i < corpus.size(); ++i) {
        const auto r = t.submit_text(corpus[i]);
        if (r.status != 400 || r.header("content-type") != "application/problem+json" ||
            r.json().value("status", 0) != 400)
            failures->push_back("corpus[" + std::to_string(i) + "] (" + corpus[i].substr(0, 40) +
                                "...): " + std::to_string(r.status) + " " + r.error + " " + r.body.substr(0, 200));
    }
}

// Oversize requests on the daemon's default limits (1 MiB body, 16 KiB header). Returns the
// failures.
std::vector<std::string> oversize_round(std::uint16_t port) {
    std::vector<std::string> bad;
    const std::string post =
        "POST /v1/incidents HTTP/1.1\r\nHost: x\r\n" + auth(submitter_token) + "Content-Type: application/json\r\n";
    auto expect = [&](const std::string& what, const reply& r, int status) {
        if (r.first_status() != status || !r.closed)
            bad.push_back(what + ": got " + std::to_string(r.first_status()) + (r.closed ? "" : " (not closed)") + " " +
                          r.received.substr(0, 120));
    };
    const std::string big(2 * 1024 * 1024, 'a');
    expect("2 MiB body with Content-Length",
           converse(port, post + "Content-Length: " + std::to_string(big.size()) + "\r\n\r\n" + big), 413);
    expect("declared 10^15 bytes, none sent",
           converse(port, post + "Content-Length: 1000000000000000\r\n\r\n", milliseconds(5000)), 413);
    std::string chunked = post + "Transfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 40; ++i) chunked += "10000\r\n" + std::string(0x10000, 'b') + "\r\n";
    chunked += "0\r\n\r\n";
    expect("2.5 MiB chunked body", converse(port, chunked), 413);
    expect("one 20 KiB header",
           converse(port, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(20 * 1024, 'p') + "\r\n\r\n"),
           431);
    std::string many = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < 400; ++i) many += "X-H" + std::to_string(i) + ": " + std::string(50, 'v') + "\r\n";
    expect("400 headers of 60 bytes", converse(port, many + "\r\n"), 431);
    expect("a 20 KiB request target",
           converse(port, "GET /v1/incidents/" + std::string(20 * 1024, 'i') + " HTTP/1.1\r\nHost: x\r\n\r\n"), 431);
    expect("a 20 KiB bearer token",
           converse(port, "GET /v1/incidents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                              std::string(20 * 1024, 't') + "\r\n\r\n"),
           431);
    expect("negative Content-Length", converse(port, post + "Content-Length: -1\r\n\r\n{}"), 400);
    expect("two different Content-Lengths", converse(port, post + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}"),
           400);
    expect("garbage chunk size", converse(port, post + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"), 400);
    return bad;
}

// Holds `n` connections that send half a request line and then nothing.
std::vector<int> hold_connections(std::uint16_t port, int n) {
    std::vector<int> fds;
    for (int i = 0; i < n; ++i) {
        const int fd = connect_loopback(port);
        if (fd < 0) break;
        ::send(fd, "GET /healthz HT", 15, MSG_NOSIGNAL);
        fds.push_back(fd);
    }
    return fds;
}

struct flood_result {
    int rejected = 0;  // answered 503 at once
    int held = 0;      // accepted (no answer until the read timeout)
    int other = 0;
};

// Opens `n` connections at once, each sending half a request; counts how many get the prompt
// 503 of the connection cap. The rest are accepted and dropped on the read timeout.
flood_result connection_flood(std::uint16_t port, int n) {
    auto fds = hold_connections(port, n);
    flood_result out;
    std::vector<reply> replies(fds.size());
    // 503s come at once; held connections answer nothing until the read timeout.
    std::this_thread::sleep_for(milliseconds(read_timeout_ms / 4));
    for (std::size_t i = 0; i < fds.size(); ++i) replies[i] = read_until_closed(fds[i], milliseconds(50));
    for (auto& r : replies) {
        if (r.first_status() == 503 && r.closed)
            ++out.rejected;
        else if (r.received.empty())
            ++out.held;
        else
            ++out.other;
    }
    for (int fd : fds) ::close(fd);
    return out;
}

// N pipelined requests on one connection, alternating an open and an authenticated route;
// returns the statuses in the order received.
std::vector<int> pipelined(std::uint16_t port, int n) {
    std::string bytes;
    for (int i = 0; i < n; ++i) {
        if (i % 2 == 0)
            bytes += "GET /healthz HTTP/1.1\r\nHost: x\r\n";
        else
            bytes += "GET /v1/incidents/" + std::string(unknown_id) + " HTTP/1.1\r\nHost: x\r\n" + auth(viewer_token);
        bytes += i + 1 == n ? "Connection: close\r\n\r\n" : "\r\n";
    }
    return converse(port, bytes, milliseconds(30000)).statuses();
}

// Slow senders: header bytes dripped, a body dripped after complete headers, and silence.
// Returns how long the daemon took to drop each.
std::vector<milliseconds> slow_senders(std::uint16_t port, int n) {
    std::vector<milliseconds> out(static_cast<std::size_t>(n));
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
        threads.emplace_back([&, i] {
            const int fd = connect_loopback(port);
            if (fd < 0) return;
            const auto started = steady_clock::now();
            std::string prefix;
            if (i % 3 == 1) prefix = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
            if (i % 3 == 2)
                prefix = "POST /v1/incidents HTTP/1.1\r\nHost: x\r\n" + auth(submitter_token) +
                         "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{";
            ::send(fd, prefix.data(), prefix.size(), MSG_NOSIGNAL);
            bool closed = false;
            while (!closed && steady_clock::now() - started < std::chrono::seconds(15)) {
                pollfd p{fd, POLLIN, 0};
                if (::poll(&p, 1, 150) > 0) {
                    char c[256];
                    if (::recv(fd, c, sizeof c, 0) <= 0) closed = true;
                } else if (i % 3 != 0) {
                    const char* drip = i % 3 == 1 ? "X" : " ";
                    if (::send(fd, drip, 1, MSG_NOSIGNAL) < 0) closed = true;
                }
            }
            out[static_cast<std::size_t>(i)] =
                closed ? std::chrono::duration_cast<milliseconds>(steady_clock::now() - started) : milliseconds::max();
            ::close(fd);
        });
    }
    for (auto& th : threads) th.join();
    return out;
}

// Every server-owned and unknown field, one at a time, at its level of the submission.
std::vector<std::pair<std::string, json>> mass_assignments() {
    std::vector<std::pair<std::string, json>> out;
    auto top = [&](const std::string& field, json value) {
        auto body = seeds_incident("MASS");
        body[field] = std::move(value);
        out.emplace_back(field, body);
    };
    top("id", unknown_id);
    top("status", "contained");
    top("phase", "done");
    top("steps", json::array({{{"seq", 1}, {"kind", "reset_password"}, {"status", "succeeded"}}}));
    top("created_at", "2020-01-01T00:00:00Z");
    top("updated_at", "2020-01-01T00:00:00Z");
    top("contained_at", "2020-01-01T00:00:00Z");
    top("verification", json::array({{{"check", "+15m"}, {"verdict", "contained"}}}));
    top("attention", json::array());
    top("plan", json::object());
    top("events", json::array());
    top("version", 99);
    top("is_admin", true);
    top("__proto__", json::object({{"role", "operator"}}));
    top("role", "operator");
    for (const char* f : {"object_id", "tier_reason", "revoked_at", "password_reset_at", "methods_removed",
                          "tap_issued_at", "status", "password"}) {
        auto body = seeds_incident("MASS");
        body["accounts"][1][f] = f == std::string("methods_removed") ? json::array({"x"}) : json("x");
        out.emplace_back(std::string("accounts[1].") + f, body);
    }
    {
        auto body = seeds_incident("MASS");
        body["malicious_apps"][0]["service_principal_id"] = unknown_id;
        out.emplace_back("malicious_apps[0].service_principal_id", body);
    }
    {
        auto body = seeds_incident("MASS");
        body["options"]["skip_steps"] = json::array({"reset_password"});
        out.emplace_back("options.skip_steps", body);
    }
    return out;
}

// ------------------------------------------------------------------ auth

TEST_F(ApiAbuse, every_printed_route_refuses_missing_bad_and_wrong_role_tokens) {
    const auto routes = routes_of_the_binary();
    ASSERT_GE(routes.size(), 13u) << "containd --print-routes printed too little";
    // A real incident, finished, so that a right-role call would reach its handler.
    const auto made = submit(seeds_incident("AUTH-1"));
    ASSERT_EQ(made.status, 201) << made.body;
    const std::string id = made.json()["id"];
    ASSERT_NE(wait_final(id), "timeout");
    const auto events_before = api->get("/v1/incidents/" + id + "/events", viewer_token).json()["events"].size();
    const auto journal_before = journal_size();
    const auto doc_before = incident(id);

    const std::map<std::string, std::vector<const char*>> wrong = {
        {"viewer", {}}, {"submitter", {viewer_token}}, {"operator", {viewer_token, submitter_token}}};
    const std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>> bad_credentials = {
        {"no Authorization", {}},
        {"empty", {{"Authorization", ""}}},
        {"scheme only", {{"Authorization", "Bearer"}}},
        {"scheme and blanks", {{"Authorization", "Bearer    "}}},
        {"Basic", {{"Authorization", "Basic c29hcjpzZWNyZXQ="}}},
        {"unknown token", {{"Authorization", "Bearer not-a-token"}}},
        {"a token plus one byte", {{"Authorization", std::string("Bearer ") + operator_token + "x"}}},
        {"a token's prefix", {{"Authorization", std::string("Bearer ") + std::string(operator_token).substr(0, 10)}}},
        {"the token's hash", {{"Authorization", "Bearer " + sha256_hex(operator_token)}}},
        {"two Authorization headers",
         {{"Authorization", std::string("Bearer ") + viewer_token},
          {"Authorization", std::string("Bearer ") + operator_token}}},
        {"8 KiB token", {{"Authorization", "Bearer " + std::string(8 * 1024, 'z')}}},
        {"token in a cookie", {{"Cookie", std::string("token=") + operator_token}}},
    };
    int calls = 0;
    for (const auto& r : routes) {
        std::string target = fill(r.path, id);
        const std::string body = r.method == "POST" ? (r.path == "/v1/incidents" ? seeds_incident("AUTH-2").dump()
                                                                                 : json{{"step", 1}}.dump())
                                                    : std::string();
        auto call = [&](test::header_list hs, const std::string& query = {}) {
            if (!body.empty()) hs.emplace_back("Content-Type", "application/json");
            ++calls;
            return api->request(r.method, target + query, body, hs);
        };
        if (r.role == "none") {
            const auto open = call({});
            EXPECT_EQ(open.status, 200) << r.method << " " << r.path << ": " << open.body;
            EXPECT_EQ(open.body.find("@"), std::string::npos) << r.path << " reveals a UPN";
            EXPECT_EQ(open.body.find(id), std::string::npos) << r.path << " reveals an incident id";
            continue;
        }
        for (const auto& [what, hs] : bad_credentials) {
            const auto res = call(hs);
            EXPECT_EQ(res.status, 401) << r.method << " " << r.path << " with " << what << ": " << res.body;
            EXPECT_EQ(res.header("content-type"), "application/problem+json") << r.path << " " << what;
            EXPECT_NE(res.header("www-authenticate").find("Bearer"), std::string::npos) << r.path << " " << what;
        }
        const auto in_query = call({}, std::string("?access_token=") + operator_token);
        EXPECT_EQ(in_query.status, 401) << r.path << ": a token in the query string is not a credential";
        for (const char* token : wrong.at(r.role)) {
            const auto res = call({{"Authorization", std::string("Bearer ") + token}});
            EXPECT_EQ(res.status, 403) << r.method << " " << r.path << " as " << token << ": " << res.body;
            EXPECT_EQ(res.header("content-type"), "application/problem+json");
        }
        // Lower-case scheme is the same credential (RFC 9110: the scheme is case-insensitive).
        const char* right = r.role == "operator"    ? operator_token
                            : r.role == "submitter" ? submitter_token
                                                    : viewer_token;
        if (r.method == "GET") {
            const auto lower = call({{"Authorization", std::string("bearer ") + right}});
            EXPECT_NE(lower.status, 401) << r.path;
            EXPECT_NE(lower.status, 403) << r.path;
        }
    }
    std::cout << "[ auth ] " << routes.size() << " routes, " << calls << " calls" << std::endl;

    // Nothing changed: no event, no incident, no Graph call; the credential is still there.
    EXPECT_EQ(api->get("/v1/incidents/" + id + "/events", viewer_token).json()["events"].size(), events_before);
    EXPECT_EQ(stored(), 1u);
    EXPECT_EQ(journal_size(), journal_before);
    const auto doc_after = incident(id);
    EXPECT_EQ(doc_after["status"], doc_before["status"]);
    EXPECT_EQ(doc_after["steps"], doc_before["steps"]);
    const auto reveal = api->post("/v1/incidents/" + id + "/credentials/ap.clerk%40contoso.com/reveal", operator_token);
    EXPECT_EQ(reveal.status, 200) << "a refused reveal must not consume the credential: " << reveal.body;
    expect_healthy("the auth matrix");
}

// ------------------------------------------------------------------ bodies

TEST_F(ApiAbuse, every_server_owned_or_unknown_field_alone_is_400_naming_it_and_stores_nothing) {
    const auto journal_before = journal_size();
    const auto cases = mass_assignments();
    for (const auto& [field, body] : cases) {
        const auto r = submit(body, {{"Idempotency-Key", "mass-key"}});
        ASSERT_EQ(r.status, 400) << field << ": " << r.body;
        EXPECT_EQ(r.header("content-type"), "application/problem+json");
        EXPECT_EQ(fields_of(r.json()), std::set<std::string>{field}) << r.body;
        // dry_run is refused the same way (it must not plan around a forged field either).
        const auto dry = api->post("/v1/incidents?dry_run=true", submitter_token, body);
        EXPECT_EQ(dry.status, 400) << field;
    }
    // Everything at once: every field named in one answer.
    auto all = seeds_incident("MASS");
    std::set<std::string> expected;
    for (const auto& [field, body] : cases) {
        if (field.find('.') != std::string::npos || field.find('[') != std::string::npos) continue;
        all[field] = body[field];
        expected.insert(field);
    }
    const auto r = submit(all);
    ASSERT_EQ(r.status, 400);
    EXPECT_EQ(fields_of(r.json()), expected) << r.body;

    EXPECT_EQ(stored(), 0u);
    EXPECT_EQ(journal_size(), journal_before) << "a refused submission reached Graph";
    // The key was not consumed by the refusals.
    const auto ok = submit(seeds_incident("MASS"), {{"Idempotency-Key", "mass-key"}});
    EXPECT_EQ(ok.status, 201) << ok.body;
    EXPECT_EQ(ok.json().value("status", ""), "running");
    std::cout << "[ mass assignment ] " << cases.size() << " fields, each refused alone" << std::endl;
}

TEST_F(ApiAbuse, a_corpus_of_broken_json_bodies_is_400_problem_json_and_stores_nothing) {
    const auto journal_before = journal_size();
    std::vector<std::string> failures;
    malformed_json_round(*this, &failures);
    for (const auto& f : failures) ADD_FAILURE() << f;
    // Wrong or missing media types, and an empty body.
    EXPECT_EQ(submit_text(seeds_incident("CT").dump(), "text/plain").status, 415);
    EXPECT_EQ(submit_text(seeds_incident("CT").dump(), "application/x-www-form-urlencoded").status, 415);
    EXPECT_EQ(submit_text(seeds_incident("CT").dump(), "application/jsonp").status, 415);
    EXPECT_EQ(submit_text("").status, 400);
    EXPECT_EQ(stored(), 0u);
    EXPECT_EQ(journal_size(), journal_before);
    std::cout << "[ malformed json ] " << broken_bodies().size() << " bodies" << std::endl;
    expect_healthy("the broken-JSON corpus");
}

TEST_F(ApiAbuse, oversize_bodies_and_headers_are_413_and_431_and_the_connection_closes) {
    for (const auto& f : oversize_round(api_port)) ADD_FAILURE() << f;
    // Just under the limit is read and judged on its content: 400 naming the field.
    auto body = seeds_incident("BIG");
    body["title"] = std::string(1000 * 1000, 't');
    const auto r = submit(body);
    EXPECT_EQ(r.status, 400) << r.error;
    EXPECT_EQ(fields_of(r.json()), std::set<std::string>{"title"});
    EXPECT_EQ(stored(), 0u);
    expect_healthy("oversize requests");
}

// ------------------------------------------------------------------ connections

TEST_F(ApiAbuse, slow_senders_are_dropped_on_the_read_timeout_while_others_are_served) {
    constexpr int senders = 12;  // below the connection cap: the others must get in
    std::atomic<bool> done{false};
    std::vector<milliseconds> latencies;
    int answered = 0, asked = 0;
    std::thread others([&] {
        api_client c(api_port);
        while (!done) {
            const auto started = steady_clock::now();
            const auto r = c.get(asked % 2 ? "/healthz" : "/v1/incidents?limit=5", viewer_token);
            latencies.push_back(std::chrono::duration_cast<milliseconds>(steady_clock::now() - started));
            ++asked;
            if (r.status == 200) ++answered;
            std::this_thread::sleep_for(milliseconds(50));
        }
    });
    const auto dropped = slow_senders(api_port, senders);
    done = true;
    others.join();
    for (int i = 0; i < senders; ++i) {
        const auto ms = dropped[static_cast<std::size_t>(i)].count();
        const char* kind = i % 3 == 0 ? "silent" : i % 3 == 1 ? "dripping headers" : "dripping a body";
        EXPECT_GE(ms, read_timeout_ms - 300) << kind << " sender " << i << " dropped too early";
        EXPECT_LE(ms, read_timeout_ms + 3000) << kind << " sender " << i << " not dropped on the read timeout";
    }
    EXPECT_EQ(answered, asked);
    EXPECT_GT(asked, 10);
    const auto worst = *std::max_element(latencies.begin(), latencies.end());
    EXPECT_LT(worst.count(), 1500) << "the others waited on the slow senders";
    std::cout << "[ slowloris ] " << senders << " slow senders dropped after " << dropped.front().count() << "-"
              << std::max_element(dropped.begin(), dropped.end())->count() << " ms; " << asked
              << " other requests meanwhile, worst " << worst.count() << " ms" << std::endl;
    expect_healthy("slow senders");
}

TEST_F(ApiAbuse, a_connection_flood_beyond_the_cap_gets_503_and_the_daemon_recovers) {
    const pid_t pid = daemon_pid();
    const long fds_before = open_fds(pid);
    // All at once: exactly the connections beyond the cap are refused, at once.
    constexpr int flood = 4 * max_connections;
    api->close();  // its keep-alive would take one place
    std::this_thread::sleep_for(milliseconds(100));
    const auto r = connection_flood(api_port, flood);
    EXPECT_EQ(r.rejected, flood - max_connections) << "held " << r.held << ", other " << r.other;
    EXPECT_EQ(r.held, max_connections);
    EXPECT_EQ(r.other, 0);
    // Once the held ones are dropped (read timeout), everyone is served again.
    std::this_thread::sleep_for(milliseconds(read_timeout_ms + 500));
    expect_healthy("a connection flood");
    const auto metrics = api->get("/metrics", "").body;
    EXPECT_NE(metrics.find("containd_api_rejected_connections_total " + std::to_string(flood - max_connections)),
              std::string::npos)
        << metrics.substr(metrics.find("containd_api_rejected"), 80);

    // Churn: many short connections one after the other; no descriptor is left behind.
    constexpr int churn = 500;
    int ok = 0;
    for (int i = 0; i < churn; ++i) {
        const auto c =
            converse(api_port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", milliseconds(3000));
        if (c.first_status() == 200 && c.closed) ++ok;
    }
    EXPECT_EQ(ok, churn);
    api->close();
    std::this_thread::sleep_for(milliseconds(200));
    const long fds_after = open_fds(pid);
    EXPECT_LE(fds_after, fds_before + 2) << "descriptors before " << fds_before << ", after " << fds_after;
    std::cout << "[ flood ] " << flood << " at once: " << r.rejected << " refused (503), " << r.held << " held; "
              << churn << " short connections; descriptors " << fds_before << " -> " << fds_after << std::endl;
}

TEST_F(ApiAbuse, pipelined_floods_are_answered_in_order_or_abandoned_without_harm) {
    constexpr int n = 2000;
    const auto statuses = pipelined(api_port, n);
    ASSERT_EQ(statuses.size(), static_cast<std::size_t>(n));
    int out_of_order = 0;
    for (int i = 0; i < n; ++i)
        if (statuses[static_cast<std::size_t>(i)] != (i % 2 == 0 ? 200 : 404)) ++out_of_order;
    EXPECT_EQ(out_of_order, 0);

    // A flood the client never reads, then abandons: about 2 MB of requests.
    {
        const int fd = connect_loopback(api_port);
        ASSERT_GE(fd, 0);
        std::string bytes;
        for (int i = 0; i < 20000; ++i)
            bytes += "GET /v1/incidents?limit=200 HTTP/1.1\r\nHost: x\r\n" + auth(viewer_token) + "\r\n";
        std::size_t sent = 0;
        const auto deadline = steady_clock::now() + std::chrono::seconds(5);
        while (sent < bytes.size() && steady_clock::now() < deadline) {
            const auto k = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
            if (k > 0)
                sent += static_cast<std::size_t>(k);
            else if (errno != EAGAIN && errno != EINTR)
                break;
        }
        ::close(fd);
        std::cout << "[ pipelining ] " << n << " answered in order; " << sent << " bytes sent unread, then abandoned"
                  << std::endl;
    }
    // Unauthenticated submissions, pipelined: each refused, none stored.
    std::string posts;
    const std::string body = seeds_incident("PIPE").dump();
    for (int i = 0; i < 200; ++i)
        posts += "POST /v1/incidents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n" + (i == 199 ? "Connection: close\r\n" : "") + "\r\n" + body;
    const auto refused = converse(api_port, posts, milliseconds(20000)).statuses();
    EXPECT_EQ(refused.size(), 200u);
    EXPECT_EQ(std::count(refused.begin(), refused.end(), 401), 200);
    EXPECT_EQ(stored(), 0u);
    expect_healthy("pipelined floods");
}

// ------------------------------------------------------------------ injection

TEST_F(ApiAbuse, odata_injection_in_every_identifier_is_refused_before_graph_or_escaped) {
    const auto journal_before = journal_size();
    const std::string huge(100 * 1024, 'a');
    // Refused: not a UPN (Entra allows letters, digits and ' . - _ ! # ^ ~ before the @).
    const std::vector<std::string> bad_upns = {"x' or '1' eq '1@contoso.com",
                                               "a b@contoso.com",
                                               "o%27brien@contoso.com",
                                               "o\u2019brien@contoso.com",
                                               "j\u00f6hn@contoso.com",
                                               "\uff46\uff55\uff4c\uff4c@contoso.com",
                                               "\u202eevil@contoso.com",
                                               std::string("a\0b@contoso.com", 15),
                                               "a@contoso.com\n",
                                               "a@contoso.com'",
                                               "a@contoso.com)",
                                               "a@contoso.com' or userPrincipalName ne '",
                                               "a@contoso.com%27",
                                               "$filter=x@contoso.com",
                                               "../x@contoso.com",
                                               "a/b@contoso.com",
                                               "a@b",
                                               "a@-b.com",
                                               "@contoso.com",
                                               "a@",
                                               "a@@contoso.com",
                                               std::string(65, 'l') + "@contoso.com",
                                               "a@" + std::string(300, 'd') + ".com",
                                               huge + "@contoso.com",
                                               "",
                                               "a(b)@contoso.com",
                                               "a,b@contoso.com",
                                               "a&b@contoso.com",
                                               "a%00b@contoso.com",
                                               "a\\u0027b@contoso.com"};
    const std::vector<std::string> bad_app_ids = {"c7a1e5d2-9b3f-4a6c-8e1d-2f5b7c9a0e34'",
                                                  "c7a1e5d2-9b3f-4a6c-8e1d-2f5b7c9a0e34' or appId ne '",
                                                  "c7a1e5d2-9b3f-4a6c-8e1d-2f5b7c9a0e34%27",
                                                  "{c7a1e5d2-9b3f-4a6c-8e1d-2f5b7c9a0e34}",
                                                  "c7a1e5d2-9b3f-4a6c-8e1d-2f5b7c9a0e3\u0664",
                                                  "\uff43"
                                                  "7a1e5d2-9b3f-4a6c-8e1d-2f5b7c9a0e34",
                                                  " c7a1e5d2-9b3f-4a6c-8e1d-2f5b7c9a0e34",
                                                  "c7a1e5d29b3f4a6c8e1d2f5b7c9a0e34x",
                                                  "'",
                                                  "%27",
                                                  huge,
                                                  ""};
    const std::vector<std::string> bad_methods = {"a'b", "%27", "../x", "m\u00e9thode", "a b", std::string(200, 'm'),
                                                  ""};
    const std::vector<std::string> bad_tenants = {"contoso'", "contoso%27", "\uff43ontoso", "contoso' or 1 eq 1",
                                                  std::string(100, 't')};
    int refused = 0;
    auto expect_refused = [&](const json& body, const std::string& field, const std::string& what) {
        const auto r = submit(body);
        ++refused;
        EXPECT_EQ(r.status, 400) << field << " = " << what.substr(0, 60) << ": " << r.body.substr(0, 300);
        EXPECT_TRUE(fields_of(r.json()).count(field))
            << field << " not named for " << what.substr(0, 60) << ": " << r.body.substr(0, 300);
        // The refusal quotes at most a short prefix of what it refused.
        EXPECT_LT(r.body.size(), 4096u) << field;
    };
    for (const auto& u : bad_upns) {
        auto body = seeds_incident("INJ");
        body["accounts"][2]["upn"] = u;
        expect_refused(body, "accounts[2].upn", u);
    }
    for (const auto& a : bad_app_ids) {
        auto body = seeds_incident("INJ");
        body["malicious_apps"][0]["app_id"] = a;
        expect_refused(body, "malicious_apps[0].app_id", a);
    }
    for (const auto& m : bad_methods) {
        auto body = seeds_incident("INJ");
        body["accounts"][2]["known_methods"] = {m};
        expect_refused(body, "accounts[2].known_methods[0]", m);
    }
    for (const auto& t : bad_tenants) {
        auto body = seeds_incident("INJ");
        body["tenant"] = t;
        expect_refused(body, "tenant", t);
    }
    for (const char* ip : {"203.0.113.66' or '1'='1", "203.0.113.66%27", "::ffff:203.0.113.66'", "\u0662.0.113.66"}) {
        auto body = seeds_incident("INJ");
        body["attacker_ips"] = {ip};
        expect_refused(body, "attacker_ips[0]", ip);
    }
    // Identifiers in the path and the query: refused or not found, never a server error.
    const std::vector<std::string> bad_ids = {"%27",
                                              "'",
                                              "x%27%20or%201%3D1",
                                              "%00",
                                              "%C3%A9",
                                              "..%2F..%2Fetc",
                                              std::string(4000, 'a'),
                                              "%2527",
                                              "0b7c6d5e-4f3a-4b2c-9d1e-0f9e8d7c6b5a%27"};
    for (const auto& bad : bad_ids) {
        for (const std::string suffix : {"", "/events", "/report?format=md"}) {
            const auto r = api->get("/v1/incidents/" + bad + suffix, operator_token);
            ++refused;
            EXPECT_TRUE(r.status == 400 || r.status == 404) << bad << suffix << ": " << r.status << " " << r.body;
        }
        for (const std::string action : {"/approve", "/cancel", "/retry", "/release"}) {
            const auto r = api->post("/v1/incidents/" + bad + action, operator_token, {{"step", 1}});
            ++refused;
            EXPECT_TRUE(r.status == 400 || r.status == 404) << bad << action << ": " << r.status << " " << r.body;
        }
    }
    for (const std::string& q :
         std::vector<std::string>{"status=running%27%20or%20%271%27%3D%271", "status=%27", "cursor=%27",
                                  "cursor=x%27--", "limit=1%27", "limit=-1", "limit=99999999999999999999",
                                  "tenant=" + std::string(100, 't'), "status=running&status=contained%27", "%27=1"}) {
        const auto r = api->get("/v1/incidents?" + q, viewer_token);
        ++refused;
        EXPECT_EQ(r.status, 400) << q << ": " << r.body;
    }

    EXPECT_EQ(stored(), 0u);
    EXPECT_EQ(journal_size(), journal_before) << "an invalid identifier reached Graph";
    std::cout << "[ injection ] " << refused << " invalid identifiers refused before any Graph call" << std::endl;

    // Valid identifiers with apostrophes: escaped, never widened. One existing account with an
    // apostrophe, and accounts that exist nowhere whose names look like filter syntax.
    auto pat = seeds_incident("INJ-PAT");
    pat["accounts"] = {{{"upn", "pat.o'brien@contoso.com"}}};
    const auto pat_made = submit(pat);
    ASSERT_EQ(pat_made.status, 201) << pat_made.body;
    const std::vector<std::string> ghosts = {"x'or'1'eq'1@contoso.com", "'@contoso.com", "a''b@contoso.com",
                                             "o'brien'@contoso.com"};
    auto ghost = seeds_incident("INJ-GHOST");
    ghost["accounts"] = json::array();
    for (const auto& g : ghosts) ghost["accounts"].push_back({{"upn", g}});
    ghost["malicious_apps"] = json::array();
    const auto ghost_made = submit(ghost);
    ASSERT_EQ(ghost_made.status, 201) << ghost_made.body;
    const std::string pat_id = pat_made.json()["id"], ghost_id = ghost_made.json()["id"];
    EXPECT_NE(wait_final(pat_id), "timeout");
    for (const auto& step : incident(pat_id)["steps"])
        if (step["kind"] != "verify_signins") {
            EXPECT_EQ(step["status"], "succeeded") << step.dump();
        }
    EXPECT_EQ(wait_final(ghost_id), "needs_attention");

    // From the simulator's journal: every request naming one of these accounts names it whole:
    // raw in a path segment, as one doubled-quote literal in a $filter.
    std::vector<std::string> names = ghosts;
    names.push_back("pat.o'brien@contoso.com");
    int filters = 0, paths = 0;
    std::set<std::string> upns(names.begin(), names.end());
    for (const auto& u : json::parse(read_file(CONTAIND_SOURCE_DIR "/config/scenarios/bec-walkthrough.json"))["users"])
        upns.insert(u.value("userPrincipalName", ""));
    const auto journal = sim_journal();
    for (std::size_t i = journal_before; i < journal.size(); ++i) {
        const auto& e = journal[i];
        const std::string path = graph::odata::percent_decode(e.value("path", "")).value_or("<bad escape>");
        const std::string query = graph::odata::percent_decode(e.value("query", "")).value_or("<bad escape>");
        EXPECT_NE(e.value("status", 0), 400) << "the simulator could not parse " << e["path"] << "?" << e["query"];
        // Every UPN literal is a whole UPN: an unescaped quote would cut one into fragments
        // ('x', '1', '1@contoso.com').
        const auto values = literals_of(query);
        for (const auto& v : values)
            if (v.find('@') != std::string::npos && !upns.count(v))
                ADD_FAILURE() << "a fragment '" << v << "' in ?" << query;
        for (const auto& n : names) {
            std::string doubled;
            for (char c : n) doubled += c == '\'' ? std::string("''") : std::string(1, c);
            if (std::count(values.begin(), values.end(), n)) ++filters;
            if (path.find("/users/" + n) != std::string::npos)
                ++paths;
            else if (path.find("/users/" + doubled) != std::string::npos)
                ADD_FAILURE() << "a doubled quote in a path segment: " << path;
        }
        // The ghosts exist nowhere: nothing about them was ever changed.
        const std::string method = e.value("method", "");
        if (method != "GET") {
            for (const auto& g : ghosts) EXPECT_EQ(path.find(g), std::string::npos) << method << " " << path;
        }
    }
    EXPECT_GT(filters, 0) << "no $filter named the accounts: the check checked nothing";
    EXPECT_GT(paths, 0);
    // Pat's sign-ins were read with the escaped filter and only Pat was changed.
    const auto doc = incident(pat_id);
    ASSERT_EQ(doc["accounts"].size(), 1u);
    EXPECT_TRUE(doc["accounts"][0]["password_reset_at"].is_string()) << doc["accounts"][0].dump();
    std::cout << "[ injection ] " << filters << " filters and " << paths
              << " paths named the apostrophe accounts, each whole" << std::endl;
    expect_healthy("injection attempts");
}

// ------------------------------------------------------------------ idempotency

TEST_F(ApiAbuse, concurrent_duplicates_with_one_idempotency_key_make_one_incident) {
    constexpr int threads = 16;
    auto race = [&](const std::string& key, auto body_for) {
        std::vector<api_response> out(threads);
        std::barrier start(threads);
        std::vector<std::thread> ts;
        for (int i = 0; i < threads; ++i)
            ts.emplace_back([&, i] {
                api_client c(api_port);
                ASSERT_EQ(c.get("/healthz", "").status, 200);  // connected before the race
                start.arrive_and_wait();
                out[static_cast<std::size_t>(i)] =
                    c.post("/v1/incidents", submitter_token, body_for(i), {{"Idempotency-Key", key}});
            });
        for (auto& t : ts) t.join();
        return out;
    };
    std::map<int, int> codes;
    std::set<std::string> ids;
    for (const auto& r : race("dup-key-1", [](int) { return seeds_incident("DUP-1"); })) {
        ++codes[r.status];
        if (r.status == 201 || r.status == 200) ids.insert(r.json().value("id", ""));
        EXPECT_TRUE(r.status == 201 || r.status == 200 || r.status == 409) << r.status << " " << r.body;
    }
    EXPECT_EQ(codes[201], 1);
    EXPECT_EQ(ids.size(), 1u);
    // The same key with other bodies: the key is taken (422), none is created.
    for (const auto& r : race("dup-key-1", [](int i) { return seeds_incident("DUP-OTHER-" + std::to_string(i)); })) {
        EXPECT_TRUE(r.status == 422 || r.status == 409) << r.status << " " << r.body;
    }
    // A fresh key, different bodies at once: exactly one wins.
    std::map<int, int> second;
    for (const auto& r : race("dup-key-2", [](int i) { return seeds_incident("DUP-2-" + std::to_string(i)); })) {
        ++second[r.status];
        EXPECT_TRUE(r.status == 201 || r.status == 422 || r.status == 409) << r.status << " " << r.body;
    }
    EXPECT_EQ(second[201], 1);
    EXPECT_EQ(stored(), 2u);
    // A serial replay afterwards returns the first incident.
    const auto replay = submit(seeds_incident("DUP-1"), {{"Idempotency-Key", "dup-key-1"}});
    EXPECT_EQ(replay.status, 200);
    EXPECT_EQ(replay.json().value("id", ""), *ids.begin());
    std::cout << "[ idempotency ] " << threads << " concurrent duplicates: " << codes[201] << " created, " << codes[200]
              << " replayed, " << codes[409] << " conflict" << std::endl;
}

// ------------------------------------------------------------------ memory

TEST_F(ApiAbuse, memory_and_descriptors_stay_flat_under_repeated_abuse) {
    int rounds = 2;
    if (const char* r = std::getenv("CONTAIND_ABUSE_ROUNDS")) rounds = std::max(1, std::atoi(r));
    const pid_t pid = daemon_pid();
    auto one_round = [&](int round) {
        std::vector<std::string> failures;
        for (const auto& f : oversize_round(api_port)) failures.push_back(f);
        malformed_json_round(*this, &failures);
        for (const auto& [field, body] : mass_assignments())
            if (submit(body).status != 400) failures.push_back("mass assignment of " + field);
        if (pipelined(api_port, 1000).size() != 1000u) failures.push_back("pipelined");
        api->close();
        std::this_thread::sleep_for(milliseconds(100));
        const auto flood = connection_flood(api_port, 2 * max_connections);
        if (flood.rejected != max_connections)
            failures.push_back("flood: " + std::to_string(flood.rejected) + " refused");
        slow_senders(api_port, 6);
        std::this_thread::sleep_for(milliseconds(read_timeout_ms + 300));  // held connections dropped
        for (const auto& f : failures) ADD_FAILURE() << "round " << round << ": " << f;
    };
    one_round(0);  // warm-up: buffers, caches and the allocator's arenas reach their size
    api->close();
    const long rss_before = vm_rss_kib(pid), fds_before = open_fds(pid);
    const auto started = steady_clock::now();
    for (int round = 1; round <= rounds; ++round) one_round(round);
    api->close();
    std::this_thread::sleep_for(milliseconds(300));
    const long rss_after = vm_rss_kib(pid), fds_after = open_fds(pid);
    std::cout << "[ memory ] " << rounds << " rounds in "
              << std::chrono::duration_cast<milliseconds>(steady_clock::now() - started).count() << " ms: VmRSS "
              << rss_before << " KiB -> " << rss_after << " KiB (" << (rss_after - rss_before) << " KiB), descriptors "
              << fds_before << " -> " << fds_after << std::endl;
    ASSERT_GT(rss_before, 0);
    EXPECT_LT(rss_after - rss_before, 8 * 1024) << "VmRSS grew by more than 8 MiB over " << rounds << " rounds";
    EXPECT_LE(fds_after, fds_before + 2);
    EXPECT_EQ(stored(), 0u);
    expect_healthy("repeated abuse");
}

}  // namespace
}  // namespace containd::testing
