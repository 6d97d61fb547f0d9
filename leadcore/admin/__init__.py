"""Administration: the dealership's settings, users, sources, reasons, holidays, absences."""
