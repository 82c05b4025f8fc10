"""Mail: an outbox written with the change that caused it, sent over SMTP right after.

design.md, Mail. services.py queues (no Flask), delivery.py renders and sends (Flask side),
smtp.py speaks SMTP, devbox.py is the development mailbox that `make run` starts.
"""
