#include "server/workspace/cometd.h"

#include <future>
#include <thread>

#include "gtest/gtest.h"
#include "server/api/json.h"

namespace contextd::server {
namespace {

using storage::Value;

Value Messages(const std::string& json) { return *ParseJson(json); }

TEST(CometdTest, SilentClientsExpireAndHeldConnectsEndAtTheHoldTime) {
  CometdOptions options;
  options.hold = std::chrono::milliseconds(50);
  options.max_interval = std::chrono::milliseconds(200);
  Cometd hub(options);
  query::Session ann{"s", "t", "ann", "", false, true};
  ApiResponse hs = hub.Handle(Messages(R"([{"id":"1","channel":"/meta/handshake"}])"), ann, "");
  Value reply = ParseJson(hs.body)->array.at(0);
  const std::string cid = storage::FindField(reply.object, "clientId")->string_value;
  auto connect = [&](const std::string& id) {
    return Messages(R"([{"id":")" + id + R"(","channel":"/meta/connect","clientId":")" + cid +
                    R"("}])");
  };
  EXPECT_FALSE(hub.Handle(connect("2"), ann, "").hold);  // the first is answered at once
  ApiResponse held = hub.Handle(connect("3"), ann, "");
  ASSERT_TRUE(held.hold);
  std::promise<ApiResponse> completed;
  held.hold(
      [&](ApiResponse r) {
        completed.set_value(std::move(r));
        return true;
      },
      false);
  auto future = completed.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(2)), std::future_status::ready);
  EXPECT_NE(future.get().body.find(R"("id":"3")"), std::string::npos);
  EXPECT_EQ(hub.clients(), 1u);
  // Another user cannot use the client id.
  query::Session bob{"s2", "t", "bob", "", false, true};
  EXPECT_NE(hub.Handle(connect("4"), bob, "").body.find("402::unknown_client"), std::string::npos);
  // Silent past max_interval: forgotten.
  // (checked every 250 ms; polled so a slow machine does not make it flaky)
  for (int i = 0; i < 100 && hub.clients() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(hub.clients(), 0u);
  EXPECT_NE(hub.Handle(connect("5"), ann, "").body.find("402::unknown_client"), std::string::npos);
}

TEST(CometdTest, DeliveriesGoToTheUsersSubscribedClientsInOrder) {
  Cometd hub;
  query::Session ann{"s", "t", "ann", "", false, true};
  std::string cid;
  {
    ApiResponse hs = hub.Handle(Messages(R"([{"id":"1","channel":"/meta/handshake"}])"), ann, "");
    cid = storage::FindField(ParseJson(hs.body)->array.at(0).object, "clientId")->string_value;
  }
  hub.Handle(Messages(R"([{"id":"2","channel":"/meta/subscribe","clientId":")" + cid +
                      R"(","subscription":"/v2/me/interactions"}])"),
             ann, "");
  auto notification = [](std::string state) {
    storage::WorkItem item;
    item.state = std::move(state);
    return query::WorkNotification{"StatusChange", {std::move(item), {}}, 0, "", {}};
  };
  for (const char* state : {"Invited", "Processing"}) {
    hub.Deliver("t", "ann", notification(state));
    hub.Deliver("t", "bob", notification(state));      // another user
    hub.Deliver("other", "ann", notification(state));  // another tenant
  }
  ApiResponse r = hub.Handle(
      Messages(R"([{"id":"3","channel":"/meta/connect","clientId":")" + cid + R"("}])"), ann, "");
  Value batch = *ParseJson(r.body);
  ASSERT_EQ(batch.array.size(), 3u) << r.body;
  EXPECT_NE(r.body.find("Invited"), std::string::npos);
  EXPECT_LT(r.body.find("Invited"), r.body.find("Processing"));
  EXPECT_NE(r.body.find(R"("id":"3")"), std::string::npos);
}

TEST(CometdTest, DeliveriesStayQueuedWhenTheHeldReplyCannotBeSent) {
  Cometd hub;
  query::Session ann{"s", "t", "ann", "", false, true};
  ApiResponse hs = hub.Handle(Messages(R"([{"id":"1","channel":"/meta/handshake"}])"), ann, "");
  const std::string cid =
      storage::FindField(ParseJson(hs.body)->array.at(0).object, "clientId")->string_value;
  auto message = [&](const std::string& id, const std::string& channel,
                     const std::string& more = "") {
    return Messages(R"([{"id":")" + id + R"(","channel":")" + channel + R"(","clientId":")" + cid +
                    "\"" + more + "}]");
  };
  hub.Handle(message("2", "/meta/subscribe", R"(,"subscription":"/v2/me/interactions")"), ann, "");
  hub.Handle(message("3", "/meta/connect"), ann, "");  // the first is answered at once
  ApiResponse held = hub.Handle(message("4", "/meta/connect"), ann, "");
  ASSERT_TRUE(held.hold);
  int attempts = 0;
  held.hold(
      [&](ApiResponse) {
        ++attempts;
        return false;  // the client went away
      },
      false);
  storage::WorkItem item;
  item.state = "Invited";
  hub.Deliver("t", "ann", query::WorkNotification{"StatusChange", {item, {}}, 7, "", {}});
  EXPECT_EQ(attempts, 1);
  ApiResponse next = hub.Handle(message("5", "/meta/connect"), ann, "");
  EXPECT_FALSE(next.hold);  // deliveries are waiting: answered at once, with them
  EXPECT_NE(next.body.find("Invited"), std::string::npos) << next.body;
}

}  // namespace
}  // namespace contextd::server
