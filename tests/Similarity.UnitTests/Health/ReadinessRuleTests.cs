using Microsoft.Extensions.Diagnostics.HealthChecks;
using Similarity.Health;

namespace Similarity.UnitTests.Health;

public class ReadinessRuleTests
{
    static readonly HashSet<string> Duties = ["imports", "similarLists"];

    [Fact]
    public void A_stopped_duty_leaves_the_service_ready_but_degraded() =>
        Assert.Equal(HealthStatus.Degraded,
            HealthApi.Overall([("database", HealthStatus.Healthy), ("similarLists", HealthStatus.Unhealthy)], Duties));

    [Fact]
    public void A_failing_serving_check_makes_it_unhealthy_whatever_the_duties_say() =>
        Assert.Equal(HealthStatus.Unhealthy,
            HealthApi.Overall([("database", HealthStatus.Unhealthy), ("imports", HealthStatus.Healthy)], Duties));

    [Fact]
    public void A_degraded_serving_check_is_degraded() =>
        Assert.Equal(HealthStatus.Degraded,
            HealthApi.Overall([("vectorIndex", HealthStatus.Degraded), ("imports", HealthStatus.Healthy)], Duties));

    [Fact]
    public void All_healthy_is_healthy_and_no_checks_is_healthy()
    {
        Assert.Equal(HealthStatus.Healthy, HealthApi.Overall([("database", HealthStatus.Healthy), ("imports", HealthStatus.Healthy)], Duties));
        Assert.Equal(HealthStatus.Healthy, HealthApi.Overall([], Duties));
    }
}
