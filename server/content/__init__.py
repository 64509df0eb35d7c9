"""What the app offers everyone, the same for every couple: the repair templates and the crisis
lines, with their routes."""
