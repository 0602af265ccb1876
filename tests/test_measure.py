"""How a benchmark round is sized (bench/measure.py), on a model clock: no timing is taken."""

import pytest

from bench import measure


class ModelClock:
    """`run(k)` "takes" overhead + k * per_repeat seconds; `seconds` reports that."""

    def __init__(self, overhead, per_repeat, noise=()):
        self.overhead, self.per_repeat, self.noise = overhead, per_repeat, list(noise)
        self.k = 0

    def run(self, k):
        self.k = k

    def seconds(self, call):
        call()
        return self.overhead + self.k * self.per_repeat + (self.noise.pop(0) if self.noise
                                                           else 0.0)


@pytest.fixture
def clock(monkeypatch):
    def install(*args, **kwargs):
        model = ModelClock(*args, **kwargs)
        monkeypatch.setattr(measure, "seconds", model.seconds)
        return model
    return install


def test_without_overhead_the_round_is_the_target(clock):
    model = clock(0.0, 1e-4)
    assert measure.repeats_for(model.run, 100_000, 0.2) == pytest.approx(2000, rel=0.01)


def test_a_fixed_overhead_does_not_decide_the_count(clock):
    """Octave's XOR: 65 ms per call whatever the epochs, 1 ms per epoch. Dividing the first
    call by its one epoch would give 3 epochs (a time per epoch that is mostly overhead); the
    slope gives the 200 epochs whose work takes the target."""
    model = clock(0.064, 0.001)
    assert measure.repeats_for(model.run, 100_000, 0.2) == pytest.approx(200, rel=0.01)


def test_noise_on_a_short_run_moves_the_count_little(clock):
    """The first run measured 30 ms short (50 ms repeats): the slope is only taken over a
    difference of at least a tenth of the target, so the count stays within 2x of right."""
    model = clock(0.0, 0.05, noise=[-0.03])
    assert 2 <= measure.repeats_for(model.run, 100_000, 0.2) <= 8  # right: 4


def test_never_more_than_most_nor_less_than_one(clock):
    assert measure.repeats_for(clock(0.0, 1e-9).run, 500, 0.2) == 500
    assert measure.repeats_for(clock(0.0, 1.0).run, 500, 0.2) == 1
