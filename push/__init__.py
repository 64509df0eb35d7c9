"""Everything about reaching phones: the notification as Twofold decides it, the wording a
lock screen may show, and the transports that hand notifications over (FCM through
firebase-admin, or the outbox when no Firebase credentials are configured).

The one interface is ``Transport.send(notifications) -> outcomes``; the server decides who is
told what and when, and records what the transport answered.
"""
