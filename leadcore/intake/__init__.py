"""Leads that arrive by themselves (SPEC section 7): e-mails and ADF files taken in from an
upload, the command line or a polled folder, matched to contacts, distributed to editors.

    from leadcore.intake import intake_file, intake_many
"""
from leadcore.intake.service import (MAX_MESSAGE_BYTES, SYSTEM, IntakeResult, intake_file, intake_many,
                                     may_run_intake, require_intake)

__all__ = ["MAX_MESSAGE_BYTES", "SYSTEM", "IntakeResult", "intake_file", "intake_many", "may_run_intake",
           "require_intake"]
