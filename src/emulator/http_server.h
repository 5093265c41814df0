// lfemu's HTTP/1.1 server (Boost.Beast on C++20 coroutines): accepts
// connections, reads requests with header/body timeouts and a body limit,
// hands each to the VerificationService, fetches file_urls for it, and
// delivers its answers, faults included. Beast stays in http_server.cc.
#pragma once

#include <cstdint>
#include <functional>

#include "core/result.h"
#include "emulator/emulator_settings.h"

namespace lf {

class VerificationService;

// Binds options.host:options.port, calls `on_listening(port)` once the
// socket listens, and serves with options.threads threads until SIGINT or
// SIGTERM. Returns once every thread has stopped; an Error if it could not
// listen (the message names the address). `service` must outlive the call.
Status run_http_server(const ServerOptions& options, VerificationService& service,
                       const std::function<void(std::uint16_t port)>& on_listening);

}  // namespace lf
