#pragma once
// The short names the support library's HTTP(S) code uses for Asio and Beast (api_client,
// sim_test_client, fake_https_server): one place instead of a copy per file. Include it from
// .cpp files only.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace containd::test::beast_names {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
// co_await op(..., use_nothrow) gives a tuple (error_code, ...) instead of throwing.
inline constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

}  // namespace containd::test::beast_names
