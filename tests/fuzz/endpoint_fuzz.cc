// Fuzz target: the endpoint URL and the proxy environment (endpoint.h).
// An endpoint that parses must print (absolute_url) as a URL that parses
// back to the same endpoint.
#include "api/endpoint.h"
#include "fuzz_targets.h"

namespace lf::fuzz {

int endpoint(const std::uint8_t* data, std::size_t size) {
  FuzzInput in(data, size);
  const ExactBytes url(in.line());
  const ExactBytes proxy_url(in.line());
  const ExactBytes no_proxy(in.line());
  const ExactBytes host(in.rest());

  auto endpoint = parse_endpoint(url.view());
  if (endpoint.ok()) {
    const Endpoint& e = *endpoint;
    fuzz_check(!e.host.empty() && e.port != 0, "an endpoint without host or port");
    fuzz_check(e.target.starts_with("/"), "a request target not starting with /");
    (void)e.host_header();
    (void)e.authority();
    auto again = parse_endpoint(e.absolute_url());
    fuzz_check(again.ok(), "absolute_url() of a parsed endpoint does not parse");
    fuzz_check(again->tls == e.tls && again->host == e.host && again->port == e.port &&
                   again->target == e.target,
               "absolute_url() parses back to another endpoint");
    ProxyEnvironment environment{std::string(proxy_url.view()), std::string(proxy_url.view()),
                                 std::string(no_proxy.view())};
    auto proxy = select_proxy(e, environment);
    if (proxy.ok() && proxy->has_value()) {
      fuzz_check(!(*proxy)->host.empty() && (*proxy)->port != 0, "a proxy without host or port");
    }
  } else {
    fuzz_check(!endpoint.error().message.empty(), "an Error without a message");
  }
  auto proxy = parse_proxy_url(proxy_url.view());
  if (proxy.ok()) {
    fuzz_check(!proxy->host.empty() && proxy->port != 0, "a proxy without host or port");
    (void)proxy->authority();
  }
  (void)no_proxy_matches(no_proxy.view(), host.view(), 443);
  (void)is_loopback_host(host.view());
  return 0;
}

}  // namespace lf::fuzz
