"""Indexes for the questions asked across runs: one host's history, results by verdict.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("hosts_name", "hosts", ["name"])
    op.create_index("results_status", "results", ["run_id", "status"])


def downgrade() -> None:
    op.drop_index("results_status", "results")
    op.drop_index("hosts_name", "hosts")
