// Tests of endpoint URL parsing and proxy selection.
#include "api/endpoint.h"

#include <map>

#include <gtest/gtest.h>

namespace lf {
namespace {

TEST(ParseEndpoint, SplitsTheSpecUrlWithDefaultHttpsPort) {
  auto e = parse_endpoint("https://cloudapi.linkface.cn/identity/handhold_idcard_verification");
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_TRUE(e->tls);
  EXPECT_EQ(e->host, "cloudapi.linkface.cn");
  EXPECT_EQ(e->port, 443);
  EXPECT_EQ(e->target, "/identity/handhold_idcard_verification");
  EXPECT_EQ(e->host_header(), "cloudapi.linkface.cn");
  EXPECT_EQ(e->authority(), "cloudapi.linkface.cn:443");
}

TEST(ParseEndpoint, HttpDefaultsToPort80AndKeepsTheQuery) {
  auto e = parse_endpoint("http://Example.COM/a/b?x=1&y=%20");
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_FALSE(e->tls);
  EXPECT_EQ(e->host, "example.com");
  EXPECT_EQ(e->port, 80);
  EXPECT_EQ(e->target, "/a/b?x=1&y=%20");
  EXPECT_EQ(e->absolute_url(), "http://example.com/a/b?x=1&y=%20");
}

TEST(ParseEndpoint, ExplicitPortAppearsInHostHeader) {
  auto e = parse_endpoint("http://127.0.0.1:8080/identity/handhold_idcard_verification");
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->port, 8080);
  EXPECT_EQ(e->host_header(), "127.0.0.1:8080");
}

TEST(ParseEndpoint, EmptyPathBecomesSlash) {
  auto e = parse_endpoint("https://api.example.com");
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->target, "/");
}

TEST(ParseEndpoint, Ipv6LiteralIsBracketedOnlyInHeaders) {
  auto e = parse_endpoint("http://[::1]:9000/x");
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->host_header(), "[::1]:9000");
  EXPECT_EQ(e->authority(), "[::1]:9000");
}

TEST(ParseEndpoint, RefusesOtherSchemesWithAnExample) {
  auto e = parse_endpoint("ftp://example.com/x");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("only http and https"), std::string::npos);
  EXPECT_NE(e.error().message.find("example: https://"), std::string::npos);
}

TEST(ParseEndpoint, RefusesRelativeAndGarbage) {
  for (const char* bad : {"", "cloudapi.linkface.cn/identity", "/identity/x", "http://", "http:// x"}) {
    auto e = parse_endpoint(bad);
    EXPECT_FALSE(e.ok()) << bad;
    if (!e.ok()) {
      EXPECT_NE(e.error().message.find("example:"), std::string::npos) << bad;
    }
  }
}

TEST(ParseEndpoint, RefusesBadPorts) {
  EXPECT_FALSE(parse_endpoint("http://h:0/x").ok());
  EXPECT_FALSE(parse_endpoint("http://h:70000/x").ok());
}

// Found by fuzzing (tests/fuzz/endpoint/regressions): Boost.URL parses
// "h:844-3/x" as port 844 with path "-3/x", which would have sent requests
// to port 844 with a request target that is not one.
TEST(ParseEndpoint, RefusesAPortWithTrailingGarbage) {
  for (const char* url : {"https://h:844-3/identity/x", "https://[::1]:844-3/identity/x",
                          "http://h:80x"}) {
    auto e = parse_endpoint(url);
    ASSERT_FALSE(e.ok()) << url << " parsed with target " << e->target;
    EXPECT_NE(e.error().message.find("not a number from 1 to 65535"), std::string::npos)
        << e.error().message;
  }
  // And the same Boost.URL quirk for IPv4: "1.2.3.4.5" was 1.2.3.4 with path ".5/x".
  EXPECT_FALSE(parse_endpoint("http://1.2.3.4.5/x").ok());
  auto p = parse_proxy_url("proxy.corp:31-28");
  ASSERT_FALSE(p.ok()) << "port " << p->port;
  EXPECT_NE(p.error().message.find("'31-28'"), std::string::npos) << p.error().message;
}

