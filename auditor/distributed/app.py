"""The Celery application both sides share: its settings are what makes a shard run exactly once.

- late acknowledgement: a shard's message is acknowledged after the shard is audited, and
  given back (``task_reject_on_worker_lost``) when the worker dies under it;
- the broker's visibility timeout: an unacknowledged message of a worker killed outright
  (SIGKILL: nothing is given back) is delivered again after it; a worker stops every shard
  before it (``deadline``), so a shard still running is never delivered twice;
- one shard at a time per worker (prefetch 1), JSON only (no pickle from a broker).

Results travel back in the result backend (the same Redis) keyed by the shard's task id: a
shard delivered again replaces its result, and the coordinator keeps each host once.
"""

from __future__ import annotations

from celery import Celery

TASK_NAME = "auditor.audit_shard"
# The worker stops a shard this long before the visibility timeout: time to send its result.
DEADLINE_MARGIN_S = 10.0
CLOSED_KEY = "auditor:closed:{run}"  # set when the coordinator is done: later deliveries are dropped


def make_app(broker_url: str, visibility_timeout: float) -> Celery:
    app = Celery("auditor", broker=broker_url, backend=broker_url, set_as_current=False)
    transport = {"visibility_timeout": visibility_timeout}
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options=transport,
        result_backend_transport_options=transport,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        result_expires=7 * 86400,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_default_queue="default",
    )
    return app


def deadline(visibility_timeout: float) -> float:
    return max(1.0, visibility_timeout - DEADLINE_MARGIN_S)
