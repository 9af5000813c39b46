"""The Procfile's processes (``python -m scheduler.jobs worker|scheduler``) with the crash
recovery intervals shrunk from tens of seconds to seconds, so an end-to-end test can wait for
the real mechanism instead of moving a clock. With ``CADENCE_E2E_CLOCK_FILE`` set, their clock
is the test's ``ShiftedClock``."""

from __future__ import annotations

import sys
from datetime import timedelta

from scheduler.jobs.__main__ import main
from scheduler.jobs.runtime import Tuning
from tests.e2e.stack import ShiftedClock

FAST_RECOVERY = Tuning(
    job_heartbeat=timedelta(seconds=1),
    job_abandoned_after=timedelta(seconds=3),
    requeue_abandoned_every=timedelta(seconds=1),
    retry_intervals=(0,),
    redis_retry_at_most=timedelta(seconds=1),
)

if __name__ == "__main__":
    main(sys.argv[1:], tuning=FAST_RECOVERY, clock=ShiftedClock.from_env())
