"""Leads that arrive by themselves (SPEC section 7): e-mails and ADF files taken in from an
upload, the command line or a polled folder, matched to contacts, distributed to editors.

    from leadcore.intake import intake_file, intake_many
    intake_file(cur, user_or_SYSTEM, now, "anfrage.eml", data)

The actor is the signed-in manager or admin of an upload, or leadcore.auth.SYSTEM (the command
line and the scheduler's folder polling).
"""
from leadcore.intake.service import MAX_MESSAGE_BYTES, IntakeResult, intake_file, intake_many, may_run_intake

__all__ = ["MAX_MESSAGE_BYTES", "IntakeResult", "intake_file", "intake_many", "may_run_intake"]
