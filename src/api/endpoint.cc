// Endpoint URL parsing and proxy selection (pure).
#include "api/endpoint.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstring>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace lf {
namespace {

// The port of a URL ("8080"), or an Error naming the URL and showing `example`.
Result<std::uint16_t> parse_port(std::string_view digits, const std::string& quoted,
                                 const std::string& example) {
  int p = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), p);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || p < 1 || p > 65535) {
    return Error{quoted + " has port '" + std::string(digits) +
                 "', which is not a number from 1 to 65535" + example};
  }
  return static_cast<std::uint16_t>(p);
}

// Boost.URL (1.81) takes the digits at the start of a port and leaves the
// rest to the path: "host:844-3/x" parses as port 844 and path "-3/x". RFC
// 3986 allows after an authority only an empty path or one starting with "/",
// so anything else is a malformed port (or host) to refuse, not a target.
Status check_path_follows_authority(const boost::urls::url_view& u, const std::string& quoted,
                                    const std::string& example) {
  const std::string_view path = u.encoded_path();
  if (path.empty() || path.front() == '/') return {};
  const std::string rest(path.substr(0, path.find('/')));
  if (u.has_port()) {
    return Error{quoted + " has port '" + std::string(u.port()) + rest +
                 "', which is not a number from 1 to 65535" + example};
  }
  return Error{quoted + " has '" + rest + "' after its host, where a port or path belongs" +
               example};
}

constexpr std::string_view kEndpointExample =
    "https://cloudapi.linkface.cn/identity/handhold_idcard_verification";

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The host to connect to and to name in Host / CONNECT: an IP address as
// written, or a registered name lowercased. Boost.URL would decode a name's
// percent-encoding into any byte ("%0D%0A" would end the Host header, "%00"
// the name); only DNS names are taken, as written: letters, digits, '-', '.'
// and '_' (international names in their xn-- form).
Result<std::string> host_of(const boost::urls::url_view& u, const std::string& quoted,
                            const std::string& example) {
  if (u.host_type() != boost::urls::host_type::name) return std::string(u.host_address());
  // Not decoded at all: "%31%32%37.0.0.1" would be a name that prints as an IPv4 address.
  std::string host = lower(u.encoded_host());
  for (const char c : host) {
    const bool dns = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                     c == '_';
    if (!dns) {
      return Error{quoted + " has host '" + std::string(u.encoded_host()) +
                   "', which is not a DNS name (letters, digits, '-', '.'; write international "
                   "names as xn--...)" + example};
    }
  }
  return host;
}

std::string bracket_if_ipv6(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

// An IP address in network byte order: 4 bytes for IPv4, 16 for IPv6.
struct IpAddress {
  std::array<unsigned char, 16> bytes{};
  int length = 0;  // 4 or 16; 0 when not an address
};

IpAddress parse_ip(std::string_view text) {
  IpAddress ip;
  if (!text.empty() && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  const std::string s(text);
  if (inet_pton(AF_INET, s.c_str(), ip.bytes.data()) == 1) {
    ip.length = 4;
  } else if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) == 1) {
    ip.length = 16;
  }
  return ip;
}

bool prefix_matches(const IpAddress& a, const IpAddress& b, int bits) {
  if (a.length != b.length || bits < 0 || bits > a.length * 8) return false;
  int i = 0;
  for (; bits >= 8; bits -= 8, ++i) {
    if (a.bytes[i] != b.bytes[i]) return false;
  }
  if (bits == 0) return true;
  const unsigned mask = (0xFFu << (8 - bits)) & 0xFFu;
  return (a.bytes[i] & mask) == (b.bytes[i] & mask);
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Splits "host:port", "[v6]:port", "v6" or "host" of a NO_PROXY entry.
void split_entry(std::string_view entry, std::string_view& host, std::optional<int>& port) {
  host = entry;
  port.reset();
  if (entry.empty()) return;
  std::size_t colon = std::string_view::npos;
  if (entry.front() == '[') {
    const auto close = entry.find(']');
    if (close == std::string_view::npos) return;
    host = entry.substr(1, close - 1);
    if (close + 1 < entry.size() && entry[close + 1] == ':') colon = close + 1;
  } else if (std::count(entry.begin(), entry.end(), ':') == 1) {
    colon = entry.find(':');
    host = entry.substr(0, colon);
  }
  if (colon != std::string_view::npos) {
    int p = 0;
    const auto digits = entry.substr(colon + 1);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), p);
    if (ec == std::errc() && ptr == digits.data() + digits.size()) port = p;
  }
}

}  // namespace

