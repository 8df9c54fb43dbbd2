#include "net/link_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace kad::net {
namespace {

Endpoint Host(uint32_t n) {
  return Endpoint::Ipv4({10, static_cast<uint8_t>(n >> 16),
                         static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)},
                        4222);
}

// RTTs in milliseconds of `count` random pairs among `hosts` hosts.
std::vector<double> SampleRtts(const LinkModel& model, int hosts, int count) {
  std::mt19937 gen(7);
  std::uniform_int_distribution<uint32_t> pick(1, hosts);
  std::vector<double> rtts;
  for (int i = 0; i < count; ++i) {
    rtts.push_back(absl::ToDoubleMilliseconds(
        model.Rtt(Host(pick(gen)), Host(pick(gen)))));
  }
  std::sort(rtts.begin(), rtts.end());
  return rtts;
}

double Quantile(const std::vector<double>& sorted, double q) {
  return sorted[static_cast<size_t>(q * (sorted.size() - 1))];
}

TEST(LinkModelTest, RttIsSymmetricAndDeterministicPerSeed) {
  for (RttDistribution d :
       {RttDistribution::kUniform, RttDistribution::kLogNormal}) {
    LinkModelOptions options;
    options.distribution = d;
    options.seed = 5;
    LinkModel model(options), same(options);
    options.seed = 6;
    LinkModel other(options);
    int differs = 0;
    for (uint32_t i = 1; i < 200; ++i) {
      const Endpoint a = Host(i), b = Host(i * 7919 % 100'000 + 1);
      EXPECT_EQ(model.Rtt(a, b), model.Rtt(b, a));
      EXPECT_EQ(model.Rtt(a, b), same.Rtt(a, b));
      EXPECT_EQ(model.OneWayDelay(a, b), model.Rtt(a, b) / 2);
      differs += model.Rtt(a, b) != other.Rtt(a, b);
    }
    EXPECT_GT(differs, 190);
  }
}

TEST(LinkModelTest, ConstantIsConstant) {
  LinkModelOptions options;
  options.distribution = RttDistribution::kConstant;
  options.constant_rtt = absl::Milliseconds(42);
  LinkModel model(options);
  EXPECT_EQ(model.Rtt(Host(1), Host(2)), absl::Milliseconds(42));
  EXPECT_EQ(model.Rtt(Host(3), Host(900)), absl::Milliseconds(42));
}

TEST(LinkModelTest, UniformStaysWithinBoundsAndFillsThem) {
  LinkModelOptions options;
  options.distribution = RttDistribution::kUniform;
  options.uniform_min = absl::Milliseconds(30);
  options.uniform_max = absl::Milliseconds(90);
  const std::vector<double> rtts = SampleRtts(LinkModel(options), 5000, 50'000);
  EXPECT_GE(rtts.front(), 30.0);
  EXPECT_LE(rtts.back(), 90.0);
  EXPECT_NEAR(Quantile(rtts, 0.5), 60.0, 1.5);
  EXPECT_NEAR(Quantile(rtts, 0.1), 36.0, 1.5);
  EXPECT_NEAR(Quantile(rtts, 0.9), 84.0, 1.5);
}

TEST(LinkModelTest, LogNormalHasTheConfiguredMedianAndSpread) {
  LinkModelOptions options;  // Log-normal, median 80 ms, sigma 0.6.
  const std::vector<double> rtts =
      SampleRtts(LinkModel(options), 20'000, 100'000);
  EXPECT_NEAR(Quantile(rtts, 0.5), 80.0, 4.0);
  // ln RTT is normal: its 90th percentile is sigma * 1.2816 above the median.
  EXPECT_NEAR(std::log(Quantile(rtts, 0.9) / Quantile(rtts, 0.5)), 0.6 * 1.2816,
              0.06);
  EXPECT_NEAR(std::log(Quantile(rtts, 0.5) / Quantile(rtts, 0.1)), 0.6 * 1.2816,
              0.06);
}

TEST(LinkModelTest, LogNormalIsClampedToItsBounds) {
  LinkModelOptions options;
  options.sigma = 3.0;
  options.min_rtt = absl::Milliseconds(10);
  options.max_rtt = absl::Milliseconds(500);
  const std::vector<double> rtts = SampleRtts(LinkModel(options), 1000, 20'000);
  EXPECT_EQ(rtts.front(), 10.0);
  EXPECT_EQ(rtts.back(), 500.0);
}

// Variance across hosts of each host's mean ln RTT to 300 peers.
double HostEffectVariance(double node_share) {
  LinkModelOptions options;
  options.node_share = node_share;
  LinkModel model(options);
  std::vector<double> means;
  for (uint32_t host = 1; host <= 300; ++host) {
    double sum = 0;
    for (uint32_t peer = 1001; peer <= 1300; ++peer) {
      sum += std::log(
          absl::ToDoubleMilliseconds(model.Rtt(Host(host), Host(peer))));
    }
    means.push_back(sum / 300);
  }
  double mean = 0, var = 0;
  for (double m : means) mean += m / means.size();
  for (double m : means) var += (m - mean) * (m - mean) / means.size();
  return var;
}

TEST(LinkModelTest, NodeShareMakesSlowHostsSlowToEveryone) {
  // Expected: sigma^2 * node_share / 2 from the host's own term, plus
  // sigma^2 / 300 of sampling noise.
  EXPECT_LT(HostEffectVariance(0.0), 0.01);
  EXPECT_NEAR(HostEffectVariance(0.5), 0.36 * 0.25, 0.03);
  EXPECT_NEAR(HostEffectVariance(1.0), 0.36 * 0.5, 0.05);
}

TEST(LinkModelTest, ParsesCommandLineModels) {
  auto constant = ParseLinkModel("constant:50ms");
  ASSERT_TRUE(constant.ok()) << constant.status();
  EXPECT_EQ(constant->distribution, RttDistribution::kConstant);
  EXPECT_EQ(constant->constant_rtt, absl::Milliseconds(50));

  auto uniform = ParseLinkModel("uniform:20ms:0.2s");
  ASSERT_TRUE(uniform.ok()) << uniform.status();
  EXPECT_EQ(uniform->uniform_min, absl::Milliseconds(20));
  EXPECT_EQ(uniform->uniform_max, absl::Milliseconds(200));

  auto lognormal = ParseLinkModel("lognormal:100ms:0.8");
  ASSERT_TRUE(lognormal.ok()) << lognormal.status();
  EXPECT_EQ(lognormal->distribution, RttDistribution::kLogNormal);
  EXPECT_EQ(lognormal->median_rtt, absl::Milliseconds(100));
  EXPECT_EQ(lognormal->sigma, 0.8);
  EXPECT_TRUE(ParseLinkModel("lognormal").ok());
}

TEST(LinkModelTest, RejectsBadModels) {
  for (const char* text : {"", "constant", "constant:fast", "uniform:20ms",
                           "uniform:90ms:20ms", "lognormal:80ms:-1",
                           "lognormal:80ms:x", "pareto:1ms", "lognormal:1h"}) {
    auto parsed = ParseLinkModel(text);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument)
        << text;
  }
}

}  // namespace
}  // namespace kad::net