// Found by fuzzing (tests/fuzz/endpoint/regressions): a percent-encoded host
// name was decoded into the Host header as any bytes, CR LF included.
TEST(ParseEndpoint, RefusesHostNamesThatAreNotDnsNames) {
  for (const char* url : {"http://%88%32%37.0.0.1:65535/", "https://api%0D%0AX-Evil%3A%201/x",
                          "https://api%00.example.com/x", "https://a%20b/x"}) {
    auto e = parse_endpoint(url);
    ASSERT_FALSE(e.ok()) << url << " parsed with host " << e->host;
    EXPECT_NE(e.error().message.find("not a DNS name"), std::string::npos) << e.error().message;
  }
  // Nor percent-encoded ones: this one prints as an IPv4 address it is not.
  EXPECT_FALSE(parse_endpoint("http://%31%32%37.0.0.10.0.0.0/8").ok());
  auto upper = parse_endpoint("https://CloudAPI.LinkFace.CN/x");
  ASSERT_TRUE(upper.ok()) << upper.error().message;
  EXPECT_EQ(upper->host, "cloudapi.linkface.cn");
  EXPECT_FALSE(parse_proxy_url("http://proxy%0A.corp:3128").ok());
}

TEST(ParseEndpoint, RefusesCredentialsInTheUrl) {
  auto with_userinfo = parse_endpoint("https://id:secret@example.com/x");
  ASSERT_FALSE(with_userinfo.ok());
  EXPECT_NE(with_userinfo.error().message.find("LINKFACE_API_SECRET"), std::string::npos);
  auto with_query = parse_endpoint("https://example.com/x?api_id=a&api_secret=b");
  ASSERT_FALSE(with_query.ok());
  EXPECT_NE(with_query.error().message.find("never in the URL"), std::string::npos);
}

TEST(ParseProxyUrl, AcceptsHostPortWithoutScheme) {
  auto p = parse_proxy_url("proxy.corp:3128");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->host, "proxy.corp");
  EXPECT_EQ(p->port, 3128);
  EXPECT_TRUE(p->authorization.empty());
}

TEST(ParseProxyUrl, DefaultsPortTo1080AndEncodesUserinfoAsBasic) {
  auto p = parse_proxy_url("http://alice:open%20sesame@proxy.corp/");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->port, 1080);
  // base64("alice:open sesame")
  EXPECT_EQ(p->authorization, "Basic YWxpY2U6b3BlbiBzZXNhbWU=");
}

TEST(ParseProxyUrl, RefusesHttpsAndSocksProxies) {
  auto https = parse_proxy_url("https://proxy:443");
  ASSERT_FALSE(https.ok());
  EXPECT_NE(https.error().message.find("not supported"), std::string::npos);
  EXPECT_FALSE(parse_proxy_url("socks5://proxy:1080").ok());
}

