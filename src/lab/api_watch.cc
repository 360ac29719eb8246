// The lab API server's watches: a chunked stream of events from a resourceVersion (replayed
// from the history) or from now (the current objects as ADDED first), filtered by label and
// field selectors the way kube-apiserver's watch cache does — an object that stops matching is
// DELETED for the watcher, one that starts matching is ADDED — with a BOOKMARK every
// bookmarkInterval (a minute by default, as kube-apiserver) and a 410 ERROR event once the
// version asked for has left the history.
#include <fmt/format.h>
#include <httplib.h>

#include "lab/api_reply.h"
#include "lab/api_server.h"
#include "lab/table.h"

namespace l2a::lab {

using namespace api;

namespace {

struct WatchState {
  uint64_t cursor = 0;
  bool finished = false;
  uint64_t epoch = 0;
  std::chrono::steady_clock::time_point nextBookmark;
  std::vector<Json> pending;  // initial events not sent yet
};

}  // namespace

void ApiServer::watch(const ApiRequest& r, const httplib::Request& req, httplib::Response& res) {
  auto parsed = parseSelectors(req);
  if (!parsed) {
    count("watch", r.id(), 400);
    return replyFailure(res, parsed.error());
  }
  const auto& [labels, fields] = *parsed;
  std::string from = param(req, "resourceVersion");
  bool bookmarks = param(req, "allowWatchBookmarks") == "true";
  int timeoutSeconds = std::atoi(param(req, "timeoutSeconds").c_str());
  if (timeoutSeconds <= 0) timeoutSeconds = 1800;
  auto state = std::make_shared<WatchState>();
  state->epoch = store_.watchEpoch();
  state->nextBookmark = std::chrono::steady_clock::now() + options_.bookmarkInterval;
  bool table = wantsTable(req.get_header_value("Accept"));
  if (from.empty() || from == "0") {
    auto current = store_.list(r.id(), r.ns, labels, fields);
    state->cursor = current.resourceVersion;
    for (auto& o : current.items) {
      state->pending.push_back({{"type", "ADDED"}, {"object", table ? toTable(r.info, {o}, "") : std::move(o)}});
    }
  } else {
    state->cursor = std::strtoull(from.c_str(), nullptr, 10);
  }
  count("watch", r.id(), 200);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutSeconds);
  auto selectors = std::make_shared<std::pair<LabelSelector, FieldSelector>>(labels, fields);
  // "stream=watch" also keeps cpp-httplib from gzip-buffering the stream.
  res.set_chunked_content_provider(
      "application/json;stream=watch",
      [this, r, table, state, bookmarks, deadline, selectors](size_t, httplib::DataSink& sink) {
        auto send = [&sink](const Json& event) {
          std::string line = event.dump() + "\n";
          return sink.write(line.data(), line.size());
        };
        for (const Json& e : state->pending) {
          if (!send(e)) return false;
        }
        state->pending.clear();
        auto now = std::chrono::steady_clock::now();
        if (state->finished || stopping_ || now >= deadline) {
          sink.done();
          return true;
        }
        auto wait = std::min(deadline, state->nextBookmark) - now;
        std::vector<StoredEvent> events;
        auto result = store_.waitEvents(r.id(), r.ns, state->cursor, state->epoch, events,
                                        std::max(std::chrono::duration_cast<std::chrono::milliseconds>(wait),
                                                 std::chrono::milliseconds(1)));
        if (result == ObjectStore::WaitResult::kGone) {
          send({{"type", "ERROR"}, {"object", statusBody(410, "Expired", "too old resource version")}});
          state->finished = true;
          return true;
        }
        if (result == ObjectStore::WaitResult::kClosed) {
          sink.done();
          return true;
        }
        // No selector: the line serialized once when the event was stored.
        bool plain = !table && selectors->first.everything() && selectors->second.everything();
        for (const StoredEvent& e : events) {
          if (plain) {
            if (!sink.write(e.line->data(), e.line->size())) return false;
            continue;
          }
          Json event = watchEvent(e, selectors->first, selectors->second);
          if (event.is_null()) continue;
          if (table) event["object"] = toTable(r.info, {event["object"]}, "");
          if (!send(event)) return false;
        }
        if (bookmarks && std::chrono::steady_clock::now() >= state->nextBookmark) {
          state->nextBookmark = std::chrono::steady_clock::now() + options_.bookmarkInterval;
          if (!send({{"type", "BOOKMARK"},
                     {"object", {{"kind", r.info.kind},
                                 {"apiVersion", r.info.apiVersion()},
                                 {"metadata", {{"resourceVersion", std::to_string(state->cursor)}}}}}})) {
            return false;
          }
        }
        return true;
      });
}

}  // namespace l2a::lab
