"""Mail: templates, rendering, the outbox and SMTP, the autoresponder."""
