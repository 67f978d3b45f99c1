"""BurnInMeanTeacherHook (copy at the end of the burn-in, EMA warm-up) and FreezeBNStatsHook."""
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from anomed_mmdet.engine.hooks import BurnInMeanTeacherHook, FreezeBNStatsHook


class TeacherStudent(nn.Module):
    def __init__(self, burn_in: int) -> None:
        super().__init__()
        self.student = nn.Sequential(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(2))
        self.teacher = nn.Sequential(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(2))
        self.semi_train_cfg = dict(burn_in_iters=burn_in)

    def fill(self, student: float, teacher: float) -> None:
        for p in self.student.parameters():
            p.data.fill_(student)
        for p in self.teacher.parameters():
            p.data.fill_(teacher)
        self.student[1].running_mean.fill_(student)
        self.teacher[1].running_mean.fill_(teacher)


def runner(model, it):
    return SimpleNamespace(model=model, iter=it)


def teacher_value(model) -> float:
    return float(model.teacher[0].weight.flatten()[0])


def test_the_teacher_waits_for_the_burn_in_then_copies_the_student_with_its_buffers():
    model = TeacherStudent(burn_in=10)
    model.fill(student=1.0, teacher=0.0)
    hook = BurnInMeanTeacherHook(momentum=0.5, skip_buffer=True)
    hook.after_train_iter(runner(model, 8), 0)  # 9 iterations done: still burning in
    assert teacher_value(model) == 0.0
    hook.after_train_iter(runner(model, 9), 0)  # the 10th: copy
    assert teacher_value(model) == 1.0 and float(model.teacher[1].running_mean[0]) == 1.0
    model.fill(student=3.0, teacher=1.0)
    hook.after_train_iter(runner(model, 10), 0)  # then EMA
    assert teacher_value(model) == pytest.approx(2.0)
    assert float(model.teacher[1].running_mean[0]) == 1.0  # skip_buffer: buffers not averaged


def test_without_burn_in_it_is_mmdets_mean_teacher_hook():
    model = TeacherStudent(burn_in=0)
    model.fill(student=1.0, teacher=0.0)
    hook = BurnInMeanTeacherHook(momentum=0.25, skip_buffer=False)
    hook.after_train_iter(runner(model, 0), 0)
    assert teacher_value(model) == pytest.approx(0.25)
    assert float(model.teacher[1].running_mean[0]) == pytest.approx(0.25)


def test_ema_warmup_follows_the_student_fast_then_slowly():
    hook = BurnInMeanTeacherHook(momentum=0.001, warmup=4.0)
    assert hook.momentum_at(0) == 1.0 and hook.momentum_at(4) == pytest.approx(0.5)
    assert hook.momentum_at(10 ** 6) == pytest.approx(0.001)
    assert BurnInMeanTeacherHook(momentum=0.01).momentum_at(1) == 0.01
    with pytest.raises(ValueError, match='warmup'):
        BurnInMeanTeacherHook(warmup=0)


def test_bn_statistics_freeze_at_the_end_of_the_burn_in():
    model = TeacherStudent(burn_in=3)
    hook = FreezeBNStatsHook()
    x = torch.randn(4, 1, 5, 5) * 3 + 2
    model.train()
    hook.before_train_iter(runner(model, 2), 0)
    assert model.student[1].training  # burn-in: statistics still learn
    model.train()  # mmengine calls this every iteration, before the hooks
    hook.before_train_iter(runner(model, 3), 0)
    before = model.student[1].running_mean.clone()
    model.student(x)
    assert not model.student[1].training and not model.teacher[1].training
    assert torch.equal(model.student[1].running_mean, before)
    assert model.student[0].training  # only batch norm is affected
