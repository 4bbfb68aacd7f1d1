// Generates the benchmark data set: services with states, tasks and attached data, as
// NDJSON for `contextd import` and as CSV for PostgreSQL's COPY, from one seed.
//
//   datagen --services=N --customers=C --keys=K --end-ms=T OUT_DIR
//
// Mix: a third of the services anonymous (contact key only), the rest for a customer (with a
// contact key too); 20% active (started within the last day before T), the rest completed
// within the year before T. Customer ids are C%07d, contact keys +1408%07d.

#include <charconv>
#include <cstdio>
#include <random>
#include <string>

#include "query/timestamp.h"

namespace {

struct Options {
  long services = 1000000, customers = 100000, keys = 200000;
  long long end_ms = 1767225600000;  // 2026-01-01T00:00:00Z
  std::string out;
};

std::string Id(const char* prefix, long n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%07ld", prefix, n);
  return buf;
}

std::string Ts(long long ms) { return contextd::query::FormatTimestamp(ms); }

void Csv(FILE* f, const std::string& s) {  // a CSV field, quoted, quotes doubled
  std::fputc('"', f);
  for (char c : s) {
    if (c == '"') std::fputc('"', f);
    std::fputc(c, f);
  }
  std::fputc('"', f);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto num = [&](const char* name, auto* out) {
      std::string p = std::string("--") + name + "=";
      if (a.rfind(p, 0) != 0) return false;
      std::from_chars(a.data() + p.size(), a.data() + a.size(), *out);
      return true;
    };
    if (!num("services", &o.services) && !num("customers", &o.customers) && !num("keys", &o.keys) &&
        !num("end-ms", &o.end_ms)) {
      o.out = a;
    }
  }
  if (o.out.empty()) {
    std::fprintf(stderr,
                 "usage: datagen [--services=N] [--customers=C] [--keys=K] [--end-ms=T] OUT_DIR\n");
    return 2;
  }
  FILE* nd = std::fopen((o.out + "/services.ndjson").c_str(), "w");
  FILE* pg = std::fopen((o.out + "/pg_services.csv").c_str(), "w");
  FILE* pgs = std::fopen((o.out + "/pg_states.csv").c_str(), "w");
  if (!nd || !pg || !pgs) {
    std::perror("datagen: open");
    return 1;
  }
  std::mt19937_64 rng(42);
  auto pick = [&](long n) { return static_cast<long>(rng() % static_cast<uint64_t>(n)); };
  const long long kDay = 86400000, kYear = 365 * kDay;
  const char* types[] = {"NewAccount", "Billing", "TechSupport", "Upgrade", "Cancel"};
  const char* media[] = {"voice", "chat", "email", "sms"};
  const char* dispositions[] = {"Resolved", "Sold", "Escalated", "Abandoned"};
  long states_total = 0;
  for (long id = 1; id <= o.services; ++id) {
    const bool anonymous = pick(3) == 0;
    const bool active = pick(5) == 0;
    const std::string customer = anonymous ? "" : Id("C", pick(o.customers));
    const std::string key = Id("+1408", pick(o.keys));
    const long long start = active ? o.end_ms - 1 - pick(kDay) : o.end_ms - kDay - pick(kYear);
    const long long end = start + 60000 + pick(3600000);
    const std::string type = types[pick(5)];
    const std::string medium = media[pick(4)];
    const std::string disposition = dispositions[pick(4)];
    const int n_states = 1 + static_cast<int>(pick(3));
    const std::string offer = R"({"name":"plan-)" + std::to_string(pick(20)) + R"(","score":0.)" +
                              std::to_string(pick(100)) + "}";

    std::string line = "{\"service_id\":" + std::to_string(id);
    if (!anonymous) line += ",\"customer_id\":\"" + customer + "\"";
    line += ",\"contact_key\":\"" + key + "\",\"service_type\":\"" + type + "\"";
    line += ",\"started\":{\"timestamp\":\"" + Ts(start) + "\",\"media_type\":\"" + medium +
            "\",\"interaction_id\":\"IX" + std::to_string(id) + "\"}";
    if (!active) {
      line += ",\"completed\":{\"timestamp\":\"" + Ts(end) + "\",\"disposition\":\"" + disposition +
              "\"}";
    }
    std::string done_states, open_states;
    for (int s = 0; s < n_states; ++s) {
      const long long s_start = start + s * 1000;
      const bool s_active = active && s == n_states - 1;
      const long state_type = 1 + pick(10);  // one draw: both sides store the same state
      std::string st = "{\"state_id\":" + std::to_string(s) +
                       ",\"state_type\":" + std::to_string(state_type) +
                       ",\"started\":{\"timestamp\":\"" + Ts(s_start) + "\"}";
      if (!s_active) st += ",\"completed\":{\"timestamp\":\"" + Ts(s_start + 500) + "\"}";
      st += "}";
      std::string& list = s_active ? open_states : done_states;
      list += (list.empty() ? "" : ",") + st;
      std::fprintf(pgs, "%ld,%d,%ld,%lld,", id, s, state_type, s_start);
      if (!s_active) std::fprintf(pgs, "%lld", s_start + 500);
      std::fputc('\n', pgs);
      ++states_total;
    }
    if (!open_states.empty()) line += ",\"active_states\":[" + open_states + "]";
    if (!done_states.empty()) line += ",\"completed_states\":[" + done_states + "]";
    if (active) {
      line += ",\"active_tasks\":[{\"task_id\":0,\"task_type\":\"callback\",\"state_id\":" +
              std::to_string(n_states - 1) + ",\"started\":{\"timestamp\":\"" + Ts(start) + "\"}}]";
    }
    line += ",\"Offer\":" + offer + "}";
    std::fputs(line.c_str(), nd);
    std::fputc('\n', nd);

    // PostgreSQL: id, customer_id, contact_key, service_type, started_ms, completed_ms, doc,
    // attached. The attached Offer is stored on both sides and returned by neither (contextd
    // renders attached data only for `extensions=`), so both replies carry the same fields.
    std::fprintf(pg, "%ld,", id);
    if (!anonymous) Csv(pg, customer);
    std::fputc(',', pg);
    Csv(pg, key);
    std::fprintf(pg, ",%s,%lld,", type.c_str(), start);
    if (!active) std::fprintf(pg, "%lld", end);
    std::fputc(',', pg);
    Csv(pg, R"({"started":{"media_type":")" + medium + R"(","interaction_id":"IX)" +
                std::to_string(id) + "\"}" +
                (active ? "" : R"(,"completed":{"disposition":")" + disposition + "\"}") + "}");
    std::fputc(',', pg);
    Csv(pg, R"({"Offer":)" + offer + "}");
    std::fputc('\n', pg);
  }
  std::fclose(nd);
  std::fclose(pg);
  std::fclose(pgs);
  std::printf("generated %ld services, %ld states in %s\n", o.services, states_total,
              o.out.c_str());
  return 0;
}
