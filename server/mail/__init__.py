"""Mail: what the mails with codes say (texts), the rows a request writes them as (mails_sql),
and every node's sender that takes them to SMTP or leaves them in the outbox (sender)."""
