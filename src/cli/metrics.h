// The metric families l2a exposes, written from the parts' own counters at scrape time.
#pragma once

#include "common/metrics_writer.h"
#include "kube/client.h"
#include "responder/responder.h"
#include "wire/heartbeats.h"

namespace l2a::cli {

void writeResponderMetrics(common::MetricsWriter& w, const responder::Responder& responder);
void writeHeartbeatMetrics(common::MetricsWriter& w, const wire::Heartbeats& heartbeats);
void writeClientMetrics(common::MetricsWriter& w, const kube::Client& client);

}  // namespace l2a::cli
