"""Accounts: signing up (sign_ups), signing in and its sessions (account, auth: the tokens and
the caller every route is scoped by), passwords and the lockout of wrong ones, trusted
devices (trust), codes by mail (codes, sign_in_codes, resets), taking an account back
(sessions), a person's devices for notifications; the SQL of each beside it (*_sql), and
their routes. Below the couple: a couple is two accounts."""
