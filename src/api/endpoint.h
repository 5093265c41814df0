// Where requests go: the API endpoint URL taken apart (scheme, host, port,
// request target) and the choice of an HTTP proxy from the usual environment
// variables. Pure: no I/O, the environment is passed in.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace lf {

// An http:// or https:// URL split into what a connection and a request
// line need.
struct Endpoint {
  bool tls = false;          // https
  std::string host;          // as written, without IPv6 brackets, e.g. "::1"
  std::uint16_t port = 0;    // explicit, or 80 / 443
  std::string target;        // origin-form: path and query, at least "/"

  // "host" or "host:port" when the port is not the scheme's default, with
  // IPv6 literals bracketed: the value of the Host header.
  std::string host_header() const;
  // "host:port" always (IPv6 bracketed): the authority of a CONNECT request.
  std::string authority() const;
  // "http(s)://host[:port]/target": the absolute-form target for a proxy.
  std::string absolute_url() const;
};

// Parses `url`. Errors say what is wrong and show an example of a valid
// value. Userinfo ("user:pass@") and fragments are refused: the API takes
// credentials in the form body only.
Result<Endpoint> parse_endpoint(std::string_view url);

// An HTTP proxy to tunnel (CONNECT) or forward (absolute-form) through.
struct ProxyServer {
  std::string host;
  std::uint16_t port = 0;
  // "Basic <base64(user:pass)>" when the proxy URL carries userinfo, else
  // empty. Sent only to the proxy, never logged.
  std::string authorization;

  std::string authority() const;  // "host:port", IPv6 bracketed
};

// Parses a proxy URL as found in HTTPS_PROXY and friends: "http://host:port",
// "host:port" (http assumed) or "http://user:pass@host:port". Port defaults
// to 1080 when absent, as curl does. https:// proxies (TLS to the proxy
// itself) are refused with a clear message.
Result<ProxyServer> parse_proxy_url(std::string_view url);

// The proxy-related environment, as read by the caller (empty = unset).
// The lowercase variable wins over the uppercase one when both are set.
struct ProxyEnvironment {
  std::string https_proxy;  // https_proxy, else HTTPS_PROXY
  std::string http_proxy;   // http_proxy, else HTTP_PROXY
  std::string no_proxy;     // no_proxy, else NO_PROXY
};

// Reads the variables above through `getenv_fn` (std::getenv in production).
ProxyEnvironment proxy_environment_from(
    const std::function<const char*(const char*)>& getenv_fn);

// True when `host` (port `port`) must be reached directly according to a
// NO_PROXY list: comma- or space-separated entries, each "*" (everything),
// a host name (matches it and its subdomains; a leading "." is ignored), an
// IP address, or an IPv4/IPv6 CIDR block; any entry may carry ":port".
// Matching is case-insensitive.
bool no_proxy_matches(std::string_view no_proxy, std::string_view host, std::uint16_t port);

// True for "localhost", "*.localhost", 127.0.0.0/8 and ::1.
bool is_loopback_host(std::string_view host);

// The proxy to use for `endpoint` given the environment: https endpoints use
// https_proxy, http endpoints http_proxy; loopback hosts and NO_PROXY
// matches go direct (nullopt). An unparsable proxy variable is an error
// naming the variable.
Result<std::optional<ProxyServer>> select_proxy(const Endpoint& endpoint,
                                                const ProxyEnvironment& environment);

}  // namespace lf
