"""The process a node runs in, knowing nothing of couples: settings, the clock and local time,
the database (pool, migrations, the embedded server, table specs), the error tree, logs and
metrics, the limits on attempts, the garbage collector, and the rounds of background loops.
Every other part of the server stands on it; it imports none of them."""
