// The HTTPS client through a real HTTP CONNECT proxy (Debian's tinyproxy, started here on a free
// loopback port): the TLS session to the server runs through the tunnel; Basic proxy
// credentials; NO_PROXY; and the errors an operator sees for a wrong proxy.

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "core/ids.hpp"
#include "graph/https_client.hpp"
#include "support/child_process.hpp"
#include "support/fake_https_server.hpp"

namespace containd::graph {
namespace {

namespace fs = std::filesystem;

unsigned short free_port() {
    const int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    close(s);
    return ntohs(a.sin_port);
}

bool listening(unsigned short port) {
    const int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(s);
    return ok;
}

class proxy_test : public ::testing::Test {
protected:
    void SetUp() override {
        if (!fs::exists("/usr/bin/tinyproxy"))
            GTEST_SKIP() << "tinyproxy is not installed (deploy/setup.sh installs it)";
        dir = fs::temp_directory_path() / ("containd-proxy-" + random_uuid());
        fs::create_directories(dir);
        tls = test::make_loopback_tls();
        server = std::make_unique<test::fake_https_server>(tls.server, [](const test::fake_request& r) {
            return test::fake_response::json(200, {{"path", r.path()}});
        });
    }
    void TearDown() override {
        proxy.reset();
        if (!dir.empty()) fs::remove_all(dir);
    }

    // tinyproxy in the foreground on a free port; with basic_auth "user password" if given.
    void start_proxy(const std::string& basic_auth = {}) {
        proxy_port = free_port();
        std::ofstream conf(dir / "tinyproxy.conf");
        conf << "Port " << proxy_port << "\nListen 127.0.0.1\nTimeout 30\nAllow 127.0.0.1\nMaxClients 10\n"
             << "LogFile \"" << (dir / "tinyproxy.log").string() << "\"\nLogLevel Connect\n";
        if (!basic_auth.empty()) conf << "BasicAuth " << basic_auth << "\n";
        conf.close();
        proxy = std::make_unique<testing::child_process>(
            std::vector<std::string>{"/usr/bin/tinyproxy", "-d", "-c", (dir / "tinyproxy.conf").string()},
            (dir / "tinyproxy.stderr").string());
        for (int i = 0; i < 200 && !listening(proxy_port); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        ASSERT_TRUE(listening(proxy_port)) << "tinyproxy did not start";
    }

    http_result get(const proxy_settings& p) {
        tls_settings t;
        t.use_system_trust = false;
        t.ca_pem = tls.authority.ca().cert_pem;
        https_options o;
        o.proxy = p;
        o.attempt_timeout = seconds(10);
        https_client client(ioc.get_executor(), t, o);
        http_request r;
        r.url = server->base_url() + "/v1.0/me";
        return test::run_coro(ioc, client.send(std::move(r)));
    }

    std::string proxy_log() {
        std::ifstream in(dir / "tinyproxy.log");
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

    fs::path dir;
    test::loopback_tls tls;
    std::unique_ptr<test::fake_https_server> server;
    std::unique_ptr<testing::child_process> proxy;
    unsigned short proxy_port = 0;
    boost::asio::io_context ioc;
};

TEST_F(proxy_test, TheRequestGoesThroughTheTunnel) {
    start_proxy();
    proxy_settings p;
    p.url = "http://127.0.0.1:" + std::to_string(proxy_port);
    const auto r = get(p);
    ASSERT_TRUE(r.ok()) << r.detail;
    EXPECT_EQ(r.response.status, 200);
    EXPECT_EQ(nlohmann::json::parse(r.response.body)["path"], "/v1.0/me");
    EXPECT_NE(proxy_log().find("CONNECT"), std::string::npos) << proxy_log();
    EXPECT_NE(proxy_log().find("127.0.0.1:" + std::to_string(server->port())), std::string::npos) << proxy_log();
}

TEST_F(proxy_test, ProxyCredentialsAreSentAndAMissingOneIsNamed) {
    start_proxy("containd s3cret-proxy-pass");
    proxy_settings p;
    p.url = "http://127.0.0.1:" + std::to_string(proxy_port);
    const auto refused = get(p);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error, transport_error::connect);
    EXPECT_NE(refused.detail.find("407"), std::string::npos) << refused.detail;
    EXPECT_NE(refused.detail.find("proxy_credentials_file"), std::string::npos) << refused.detail;
    EXPECT_EQ(server->request_count(), 0u);

    p.credentials = secret("containd:wrong");
    const auto wrong = get(p);
    ASSERT_FALSE(wrong.ok());
    EXPECT_NE(wrong.detail.find("not accepted"), std::string::npos) << wrong.detail;
    EXPECT_EQ(wrong.detail.find("wrong"), std::string::npos) << "the password must not be in the error";

    p.credentials = secret("containd:s3cret-proxy-pass");
    const auto ok = get(p);
    ASSERT_TRUE(ok.ok()) << ok.detail;
    EXPECT_EQ(ok.response.status, 200);
}

TEST_F(proxy_test, AWrongProxyGivesAClearError) {
    proxy_settings p;
    const auto port = free_port();  // nothing listens there
    p.url = "http://127.0.0.1:" + std::to_string(port);
    const auto r = get(p);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error, transport_error::connect);
    EXPECT_NE(r.detail.find("cannot reach the proxy 127.0.0.1:" + std::to_string(port)), std::string::npos) << r.detail;
    EXPECT_EQ(server->request_count(), 0u);

