"""The due rules: working time, due/reminder/escalation, their vectorised and SQL forms."""
