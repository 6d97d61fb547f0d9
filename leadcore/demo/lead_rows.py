"""The leads table: a plan's columns with ids, contact ids, German subjects and notes, and -1
turned into NULL."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadcore.demo.columns import take, ts
from leadcore.demo.plan import TYPE_CODES, LeadPlan
from leadcore.demo.subjects import LEAD_NOTES, subject_pool

_SUBJECTS_PER_TYPE = 1500     # subject lines made per lead type; each lead takes one of its type's


def leads_table(plan: LeadPlan, first_id: int, first_contact_id: int,
                rng: np.random.Generator) -> pa.Table:
    """One row per planned lead, ids from first_id; plan.contact counts from first_contact_id."""
    n = plan.n
    subject_i = plan.lead_type * _SUBJECTS_PER_TYPE + rng.integers(0, _SUBJECTS_PER_TYPE, size=n)
    subjects = subject_pool(TYPE_CODES, _SUBJECTS_PER_TYPE, rng)
    has_note = rng.random(n) < 0.35
    note = take(LEAD_NOTES, rng.integers(0, len(LEAD_NOTES), size=n))

    def none(values: np.ndarray) -> np.ndarray:       # -1 marks a missing moment or id
        return values < 0

    is_open = plan.is_open
    last = np.where(is_open, np.maximum(plan.arrived, plan.response), plan.completed)
    return pa.table({
        "id": pa.array(first_id + np.arange(n), type=pa.int64()),
        "contact_id": pa.array(first_contact_id + plan.contact, type=pa.int64()),
        "source_id": pa.array(plan.source_id, type=pa.int64()),
        "lead_type": take(TYPE_CODES, plan.lead_type),
        "subject": take(subjects, subject_i),
        "note": pc.if_else(pa.array(has_note), note, pa.scalar(None, pa.string())),
        "editor_id": pa.array(plan.editor, type=pa.int64()),
        "created_by": pa.array(plan.created_by, type=pa.int64()),
        "status": pa.array(np.where(is_open, "open", "completed")),
        "arrived_at": ts(plan.arrived),
        "resubmission_at": ts(plan.resub, none(plan.resub)),
        "due_at": ts(plan.due),
        "reminder_at": ts(plan.reminder_at),
        "stage2_at": ts(plan.stage2_at),
        "first_response_at": ts(plan.response, none(plan.response)),
        "last_activity_at": ts(last),
        "completed_at": ts(plan.completed, none(plan.completed)),
        "completion_reason_id": pa.array(plan.reason_id, type=pa.int64(),
                                         mask=none(plan.reason_id)),
    })
