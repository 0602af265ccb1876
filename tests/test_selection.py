"""The one parser of a run's selection: what the runner checks is what a benchmark process reads
back from its environment."""

import pytest
from nnbench.bench import workloads
from nnbench.errors import InputError, UnknownNameError


def test_the_environment_hands_over_the_same_choice():
    choice = workloads.choose(["numpy,numba"], ["mnist"], "float32", "quick", "2.5")
    env = {**workloads.environment_of(choice), "NNBENCH_VARIANTS": "numpy,numba"}
    back = workloads.choice_from(lambda key: env.get(workloads.SELECTION_ENV[key]))
    assert back == choice
    assert back.mode.timing.max_case_s == 2.5 and back.dtypes == ("float32",)


def test_names_come_as_words_or_comma_separated():
    assert workloads.split_names(["numpy", "numba,jax"]) == ["numpy", "numba", "jax"]
    assert workloads.split_names("numpy, jax") == ["numpy", "jax"]
    assert workloads.split_names(None) is None and workloads.split_names(",") is None


def test_defaults_and_the_quick_mode_without_extra_variants():
    everything = workloads.choose()
    assert everything.networks == workloads.NETWORKS and "keras-fast" in [
        v.name for v in everything.variants]
    quick = workloads.choose(mode="quick")
    assert all(v.name == v.impl for v in quick.variants) and quick.dtypes == ("float64",)
    assert "keras-fast" in [v.name for v in workloads.choose(["keras-fast"], mode="quick").variants]


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"variants": ["nope"]}, UnknownNameError),
    ({"networks": "nope"}, UnknownNameError),
    ({"dtypes": "float16"}, UnknownNameError),
    ({"mode": "slow"}, UnknownNameError),
    ({"max_case_s": "0"}, InputError),
])
def test_a_bad_name_or_limit_is_refused(kwargs, error):
    with pytest.raises(error):
        workloads.choose(**kwargs)
