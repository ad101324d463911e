"""The first history schema: runs, the journal of a running run, hosts, results, the texts of checks, evidence.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("started", sa.String(40), nullable=False),
        sa.Column("finished", sa.String(40)),
        sa.Column("playbook", sa.Text, nullable=False),
        sa.Column("inventory", sa.Text, nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("coverage", sa.Float),
        sa.Column("hosts", sa.Integer, nullable=False),
        sa.Column("complete", sa.Boolean, nullable=False),
        sa.Column("document", sa.Text),
    )
    op.create_index("runs_series", "runs", ["playbook", "inventory", "started"])
    op.create_index("runs_started", "runs", ["started"])
    op.create_table(
        "journal",
        sa.Column("run_id", sa.String(80), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
    )
    op.create_table(
        "hosts",
        sa.Column("run_id", sa.String(80), primary_key=True),
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("host_key", sa.Text),
        sa.Column("score", sa.Float),
        sa.Column("plan_tasks", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
    )
    op.create_table(
        "results",
        sa.Column("run_id", sa.String(80), primary_key=True),
        sa.Column("host", sa.Text, primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("check_id", sa.String(120), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("plan", sa.Text, nullable=False),
        sa.Column("check_text", sa.String(64), nullable=False),
        sa.Column("extra", sa.Text),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(["run_id", "host"], ["hosts.run_id", "hosts.name"], ondelete="CASCADE"),
    )
    op.create_index("results_check", "results", ["check_id"])
    op.create_table(
        "check_texts",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "evidence",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("evidence", "check_texts", "results", "hosts", "journal", "runs"):
        op.drop_table(table)