TEST(ProxyEnvironmentFrom, LowercaseWinsOverUppercase) {
  static std::map<std::string, std::string> vars;
  vars = {{"https_proxy", "http://lower:1"}, {"HTTPS_PROXY", "http://upper:2"},
          {"HTTP_PROXY", "http://upper:3"}, {"NO_PROXY", "internal"}};
  auto fake_getenv = [](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
  ProxyEnvironment env = proxy_environment_from(fake_getenv);
  EXPECT_EQ(env.https_proxy, "http://lower:1");
  EXPECT_EQ(env.http_proxy, "http://upper:3");
  EXPECT_EQ(env.no_proxy, "internal");
}

TEST(NoProxyMatches, DomainMatchesItselfAndSubdomainsOnly) {
  EXPECT_TRUE(no_proxy_matches("example.com", "example.com", 443));
  EXPECT_TRUE(no_proxy_matches("example.com", "api.example.com", 443));
  EXPECT_TRUE(no_proxy_matches(".example.com", "api.example.com", 443));
  EXPECT_TRUE(no_proxy_matches(".example.com", "example.com", 443));
  EXPECT_FALSE(no_proxy_matches("example.com", "badexample.com", 443));
  EXPECT_FALSE(no_proxy_matches("example.com", "example.org", 443));
  EXPECT_TRUE(no_proxy_matches("EXAMPLE.com", "Api.Example.COM", 443));
}

TEST(NoProxyMatches, ListsWildcardPortsAndCidr) {
  EXPECT_TRUE(no_proxy_matches("*", "anything", 1));
  EXPECT_TRUE(no_proxy_matches("a.com, b.com ,c.com", "x.b.com", 80));
  EXPECT_TRUE(no_proxy_matches("a.com b.com", "b.com", 80));
  EXPECT_TRUE(no_proxy_matches("b.com:8080", "b.com", 8080));
  EXPECT_FALSE(no_proxy_matches("b.com:8080", "b.com", 443));
  EXPECT_TRUE(no_proxy_matches("10.0.0.0/8", "10.1.2.3", 443));
  EXPECT_FALSE(no_proxy_matches("10.0.0.0/8", "11.1.2.3", 443));
  EXPECT_TRUE(no_proxy_matches("192.168.1.7", "192.168.1.7", 443));
  EXPECT_TRUE(no_proxy_matches("fd00::/8", "fd12::1", 443));
  EXPECT_TRUE(no_proxy_matches("[::2]:99", "::2", 99));
  EXPECT_FALSE(no_proxy_matches("", "example.com", 443));
  EXPECT_FALSE(no_proxy_matches("10.0.0.0/8", "example.com", 443));
}

TEST(IsLoopbackHost, KnowsLocalhostAndLoopbackAddresses) {
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_TRUE(is_loopback_host("api.localhost"));
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.9.8.7"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_FALSE(is_loopback_host("128.0.0.1"));
  EXPECT_FALSE(is_loopback_host("localhost.example.com"));
  EXPECT_FALSE(is_loopback_host("::2"));
}

TEST(SelectProxy, HttpsEndpointUsesHttpsProxy) {
  auto e = parse_endpoint("https://api.example.com/x").value();
  ProxyEnvironment env{"http://sp:8443", "http://hp:8080", ""};
  auto p = select_proxy(e, env);
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_TRUE(p->has_value());
  EXPECT_EQ((*p)->host, "sp");
  EXPECT_EQ((*p)->port, 8443);
}

TEST(SelectProxy, HttpEndpointUsesHttpProxy) {
  auto e = parse_endpoint("http://api.example.com/x").value();
  ProxyEnvironment env{"http://sp:8443", "http://hp:8080", ""};
  auto p = select_proxy(e, env);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p->has_value());
  EXPECT_EQ((*p)->host, "hp");
}

TEST(SelectProxy, NoVariableMeansDirect) {
  auto e = parse_endpoint("https://api.example.com/x").value();
  auto p = select_proxy(e, ProxyEnvironment{"", "http://hp:8080", ""});
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->has_value());
}

TEST(SelectProxy, LoopbackAndNoProxyGoDirect) {
  ProxyEnvironment env{"http://sp:8443", "http://hp:8080", "internal.corp"};
  auto local = select_proxy(parse_endpoint("https://127.0.0.1:8443/x").value(), env);
  ASSERT_TRUE(local.ok());
  EXPECT_FALSE(local->has_value());
  auto localhost = select_proxy(parse_endpoint("http://localhost:9/x").value(), env);
  ASSERT_TRUE(localhost.ok());
  EXPECT_FALSE(localhost->has_value());
  auto internal = select_proxy(parse_endpoint("https://api.internal.corp/x").value(), env);
  ASSERT_TRUE(internal.ok());
  EXPECT_FALSE(internal->has_value());
}

TEST(SelectProxy, BadProxyVariableIsAnErrorNamingIt) {
  auto e = parse_endpoint("https://api.example.com/x").value();
  auto p = select_proxy(e, ProxyEnvironment{"https://sp:8443", "", ""});
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("HTTPS_PROXY"), std::string::npos);
}

}  // namespace
}  // namespace lf
