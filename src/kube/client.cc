#include "kube/client.h"

#include <fmt/format.h>

#include <thread>

#include "kube/watch_decoder.h"

namespace l2a::kube {
namespace {

// Percent-encoding of a query value (RFC 3986): every byte but the unreserved ones.
std::string escape(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

void addQuery(std::string& target, const std::string& key, const std::string& value) {
  if (value.empty()) return;
  target += (target.find('?') == std::string::npos ? '?' : '&');
  target += key + "=" + escape(value);
}

// A non-2xx answer as an Error: the metav1.Status message when the body has one.
Error apiError(const HttpRequest& request, const HttpResponse& response) {
  std::string code;
  switch (response.status) {
    case 404: code = ApiErrorCodes::kNotFound; break;
    case 409: code = ApiErrorCodes::kConflict; break;
    case 410: code = ApiErrorCodes::kGone; break;
    case 422: code = "invalid"; break;
    case 401: code = "unauthorized"; break;
    case 403: code = "forbidden"; break;
    case 429: code = "too_many_requests"; break;
    default: code = response.status >= 500 ? "server" : "http"; break;
  }
  std::string message;
  Json body = Json::parse(response.body, nullptr, false);
  if (body.is_object() && body.contains("message") && body["message"].is_string()) {
    message = body["message"].get<std::string>();
  } else {
    message = response.body.substr(0, 200);
  }
  return Error{code, fmt::format("{} {}: {} {}", request.method, request.target, response.status, message)};
}

bool retryable(long status) { return status == 429 || status >= 500; }

}  // namespace

Client::Client(HttpTransport& transport, Options options)
    : transport_(transport), options_(std::move(options)), bucket_(options_.qps, options_.burst) {
  if (!options_.sleep) options_.sleep = [](auto d) { std::this_thread::sleep_for(d); };
  if (!options_.now) options_.now = [] { return std::chrono::steady_clock::now(); };
}

void Client::count(const std::string& verb, const Resource& r, int code) {
  std::lock_guard lock(mutex_);
  ++counts_[{verb, r.displayName(), code}];
}

std::map<RequestKey, uint64_t> Client::requestCounts() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

std::map<std::pair<std::string, std::string>, Client::Latency> Client::requestLatency() const {
  std::lock_guard lock(mutex_);
  return latency_;
}

uint64_t Client::totalRequests() const {
  std::lock_guard lock(mutex_);
  uint64_t total = 0;
  for (const auto& [key, n] : counts_) total += n;
  return total;
}

void Client::throttle() {
  std::chrono::steady_clock::duration wait;
  {
    std::lock_guard lock(mutex_);
    wait = bucket_.reserve(options_.now());
  }
  if (wait > std::chrono::steady_clock::duration::zero()) options_.sleep(wait);
}

std::chrono::steady_clock::duration Client::backoff(int attempt) {
  auto base = options_.baseBackoff * (1LL << std::min(attempt, 20));
  auto capped = std::min<std::chrono::milliseconds>(base, options_.maxBackoff);
  double jitter;
  {
    std::lock_guard lock(mutex_);
    jitter = std::uniform_real_distribution<double>(0.5, 1.5)(random_);
  }
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(capped * jitter);
}

namespace {

// Parses a list's body handing each element of its top-level "items" array to `item` as it
// completes (nlohmann's parse callback: returning false leaves it out of the tree being built).
// An "items" that is not an array stays in the tree, as anything else would.
Json parseList(const std::string& body, const std::function<void(Json&&)>& item) {
  bool itemsNext = false, inItems = false;
  return Json::parse(
      body,
      [&](int depth, Json::parse_event_t event, Json& parsed) {
        if (depth == 1) {
          if (event == Json::parse_event_t::key) itemsNext = parsed == "items";
          if (event == Json::parse_event_t::array_start) inItems = itemsNext;
          if (event == Json::parse_event_t::array_end) inItems = false;
          return true;
        }
        if (!inItems || depth != 2) return true;
        if (event != Json::parse_event_t::object_end && event != Json::parse_event_t::value &&
            event != Json::parse_event_t::array_end) {
          return true;
        }
        item(std::move(parsed));
        return false;
      },
      false);
}

}  // namespace

Result<Json> Client::call(const std::string& verb, const Resource& r, HttpRequest request,
                          const std::function<void(Json&&)>* items) {
  for (int attempt = 0;; ++attempt) {
    throttle();
    auto started = std::chrono::steady_clock::now();
    auto response = transport_.send(request);
    {
      std::lock_guard lock(mutex_);
      auto& l = latency_[{verb, r.displayName()}];
      l.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      ++l.count;
    }
    if (!response) {
      count(verb, r, 0);
      // A credential plugin that failed says why at once; running it again would not help.
      if (attempt >= options_.maxRetries || response.error().code == "credentials") return fail(response.error());
      options_.sleep(backoff(attempt));
      continue;
    }
    count(verb, r, static_cast<int>(response->status));
    if (response->status >= 200 && response->status < 300) {
      if (response->body.empty()) return Json::object();
      Json body = items ? parseList(response->body, *items) : Json::parse(response->body, nullptr, false);
      if (body.is_discarded()) {
        return fail("bad_response", fmt::format("{} {}: body is not JSON", request.method, request.target));
      }
      return body;
    }
    if (!retryable(response->status) || attempt >= options_.maxRetries) {
      return fail(apiError(request, *response));
    }
    auto wait = backoff(attempt);
    if (response->status == 429) {
      auto ra = response->headers.find("retry-after");
      if (ra != response->headers.end()) {
        long seconds = std::strtol(ra->second.c_str(), nullptr, 10);
        if (seconds > 0) wait = std::chrono::seconds(std::min(seconds, 60L));
      }
    }
    options_.sleep(wait);
  }
}

Result<Json> Client::get(const Resource& r, const std::string& ns, const std::string& name) {
  return call("get", r, {.method = "GET", .target = r.path(ns, name)});
}

std::string Client::listTarget(const Resource& r, const std::string& ns, const ListOptions& options) const {
  std::string target = r.path(ns);
  addQuery(target, "labelSelector", options.labelSelector);
  addQuery(target, "fieldSelector", options.fieldSelector);
  if (options.limit > 0) addQuery(target, "limit", std::to_string(options.limit));
  addQuery(target, "continue", options.continueToken);
  addQuery(target, "resourceVersion", options.resourceVersion);
  return target;
}

Result<Json> Client::list(const Resource& r, const std::string& ns, const ListOptions& options) {
  return call("list", r, {.method = "GET", .target = listTarget(r, ns, options)});
}

Result<Json> Client::listEach(const Resource& r, const std::string& ns, ListOptions options,
                              const std::function<void(Json&&)>& item, const std::function<void()>& restart) {
  Json envelope;
  for (;;) {
    auto page = call("list", r, {.method = "GET", .target = listTarget(r, ns, options)}, &item);
    if (!page && page.error().code == ApiErrorCodes::kGone && !options.continueToken.empty()) {
      // The continue token expired (its version was compacted away while we paged): start over
      // with one unpaged list, as client-go's pager does, rather than fail the whole list.
      restart();
      envelope = Json();
      options.continueToken.clear();
      options.limit = 0;
      continue;
    }
    if (!page) return page;
    if (!page->is_object()) return fail("bad_response", fmt::format("list {}: the body is not an object", r.displayName()));
    std::string next;
    if (auto meta = page->find("metadata"); meta != page->end() && meta->is_object()) {
      if (auto token = meta->find("continue"); token != meta->end() && token->is_string()) next = token->get<std::string>();
    }
    if (envelope.is_null()) envelope = std::move(*page);
    if (next.empty()) break;
    options.continueToken = next;
  }
  envelope.erase("items");
  if (envelope.contains("metadata") && envelope["metadata"].is_object()) envelope["metadata"].erase("continue");
  return envelope;
}

Result<Json> Client::listAll(const Resource& r, const std::string& ns, ListOptions options) {
  Json items = Json::array();
  auto all = listEach(r, ns, std::move(options), [&items](Json&& item) { items.push_back(std::move(item)); },
                      [&items] { items = Json::array(); });
  if (all) (*all)["items"] = std::move(items);
  return all;
}

Result<Json> Client::create(const Resource& r, const std::string& ns, const Json& object) {
  return call("create", r, {.method = "POST", .target = r.path(ns), .body = object.dump()});
}

Result<Json> Client::update(const Resource& r, const std::string& ns, const Json& object) {
  return call("update", r, {.method = "PUT", .target = r.path(ns, nameOf(object)), .body = object.dump()});
}

Result<Json> Client::updateStatus(const Resource& r, const std::string& ns, const Json& object) {
  return call("update", r,
              {.method = "PUT", .target = r.path(ns, nameOf(object), "status"), .body = object.dump()});
}

Result<Json> Client::patch(const Resource& r, const std::string& ns, const std::string& name,
                           const Json& mergePatch, const std::string& subresource) {
  return call("patch", r,
              {.method = "PATCH",
               .target = r.path(ns, name, subresource),
               .body = mergePatch.dump(),
               .contentType = "application/merge-patch+json"});
}

Result<Json> Client::strategicPatch(const Resource& r, const std::string& ns, const std::string& name,
                                    const Json& patch, const std::string& subresource) {
  return call("patch", r,
              {.method = "PATCH",
               .target = r.path(ns, name, subresource),
               .body = patch.dump(),
               .contentType = "application/strategic-merge-patch+json"});
}

Status<> Client::remove(const Resource& r, const std::string& ns, const std::string& name,
                        const std::string& resourceVersion) {
  HttpRequest request{.method = "DELETE", .target = r.path(ns, name)};
  if (!resourceVersion.empty()) {
    request.body = Json{{"apiVersion", "v1"},
                        {"kind", "DeleteOptions"},
                        {"preconditions", {{"resourceVersion", resourceVersion}}}}
                       .dump();
    request.contentType = "application/json";
  }
  auto result = call("delete", r, std::move(request));
  if (!result) return fail(result.error());
  return Ok{};
}

Status<> Client::watch(const Resource& r, const std::string& ns, const WatchOptions& options,
                       const std::function<bool(const WatchEvent&)>& onEvent,
                       const std::atomic<bool>& stop) {
  std::string target = r.path(ns);
  addQuery(target, "watch", "1");
  addQuery(target, "allowWatchBookmarks", "true");
  addQuery(target, "resourceVersion", options.resourceVersion);
  addQuery(target, "labelSelector", options.labelSelector);
  addQuery(target, "fieldSelector", options.fieldSelector);
  addQuery(target, "timeoutSeconds", std::to_string(options.timeoutSeconds));
  HttpRequest request{.method = "GET", .target = target};
  throttle();
  WatchDecoder decoder;
  bool keepGoing = true;
  auto response = transport_.stream(
      request,
      [&](std::string_view chunk) {
        decoder.feed(chunk, [&](WatchEvent event) {
          if (keepGoing && !onEvent(event)) keepGoing = false;
        });
        return keepGoing;
      },
      [&stop, abort = options.abort] { return stop.load() || (abort != nullptr && abort->load()); },
      options.idleTimeoutSeconds);
  if (stop.load() || (options.abort != nullptr && options.abort->load())) return Ok{};  // the caller ended it
  if (!response) {
    count("watch", r, 0);
    return fail(response.error());
  }
  count("watch", r, static_cast<int>(response->status));
  if (response->status != 200) return fail(apiError(request, *response));
  return Ok{};
}

}  // namespace l2a::kube
