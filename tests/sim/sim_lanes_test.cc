#include "net/sim_lanes.h"

#include <gtest/gtest.h>

#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "net/sim_network.h"
#include "tests/testing/sim_builders.h"

namespace kad::net {
namespace {

using ::kad::testing::ConstantRtt;

absl::Duration Ms(int ms) { return absl::Milliseconds(ms); }

class SimLanesTest : public ::testing::Test {
 protected:
  SimLanesTest() : lanes_(2), logs_(2) {}

  // Schedules on `lane` an event that records its time in the lane's log
  // and, in a merged run, checks that every lane is at that time.
  void Record(size_t lane, int ms) {
    lanes_.lane(lane).Schedule(Ms(ms), [this, lane] {
      const absl::Duration at = lanes_.lane(lane).Now() - start();
      logs_[lane].push_back(absl::FormatDuration(at));
      merged_log_.push_back(absl::StrCat(lane, "@", absl::FormatDuration(at)));
      for (size_t i = 0; i < lanes_.size(); ++i) {
        if (lanes_.lane(i).Now() - start() != at) agreed_ = false;
      }
    });
  }
  // As Record, for windowed runs: touches nothing another lane touches.
  void RecordInLane(size_t lane, int ms) {
    lanes_.lane(lane).Schedule(Ms(ms), [this, lane] {
      logs_[lane].push_back(
          absl::FormatDuration(lanes_.lane(lane).Now() - start()));
    });
  }
  absl::Time start() { return lanes_.lane(0).start(); }

  SimLanes lanes_;
  std::vector<std::vector<std::string>> logs_;  // By lane.
  std::vector<std::string> merged_log_;
  bool agreed_ = true;
};

TEST_F(SimLanesTest, MergedRunOrdersEveryLanesEventsByDueTimeThenLane) {
  Record(0, 30);
  Record(1, 10);
  Record(1, 20);
  Record(0, 20);
  EXPECT_FALSE(lanes_.RunWhile([] { return true; }, start() + Ms(100)));
  EXPECT_EQ(merged_log_,
            (std::vector<std::string>{"1@10ms", "0@20ms", "1@20ms", "0@30ms"}));
  EXPECT_TRUE(agreed_) << "every lane at the running event's time";
  EXPECT_EQ(lanes_.lane(0).Now(), start() + Ms(100));
  EXPECT_EQ(lanes_.lane(1).Now(), start() + Ms(100));
}

TEST_F(SimLanesTest, AnEventMayScheduleOnAnotherLaneInAMergedRun) {
  lanes_.lane(0).Schedule(Ms(5), [this] { Record(1, 1); });  // Due at 6 ms.
  Record(1, 50);
  EXPECT_TRUE(lanes_.RunWhile([this] { return merged_log_.empty(); },
                              start() + Ms(100)));
  EXPECT_EQ(merged_log_, std::vector<std::string>{"1@6ms"});
  EXPECT_EQ(lanes_.lane(0).Now(), start() + Ms(6));
}

TEST_F(SimLanesTest, WindowsRunEachLaneAloneUpToTheLookahead) {
  struct Listener : SimLanes::WindowListener {
    void AtWindowEnd() override { ends.push_back(lanes->Now()); }
    SimLanes* lanes = nullptr;
    std::vector<absl::Time> ends;
  } listener;
  listener.lanes = &lanes_;
  lanes_.AddListener(&listener);
  RecordInLane(0, 0);
  RecordInLane(1, 3);
  RecordInLane(0, 7);
  RecordInLane(1, 40);
  EXPECT_FALSE(lanes_.RunInWindows([] { return true; }, start() + Ms(30), Ms(5),
                                   /*threads=*/2));
  lanes_.RemoveListener(&listener);
  EXPECT_EQ(logs_[0], (std::vector<std::string>{"0", "7ms"}));
  EXPECT_EQ(logs_[1], (std::vector<std::string>{"3ms"}));
  // Each window starts at the earliest pending event, so empty stretches
  // of time cost nothing.
  const absl::Duration ns = absl::Nanoseconds(1);
  EXPECT_EQ(listener.ends, (std::vector<absl::Time>{start() + Ms(5) - ns,
                                                    start() + Ms(12) - ns}));
  EXPECT_EQ(lanes_.Now(), start() + Ms(30));
  EXPECT_EQ(lanes_.lane(1).Now(), start() + Ms(30));
  EXPECT_FALSE(lanes_.windowed());
}

TEST_F(SimLanesTest, WindowedRunsStopWhenAskedBetweenWindows) {
  for (int ms = 0; ms < 100; ms += 2) RecordInLane(ms / 2 % 2, ms);
  int windows = 0;
  EXPECT_TRUE(lanes_.RunInWindows([&] { return ++windows <= 3; },
                                  start() + absl::Hours(1), Ms(10), 2));
  EXPECT_EQ(logs_[0].size() + logs_[1].size(), 15u) << "three windows of 10 ms";
  EXPECT_EQ(lanes_.Now(), start() + Ms(30) - absl::Nanoseconds(1));
}

// Four hosts over `lanes` (with two, hosts 0 and 2 in lane 0, 1 and 3 in
// lane 1), each passing what it receives on to the next host until it has
// made `hops` hops; each host logs its arrivals (a host's log is touched
// by its lane only).
class LanedNetwork {
 public:
  LanedNetwork(SimLanes& lanes, int hops)
      : lanes_(lanes),
        network_(lanes, ConstantRtt(Ms(40))),
        hops_(hops),
        arrivals_(4) {
    for (size_t i = 0; i < 4; ++i) {
      transports_.push_back(network_.NewTransport());
      SimTransport& self = *transports_.back();
      self.SetReceiveHandler([this, i, &self](const Endpoint& from,
                                              std::span<const uint8_t> bytes) {
        arrivals_[i].push_back(
            absl::StrCat(from.ToString(), "@",
                         absl::FormatDuration(network_.clock_of(self).Now() -
                                              lanes_.lane(0).start())));
        if (bytes[0] < hops_) {
          const uint8_t next[] = {static_cast<uint8_t>(bytes[0] + 1)};
          (void)self.Send(transports_[(i + 1) % 4]->local_endpoint(), next);
        }
      });
    }
  }
  void Start() {
    const uint8_t first[] = {1};
    (void)transports_[0]->Send(transports_[1]->local_endpoint(), first);
    (void)transports_[2]->Send(transports_[0]->local_endpoint(), first);
  }