    p.url = "https://127.0.0.1:3128";  // not a proxy URL we speak
    const auto bad = get(p);
    EXPECT_EQ(bad.error, transport_error::invalid_request);
    EXPECT_NE(bad.detail.find("proxy URL"), std::string::npos) << bad.detail;
}

TEST_F(proxy_test, NoProxyHostsAreReachedDirectly) {
    proxy_settings p;
    p.url = "http://127.0.0.1:" + std::to_string(free_port());  // would fail if used
    p.no_proxy = {"localhost", "127.0.0.1"};
    const auto r = get(p);
    ASSERT_TRUE(r.ok()) << r.detail;
    EXPECT_EQ(r.response.status, 200);
}

TEST(ProxySettings, NoProxyMatchesHostsSuffixesPortsAndStar) {
    proxy_settings p;
    EXPECT_FALSE(p.applies_to("graph.microsoft.com", "443"));  // no proxy configured
    p.url = "http://proxy.corp:3128";
    EXPECT_TRUE(p.applies_to("graph.microsoft.com", "443"));
    p.no_proxy = {".corp.example", "login.microsoftonline.com", "10.0.0.5:8443"};
    EXPECT_FALSE(p.applies_to("api.corp.example", "443"));
    EXPECT_FALSE(p.applies_to("corp.example", "443"));
    EXPECT_TRUE(p.applies_to("evilcorp.example", "443"));
    EXPECT_FALSE(p.applies_to("LOGIN.microsoftonline.com", "443"));
    EXPECT_TRUE(p.applies_to("graph.microsoft.com", "443"));
    EXPECT_FALSE(p.applies_to("10.0.0.5", "8443"));
    EXPECT_TRUE(p.applies_to("10.0.0.5", "443"));
    p.no_proxy = {"*"};
    EXPECT_FALSE(p.applies_to("graph.microsoft.com", "443"));
}

TEST(ProxySettings, ComeFromTheEnvironment) {
    setenv("HTTPS_PROXY", "http://proxy.corp:3128", 1);
    setenv("NO_PROXY", " localhost, .internal ,", 1);
    const auto p = proxy_settings::from_environment();
    unsetenv("HTTPS_PROXY");
    unsetenv("NO_PROXY");
    EXPECT_EQ(p.url, "http://proxy.corp:3128");
    EXPECT_EQ(p.no_proxy, (std::vector<std::string>{"localhost", ".internal"}));
}

}  // namespace
}  // namespace containd::graph
