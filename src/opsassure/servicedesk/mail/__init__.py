"""The service desk's e-mail channel: IMAP polling into tickets, SMTP notifications out.

A Django app of its own (label ``sdmail``) so it brings its tasks, schedule, API routes,
roles and UI without touching the service desk core; its models live in
``opsassure.servicedesk.models`` (Mailbox, InboundMail, OutboundMail).
"""
