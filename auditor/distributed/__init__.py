"""Runs past one machine: Celery workers, one queue per network segment, a Redis broker.

Only ``auditor worker`` and ``auditor run --distributed`` import this package's Celery side
(``app``, ``worker``, ``coordinator``); a local run imports neither Celery nor redis.
"""
