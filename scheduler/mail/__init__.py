"""Cadence's email: one outbox, one way out.

- ``message``    ``Mail``: what a feature wants sent (plain text + HTML, an idempotency key)
- ``outbox``     queue a ``Mail`` once per key; deliver one, claimed, never twice
- ``transport``  where delivered mail goes: the SMTP server of ``SMTP_URL``, or, with none
                 configured, the local outbox (printed to the console, read at /demo/outbox)

A feature builds a ``Mail`` and hands it to ``scheduler.jobs.tasks.send_mail``, which stores it
and enqueues the ``deliver_mail`` job (inline without Redis, on the ``mail`` queue with it).
A failed send is retried by RQ and by the periodic ``mail.retry`` job.
"""
