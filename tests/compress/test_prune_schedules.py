"""Pruning schedules: tfmot's formulas and step semantics, without importing tfmot."""

import pytest

from albert_tf.compress.prune import ConstantSparsity, PolynomialDecay, deserialize_schedule
from albert_tf.errors import UserError


def polynomial(step, initial, final, begin, end, power):
    progress = min(1.0, max(0.0, (step - begin) / (end - begin)))
    return final + (initial - final) * (1 - progress) ** power


@pytest.mark.parametrize("step", [0, 5, 10, 11, 30, 60, 99, 110, 200])
def test_polynomial_decay_matches_formula(step):
    schedule = PolynomialDecay(0.1, 0.9, begin_step=10, end_step=110, power=3, frequency=20)
    assert schedule(step)[1] == pytest.approx(polynomial(step, 0.1, 0.9, 10, 110, 3), abs=1e-12)


def test_polynomial_decay_agrees_with_tfmot():
    # Values printed by tensorflow-model-optimization 0.8.1 for the same schedule (float32).
    schedule = PolynomialDecay(0.1, 0.9, begin_step=10, end_step=110, power=3, frequency=20)
    tfmot = {0: (False, 0.1), 5: (False, 0.1), 10: (True, 0.1), 30: (True, 0.4904),
             60: (False, 0.8), 110: (True, 0.9), 200: (False, 0.9)}
    for step, (should_prune, sparsity) in tfmot.items():
        assert schedule(step)[0] is should_prune
        assert schedule(step)[1] == pytest.approx(sparsity, abs=1e-6)


def test_constant_sparsity_prunes_every_frequency_steps_inside_the_range():
    schedule = ConstantSparsity(0.6, begin_step=5, end_step=45, frequency=10)
    assert [s for s in range(61) if schedule(s)[0]] == [5, 15, 25, 35, 45]
    assert {schedule(s)[1] for s in range(61)} == {0.6}
    endless = ConstantSparsity(0.6, begin_step=0, frequency=100)
    assert [s for s in (0, 1, 100, 250, 1000) if endless(s)[0]] == [0, 100, 1000]


def test_power_one_is_linear():
    schedule = PolynomialDecay(0.0, 0.8, begin_step=0, end_step=100, power=1, frequency=1)
    assert schedule(25)[1] == pytest.approx(0.2)
    assert schedule.end_sparsity == pytest.approx(0.8)


def test_config_round_trip():
    for schedule in (ConstantSparsity(0.5, 3, 30, 3),
                     PolynomialDecay(0.2, 0.7, 0, 50, power=2, frequency=5)):
        again = deserialize_schedule(schedule.get_config())
        assert type(again) is type(schedule)
        assert again.get_config() == schedule.get_config()
        assert [again(s) for s in range(60)] == [schedule(s) for s in range(60)]


@pytest.mark.parametrize("make", [
    lambda: ConstantSparsity(1.0, 0),
    lambda: ConstantSparsity(-0.1, 0),
    lambda: ConstantSparsity(0.5, -1),
    lambda: ConstantSparsity(0.5, 10, end_step=5),
    lambda: ConstantSparsity(0.5, 0, frequency=0),
    lambda: PolynomialDecay(0.0, 0.5, 0, -1),
    lambda: deserialize_schedule({"class_name": "Cubic", "config": {}}),
])
def test_bad_arguments_are_user_errors(make):
    with pytest.raises(UserError):
        make()
