"""Deliver built briefs: email messages, SMTP, the delivery ledger, the nightly run and its schedule."""