std::string Endpoint::host_header() const {
  const bool default_port = (tls && port == 443) || (!tls && port == 80);
  return default_port ? bracket_if_ipv6(host) : authority();
}

std::string Endpoint::authority() const {
  return bracket_if_ipv6(host) + ":" + std::to_string(port);
}

std::string Endpoint::absolute_url() const {
  return std::string(tls ? "https://" : "http://") + host_header() + target;
}

Result<Endpoint> parse_endpoint(std::string_view url) {
  const std::string example = " (example: " + std::string(kEndpointExample) + ")";
  const std::string quoted = "endpoint '" + std::string(url) + "'";
  if (url.empty()) return Error{"endpoint is empty: give the full URL of the API path" + example};
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    return Error{quoted + " is not a valid absolute URL (" + parsed.error().message() + ")" +
                 example};
  }
  const boost::urls::url_view& u = *parsed;
  const std::string scheme = lower(u.scheme());
  if (scheme != "http" && scheme != "https") {
    return Error{quoted + " has scheme '" + scheme + "': only http and https are supported" +
                 example};
  }
  if (!u.has_authority() || u.encoded_host().empty()) {
    return Error{quoted + " has no host" + example};
  }
  if (u.has_userinfo()) {
    return Error{quoted + " carries user:password@; credentials go in LINKFACE_API_ID / "
                 "LINKFACE_API_SECRET, not the URL" + example};
  }
  if (u.has_fragment()) return Error{quoted + " has a #fragment; remove it" + example};
  if (Status s = check_path_follows_authority(u, quoted, example); !s) return s.error();
  for (const auto& param : u.params()) {
    const std::string key = lower(param.key);
    if (key == "api_secret" || key == "api_id") {
      return Error{quoted + " carries " + key + " in its query; credentials go in "
                   "LINKFACE_API_ID / LINKFACE_API_SECRET, never in the URL" + example};
    }
  }

  Endpoint endpoint;
  endpoint.tls = scheme == "https";
  if (u.host_type() == boost::urls::host_type::ipvfuture) {
    return Error{quoted + " has an IPvFuture host, which is not supported" + example};
  }
  Result<std::string> host = host_of(u, quoted, example);
  if (!host) return host.error();
  endpoint.host = std::move(*host);
  if (u.has_port()) {
    if (u.port().empty()) {
      endpoint.port = endpoint.tls ? 443 : 80;
    } else {
      Result<std::uint16_t> port = parse_port(u.port(), quoted, example);
      if (!port) return port.error();
      endpoint.port = *port;
    }
  } else {
    endpoint.port = endpoint.tls ? 443 : 80;
  }
  endpoint.target = std::string(u.encoded_path());
  if (endpoint.target.empty()) endpoint.target = "/";
  if (u.has_query()) endpoint.target += "?" + std::string(u.encoded_query());
  return endpoint;
}

std::string ProxyServer::authority() const {
  return bracket_if_ipv6(host) + ":" + std::to_string(port);
}

Result<ProxyServer> parse_proxy_url(std::string_view url) {
  const std::string example = " (example: http://proxy.example.com:3128)";
  std::string text(trim(url));
  const std::string quoted = "proxy '" + std::string(url) + "'";
  if (text.empty()) return Error{"proxy URL is empty" + example};
  if (text.find("://") == std::string::npos) text = "http://" + text;
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) {
    return Error{quoted + " is not a valid URL (" + parsed.error().message() + ")" + example};
  }
  const boost::urls::url_view& u = *parsed;
  const std::string scheme = lower(u.scheme());
  if (scheme == "https") {
    return Error{quoted + ": TLS to the proxy itself (https://) is not supported; use an "
                 "http:// proxy URL (https endpoints are still tunnelled with CONNECT)" +
                 example};
  }
  if (scheme != "http") {
    return Error{quoted + " has scheme '" + scheme + "': only http proxies are supported" +
                 example};
  }
  if (u.encoded_host().empty()) return Error{quoted + " has no host" + example};
  if (Status s = check_path_follows_authority(u, quoted, example); !s) return s.error();
  ProxyServer proxy;
  Result<std::string> host = host_of(u, quoted, example);
  if (!host) return host.error();
  proxy.host = std::move(*host);
  proxy.port = 1080;
  if (u.has_port() && !u.port().empty()) {
    Result<std::uint16_t> port = parse_port(u.port(), quoted, example);
    if (!port) return port.error();
    proxy.port = *port;
  }
  if (u.has_userinfo()) {
    proxy.authorization = "Basic " + base64(std::string(u.user()) + ":" +
                                            std::string(u.password()));
  }
  return proxy;
}

