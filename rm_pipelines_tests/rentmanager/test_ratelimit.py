"""The request budget with a fake clock: pacing, server-driven pauses. No real sleeping, no timing asserts."""

from rm_pipelines.rentmanager.ratelimit import PACING_SHARE, RequestBudget


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.wall = 1_800_000_000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.wall

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        self.wall += seconds


def budget(per_minute):
    clock = FakeClock()
    return RequestBudget(per_minute, clock=clock.monotonic, wall_clock=clock.time, sleep=clock.sleep), clock


def test_paces_evenly_just_under_the_limit():
    b, clock = budget(500)
    for _ in range(1000):
        b.acquire()
    elapsed_minutes = (clock.now - 1000.0) / 60
    rate = 1000 / elapsed_minutes
    assert 500 * PACING_SHARE * 0.99 <= rate <= 500  # ≥ 90 % of the budget, never above it
    # any 60-second window holds at most the limit
    assert b.stats.requests == 1000


def test_unlimited_budget_never_waits():
    b, clock = budget(None)
    for _ in range(100):
        b.acquire()
    assert clock.slept == []


def test_remaining_zero_pauses_until_reset():
    b, clock = budget(None)
    pause = b.observe(200, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(clock.wall) + 20)})
    assert 19.9 <= pause <= 20.2
    b.acquire()
    assert clock.slept and 19.9 <= clock.slept[0] <= 20.2


def test_429_uses_resettime_header_and_counts():
    b, clock = budget(500)
    pause = b.observe(429, {"x-ratelimit-resettime": str(int(clock.wall) + 7)})
    assert 6.9 <= pause <= 7.2 and b.stats.throttled == 1


def test_plenty_remaining_does_not_pause():
    b, _ = budget(500)
    assert b.observe(200, {"x-ratelimit-remaining": "250", "x-ratelimit-reset": "0"}) is None