  SimLanes& lanes_;
  SimNetwork network_;
  int hops_;
  std::vector<std::vector<std::string>> arrivals_;  // By host.
  std::vector<std::unique_ptr<SimTransport>> transports_;
};

TEST(SimLanesNetworkTest, DatagramsCrossLanesAtTheSameTimesInWindows) {
  SimLanes one(1);
  LanedNetwork single(one, 6);
  single.Start();
  one.RunWhile([] { return true; }, one.Now() + absl::Seconds(10));
  EXPECT_EQ(single.network_.stats().datagrams_delivered, 12u);

  for (size_t threads : {1, 2}) {
    SimLanes two(2);
    LanedNetwork laned(two, 6);
    laned.Start();
    EXPECT_FALSE(two.RunInWindows(
        [] { return true; }, two.Now() + absl::Seconds(10),
        laned.network_.link_model().MinOneWayDelay(), threads));
    EXPECT_EQ(laned.arrivals_, single.arrivals_) << threads << " threads";
    EXPECT_EQ(laned.network_.stats(), single.network_.stats());
    EXPECT_EQ(laned.network_.in_flight(), 0u);
  }
}

TEST(SimLanesNetworkTest, AMergedRunDeliversAsOneClockDoes) {
  SimLanes one(1);
  LanedNetwork single(one, 5);
  single.Start();
  one.RunWhile([] { return true; }, one.Now() + absl::Seconds(10));
  SimLanes three(3);
  LanedNetwork laned(three, 5);
  laned.Start();
  three.RunWhile([] { return true; }, three.Now() + absl::Seconds(10));
  EXPECT_EQ(laned.arrivals_, single.arrivals_);
  EXPECT_EQ(laned.network_.stats(), single.network_.stats());
}

}  // namespace
}  // namespace kad::net