ProxyEnvironment proxy_environment_from(
    const std::function<const char*(const char*)>& getenv_fn) {
  auto first = [&](const char* lower_name, const char* upper_name) {
    const char* v = getenv_fn(lower_name);
    if (v == nullptr || *v == '\0') v = getenv_fn(upper_name);
    return std::string(v == nullptr ? "" : v);
  };
  ProxyEnvironment env;
  env.https_proxy = first("https_proxy", "HTTPS_PROXY");
  env.http_proxy = first("http_proxy", "HTTP_PROXY");
  env.no_proxy = first("no_proxy", "NO_PROXY");
  return env;
}

bool is_loopback_host(std::string_view host_in) {
  const std::string host = lower(host_in);
  if (host == "localhost" || ends_with(host, ".localhost")) return true;
  const IpAddress ip = parse_ip(host);
  if (ip.length == 4) return ip.bytes[0] == 127;
  if (ip.length == 16) {
    static const IpAddress kLoopback6 = parse_ip("::1");
    return ip.bytes == kLoopback6.bytes;
  }
  return false;
}

bool no_proxy_matches(std::string_view no_proxy, std::string_view host_in, std::uint16_t port) {
  const std::string host = lower(host_in);
  const IpAddress host_ip = parse_ip(host);
  std::size_t pos = 0;
  while (pos <= no_proxy.size()) {
    const std::size_t end = no_proxy.find_first_of(", ", pos);
    const std::string entry = lower(trim(no_proxy.substr(
        pos, end == std::string_view::npos ? std::string_view::npos : end - pos)));
    pos = end == std::string_view::npos ? no_proxy.size() + 1 : end + 1;
    if (entry.empty()) continue;
    if (entry == "*") return true;

    // CIDR block: address/bits.
    if (const auto slash = entry.find('/'); slash != std::string::npos) {
      const IpAddress block = parse_ip(std::string_view(entry).substr(0, slash));
      int bits = -1;
      const std::string_view digits = std::string_view(entry).substr(slash + 1);
      std::from_chars(digits.data(), digits.data() + digits.size(), bits);
      if (block.length != 0 && host_ip.length != 0 && prefix_matches(host_ip, block, bits)) {
        return true;
      }
      continue;
    }

    std::string_view entry_host;
    std::optional<int> entry_port;
    split_entry(entry, entry_host, entry_port);
    if (entry_port && *entry_port != port) continue;

    const IpAddress entry_ip = parse_ip(entry_host);
    if (entry_ip.length != 0) {
      if (host_ip.length == entry_ip.length && host_ip.bytes == entry_ip.bytes) return true;
      continue;
    }
    while (!entry_host.empty() && entry_host.front() == '.') entry_host.remove_prefix(1);
    if (entry_host.empty()) continue;
    if (host == entry_host) return true;
    if (ends_with(host, entry_host) && host[host.size() - entry_host.size() - 1] == '.') {
      return true;
    }
  }
  return false;
}

Result<std::optional<ProxyServer>> select_proxy(const Endpoint& endpoint,
                                                const ProxyEnvironment& environment) {
  const std::string& value = endpoint.tls ? environment.https_proxy : environment.http_proxy;
  if (value.empty()) return std::optional<ProxyServer>{};
  if (is_loopback_host(endpoint.host)) return std::optional<ProxyServer>{};
  if (no_proxy_matches(environment.no_proxy, endpoint.host, endpoint.port)) {
    return std::optional<ProxyServer>{};
  }
  auto proxy = parse_proxy_url(value);
  if (!proxy) {
    return Error{std::string(endpoint.tls ? "HTTPS_PROXY" : "HTTP_PROXY") + ": " +
                 proxy.error().message};
  }
  return std::optional<ProxyServer>{std::move(proxy.value())};
}

}  // namespace lf
