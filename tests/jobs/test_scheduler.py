"""The single scheduler: periodic jobs are data, and restarts never run one twice."""

from __future__ import annotations

from datetime import timedelta

from scheduler.jobs import tasks
from scheduler.jobs.periodic import PERIODIC, Periodic, run_scheduler
from tests.jobs.conftest import queued

SCHEDULE = (
    Periodic("sessions.reclassify", timedelta(hours=1), tasks.reclassify_sessions),
    Periodic("sync.reconcile_all", timedelta(days=1), tasks.reconcile_all),
)


def test_each_periodic_job_has_a_stable_unique_name():
    names = [job.name for job in PERIODIC]
    # main's 13, the slot defence's notice run, the debrief chase, the reps' Monday email and
    # undoing the sign-ups nobody confirmed.
    assert len(names) == len(set(names)) == 17


def test_a_restarted_scheduler_does_not_enqueue_again_within_the_interval(runtime):
    run_scheduler(runtime.dispatcher, SCHEDULE, ticks=2, tick=0)
    assert queued(runtime) == 2
    run_scheduler(runtime.dispatcher, SCHEDULE, ticks=1, tick=0)  # restarted
    assert queued(runtime) == 2


def test_a_second_scheduler_waits_while_the_first_holds_the_lock(runtime):
    dispatcher = runtime.dispatcher
    dispatcher.redis.set(dispatcher.key("scheduler", "lock"), "the other one", ex=30)
    run_scheduler(dispatcher, SCHEDULE, ticks=2, tick=0)
    assert queued(runtime) == 0


def test_jobs_no_longer_declared_are_forgotten_and_new_ones_run(runtime):
    dispatcher = runtime.dispatcher
    runs = dispatcher.key("scheduler", "last-run")
    dispatcher.redis.hset(runs, "retired.job", 0)
    run_scheduler(dispatcher, SCHEDULE[:1], ticks=1, tick=0)
    run_scheduler(dispatcher, SCHEDULE, ticks=1, tick=0)  # a deploy added reconcile_all
    assert {k.decode() for k in dispatcher.redis.hkeys(runs)} == {
        "sessions.reclassify",
        "sync.reconcile_all",
    }
    assert queued(runtime) == 2
