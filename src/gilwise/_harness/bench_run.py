"""A bench run: plan the groups, measure them, and hold the result document as it grows."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field

from .._pythons.discovery import InterpreterInfo
from .._results.document import GILWISE_VERSION, SCHEMA, Machine, ResultDocument, ResultRow, RunWarning
from .._system.lifetime import sweep_stale_temp_dirs
from .._workloads import Workload
from .cells import Group
from .machine import describe_machine
from .records import group_records, warnings_for
from .runner import BenchSettings, Progress, Runner, inapplicable_models, plan_groups
from .sampler import CpuSampler


def not_run(message: str) -> RunWarning:
    return {"kind": "not-run", "cells": [], "message": message}


@dataclass
class BenchRun:
    """A bench run in progress or finished; ``to_json()`` is the versioned result document."""

    settings: BenchSettings
    machine: Machine
    interpreters: list[InterpreterInfo]
    groups: list[Group]
    interval_s: float
    started: str = field(default_factory=lambda: _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"))
    finished: str | None = None
    interrupted: bool = False
    plan_notes: list[str] = field(default_factory=list)

    def results(self) -> list[ResultRow]:
        return [rec for group in self.groups for rec in group_records(group, self.interval_s)]

    def to_json(self) -> ResultDocument:
        results = self.results()
        return {
            "schema": SCHEMA,
            "gilwise_version": GILWISE_VERSION,
            "started": self.started,
            "finished": self.finished,
            "complete": self.finished is not None and not self.interrupted,
            "interrupted": self.interrupted,
            "machine": self.machine,
            "interpreters": [i.to_json() for i in self.interpreters],
            "settings": {
                "repeats": self.settings.repeats,
                "target_cell_s": self.settings.target_cell_s,
                "cell_timeout_s": self.settings.cell_timeout_s,
                "size": self.settings.size,
                "budget_s": self.settings.budget_s,
                "precision": self.settings.precision,
            },
            "groups": [
                {
                    "workload": g.workload.name,
                    "impl": g.impl,
                    "interpreter": g.interpreter.path,
                    "status": g.status,
                    "reason": g.reason,
                    "resource": g.resource,
                    "rounds_done": g.rounds_done,
                    "extra_rounds": g.extra_rounds,
                }
                for g in self.groups
            ],
            "results": results,
            "warnings": [not_run(m) for m in self.plan_notes] + warnings_for(results),
        }


def run_bench(
    workloads: list[Workload],
    impls: list[str],
    models: list[str],
    workers_for: Callable[[Workload], list[int]],
    interpreters: list[InterpreterInfo],
    settings: BenchSettings,
    progress: Progress | None = None,
    on_update: Callable[[BenchRun], None] | None = None,
) -> BenchRun:
    """Measure every cell; on Ctrl-C the returned-by-exception run keeps what finished.

    ``on_update`` is called after every round (write the JSON there, so an interrupted run loses
    nothing it finished). KeyboardInterrupt propagates after the run is marked interrupted.
    """
    sweep_stale_temp_dirs()  # what a SIGKILLed earlier run left in the temp folder
    groups = plan_groups(workloads, impls, models, workers_for, interpreters, anchor=settings.anchor)
    with CpuSampler() as sampler:
        run = BenchRun(settings, describe_machine(), interpreters, groups, sampler.interval_s)
        run.plan_notes = inapplicable_models(groups, models, workloads)

        def update() -> None:
            if on_update is not None:
                on_update(run)

        runner = Runner(settings, sampler, progress, on_round=update)
        try:
            runner.run(groups)
        except KeyboardInterrupt:
            run.interrupted = True
            run.finished = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
            update()
            raise
        run.finished = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        update()
    return run
